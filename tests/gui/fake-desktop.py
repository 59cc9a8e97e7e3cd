#!/usr/bin/python3
"""fake-desktop.py SECONDS OUT NOTES - what a desktop offers the GUI, for the tests:
a minimal org.kde.StatusNotifierWatcher that records the items that register and
writes their properties to OUT (JSON lines), re-read every second so that later
changes are seen; and an org.freedesktop.Notifications server that writes each
notification to NOTES (JSON lines); with a fourth argument SHOWN, an
org.freedesktop.FileManager1 whose ShowItems calls are written to SHOWN (JSON lines)."""
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
NOTIFY_XML = """<node><interface name="org.freedesktop.Notifications">
 <method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
  <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
  <arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
  <arg type="u" direction="out"/></method>
 <method name="CloseNotification"><arg type="u" direction="in"/></method>
 <method name="GetCapabilities"><arg type="as" direction="out"/></method>
 <method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
  <arg type="s" direction="out"/><arg type="s" direction="out"/></method>
</interface></node>"""
FM_XML = """<node><interface name="org.freedesktop.FileManager1">
 <method name="ShowItems"><arg type="as" direction="in"/><arg type="s" direction="in"/></method>
 <method name="ShowFolders"><arg type="as" direction="in"/><arg type="s" direction="in"/></method>
</interface></node>"""
items = []
out = open(sys.argv[2], "a", buffering=1)
notes = open(sys.argv[3], "a", buffering=1)
counter = [0]


def labels(layout, ids=None):
    _id, props, children = layout
    out = [props["label"]] if "label" in props else []
    if ids is not None and "label" in props:
        ids.append(_id)
    for c in children:
        out += labels(c, ids)
    return out


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
        if isinstance(rec.get("Menu"), str):
            try:
                v = conn.call_sync(sender, rec["Menu"], "com.canonical.dbusmenu", "GetLayout",
                                   GLib.Variant("(iias)", (0, -1, [])), None, 0, 2000, None)
                rec["MenuIds"] = []
                rec["MenuLabels"] = labels(v.unpack()[1], rec["MenuIds"])
            except Exception as e:  # noqa: BLE001
                rec["MenuLabels_error"] = str(e)
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


def on_notify_call(conn, sender, path, iface, method, params, inv):
    if method == "Notify":
        app, _replaces, _icon, summary, body, _actions, _hints, _timeout = params.unpack()
        counter[0] += 1
        notes.write(json.dumps({"app": app, "summary": summary, "body": body,
                                "id": counter[0]}) + "\n")
        inv.return_value(GLib.Variant("(u)", (counter[0],)))
    elif method == "CloseNotification":
        notes.write(json.dumps({"closed": params.unpack()[0], "summary": "", "body": ""}) + "\n")
        inv.return_value(None)
    elif method == "GetCapabilities":
        inv.return_value(GLib.Variant("(as)", (["body", "actions"],)))
    elif method == "GetServerInformation":
        inv.return_value(GLib.Variant("(ssss)", ("fake-desktop", "sinadur", "1", "1.2")))
    else:
        inv.return_value(None)


def on_notify_bus(conn, name):
    conn.register_object("/org/freedesktop/Notifications",
                         Gio.DBusNodeInfo.new_for_xml(NOTIFY_XML).interfaces[0],
                         on_notify_call, None, None)


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


if len(sys.argv) > 4:
    shown = open(sys.argv[4], "a", buffering=1)

    def on_fm_call(conn, sender, path, iface, method, params, inv):
        uris, _startup = params.unpack()
        shown.write(json.dumps({"method": method, "uris": uris}) + "\n")
        inv.return_value(None)

    def on_fm_bus(conn, name):
        conn.register_object("/org/freedesktop/FileManager1",
                             Gio.DBusNodeInfo.new_for_xml(FM_XML).interfaces[0],
                             on_fm_call, None, None)

    Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.FileManager1", 0, on_fm_bus,
                     None, None)
Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications", 0, on_notify_bus,
                 None, None)
Gio.bus_own_name(Gio.BusType.SESSION, "org.kde.StatusNotifierWatcher", 0, on_bus, on_name, None)
GLib.timeout_add_seconds(int(sys.argv[1]), lambda: sys.exit(0))
GLib.MainLoop().run()
