#!/usr/bin/python3
"""sni-watcher.py SECONDS OUT - a minimal org.kde.StatusNotifierWatcher for the GUI
tests: records the items that register and writes their properties to OUT (JSON
lines), re-reading them every second so that later title changes are seen."""
import json
import sys

from gi.repository import Gio, GLib

XML = """<node><interface name="org.kde.StatusNotifierWatcher">
 <method name="RegisterStatusNotifierItem"><arg type="s" direction="in"/></method>
 <method name="RegisterStatusNotifierHost"><arg type="s" direction="in"/></method>
 <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
 <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
 <property name="ProtocolVersion" type="i" access="read"/>
 <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
</interface></node>"""
PROPS = ("Id", "Title", "Status", "IconName", "IconAccessibleDesc", "Category", "Menu")
items = []
out = open(sys.argv[2], "a", buffering=1)


def dump(conn):
    for sender, path in items:
        rec = {"sender": sender, "path": path}
        for prop in PROPS:
            try:
                v = conn.call_sync(sender, path, "org.freedesktop.DBus.Properties", "Get",
                                   GLib.Variant("(ss)", ("org.kde.StatusNotifierItem", prop)),
                                   None, 0, 2000, None)
                rec[prop] = v.unpack()[0]
            except Exception as e:  # noqa: BLE001 - recorded for the test to read
                rec[prop + "_error"] = str(e)
        out.write(json.dumps(rec) + "\n")
    return True


def on_call(conn, sender, path, iface, method, params, inv):
    if method == "RegisterStatusNotifierItem":
        svc = params.unpack()[0]
        obj = svc if svc.startswith("/") else "/StatusNotifierItem"
        items.append((sender, obj))
        inv.return_value(None)
        conn.emit_signal(None, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher",
                         "StatusNotifierItemRegistered", GLib.Variant("(s)", (sender + obj,)))
    else:
        inv.return_value(None)


def on_get(conn, sender, path, iface, prop):
    return {"RegisteredStatusNotifierItems": GLib.Variant("as", [s + p for s, p in items]),
            "IsStatusNotifierHostRegistered": GLib.Variant("b", True),
            "ProtocolVersion": GLib.Variant("i", 0)}[prop]


def on_bus(conn, name):
    conn.register_object("/StatusNotifierWatcher", Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0],
                         on_call, on_get, None)
    GLib.timeout_add(1000, dump, conn)


def on_name(conn, name):
    print("watcher ready", flush=True)


Gio.bus_own_name(Gio.BusType.SESSION, "org.kde.StatusNotifierWatcher", 0, on_bus, on_name, None)
GLib.timeout_add_seconds(int(sys.argv[1]), lambda: sys.exit(0))
GLib.MainLoop().run()
