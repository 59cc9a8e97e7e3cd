#!/usr/bin/python3
"""gui-s2low.py - « Envoyer à la préfecture / au comptable (S²LOW) » and its « Envois »
view, driven through AT-SPI (run by run-gui-test.sh: Xvfb + a private session bus).

A real Secret Service (gnome-keyring-daemon, unlocked, on the test's session bus): the
« Mot de passe S²LOW… » button runs the s2low-login handler, whose password question
is the GUI prompter's dialog (masked field in the secure buffer); the password typed
there is then in the keyring under (url, login) and nowhere in the agent's output.
Then an act is sent from the form (French labels, mnemonics): S²LOW is not reachable
(a closed port on 127.0.0.1), so the send handler keeps it queued and the « Envois »
view lists it with the French label of its state. Without gnome-keyring-daemon the
password part is skipped (the form and the view are still checked). Screenshots of
the window and of the password dialog.
"""
import importlib.machinery
import os
import shutil
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
PASSWORD = "secret-du-secretariat"
WINDOW = "envois S²LOW"


def main():
    testp11 = os.environ.get("SDR_TESTP11")
    if not testp11 or not os.path.exists(testp11):
        bl.log("SDR_TESTP11 is not built")
        return bl.SKIP
    fx = bl.Fixture()
    p11dir = os.path.join(fx.dir, "p11")
    os.makedirs(p11dir)
    env = dict(fx.env)
    env.update({"SDR_TESTP11_DIR": p11dir, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr",
                "GTK_THEME": "Adwaita", "GDK_BACKEND": "x11",
                "XDG_DATA_HOME": os.path.join(env["HOME"], ".local", "share"),
                "SINADUR_S2LOW_DB": os.path.join(fx.dir, "s2low.db")})
    env.pop("NO_AT_BRIDGE", None)
    os.makedirs(env["XDG_DATA_HOME"], exist_ok=True)
    port = bl.free_port()
    s2low_url = "https://127.0.0.1:%d" % bl.free_port()  # nobody listens there
    conf = os.path.join(fx.dir, "agent.conf")
    with open(conf, "w") as f:
        f.write("[tokens]\nmodules=%s\n" % testp11)
        f.write("[signature]\ntrust_anchors=%s;%s\n" % (os.path.join(fx.pki, "root.pem"),
                                                        os.path.join(fx.pki, "ca.pem")))
        f.write("[bridge]\nport=%d\n" % port)
        f.write("[s2low]\nurl=%s\nlogin=secretariat\nca_file=%s\npoll_interval_s=3600\n"
                % (s2low_url, os.path.join(fx.pki, "root.pem")))
    procs = ui.start_atspi(env)
    keyring = None
    if shutil.which("gnome-keyring-daemon") and shutil.which("secret-tool"):
        keyring = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock",
                                    "--components=secrets"], env=env, stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        keyring.stdin.write(b"keyring-pass")
        keyring.stdin.close()
        procs.append(keyring)
        time.sleep(1.5)
    else:
        bl.log("gnome-keyring-daemon or secret-tool missing: the password part is skipped")
    err = open(os.path.join(fx.dir, "agent.err"), "w+")
    agent = subprocess.Popen([fx.agent_exe, "--config", conf, "--show"], env=env,
                             stdout=subprocess.PIPE, stderr=err, text=True)
    procs.append(agent)
    try:
        line = agent.stdout.readline()
        if check("agent listening", ("127.0.0.1:%d" % port) in line, line):
            run(fx, env, p11dir, s2low_url, keyring is not None)
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
        check("the password never in the agent's output", PASSWORD not in text)
        if not ui.failures:
            fx.cleanup()
    bl.log("%d failure(s)" % len(ui.failures))
    return 1 if ui.failures else 0


def type_into(root, name, text):
    e = ui.find(root, pyatspi.ROLE_TEXT, name)
    if not check("field « %s »" % name, e is not None):
        return
    et = e.queryEditableText()
    et.deleteText(0, len(e.queryText().getText(0, -1).encode()))
    et.insertText(0, text, len(text.encode()))


