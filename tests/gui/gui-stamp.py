#!/usr/bin/python3
"""gui-stamp.py - the visible stamp of a PDF placed by dragging it on the page preview
of « Signer des fichiers » (run by run-gui-test.sh: Xvfb + a private session bus).

A two-page PDF whose page 2 is turned a quarter (/Rotate 90) and cropped (CropBox
not at 0 0) is chosen in GTK's file chooser (its row selected through AT-SPI, next to
another PDF) in the window of a real sinadur-agent; PAdES chosen
through AT-SPI, page 2 chosen in the page field, the stamp moved and then resized
with real pointer events (xdotool on the drawing area's screen extents from
AT-SPI), reason and place typed, the PIN typed through AT-SPI. The output must pass
pdfsig and qpdf --check, and its signature widget must be on page 2 with the /Rect
computed here from the drag (pixels / scale) and the page's rotation and crop box,
within a few points. The keyboard moves the stamp too (arrow keys). Screenshot of
the window with the preview saved and checked not blank.
"""
import importlib.machinery
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bridge"))
sys.path.insert(0, os.path.join(HERE, "..", "pades"))
import bridgelib as bl  # noqa: E402
import mkpdf  # noqa: E402

ui = importlib.machinery.SourceFileLoader("gui_e2e", os.path.join(HERE, "gui-e2e.py")).load_module()
import pyatspi  # noqa: E402

check = ui.check
MARGIN = 6.0  # pixels around the page in the preview (gui/sdr-gui-preview.c)

# Page 2: MediaBox 0 0 612 792, CropBox 30 40 582 752 (552 x 712), turned 90 degrees:
# shown 712 wide and 552 high.
CROP = (30.0, 40.0, 582.0, 752.0)
SHOWN_W, SHOWN_H = CROP[3] - CROP[1], CROP[2] - CROP[0]


def make_pdf(path):
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 7 0 R >> >> >>",
        mkpdf.stream(b"BT /F1 24 Tf 72 760 Td (D\\351lib\\351ration n\\260 2026-042) Tj ET\n"
                     b"0 0 1 RG 72 700 m 500 700 l S\n"),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /CropBox [%g %g %g %g]"
        b" /Rotate 90 /Contents 6 0 R /Resources << /Font << /F1 7 0 R >> >> >>" % CROP,
        mkpdf.stream(b"BT /F1 20 Tf 60 700 Td (Annexe : plan de financement) Tj ET\n"
                     b"0.8 0.1 0.1 RG 4 w 60 60 m 540 60 l 540 720 l 60 720 l h S\n"),
        font,
    ]
    data, _ = mkpdf.build(objs, version=b"1.7")
    with open(path, "wb") as f:
        f.write(data)


def field_value(win, name):
    n = ui.find(win, pyatspi.ROLE_SPIN_BUTTON, name, exact=True)
    return n.queryValue().currentValue if n is not None else None


def stamp_fields(win):
    return [field_value(win, n) for n in ("Gauche", "Bas", "Largeur", "Hauteur")]


def geometry(area):
    ext = area.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    s = min((ext.width - 2 * MARGIN) / SHOWN_W, (ext.height - 2 * MARGIN) / SHOWN_H)
    ox = ext.x + (ext.width - SHOWN_W * s) / 2
    oy = ext.y + (ext.height - SHOWN_H * s) / 2
    return s, ox, oy


def drag(x0, y0, x1, y1, steps=8):
    xd = ["xdotool"]
    subprocess.run(xd + ["mousemove", str(int(round(x0))), str(int(round(y0)))], check=True)
    time.sleep(0.2)
    subprocess.run(xd + ["mousedown", "1"], check=True)
    for i in range(1, steps + 1):
        x = x0 + (x1 - x0) * i / steps
        y = y0 + (y1 - y0) * i / steps
        subprocess.run(xd + ["mousemove", str(int(round(x))), str(int(round(y)))], check=True)
        time.sleep(0.05)
    time.sleep(0.2)
    subprocess.run(xd + ["mouseup", "1"], check=True)
    time.sleep(0.5)


