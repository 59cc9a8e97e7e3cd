#!/usr/bin/python3
"""gui-look.py - how the windows look to a person at 200 % and in English (run by
run-gui-test.sh with a 2560x1440 screen: Xvfb + a private session bus).

sinadur-agent with GDK_SCALE=2 and LANG=en_US.UTF-8 (no LANGUAGE): the labels are
the English ones (no French left in the main window); each window is drawn at twice
its size (its X window at least twice the logical default) and its screenshot is not
blank; nothing is cut: every label and button of the main window, the diagnostics
and the sign window lies inside its window horizontally and each window inside the
screen. Without the key's middleware (a module path that does not exist) the
window says « Insert your key » with the doctor's advice. The validity bars have the colours the issue asks for, measured on the
screen: green beyond 90 days, orange from 90 days, red at 7 days or less and when
expired (the empty bar of an expired certificate has a red frame). Keyboard: the
main window's mnemonic Alt+S opens « Sign files », and two files dragged from another
window (drag-source.py, a GTK drag source) and dropped on it are listed; Alt+V opens
« Verify a file », where a dropped file is verified at once. The tray item (fake-desktop.py's
StatusNotifierWatcher) goes expired → expiring → key present as the fixture's expired
and expiring certificates are deleted from the token. Screenshots under
build/tests/gui/screenshots (look-*.png).
"""
import importlib.machinery
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bridge"))
import bridgelib as bl  # noqa: E402

ui = importlib.machinery.SourceFileLoader("gui_e2e", os.path.join(HERE, "gui-e2e.py")).load_module()
import pyatspi  # noqa: E402

check = ui.check
MAIN = "sinadur — my keys and certificates"
# The CSS of gui/sdr-gui.c: the filled part of the bar, the frame of a critical one.
GREEN, ORANGE, RED = (0x2e, 0x7d, 0x32), (0xef, 0x8f, 0x00), (0xc6, 0x28, 0x28)


def extents(node):
    e = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    return e.x, e.y, e.width, e.height


def xgeometry(title):
    """The X window (physical pixels) of the window titled so: x, y, w, h."""
    ids = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                         capture_output=True, text=True).stdout.split()
    if not ids:
        return None
    out = subprocess.run(["xdotool", "getwindowgeometry", "--shell", ids[-1]],
                         capture_output=True, text=True).stdout
    v = dict(x.split("=", 1) for x in out.split() if "=" in x)
    return int(v["X"]), int(v["Y"]), int(v["WIDTH"]), int(v["HEIGHT"])


def screen_size():
    out = subprocess.run(["xdotool", "getdisplaygeometry"], capture_output=True, text=True).stdout
    w, h = out.split()
    return int(w), int(h)


def nothing_cut(win, title, what, least=4):
    """Every showing label and button inside the window horizontally (AT-SPI
    coordinates), the window inside the screen (X coordinates)."""
    wx, wy, ww, wh = extents(win)
    cut = []
    n = 0
    for node in ui.walk(win):
        try:
            if node.getRole() not in (pyatspi.ROLE_LABEL, pyatspi.ROLE_PUSH_BUTTON) or \
                    not node.getState().contains(pyatspi.STATE_SHOWING):
                continue
            x, y, w, h = extents(node)
        except Exception:  # noqa: BLE001 - a node can vanish while we walk
            continue
        if w <= 0:
            continue
        n += 1
        if x < wx or x + w > wx + ww:
            cut.append((node.name, x, w, wx, ww))
    check("%s: every label and button inside the window (%d checked)" % (what, n),
          n >= least and not cut, cut[:5])
    g = xgeometry(title)
    sw, sh = screen_size()
    check("%s: the window fits the screen (%s in %dx%d)" % (what, g, sw, sh),
          g is not None and g[0] >= 0 and g[1] >= 0 and g[0] + g[2] <= sw and g[1] + g[3] <= sh)
    return g


def colour_counts(png, box):
    """Pixels of the box (physical) close to green, orange and red."""
    x, y, w, h = box
    out = subprocess.run(["convert", png, "-crop", "%dx%d+%d+%d" % (w, h, x, y), "-depth", "8",
                          "txt:-"], capture_output=True, text=True).stdout
    counts = {"green": 0, "orange": 0, "red": 0}
    for line in out.splitlines()[1:]:
        m = re.search(r"\((\d+),(\d+),(\d+)", line)
        if not m:
            continue
        p = tuple(int(v) for v in m.groups())
        for name, ref in (("green", GREEN), ("orange", ORANGE), ("red", RED)):
            if sum((a - b) ** 2 for a, b in zip(p, ref)) < 30 ** 2:
                counts[name] += 1
    return counts


