#!/usr/bin/python3
"""drag-source.py X Y FILE... - a small window at X,Y (no window manager: it stays
there) whose button drags the FILEs as text/uri-list, as a file manager does. Prints
"ready" once shown; exits after 120 s."""
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import GLib, Gdk, Gio, Gtk  # noqa: E402

x, y = int(sys.argv[1]), int(sys.argv[2])
uris = [Gio.File.new_for_path(p).get_uri() for p in sys.argv[3:]]
win = Gtk.Window(title="drag-source")
button = Gtk.Button(label="fichiers")
button.set_size_request(200, 100)
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()
button.connect("drag-data-get", lambda w, ctx, sel, info, t: sel.set_uris(uris))
win.add(button)
win.move(x, y)
win.show_all()
GLib.timeout_add(500, lambda: print("ready", flush=True) and False)
GLib.timeout_add_seconds(120, Gtk.main_quit)
Gtk.main()