def password(w, s2low_url):
    ui.click(w, "Mot de passe S²LOW")
    dlg = ui.find_window("Mot de passe S²LOW")
    if not check("password dialog raised by « Mot de passe S²LOW… »", dlg is not None):
        return
    t = ui.texts(dlg)
    check("the dialog names the account and the address",
          any("secretariat" in x and "127.0.0.1" in x and "S²LOW demande le mot de passe" in x
              for x in t), t)
    check("says where it is kept", any("trousseau" in x for x in t), t)
    entry = ui.find(dlg, pyatspi.ROLE_PASSWORD_TEXT)
    ok = ui.find(dlg, pyatspi.ROLE_PUSH_BUTTON, "Valider")
    if not check("masked field « Mot de passe »", entry is not None and entry.name == "Mot de passe"):
        return
    check("Valider disabled while empty", not ui.sensitive(ok))
    entry.queryEditableText().insertText(0, PASSWORD, len(PASSWORD))
    time.sleep(0.3)
    check("Valider enabled once typed", ui.sensitive(ok))
    check("the field shows no character of it",
          PASSWORD not in (entry.queryText().getText(0, -1) or ""))
    ui.screenshot("s2low-password", "Mot de passe S²LOW")
    ui.click(dlg, "Valider")
    check("password dialog closed", ui.window_gone("Mot de passe S²LOW", 5))
    check("« gardé dans le trousseau » shown", ui.wait_text(w, "gardé dans le trousseau", 10),
          ui.texts(w))
    r = subprocess.run(["secret-tool", "lookup", "url", s2low_url, "login", "secretariat"],
                       capture_output=True, text=True, timeout=20)
    check("the password is in the keyring under (url, login)", r.stdout == PASSWORD,
          r.stdout + r.stderr)


def run(fx, env, p11dir, s2low_url, has_keyring):
    pdf = os.path.join(env["HOME"], "deliberation-2026-042-signe.pdf")
    data, _ = mkpdf.build([b"<< /Type /Catalog /Pages 2 0 R >>",
                           b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                           b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"])
    with open(pdf, "wb") as f:
        f.write(data)
    main = ui.find_window("mes clés et certificats")
    if not check("main window offers « Envoyer à la préfecture / au comptable (S²LOW)… »",
                 main is not None and
                 ui.click(main, "Envoyer à la préfecture / au comptable (S²LOW)…")):
        return
    w = ui.find_window(WINDOW)
    if not check("S²LOW window opened", w is not None):
        return
    if has_keyring:
        password(w, s2low_url)
    labels = ui.texts(w)
    for want in ("Nature de l’acte :", "Classification :", "Numéro de l’acte :",
                 "Date de la décision :", "Objet :", "Type d’acte (code) :", "Fichier :"):
        check("form label « %s »" % want, want in labels, labels)
    send = ui.find(w, pyatspi.ROLE_PUSH_BUTTON, "Envoyer", exact=True)
    check("Envoyer disabled until the form is filled", not ui.sensitive(send))
    type_into(w, "Fichier", pdf)
    for name, text in (("Classification", "1.1"), ("Numéro", "2026_042"),
                       ("Objet", "Approbation du plan de financement"), ("Type", "99_DE")):
        type_into(w, name, text)
    time.sleep(0.5)
    if not check("Envoyer enabled once the form is filled", ui.sensitive(send)):
        return
    subprocess.run(["xdotool", "mousemove", "0", "0"])
    ui.screenshot("s2low-send", WINDOW)
    send.queryAction().doAction(0)
    # The key authenticates the connection: the certificate (when several fit) and the PIN.
    end = time.monotonic() + 40
    while time.monotonic() < end:
        choice = ui.find_window("Choix du certificat", 0.5)
        if choice is not None:
            ui.click(choice, "Choisir")
        pin = ui.find_window("Code PIN de la clé", 0.5)
        if pin is not None:
            entry = ui.find(pin, pyatspi.ROLE_PASSWORD_TEXT)
            entry.queryEditableText().insertText(0, "1234", 4)
            time.sleep(0.3)
            ui.click(pin, "Valider")
        if ui.wait_text(w, "Envoi 1", 0.5):
            break
    t = ui.texts(w)
    check("the send is queued (« Envoi 1 — Acte 2026_042 : en attente d'envoi »)",
          any("Envoi 1 — Acte \u20682026_042\u2069 : en attente d'envoi" in x for x in t), t)
    check("the view counts it", ui.wait_text(w, "1 envoi dans la file", 5), t)
    check("the reason it is not sent yet is shown", any("Pas encore parti" in x for x in t) or
          any("renvoyé de lui-même" in x for x in t), t)
    subprocess.run(["xdotool", "mousemove", "0", "0"])  # no tooltip over the shot
    time.sleep(0.5)
    ui.screenshot("s2low-sends", WINDOW)
    ui.click(w, "Actualiser")
    check("« Actualiser » re-reads the queue", ui.wait_text(w, "1 envoi dans la file", 10))
    ui.click(w, "Fermer")
    check("Fermer closes the S²LOW window", ui.window_gone(WINDOW, 5))
    # Opened again (the tray's or the window's entry): the queue is still listed.
    ui.click(main, "Envoyer à la préfecture / au comptable (S²LOW)…")
    w = ui.find_window(WINDOW)
    check("opened again, the send still listed", w is not None and
          ui.wait_text(w, "Envoi 1 — Acte", 10))


if __name__ == "__main__":
    sys.exit(main())