def expected_colour(name):
    """From the bar's accessible name (its days-left text, in English here)."""
    if name.startswith("Expired") or "today" in name:
        return "red", None
    m = re.search(r"Expires in (\d+) day", name)
    if not m:
        return None, None
    days = int(m.group(1))
    return ("green" if days > 90 else "orange" if days > 7 else "red"), days


def bar_colours(win, title):
    """Each bar measured once fully inside the scrolled list's viewport, the list
    scrolled through its scroll bar's AT-SPI value."""
    ux, uy, uw, uh = extents(win)
    g = xgeometry(title)
    if g is None or uw <= 0:
        check("main window geometry", False)
        return
    scale = g[2] / uw  # physical pixels per AT-SPI unit
    pane = ui.find(win, pyatspi.ROLE_SCROLL_PANE)
    sbar = next((n for n in ui.walk(pane) if n.getRole() == pyatspi.ROLE_SCROLL_BAR and
                 n.getState().contains(pyatspi.STATE_VERTICAL)), None) if pane else None
    bars = [n for n in ui.walk(win) if n.getRole() == pyatspi.ROLE_LEVEL_BAR]
    png = os.path.join(ui.SHOTS, "look-root.png")
    done = {}
    value = sbar.queryValue() if sbar is not None else None
    top = value.maximumValue if value is not None else 0
    pos = 0.0
    while len(done) < len(bars):
        time.sleep(0.6)
        subprocess.run(["import", "-window", "root", png], check=True)
        px, py, pw, ph = extents(pane)
        for i, bar in enumerate(bars):
            bx, by, bw, bh = extents(bar)
            if i in done or by < py or by + bh > py + ph:
                continue
            box = (int(g[0] + (bx - ux) * scale), int(g[1] + (by - uy) * scale),
                   max(1, int(bw * scale)), max(1, int(bh * scale)))
            done[i] = colour_counts(png, box)
        if value is None or pos >= top:
            break
        pos = min(top, pos + max(1.0, value.maximumValue / 6))
        value.currentValue = pos
    seen = set()
    for i, bar in enumerate(bars):
        want, days = expected_colour(bar.name or "")
        counts = done.get(i)
        got = max(counts, key=counts.get) if counts and max(counts.values()) > 20 else None
        seen.add(want)
        check("validity bar « %s » is %s (%s)" % (bar.name, want, counts),
              want is not None and got == want)
    check("the fixture covers green, orange and red bars (%s)" % sorted(str(x) for x in seen),
          {"green", "orange", "red"} <= seen)