def user_rect(shown):
    """The shown stamp [left, bottom, width, height] as the PDF's /Rect on page 2
    (turned 90 degrees clockwise: the shown left edge is the unrotated page's bottom)."""
    left, bottom, w, h = shown
    x = CROP[0] + (SHOWN_H - bottom - h)
    y = CROP[1] + left
    return [x, y, x + h, y + w]


def sig_widget(path):
    """The signature widget's /Rect and the index of its page (qpdf --json)."""
    out = subprocess.run(["qpdf", "--json", path], capture_output=True, text=True).stdout
    j = json.loads(out)
    objects = j.get("qpdf", [{}, {}])[1] if "qpdf" in j else j.get("objects", {})
    pages = [p["object"] for p in j.get("pages", [])]
    for key, o in objects.items():
        v = o.get("value", o) if isinstance(o, dict) else o
        if isinstance(v, dict) and v.get("/FT") == "/Sig" and "/Rect" in v:
            ref = key.replace("obj:", "")
            page_ref = v.get("/P")
            page = pages.index(page_ref) if page_ref in pages else None
            try:
                return [float(x) for x in v["/Rect"]], page, ref
            except ValueError:  # "u:260,05": a decimal comma written
                return v["/Rect"], page, ref
    return None, None, None


def main():
    testp11 = os.environ.get("SDR_TESTP11")
    if not testp11 or not os.path.exists(testp11):
        bl.log("SDR_TESTP11 is not built")
        return bl.SKIP
    for tool in ("pdfsig", "qpdf"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            bl.log("missing " + tool)
            return bl.SKIP
    fx = bl.Fixture()
    p11dir = os.path.join(fx.dir, "p11")
    os.makedirs(p11dir)
    env = dict(fx.env)
    env.update({"SDR_TESTP11_DIR": p11dir, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr",
                "GTK_THEME": "Adwaita", "GDK_BACKEND": "x11"})
    env.pop("NO_AT_BRIDGE", None)
    port = bl.free_port()
    conf = os.path.join(fx.dir, "agent.conf")
    with open(conf, "w") as f:
        f.write("[tokens]\nmodules=%s\n" % testp11)
        f.write("[signature]\ntrust_anchors=%s;%s\n" % (os.path.join(fx.pki, "root.pem"),
                                                        os.path.join(fx.pki, "ca.pem")))
        f.write("[bridge]\nport=%d\n" % port)
    procs = ui.start_atspi(env)
    err = open(os.path.join(fx.dir, "agent.err"), "w+")
    agent = subprocess.Popen([fx.agent_exe, "--config", conf], env=env,
                             stdout=subprocess.PIPE, stderr=err, text=True)
    procs.append(agent)
    try:
        line = agent.stdout.readline()
        if check("agent listening", ("127.0.0.1:%d" % port) in line, line):
            run(fx, env, conf, p11dir)
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


def choose_pades(w):
    combo = [n for n in ui.walk(w) if n.getRole() == pyatspi.ROLE_COMBO_BOX][0]
    purposes = [n.name for n in ui.walk(combo) if n.getRole() == pyatspi.ROLE_MENU_ITEM]
    if not check("PAdES purpose offered", "PDF signé (PAdES)" in purposes, purposes):
        return False
    combo.querySelection().selectChild(purposes.index("PDF signé (PAdES)"))
    time.sleep(0.8)
    return check("PAdES chosen", combo.name == "PDF signé (PAdES)", combo.name)


def choose_file(w, home, name):
    """« Ajouter des fichiers… »: GTK's file chooser, opened in the home folder, the row
    of name selected through AT-SPI (no key event: see docs/internals/gui.md), Ouvrir."""
    if not check("« Ajouter des fichiers… » clicked", ui.click(w, "Ajouter des fichiers…")):
        return False
    ch = ui.find_window("Fichiers à signer")
    if not check("file chooser shown (« Fichiers à signer »)", ch is not None):
        return False
    table, cell = None, None
    end = time.monotonic() + 15
    while cell is None and time.monotonic() < end:
        time.sleep(0.5)
        table = ui.find(ch, pyatspi.ROLE_TABLE, "Fichiers")
        cell = next((c for c in ui.walk(table) if c.getRole() == pyatspi.ROLE_TABLE_CELL and
                     c.name == name), None) if table is not None else None
    if not check("chooser opened in the home folder, %s listed" % name, cell is not None):
        return False
    t = table.queryTable()
    table.querySelection().clearSelection()
    t.addRowSelection(t.getRowAtIndex(cell.parent.getIndexInParent()))
    time.sleep(0.5)
    ui.click(ch, "Ouvrir", exact=True)
    check("file chooser closed by Ouvrir", ui.window_gone("Fichiers à signer", 10))
    return True


def run(fx, env, conf, p11dir):
    home = env["HOME"]
    pdf = os.path.join(home, "deliberation-2026-042.pdf")
    make_pdf(pdf)
    make_pdf(os.path.join(home, "autre-document.pdf"))  # listed first, not chosen
    r = subprocess.run([fx.agent_exe, "--config", conf, "--show"], env=env, capture_output=True,
                       text=True, timeout=30)
    main = ui.find_window("mes clés et certificats")
    if not check("main window opens the sign window", main is not None and
                 ui.click(main, "Signer des fichiers…")):
        return
    w = ui.find_window("signer des fichiers")
    if not check("sign window opened", w is not None) or not choose_file(w, home, os.path.basename(pdf)):
        return
    listed = [x for x in ui.texts(w) if ".pdf" in x and "Aperçu" not in x]
    check("only the chosen file is listed", listed == ["\u2068deliberation-2026-042.pdf\u2069"],
          listed)
    if not choose_pades(w):
        return
    area = None
    end = time.monotonic() + 10
    while area is None and time.monotonic() < end:
        area = ui.find(w, pyatspi.ROLE_DRAWING_AREA, "Aperçu de la page", exact=True)
        time.sleep(0.3)
    if not check("page preview shown for a PDF (« Aperçu de la page »)", area is not None):
        return
    check("preview names the file", any("deliberation-2026-042.pdf" in x for x in ui.texts(w)),
          ui.texts(w))
    check("page count shown", "sur 2" in ui.texts(w), ui.texts(w))
    page = ui.find(w, pyatspi.ROLE_SPIN_BUTTON, "Page")
    if not check("page field (mnemonic label « Page »)", page is not None,
                 [(n.getRoleName(), n.name) for n in ui.walk(w) if n.getRole() in
                  (pyatspi.ROLE_SPIN_BUTTON, pyatspi.ROLE_TEXT, pyatspi.ROLE_LABEL)]):
        return
    page.queryValue().currentValue = 2
    time.sleep(1.0)
    desc = area.description or ""
    check("accessible description gives the stamp's place in French",
          "Cachet de signature sur la page 2 sur 2" in desc and "du bord gauche" in desc, desc)
    before = stamp_fields(w)
    check("stamp fields read (%s)" % before, None not in before)
    if None in before:
        return

    # ---- Move: drag the stamp from its middle ----
    s, ox, oy = geometry(area)
    left, bottom, sw, sh = before
    cx = ox + (left + sw / 2) * s
    cy = oy + (SHOWN_H - bottom - sh / 2) * s
    dx, dy = -180, -120  # to the left and up, in pixels
    drag(cx, cy, cx + dx, cy + dy)
    moved = stamp_fields(w)
    want = [left + dx / s, bottom - dy / s, sw, sh]
    tol = 1.5 / s + 1  # a pixel of rounding on each end
    check("dragged stamp moved by the drag / scale (%s, want %s)" % (moved, want),
          all(abs(a - b) <= tol for a, b in zip(moved, want)))

    # ---- Resize: drag the lower-right handle ----
    hx = ox + (moved[0] + moved[2]) * s - 4
    hy = oy + (SHOWN_H - moved[1]) * s - 4
    drag(hx, hy, hx + 60, hy + 40)
    sized = stamp_fields(w)
    top = moved[1] + moved[3]
    want = [moved[0], top - (moved[3] + 40 / s), moved[2] + 60 / s, moved[3] + 40 / s]
    check("handle resized the stamp, top-left corner kept (%s, want %s)" % (sized, want),
          all(abs(a - b) <= tol for a, b in zip(sized, want)))
    desc = area.description or ""
    check("description follows the stamp",
          ("%.0f points du bord gauche" % sized[0]) in desc, desc)

    # ---- Keyboard: the focused preview moves with the arrow keys ----
    area.queryComponent().grabFocus()
    time.sleep(0.3)
    subprocess.run(["xdotool", "key", "Right", "Up"], check=True)
    time.sleep(0.6)
    keyed = stamp_fields(w)
    check("arrow keys move the stamp 10 points (%s)" % keyed,
          abs(keyed[0] - sized[0] - 10) < 0.5 and abs(keyed[1] - sized[1] - 10) < 0.5 and
          abs(keyed[2] - sized[2]) < 0.5)
    final = keyed

    for name, text in (("Motif", "Approbation du plan de financement"), ("Lieu", "Brest")):
        e = ui.find(w, pyatspi.ROLE_TEXT, name)
        if check("field « %s »" % name, e is not None):
            e.queryEditableText().insertText(0, text, len(text.encode()))
    combos = [n for n in ui.walk(w) if n.getRole() == pyatspi.ROLE_COMBO_BOX]
    end = time.monotonic() + 15
    while time.monotonic() < end and not (len(combos) == 2 and combos[1].name):
        time.sleep(0.3)
    check("certificate chosen once the first refresh ended (%s)" % combos[1].name,
          len(combos) == 2 and "(valide jusqu’au" in (combos[1].name or ""))
    ui.screenshot("sign-preview", "signer des fichiers")

    # ---- Sign ----
    ui.click(w, "Signer", exact=True)
    pin = ui.find_window("Code PIN de la clé")
    if check("PIN dialog", pin is not None):
        entry = ui.find(pin, pyatspi.ROLE_PASSWORD_TEXT)
        entry.queryEditableText().insertText(0, "1234", 4)
        time.sleep(0.3)
        ui.click(pin, "Valider")
    check("signed (✔ in the results)", ui.wait_text(w, "✔", 40), ui.texts(w))
    out = os.path.join(home, "deliberation-2026-042-signe.pdf")
    if not check("output deliberation-2026-042-signe.pdf", os.path.exists(out)):
        return
    q = subprocess.run(["qpdf", "--check", out], capture_output=True, text=True)
    check("qpdf --check passes, no warning", q.returncode == 0 and "WARNING" not in q.stdout +
          q.stderr, q.stdout[-400:] + q.stderr[-400:])
    v = subprocess.run(["pdfsig", out], capture_output=True, text=True)
    check("pdfsig: the signature is valid",
          "Signature Validation: Signature is Valid." in v.stdout, v.stdout[-600:])
    rect, page_index, _ = sig_widget(out)
    want = user_rect(final)
    check("signature widget on page 2 (index %s)" % page_index, page_index == 1)
    check("widget /Rect where the stamp was dropped (%s, want %s)" % (rect, want),
          rect is not None and all(isinstance(a, float) and abs(a - b) <= 3
                                   for a, b in zip(rect, want)))
    dump = subprocess.run(["qpdf", "--qdf", "--object-streams=disable", out, "-"],
                          capture_output=True).stdout
    check("reason and place in the signature dictionary",
          b"Approbation du plan de financement" in dump and b"(Brest)" in dump)
    ui.click(w, "Fermer")


if __name__ == "__main__":
    sys.exit(main())