def drag(env, paths, title):
    """paths dragged from another window (drag-source.py) and dropped on the window
    titled so (xdotool: press, past GTK's threshold, across, release)."""
    env = dict(env, GDK_SCALE="1")
    src = subprocess.Popen([sys.executable, os.path.join(HERE, "drag-source.py"), "2200", "100"] +
                           paths, env=env, stdout=subprocess.PIPE, text=True)
    try:
        if not check("drag source ready", "ready" in src.stdout.readline()):
            return
        g = xgeometry(title)
        steps = [("mousemove", "2300", "150"), ("mousedown", "1")]
        for k in range(1, 11):
            steps.append(("mousemove", str(2300 - k * 200), str(150 + k * 30)))
        steps += [("mousemove", str(g[0] + g[2] // 3), str(g[1] + g[3] // 2)),
                  ("mousemove", str(g[0] + g[2] // 3 + 5), str(g[1] + g[3] // 2 + 5)),
                  ("mouseup", "1")]
        for step in steps:
            subprocess.run(["xdotool"] + list(step), capture_output=True)
            time.sleep(0.15)
    finally:
        src.terminate()
        src.wait(10)


def drop_files(fx, env, s):
    """Two files dropped on the sign window: both listed."""
    paths = []
    for name in ("deliberation-deposee.pdf", "annexe deposee.txt"):
        paths.append(os.path.join(fx.dir, name))
        with open(paths[-1], "wb") as f:
            f.write(b"x" * 100)
    drag(env, paths, "sinadur — sign files")
    ok = ui.wait_text(s, "deliberation-deposee.pdf", 10)
    check("files dropped on the sign window are listed", ok and
          any("annexe deposee.txt" in x for x in ui.texts(s)), ui.texts(s)[:12])


def drop_to_verify(fx, env, main_id):
    """Alt+V opens « Verify a file »; a file dropped on it is verified at once (a
    plain file: no signature found)."""
    subprocess.run(["xdotool", "windowfocus", "--sync", main_id], capture_output=True)
    time.sleep(0.5)
    subprocess.run(["xdotool", "key", "--window", main_id, "alt+v"], capture_output=True)
    v = ui.find_window("sinadur — verify a file", 15)
    if not check("Alt+V (mnemonic) opens « Verify a file »", v is not None):
        return
    plain = os.path.join(fx.dir, "courrier-non-signe.txt")
    with open(plain, "wb") as f:
        f.write(b"Courrier sans signature\n")
    drag(env, [plain], "sinadur — verify a file")
    check("a file dropped on the verify window is verified at once",
          ui.wait_text(v, "courrier-non-signe.txt", 10) and
          ui.wait_text(v, "no signature found", 30), ui.texts(v)[:12])
    ui.click(v, "Close")
    ui.window_gone("sinadur — verify a file", 5)


def run(fx, env, conf):
    win = ui.find_window(MAIN)
    if not check("main window titled in English (%s)" % MAIN, win is not None):
        return
    check("the certificates are listed", ui.wait_text(win, "Jean DUPONT", 30), ui.texts(win)[:10])
    t = ui.texts(win)
    for label in ("Holder", "Organisation", "Issuer", "Usage", "Valid from", "Valid until",
                  "Validity", "Your keys and certificates"):
        check("English label « %s »" % label, label in t, t[:30])
    check("days left in English", any(x.startswith("Expires in ") for x in t), t)
    for french in ("Titulaire", "Émetteur", "Valide jusqu’au", "Vos clés et certificats"):
        check("no French label « %s »" % french, french not in t)
    buttons = [n.name for n in ui.walk(win) if n.getRole() == pyatspi.ROLE_PUSH_BUTTON]
    check("English buttons", "Sign files…" in buttons and "Verify a file…" in buttons and
          "Diagnostics" in buttons, buttons)
    ui.screenshot("look-main-window", MAIN)
    g = nothing_cut(win, MAIN, "main window")
    check("drawn at 200 %% (X window %s, default 620x560)" % (g,),
          g is not None and g[2] >= 2 * 600)
    bar_colours(win, MAIN)

    # ---- Diagnostics at 200 % ----
    if ui.click(win, "Diagnostics"):
        d = ui.find_window("sinadur — diagnostics")
        if check("diagnostics window in English", d is not None):
            end = time.monotonic() + 30
            while time.monotonic() < end:
                view = ui.find(d, pyatspi.ROLE_TEXT)
                if view is not None and "in progress" not in ui.text_of(view):
                    break
                time.sleep(0.5)
            ui.screenshot("look-diagnostics", "sinadur — diagnostics")
            nothing_cut(d, "sinadur — diagnostics", "diagnostics", least=2)
            ui.click(d, "Close")
            ui.window_gone("sinadur — diagnostics", 5)

    # ---- Keyboard: the mnemonic of « Sign files… » ----
    ids = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", MAIN],
                         capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["xdotool", "windowfocus", "--sync", ids[-1]], capture_output=True)
        time.sleep(0.5)
        subprocess.run(["xdotool", "key", "--window", ids[-1], "alt+s"], capture_output=True)
    s = ui.find_window("sinadur — sign files", 15)
    if check("Alt+S (mnemonic) opens « Sign files »", s is not None):
        texts = ui.texts(s)
        check("sign window in English", "What are you signing?" in texts and
              "With which certificate?" in texts, texts[:20])
        ui.screenshot("look-sign-window", "sinadur — sign files")
        nothing_cut(s, "sinadur — sign files", "sign window")
        drop_files(fx, env, s)
        ui.click(s, "Close")
        ui.window_gone("sinadur — sign files", 5)
    if ids:
        drop_to_verify(fx, env, ids[-1])


def delete_cert(fx, env, cert_id):
    """The certificate object of the fixture token removed (its owner renewed it)."""
    module = "/usr/lib/softhsm/libsofthsm2.so"
    r = subprocess.run(["pkcs11-tool", "--module", module, "--token-label", "RGS-TEST", "--login",
                        "--pin", "1234", "--delete-object", "--type", "cert", "--id", cert_id],
                       env=env, capture_output=True, text=True, timeout=30)
    return check("certificate %s removed from the token" % cert_id, r.returncode == 0, r.stderr)


def tray_states(fx, env, start_agent):
    """The tray item on the test StatusNotifierWatcher: expired (the fixture has an
    expired certificate), then expiring once that one is deleted from the token (20
    days left), then key present once the expiring one is deleted too; the title names
    the holder and days left. The agent is restarted after each deletion (a key's
    certificates are read when it appears)."""
    rec = ui.tray_wait(fx, "sinadur-key-expired")
    check("tray: expired (« sinadur — Anne KERBRAT, certificate expired »)",
          rec is not None and rec.get("Title") == "sinadur — Anne KERBRAT, certificate expired",
          ui.tray_records(fx)[-1:])
    steps = (("04", "sinadur-key-expiring", ["sinadur — Yann LE GOFF, 20 days left"]),
             ("03", "sinadur-key", ["sinadur — Jean DUPONT, 1095 days left",
                                    "sinadur — Jeanne MARTIN, 1095 days left"]))
    for cert_id, icon, titles in steps:
        if not delete_cert(fx, env, cert_id) or not start_agent(None):
            return
        rec = ui.tray_wait(fx, icon, 30)
        check("tray: %s (« %s »)" % (icon, titles[0]),
              rec is not None and rec.get("Title") in titles, ui.tray_records(fx)[-1:])


def no_middleware():
    """The window says to insert the key and gives the doctor's advice: which module
    is missing and what to install."""
    win = ui.find_window(MAIN)
    if not check("main window without middleware", win is not None):
        return
    check("« Insert your key »", ui.wait_text(win, "Insert your key", 30), ui.texts(win)[:10])
    check("the doctor says the module could not be loaded",
          ui.wait_text(win, "libidop-absent.so could not be loaded", 15), ui.texts(win)[:10])
    check("the doctor's advice: install the key's software",
          any("Install the software of your key" in x for x in ui.texts(win)), ui.texts(win))
    ui.screenshot("look-no-middleware", MAIN)
    nothing_cut(win, MAIN, "no middleware", least=3)


def main():
    testp11 = os.environ.get("SDR_TESTP11")
    if not testp11 or not os.path.exists(testp11):
        bl.log("SDR_TESTP11 is not built")
        return bl.SKIP
    fx = bl.Fixture()
    p11dir = os.path.join(fx.dir, "p11")
    os.makedirs(p11dir)
    env = dict(fx.env)
    env.update({"SDR_TESTP11_DIR": p11dir, "LANG": "en_US.UTF-8", "GDK_SCALE": "2",
                "GTK_THEME": "Adwaita", "GDK_BACKEND": "x11"})
    for name in ("NO_AT_BRIDGE", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "GDK_DPI_SCALE"):
        env.pop(name, None)
    port = bl.free_port()
    conf = os.path.join(fx.dir, "agent.conf")
    with open(conf, "w") as f:
        f.write("[tokens]\nmodules=%s\n" % testp11)
        f.write("[signature]\ntrust_anchors=%s;%s\n" % (os.path.join(fx.pki, "root.pem"),
                                                        os.path.join(fx.pki, "ca.pem")))
        f.write("[bridge]\nport=%d\n" % port)
    procs = ui.start_atspi(env)
    desktop = subprocess.Popen([sys.executable, os.path.join(HERE, "fake-desktop.py"), "200",
                                os.path.join(fx.dir, "sni.jsonl"),
                                os.path.join(fx.dir, "notes.jsonl")],
                               env=env, stdout=subprocess.PIPE, text=True)
    procs.append(desktop)
    check("fake desktop started", "ready" in desktop.stdout.readline())
    err = open(os.path.join(fx.dir, "agent.err"), "w+")
    agents = []

    def start_agent(config):
        """(Re)starts the agent with config (None: the same one), --show; TRUE once it listens."""
        for a in agents:
            if a.poll() is None:
                a.terminate()
                a.wait(20)
        a = subprocess.Popen([fx.agent_exe, "--config", config or conf, "--show"], env=env,
                             stdout=subprocess.PIPE, stderr=err, text=True)
        agents.append(a)
        procs.append(a)
        line = a.stdout.readline()
        return check("agent listening", ("127.0.0.1:%d" % port) in line, line)

    try:
        if start_agent(conf):
            run(fx, env, conf)
            tray_states(fx, env, start_agent)
        # No middleware: the module named by the policy is not installed.
        bad = os.path.join(fx.dir, "no-middleware.conf")
        with open(bad, "w") as f:
            f.write("[tokens]\nmodules=/usr/lib/x86_64-linux-gnu/libidop-absent.so\n"
                    "[bridge]\nport=%d\n" % port)
        if start_agent(bad):
            no_middleware()
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        err.seek(0)
        text = err.read()
        if ui.failures:
            bl.log("agent stderr:\n" + text[-3000:])
        check("agent stderr has no critical", "CRITICAL" not in text, text[-800:])
        if not ui.failures:
            fx.cleanup()
    bl.log("%d failure(s)" % len(ui.failures))
    return 1 if ui.failures else 0


if __name__ == "__main__":
    sys.exit(main())
