#!/usr/bin/python3
"""gui-e2e.py - the GTK face of sinadur-agent, driven through AT-SPI like a person
would (run by run-gui-test.sh: Xvfb + a private session bus).

A SoftHSM fixture token behind the project's PIN-tries module; a real
sinadur-agent started with --show and no prompt script. Checks: the main window
lists the fixture certificates with the right days left and French labels; a
StatusNotifierWatcher on the bus receives the tray item; a portal's first
listing raises the access dialog; a signature request raises the consent dialog
(Refuser = no login, no signature; Signer + PIN typed = a signature that openssl
verifies); count-low wording before the first attempt; the final-try
confirmation gates the entry. Screenshots of each window are saved under
the build dir (tests/gui/screenshots) and checked not to be blank.
"""
import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bridge"))
import bridgelib as bl  # noqa: E402

ORIGIN = "https://portail.example.fr"
failures = []


def check(name, cond, detail=""):
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else "  " + str(detail)))
    if not cond:
        failures.append(name)
    return cond


def start_atspi(env):
    launcher = subprocess.Popen(["/usr/libexec/at-spi-bus-launcher", "--launch-immediately"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.8)
    registry = subprocess.Popen(["/usr/libexec/at-spi2-registryd"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return [launcher, registry]


# ---- AT-SPI helpers ---------------------------------------------------------------

import pyatspi  # noqa: E402


def app_node():
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        a = desktop.getChildAtIndex(i)
        if a is not None and a.name and "sinadur" in a.name:
            return a
    return None


def walk(node, depth=0):
    if node is None or depth > 40:
        return
    yield node
    try:
        n = node.childCount
    except Exception:  # noqa: BLE001 - a node can vanish while we walk
        return
    for i in range(n):
        try:
            c = node.getChildAtIndex(i)
        except Exception:  # noqa: BLE001
            continue
        yield from walk(c, depth + 1)


def find_window(title_part, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        a = app_node()
        if a is not None:
            for i in range(a.childCount):
                w = a.getChildAtIndex(i)
                if w is not None and w.name and title_part in w.name and \
                        w.getState().contains(pyatspi.STATE_SHOWING):
                    return w
        time.sleep(0.3)
    return None


def window_gone(title_part, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if find_window(title_part, timeout=0.1) is None:
            return True
        time.sleep(0.3)
    return False


def find(root, role, name_part=None, exact=False):
    for n in walk(root):
        try:
            if n.getRole() == role and (name_part is None or (
                    n.name and (n.name == name_part if exact else name_part in n.name))):
                return n
        except Exception:  # noqa: BLE001
            continue
    return None


def texts(root):
    out = []
    for n in walk(root):
        try:
            if n.getRole() in (pyatspi.ROLE_LABEL, pyatspi.ROLE_FRAME, pyatspi.ROLE_DIALOG,
                               pyatspi.ROLE_PANEL) and n.name:
                out.append(n.name)
        except Exception:  # noqa: BLE001
            continue
    return out


def wait_text(root, part, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(part in t for t in texts(root)):
            return True
        time.sleep(0.5)
    return False


def click(root, name_part, exact=False):
    b = find(root, pyatspi.ROLE_PUSH_BUTTON, name_part, exact) or \
        find(root, pyatspi.ROLE_CHECK_BOX, name_part, exact) or \
        find(root, pyatspi.ROLE_RADIO_BUTTON, name_part, exact)
    if b is None:
        return False
    b.queryAction().doAction(0)
    return True


def sensitive(node):
    return node is not None and node.getState().contains(pyatspi.STATE_SENSITIVE)


# ---- Screenshots --------------------------------------------------------------------

SHOTS = os.path.join(os.environ.get("SINADUR_BUILD_ROOT", "build"), "tests", "gui", "screenshots")


def screenshot(name, title):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name + ".png")
    time.sleep(0.7)  # let GTK draw
    ids = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                         capture_output=True, text=True).stdout.split()
    target = ids[-1] if ids else "root"
    r = subprocess.run(["import", "-window", target, path], capture_output=True, text=True)
    if not check("screenshot " + name, r.returncode == 0 and os.path.exists(path), r.stderr):
        return None
    sd = subprocess.run(["convert", path, "-colorspace", "Gray", "-format",
                         "%[fx:standard_deviation]", "info:"], capture_output=True, text=True)
    try:
        value = float(sd.stdout.strip())
    except ValueError:
        value = 0.0
    check("screenshot %s is not blank (sd %.3f)" % (name, value), value > 0.02)
    return path


# ---- Requests in the background -----------------------------------------------------

class Call(threading.Thread):
    def __init__(self, port, method, path, body=None):
        super().__init__(daemon=True)
        self.args = (port, method, path)
        self.body = body
        self.response = None
        self.start()

    def run(self):
        port, method, path = self.args
        try:
            self.response = bl.request(port, method, path, origin=ORIGIN, body=self.body,
                                       timeout=120)
        except OSError as e:
            bl.log("request failed: %s" % e)

    def result(self, timeout=60):
        self.join(timeout)
        return self.response


def days_left(pem):
    """Days left as a person counts them (common/sdr-time.h sdr_time_days_left): the
    calendar day of the end minus today's, both in local time."""
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", pem],
                         capture_output=True, text=True, check=True).stdout
    end = datetime.datetime.strptime(out.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
    end = end.replace(tzinfo=datetime.timezone.utc).astimezone()
    return (end.date() - datetime.datetime.now().astimezone().date()).days


def logins(p11dir):
    try:
        with open(os.path.join(p11dir, "logins")) as f:
            return int(f.read().strip() or 0)
    except OSError:
        return 0


def consent_timeout(fx, port, p11dir, cert):
    """Nobody answers: the dialog closes at the request's timeout, nothing is signed."""
    before = logins(p11dir)
    body = {"format": "cades", "certificate": cert,
            "documents": [{"name": "sans-reponse.txt", "data": base64.b64encode(b"x").decode()}]}
    call = Call(port, "POST", "/v1/sign", body)
    dlg = find_window("Demande de signature")
    check("consent dialog raised (timeout 3 s)", dlg is not None)
    t0 = time.monotonic()
    gone = window_gone("Demande de signature", 15)
    check("consent dialog closed by its timeout (%.1f s)" % (time.monotonic() - t0), gone)
    r = call.result()
    check("unanswered consent -> SDR_ERROR_TIMEOUT", r is not None and
          r.error_code() == "SDR_ERROR_TIMEOUT", r and r.body[:200])
    check("unanswered consent -> no login", logins(p11dir) == before)


def tray_records(fx):
    return read_jsonl(os.path.join(fx.dir, "sni.jsonl"))


def tray_wait(fx, icon, timeout=15):
    """The last record of the tray item once its icon is icon (None if never)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        recs = tray_records(fx)
        if recs and recs[-1].get("IconName") == icon:
            return recs[-1]
        time.sleep(0.5)
    return None


def tray_click(fx, label):
    """A click on the tray menu's item, as the panel sends it (com.canonical.dbusmenu)."""
    recs = tray_records(fx)
    last = recs[-1] if recs else {}
    names = [x.replace("_", "") for x in last.get("MenuLabels", [])]
    if label not in names or "MenuIds" not in last:
        return False
    item = last["MenuIds"][names.index(label)]
    r = subprocess.run(["gdbus", "call", "--session", "--dest", last["sender"], "--object-path",
                        last["Menu"], "--method", "com.canonical.dbusmenu.Event", str(item),
                        "clicked", "<''>", "0"], capture_output=True, text=True, timeout=20)
    return r.returncode == 0


def read_jsonl(path):
    try:
        with open(path) as f:
            return [json.loads(x) for x in f if x.strip()]
    except OSError:
        return []


def check_notifications(fx, path):
    notes = read_jsonl(path)
    expiry = [n for n in notes if n["summary"] == "Certificat bientôt expiré"]
    bodies = " | ".join(n["body"] for n in expiry)
    soon = days_left(os.path.join(fx.pki, "user-soon.pem"))
    check("expiry notification for the certificate expiring in %d days" % soon,
          any("Yann LE GOFF" in n["body"] and ("%d jours" % soon) in n["body"] for n in expiry),
          bodies)
    check("expiry notification for the expired certificate",
          any("Anne KERBRAT" in n["body"] and "a expiré" in n["body"] for n in expiry), bodies)
    check("no notification for certificates far from expiry",
          not any("Jean DUPONT" in n["body"] or "Jeanne MARTIN" in n["body"] for n in expiry),
          bodies)
    check("each threshold announced once (%d)" % len(expiry), len(expiry) == 2, bodies)
    waiting = [n for n in notes if n["summary"] == "Une demande d’un site attend votre réponse"]
    check("portal request waiting notified, with the origin",
          any("portail.example.fr" in n["body"] and "votre signature" in n["body"]
              for n in waiting) and
          any("voir vos certificats" in n["body"] for n in waiting),
          [n["body"] for n in waiting])
    closed = {n.get("closed") for n in notes}
    check("each waiting notice withdrawn once answered (%d)" % len(waiting),
          waiting and all(n["id"] in closed for n in waiting), notes[-6:])
    state = os.path.join(fx.env["XDG_STATE_HOME"], "sinadur", "gui-expiry.ini")
    check("thresholds remembered in $XDG_STATE_HOME/sinadur", os.path.exists(state))


def main():
    testp11 = os.environ.get("SDR_TESTP11")
    if not testp11 or not os.path.exists(testp11):
        bl.log("SDR_TESTP11 is not built")
        return bl.SKIP
    # the GUI verifies online: the PKI's OCSP responder runs
    fx = bl.Fixture(responder=True)
    p11dir = os.path.join(fx.dir, "p11")
    os.makedirs(p11dir)
    env = dict(fx.env)
    env.update({"SDR_TESTP11_DIR": p11dir, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr",
                "GTK_THEME": "Adwaita", "NO_AT_BRIDGE": "0", "GDK_BACKEND": "x11"})
    env.pop("NO_AT_BRIDGE")
    port = bl.free_port()
    conf = os.path.join(fx.dir, "agent.conf")
    with open(conf, "w") as f:
        f.write("[tokens]\nmodules=%s\n" % testp11)
        f.write("[signature]\ntrust_anchors=%s;%s\n" % (os.path.join(fx.pki, "root.pem"),
                                                        os.path.join(fx.pki, "ca.pem")))
        f.write("[bridge]\nport=%d\nallowed_origins=%s\nconsent_timeout_s=90\nnexu=true\n"
                % (port, ORIGIN))
        f.write("[support]\nrenewal_url=https://renouvellement.example.fr/\n"
                "text=Assistance informatique : 02 98 00 00 00\n")
    # The desktop's browser for text/html: records the URI and copies the file.
    apps = os.path.join(fx.dir, "data", "applications")
    os.makedirs(apps)
    browser = os.path.join(fx.dir, "fake-browser.sh")
    with open(browser, "w") as f:
        f.write("#!/bin/sh\nf=\"${1#file://}\"\ncp \"$f\" %s/opened.html\n"
                "printf '%%s\\n' \"$1\" > %s/opened.txt\n" % (fx.dir, fx.dir))
    os.chmod(browser, 0o755)
    with open(os.path.join(apps, "fake-browser.desktop"), "w") as f:
        f.write("[Desktop Entry]\nType=Application\nName=Fake browser\nExec=%s %%u\n"
                "MimeType=text/html;\n" % browser)
    os.makedirs(env["XDG_CONFIG_HOME"], exist_ok=True)
    with open(os.path.join(env["XDG_CONFIG_HOME"], "mimeapps.list"), "w") as f:
        f.write("[Default Applications]\ntext/html=fake-browser.desktop\n")
    env["XDG_DATA_HOME"] = os.path.join(fx.dir, "data")
    procs = start_atspi(env)
    watch_out = os.path.join(fx.dir, "sni.jsonl")
    notes_out = os.path.join(fx.dir, "notes.jsonl")
    watcher = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "fake-desktop.py"), "300", watch_out,
                                notes_out],
                               env=env, stdout=subprocess.PIPE, text=True)
    check("StatusNotifierWatcher started", "ready" in watcher.stdout.readline())
    procs.append(watcher)
    err = open(os.path.join(fx.dir, "agent.err"), "w+")
    agent = subprocess.Popen([fx.agent_exe, "--config", conf, "--show"], env=env,
                             stdout=subprocess.PIPE, stderr=err, text=True)
    procs.append(agent)
    try:
        line = agent.stdout.readline()
        if not check("agent listening", ("127.0.0.1:%d" % port) in line, line):
            return 1
        cert = run(fx, env, port, p11dir, agent)
        check_notifications(fx, notes_out)
        # A second agent --show hands over to the first and leaves.
        r = subprocess.run([fx.agent_exe, "--config", conf, "--show"], env=env,
                           capture_output=True, text=True, timeout=30)
        check("second sinadur-agent --show exits 0 (single instance)", r.returncode == 0,
              r.stderr)
        check("the first agent still runs", agent.poll() is None)
        # Restarted: the expiry thresholds already announced are not announced again.
        agent.terminate()
        agent.wait(20)
        n_before = len(read_jsonl(notes_out))
        with open(conf) as f:
            text_conf = f.read()
        with open(conf, "w") as f:
            f.write(text_conf.replace("consent_timeout_s=90", "consent_timeout_s=3"))
        agent = subprocess.Popen([fx.agent_exe, "--config", conf], env=env,
                                 stdout=subprocess.PIPE, stderr=err, text=True)
        procs.append(agent)
        check("agent restarted", ("127.0.0.1:%d" % port) in agent.stdout.readline())
        time.sleep(6)
        again = read_jsonl(notes_out)[n_before:]
        check("no expiry notification repeated after a restart",
              not any("Certificat" in n["summary"] for n in again), again)
        if cert is not None:
            consent_timeout(fx, port, p11dir, cert)
        subprocess.run([fx.agent_exe, "--config", conf, "--show"], env=env,
                       capture_output=True, text=True, timeout=30)
        # The key pulled out: the window (shown again) says so, with the doctor's advice.
        open(os.path.join(p11dir, "removed"), "w").close()
        subprocess.run([fx.agent_exe, "--config", conf, "--show"], env=env,
                       capture_output=True, text=True, timeout=30)
        win = find_window("mes clés et certificats")
        if check("main window after removal", win is not None):
            check("no key: « Insérez votre clé »", wait_text(win, "Insérez votre clé", 30),
                  texts(win)[:20])
            check("no key: no certificate left", not any("Jean DUPONT" in x for x in texts(win)))
            screenshot("no-key", "mes clés et certificats")
        rec = tray_wait(fx, "sinadur-no-key")
        check("tray state: no key (icon sinadur-no-key, « aucune clé »)",
              rec is not None and rec.get("Title") == "sinadur — aucune clé",
              tray_records(fx)[-1:])
        # « Quitter » in the tray menu ends the agent.
        if check("tray menu « Quitter » clicked", tray_click(fx, "Quitter")):
            try:
                code = agent.wait(20)
            except subprocess.TimeoutExpired:
                code = None
            check("« Quitter » ends the agent (exit 0)", code == 0, code)
        # (Re-insertion is learnt from PC/SC events, which this module has not:
        # the bridge's events rig covers that path.)
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
        if failures:
            bl.log("agent stderr:\n" + text[-3000:])
        check("agent stderr has no critical", "CRITICAL" not in text, text[-800:])
        if not failures:
            fx.cleanup()
        else:
            fx.stop_responder()
    bl.log("%d failure(s)" % len(failures))
    return 1 if failures else 0


def run(fx, env, port, p11dir, agent):
    # ---- Main window ----
    win = find_window("mes clés et certificats")
    if not check("main window shown (sinadur — mes clés et certificats)", win is not None):
        return
    check("the certificates are listed", wait_text(win, "Jean DUPONT", 30), texts(win)[:20])
    t = texts(win)
    rsa = days_left(os.path.join(fx.pki, "user-rsa.pem"))
    soon = days_left(os.path.join(fx.pki, "user-soon.pem"))
    expired = days_left(os.path.join(fx.pki, "user-expired.pem"))
    for label in ("Titulaire", "Organisation", "Émetteur", "Usage", "Valide du",
                  "Valide jusqu’au", "Validité", "authentification"):
        check("label %s" % label, any(label == x or label in x for x in t))
    check("days left of Jean DUPONT (%d)" % rsa, ("Expire dans %d jours" % rsa) in t, t)
    check("days left of Yann LE GOFF (%d)" % soon, ("Expire dans %d jours" % soon) in t, t)
    check("expired certificate (%d)" % expired,
          ("Expiré depuis %d jours" % -expired) in t, t)
    check("renewal link for the expiring certificates",
          find(win, pyatspi.ROLE_PUSH_BUTTON, "Renouveler le certificat") is not None or
          any("Renouveler" in x for x in t))
    check("support text from the policy", any("Assistance informatique" in x for x in t))
    bars = [n for n in walk(win) if n.getRole() == pyatspi.ROLE_LEVEL_BAR]
    check("one validity bar per certificate (%d)" % len(bars), len(bars) == 5)
    screenshot("main-window", "mes clés et certificats")
    diagnostics(fx)

    # ---- Tray ----
    time.sleep(2.5)
    recs = []
    try:
        with open(os.path.join(fx.dir, "sni.jsonl")) as f:
            recs = [json.loads(x) for x in f if x.strip()]
    except OSError:
        pass
    last = recs[-1] if recs else {}
    check("tray item registered on the StatusNotifierWatcher", bool(recs))
    check("tray title names the certificate that expires first",
          "Anne KERBRAT" in str(last.get("Title")) and "certificat expiré" in str(last.get("Title")),
          last)
    check("tray icon by state", last.get("IconName") == "sinadur-key-expired", last)
    menu = [x.replace("_", "") for x in last.get("MenuLabels", [])]
    check("tray menu in French", menu == ["Ouvrir sinadur", "Signer des fichiers…",
                                          "Vérifier un fichier…",
                                          "Envoyer à la préfecture / au comptable (S²LOW)…",
                                          "Diagnostic", "Quitter"], last)
    if check("tray menu « Diagnostic » clicked (dbusmenu Event)", tray_click(fx, "Diagnostic")):
        d = find_window("sinadur — diagnostic")
        check("the tray's « Diagnostic » opens the diagnostics", d is not None)
        if d is not None:
            click(d, "Fermer")
            window_gone("sinadur — diagnostic", 5)

    # ---- First listing by the portal ----
    call = Call(port, "GET", "/v1/certificates")
    dlg = find_window("Accès à vos certificats")
    if check("access dialog raised by the portal's listing", dlg is not None):
        check("access dialog names the origin",
              any("https://portail.example.fr" in x for x in texts(dlg)), texts(dlg))
        screenshot("access-dialog", "Accès à vos certificats")
        click(dlg, "Autoriser")
    r = call.result()
    if not check("listing answered 200", r is not None and r.status == 200,
                 r and r.body[:200]):
        return
    listing = r.json()["certificates"]
    cert = [c for c in listing
            if c.get("subject_cn") == "Jean DUPONT" and "signature" in c.get("usage", [])][0]["id"]

    doc = b"Deliberation 2026-042 du conseil municipal\n" * 20
    body = {"format": "cades", "certificate": cert,
            "documents": [{"name": "deliberation-2026-042.pdf", "type": "application/pdf",
                           "data": base64.b64encode(doc).decode()}]}

    # ---- Refuser ----
    before = logins(p11dir)
    call = Call(port, "POST", "/v1/sign", body)
    dlg = find_window("Demande de signature")
    if check("consent dialog raised", dlg is not None):
        t = texts(dlg)
        check("consent shows the origin (bidi-isolated)",
              any("\u2068https://portail.example.fr\u2069" in x for x in t), t)
        check("consent shows the document", any("deliberation-2026-042.pdf" in x for x in t), t)
        check("consent shows the certificate", any("Jean DUPONT" in x for x in t), t)
        check("consent shows the format", any("CAdES" in x for x in t), t)
        refuse = find(dlg, pyatspi.ROLE_PUSH_BUTTON, "Refuser")
        check("Refuser has the focus (the default)",
              refuse is not None and refuse.getState().contains(pyatspi.STATE_FOCUSED))
        screenshot("consent-dialog", "Demande de signature")
        click(dlg, "Refuser")
    r = call.result()
    check("Refuser -> SDR_ERROR_CONSENT_DENIED", r is not None and
          r.error_code() == "SDR_ERROR_CONSENT_DENIED", r and r.body[:200])
    check("Refuser -> no login", logins(p11dir) == before)

    # ---- Signer + PIN ----
    call = Call(port, "POST", "/v1/sign", body)
    dlg = find_window("Demande de signature")
    if check("consent dialog raised again", dlg is not None):
        click(dlg, "Signer")
    pin = find_window("Code PIN de la clé")
    if check("PIN dialog raised", pin is not None):
        t = texts(pin)
        check("PIN dialog names the key and the holder",
              any("RGS-TEST" in x and "Jean DUPONT" in x for x in t), t)
        check("no tries warning at the first attempt",
              not any("essai" in x for x in t), t)
        entry = find(pin, pyatspi.ROLE_PASSWORD_TEXT)
        check("PIN entry present and enabled", sensitive(entry))
        ok = find(pin, pyatspi.ROLE_PUSH_BUTTON, "Valider")
        check("Valider disabled while empty", ok is not None and not sensitive(ok))
        entry.queryEditableText().insertText(0, "1234", 4)
        time.sleep(0.3)
        check("Valider enabled once typed", sensitive(ok))
        screenshot("pin-dialog", "Code PIN de la clé")
        click(pin, "Valider")
    r = call.result()
    if check("signature answered 200", r is not None and r.status == 200, r and r.body[:300]):
        res = r.json()["results"][0]
        sig = os.path.join(fx.dir, "sig.p7s")
        content = os.path.join(fx.dir, "doc.pdf")
        with open(sig, "wb") as f:
            f.write(base64.b64decode(res["signature"]))
        with open(content, "wb") as f:
            f.write(doc)
        v = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
                            "-content", content, "-CAfile", os.path.join(fx.pki, "chain.pem"),
                            "-purpose", "any", "-out", os.devnull], capture_output=True, text=True)
        check("the signature verifies (openssl cms -verify)", v.returncode == 0, v.stderr[-300:])

    # ---- Count low: wording before the first attempt; Annuler burns nothing ----
    with open(os.path.join(p11dir, "tries"), "w") as f:
        f.write("2\n")
    before = logins(p11dir)
    call = Call(port, "POST", "/v1/sign", body)
    dlg = find_window("Demande de signature")
    if dlg is not None:
        click(dlg, "Signer")
    pin = find_window("Code PIN de la clé")
    if check("PIN dialog with few tries left", pin is not None):
        check("count-low wording shown before the first attempt",
              wait_text(pin, "peu d’essais", 5), texts(pin))
        click(pin, "Annuler")
    r = call.result()
    check("Annuler -> error, no signature", r is not None and r.status != 200, r and r.status)
    check("Annuler -> no login, no try burnt", logins(p11dir) == before and
          open(os.path.join(p11dir, "tries")).read().strip() == "2")
    # The main window tells it too (refreshed when shown).
    subprocess.run([fx.agent_exe, "--config", os.path.join(fx.dir, "agent.conf"), "--show"],
                   env=env, capture_output=True, text=True, timeout=30)
    win = find_window("mes clés et certificats")
    check("main window: few PIN tries left", win is not None and
          wait_text(win, "Peu d’essais du code PIN", 15), win and texts(win)[:12])

    # ---- Final try: confirmation gates the entry ----
    with open(os.path.join(p11dir, "tries"), "w") as f:
        f.write("1\n")
    call = Call(port, "POST", "/v1/sign", body)
    dlg = find_window("Demande de signature")
    if dlg is not None:
        click(dlg, "Signer")
    conf = find_window("Code PIN de la clé")
    if check("final-try confirmation raised", conf is not None):
        check("final-try red warning", wait_text(conf, "Dernier essai", 5), texts(conf))
        cont = find(conf, pyatspi.ROLE_PUSH_BUTTON, "Continuer")
        check("Continuer disabled before the explicit confirmation",
              cont is not None and not sensitive(cont))
        check("no PIN entry before the confirmation",
              find(conf, pyatspi.ROLE_PASSWORD_TEXT) is None)
        screenshot("final-try-dialog", "Code PIN de la clé")
        click(conf, "J’ai compris")
        time.sleep(0.3)
        check("Continuer enabled once confirmed", sensitive(cont))
        click(conf, "Continuer")
        window_gone("Code PIN de la clé", 5)
    pin = find_window("Code PIN de la clé")
    if check("PIN dialog after the confirmation", pin is not None):
        entry = find(pin, pyatspi.ROLE_PASSWORD_TEXT)
        check("entry enabled (confirmed just before)", sensitive(entry))
        entry.queryEditableText().insertText(0, "1234", 4)
        time.sleep(0.3)
        click(pin, "Valider")
    r = call.result()
    check("final try with the right PIN signs", r is not None and r.status == 200,
          r and r.body[:300])
    check("the right PIN resets the tries",
          open(os.path.join(p11dir, "tries")).read().strip() == "3")
    pin_pad(fx, env, port, p11dir, body)
    consent_details(port, p11dir, cert)
    pin_refused_locally(fx, port, p11dir, body)
    choose_certificate(port, listing)
    sign_window(fx, env, p11dir)
    # A blocked key: the main window says what to do.
    with open(os.path.join(p11dir, "tries"), "w") as f:
        f.write("0\n")
    subprocess.run([fx.agent_exe, "--config", os.path.join(fx.dir, "agent.conf"), "--show"],
                   env=env, capture_output=True, text=True, timeout=30)
    win = find_window("mes clés et certificats")
    check("main window: blocked key, with the PUK advice", win is not None and
          wait_text(win, "La clé est bloquée", 15) and
          any("PUK" in x for x in texts(win)), win and texts(win)[:12])
    check("blocked key: the policy's support text given with the advice", win is not None and
          any("La clé est bloquée" in x and "Assistance informatique : 02 98 00 00 00" in x
              for x in texts(win)), win and texts(win)[:12])
    locked_sign(fx, env, p11dir)
    with open(os.path.join(p11dir, "tries"), "w") as f:
        f.write("3\n")
    return cert


def locked_sign(fx, env, p11dir):
    """« Signer des fichiers » with a blocked key: no PIN asked, what to do and the
    policy's support text shown with the results."""
    doc = os.path.join(fx.dir, "convention-bloquee.pdf")
    with open(doc, "wb") as f:
        f.write(b"Convention - cle bloquee\n" * 10)
    before = logins(p11dir)
    r = subprocess.run([fx.agent_exe, "--config", os.path.join(fx.dir, "agent.conf"), doc],
                       env=env, capture_output=True, text=True, timeout=30)
    w = find_window("signer des fichiers") if r.returncode == 0 else None
    if not check("sign window with a blocked key", w is not None, r.stderr):
        return
    combo = next((n for n in walk(w) if n.getRole() == pyatspi.ROLE_COMBO_BOX), None)
    purposes = [n.name for n in walk(combo) if n.getRole() == pyatspi.ROLE_MENU_ITEM] \
        if combo else []
    if "Signature détachée (CAdES)" in purposes:
        combo.querySelection().selectChild(purposes.index("Signature détachée (CAdES)"))
        time.sleep(0.5)
    click(w, "Signer", exact=True)
    check("blocked key: what to do and whom to call shown with the results",
          wait_text(w, "Assistance informatique : 02 98 00 00 00", 30) and
          any("La clé est bloquée" in x for x in texts(w)), texts(w))
    check("blocked key: no PIN dialog", find_window("Code PIN de la clé", 0.5) is None)
    check("blocked key: no login, nothing signed",
          logins(p11dir) == before and not os.path.exists(doc + ".p7s"))
    screenshot("sign-locked-key", "signer des fichiers")
    click(w, "Fermer")
    window_gone("signer des fichiers", 5)


NOTICE = "sinadur — information"


def pin_pad(fx, env, port, p11dir, body):
    """A key with a protected authentication path: no PIN field, a notice says where
    to type (sdr_prompt_notify before C_Login blocks), shown while the key asks."""
    with open(os.path.join(p11dir, "protected"), "w") as f:
        f.write("1234")
    subprocess.run([fx.agent_exe, "--config", os.path.join(fx.dir, "agent.conf"), "--show"],
                   env=env, capture_output=True, text=True, timeout=30)
    time.sleep(2)  # the refresh reads the token's flags
    pad_wait = os.path.join(p11dir, "pad_wait")  # nobody typed on the PIN pad yet
    open(pad_wait, "w").close()
    call = Call(port, "POST", "/v1/sign", body)
    dlg = find_window("Demande de signature")
    if dlg is not None:
        click(dlg, "Signer")
    note = find_window(NOTICE)
    a = app_node()
    if check("PIN pad notice shown", note is not None,
             [(a.getChildAtIndex(i).getRoleName(), a.getChildAtIndex(i).name)
              for i in range(a.childCount)] if a else None):
        check("PIN pad wording", wait_text(note, "Tapez le code PIN dans la fenêtre du logiciel "
                                                 "de la clé", 5), texts(note))
        check("PIN pad: no PIN field", find(note, pyatspi.ROLE_PASSWORD_TEXT) is None)
        check("PIN pad: no PIN dialog", find_window("Code PIN de la clé", 1) is None)
        screenshot("pin-pad-notice", NOTICE)
        check("PIN pad notice stays while the key waits", find_window(NOTICE, 1) is not None)
    os.unlink(pad_wait)  # typed on the pad: C_Login returns
    r = call.result()
    check("PIN pad: signed", r is not None and r.status == 200, r and r.body[:200])
    if note is not None:
        # The core's notify(NULL) at the end of the request closes it, no click.
        check("PIN pad notice closed by the end of the request", window_gone(NOTICE, 10))
    os.unlink(os.path.join(p11dir, "protected"))
    subprocess.run([fx.agent_exe, "--config", os.path.join(fx.dir, "agent.conf"), "--show"],
                   env=env, capture_output=True, text=True, timeout=30)
    time.sleep(2)


def consent_details(port, p11dir, cert):
    """The consent shows what the page chose to write into the signature."""
    before = logins(p11dir)
    body = {"format": "cades", "certificate": cert,
            "options": {"reason": "Délibération n° 2026-042 : approbation",
                        "location": "Plougastel-Daoulas"},
            "documents": [{"name": "deliberation-2026-042.pdf", "type": "application/pdf",
                           "data": base64.b64encode(b"x" * 64).decode()}]}
    call = Call(port, "POST", "/v1/sign", body)
    dlg = find_window("Demande de signature")
    if check("consent with a reason raised", dlg is not None):
        t = texts(dlg)
        check("consent shows the reason",
              any("Délibération n° 2026-042 : approbation" in x for x in t), t)
        check("consent shows the location", any("Plougastel-Daoulas" in x for x in t), t)
        check("consent says these are written into the signature",
              any("Inscrit dans la signature" in x for x in t), t)
        screenshot("consent-details", "Demande de signature")
        # Keyboard: Entrée answers the default, Refuser (the dialog has the focus).
        ids = subprocess.run(["xdotool", "search", "--onlyvisible", "--name",
                              "Demande de signature"], capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["xdotool", "windowfocus", "--sync", ids[-1]], capture_output=True)
            time.sleep(0.3)
            subprocess.run(["xdotool", "key", "--window", ids[-1], "Return"], capture_output=True)
        check("Entrée on the consent dialog refuses (the default)",
              bool(ids) and window_gone("Demande de signature", 10))
        if find_window("Demande de signature", 0.5) is not None:
            click(dlg, "Refuser")
    r = call.result()
    check("consent with a reason refused -> SDR_ERROR_CONSENT_DENIED", r is not None and
          r.error_code() == "SDR_ERROR_CONSENT_DENIED", r and r.body[:200])
    check("refused -> no login", logins(p11dir) == before)


def pin_refused_locally(fx, port, p11dir, body):
    """The key's PIN length shown and enforced; a PIN the core refuses without
    sending it (only spaces) is asked again with the reason, no try used."""
    for name, value in (("min_len", "4"), ("max_len", "8")):
        with open(os.path.join(p11dir, name), "w") as f:
            f.write(value + "\n")
    before = logins(p11dir)
    call = Call(port, "POST", "/v1/sign", body)
    dlg = find_window("Demande de signature")
    if dlg is not None:
        click(dlg, "Signer")
    pin = find_window("Code PIN de la clé")
    if check("PIN dialog (key of 4 to 8 characters)", pin is not None):
        check("length hint shown", wait_text(pin, "Le code PIN comporte de 4 à 8 caractères", 5),
              texts(pin))
        entry = find(pin, pyatspi.ROLE_PASSWORD_TEXT)
        ok = find(pin, pyatspi.ROLE_PUSH_BUTTON, "Valider")
        entry.queryEditableText().insertText(0, "123", 3)
        time.sleep(0.3)
        check("Valider disabled below the key's minimum", not sensitive(ok))
        entry.queryEditableText().deleteText(0, 3)
        entry.queryEditableText().insertText(0, "    ", 4)
        time.sleep(0.3)
        check("Valider enabled at 4 characters", sensitive(ok))
        click(pin, "Valider")
        window_gone("Code PIN de la clé", 5)
    pin = find_window("Code PIN de la clé")
    if check("PIN asked again after the local refusal", pin is not None):
        t = texts(pin)
        check("the reason is shown: no try was used",
              wait_text(pin, "aucun essai n’a été utilisé", 5), t)
        check("logins unchanged by the refused PIN", logins(p11dir) == before)
        screenshot("pin-refused", "Code PIN de la clé")
        entry = find(pin, pyatspi.ROLE_PASSWORD_TEXT)
        entry.queryEditableText().insertText(0, "1234", 4)
        time.sleep(0.3)
        click(pin, "Valider")
    r = call.result()
    check("signed after the refused PIN", r is not None and r.status == 200, r and r.body[:200])
    check("the tries are intact", open(os.path.join(p11dir, "tries")).read().strip() == "3")
    for name in ("min_len", "max_len"):
        os.unlink(os.path.join(p11dir, name))


def choose_certificate(port, listing):
    """NexU's /rest/certificates with several signing certificates: the person chooses."""
    ids = {c.get("subject_cn"): c["id"] for c in listing
           if "signature" in c.get("usage", []) and not c.get("expired")}
    call = Call(port, "POST", "/rest/certificates", {})
    dlg = find_window("Choix du certificat")
    if not check("certificate choice raised by /rest/certificates", dlg is not None):
        r = call.result()
        bl.log("no choice: %s" % (r and r.body[:300]))
        return
    radios = [n for n in walk(dlg) if n.getRole() == pyatspi.ROLE_RADIO_BUTTON]
    names = [n.name for n in radios]
    check("one choice per signing certificate (%d)" % len(radios), len(radios) >= 2, names)
    check("choices name holder and issuer",
          any("Jean DUPONT" in x and "AC Sinadur" in x for x in names) and
          any("Jeanne MARTIN" in x for x in names), names)
    check("choices give the end of validity and the days left",
          any("valide jusqu’au" in x and "(expire dans" in x for x in names), names)
    screenshot("choose-certificate", "Choix du certificat")
    click(dlg, "Jeanne MARTIN")
    time.sleep(0.3)
    click(dlg, "Choisir")
    r = call.result()
    check("the chosen certificate is returned", r is not None and r.status == 200 and
          ids.get("Jeanne MARTIN", "?") in r.body.decode(), r and r.body[:300])
    sign_data(port, ids.get("Jeanne MARTIN"))


def sign_data(port, cert):
    """NexU's /rest/sign: a digest the page computed. The consent shows the hash
    algorithm and the digest, no document."""
    data = b"donnees preparees par le portail"
    digest = hashlib.sha256(data).hexdigest()
    call = Call(port, "POST", "/rest/sign",
                {"keyId": cert, "toBeSigned": {"bytes": base64.b64encode(data).decode()},
                 "digestAlgorithm": "SHA256"})
    dlg = find_window("Demande de signature")
    if check("consent for data to sign raised", dlg is not None):
        t = texts(dlg)
        check("sign data: the site asks to sign data it prepared",
              any("données qu’il a préparées" in x for x in t), t)
        check("sign data: hash algorithm shown",
              "Algorithme d’empreinte" in t and any("sha256" in x.lower() for x in t), t)
        check("sign data: the digest shown", any(digest[:32] in x for x in t), t)
        check("sign data: no document row", "Document" not in t, t)
        screenshot("consent-sign-data", "Demande de signature")
        click(dlg, "Refuser")
    r = call.result()
    check("sign data refused -> not signed", r is not None and r.status != 200 and
          b"signatureValue" not in r.body, r and r.body[:200])


def sign_window(fx, env, p11dir):
    """« Signer des fichiers » : two files handed over by a second `sinadur-agent FILE…`
    (what the desktop's "Ouvrir avec sinadur" runs), the purpose chosen, one PIN,
    per-file results. (The file chooser is driven in gui-stamp.py.)"""
    main = find_window("mes clés et certificats")
    check("the main window opens the sign window",
          main is not None and click(main, "Signer des fichiers…") and
          find_window("signer des fichiers") is not None)
    w0 = find_window("signer des fichiers", 1)
    if w0 is not None:
        click(w0, "Fermer")
        check("Fermer closes the sign window", window_gone("signer des fichiers", 5))
    docs = []
    for name in ("budget-primitif-2027.pdf", "annexe-1.pdf"):
        path = os.path.join(fx.dir, name)
        with open(path, "wb") as f:
            f.write(b"Budget primitif 2027 - " + name.encode() * 30)
        docs.append(path)
    r = subprocess.run([fx.agent_exe, "--config", os.path.join(fx.dir, "agent.conf")] + docs,
                       env=env, capture_output=True, text=True, timeout=30)
    check("sinadur-agent FILE… hands the files over and exits 0", r.returncode == 0, r.stderr)
    w = find_window("signer des fichiers")
    if not check("sign window opened with the files", w is not None):
        return
    check("both files listed", wait_text(w, "annexe-1.pdf", 5) and
          any("budget-primitif-2027.pdf" in x for x in texts(w)), texts(w))
    combos = [n for n in walk(w) if n.getRole() == pyatspi.ROLE_COMBO_BOX]
    combo = combos[0] if combos else None
    check("certificate chosen: the signing one that lasts longest",
          len(combos) == 2 and "Jean DUPONT" in combos[1].name or "Jeanne MARTIN" in combos[1].name,
          [c.name for c in combos])
    certs = [n.name for n in walk(combos[1]) if n.getRole() == pyatspi.ROLE_MENU_ITEM] \
        if len(combos) == 2 else []
    check("no expired or authentication certificate offered",
          not any("Anne KERBRAT" in c for c in certs) and len(certs) == 3, certs)
    item = find(combo, pyatspi.ROLE_MENU_ITEM, "Signature détachée (CAdES)") if combo else None
    purposes = [n.name for n in walk(combo) if n.getRole() == pyatspi.ROLE_MENU_ITEM] if combo else []
    check("purposes offered in French", "Acte pour la préfecture (ACTES)" in purposes and
          "Flux comptable PES (Trésorerie)" in purposes and "Pièce de marché public" in purposes,
          purposes)
    if check("CAdES purpose offered", item is not None):
        # Through the combo's own selection (what a screen reader does).
        combo.querySelection().selectChild(purposes.index("Signature détachée (CAdES)"))
        time.sleep(0.5)
        check("CAdES purpose chosen", combo.name == "Signature détachée (CAdES)", combo.name)
    before = logins(p11dir)
    click(w, "Signer", exact=True)
    pin = find_window("Code PIN de la clé")
    if check("one PIN dialog for the batch (no consent dialog for the person's own files)",
             pin is not None and find_window("Demande de signature", 0.5) is None):
        entry = find(pin, pyatspi.ROLE_PASSWORD_TEXT)
        entry.queryEditableText().insertText(0, "1234", 4)
        time.sleep(0.3)
        click(pin, "Valider")
    check("results shown per document", wait_text(w, "✔", 30), texts(w))
    t = [x for x in texts(w) if "✔" in x]
    check("both documents signed", t and t[0].count("✔") == 2, t)
    check("one login for the batch", logins(p11dir) == before + 1, logins(p11dir))
    screenshot("sign-window", "signer des fichiers")
    for path in docs:
        sig = path + ".p7s"
        if not check("output " + os.path.basename(sig), os.path.exists(sig)):
            continue
        v = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
                            "-content", path, "-CAfile", os.path.join(fx.pki, "chain.pem"),
                            "-purpose", "any", "-out", os.devnull], capture_output=True, text=True)
        check("signature of %s verifies" % os.path.basename(path), v.returncode == 0,
              v.stderr[-300:])
    click(w, "Fermer")
    # « Vérifier un fichier » : the detached signature just made, its content found next to it.
    r = subprocess.run([fx.agent_exe, "--config", os.path.join(fx.dir, "agent.conf"), "--verify",
                        docs[0] + ".p7s"], env=env, capture_output=True, text=True, timeout=30)
    check("sinadur-agent --verify FILE hands the file over", r.returncode == 0, r.stderr)
    v = find_window("vérifier un fichier")
    if check("verify window opened", v is not None):
        check("verdict shown: valid, with the signer",
              wait_text(v, "signature valide — \u2068Jeanne MARTIN\u2069", 30) or
              wait_text(v, "signature valide — \u2068Jean DUPONT\u2069", 1), texts(v))
        screenshot("verify-window", "vérifier un fichier")
        verify_report(fx, v, docs[0])
        click(v, "Fermer")
        check("Fermer closes the verify window", window_gone("vérifier un fichier", 5))
    verify_pair(fx, env, docs[0])


def text_of(node):
    try:
        t = node.queryText()
        return t.getText(0, t.characterCount)
    except Exception:  # noqa: BLE001
        return ""


def verify_report(fx, v, doc):
    """The verifier's HTML report: opened in the browser (the desktop's default for
    text/html, here fake-browser.sh), and saved where the person says."""
    opened = os.path.join(fx.dir, "opened.txt")
    if not check("« Ouvrir le rapport » shown", click(v, "Ouvrir le rapport")):
        return
    end = time.monotonic() + 15
    while time.monotonic() < end and not os.path.exists(opened):
        time.sleep(0.3)
    uri = open(opened).read().strip() if os.path.exists(opened) else ""
    # (GIO gives a local file to %u as its path.)
    check("the report is opened in the browser (a .html in the cache folder)",
          uri.endswith(".html") and
          os.path.join(fx.env["XDG_CACHE_HOME"], "sinadur") in uri, uri)
    shown = os.path.join(fx.dir, "opened.html")
    html = open(shown, encoding="utf-8").read() if os.path.exists(shown) else ""
    check("the opened report is the HTML report of this signature",
          "<html" in html.lower() and ("Jeanne MARTIN" in html or "Jean DUPONT" in html),
          html[:200])
    if not check("« Enregistrer le rapport… » shown", click(v, "Enregistrer le rapport")):
        return
    sv = find_window("Enregistrer le rapport")
    if not check("save dialog raised", sv is not None):
        return
    screenshot("save-report", "Enregistrer le rapport")
    click(sv, "Enregistrer", exact=True)
    saved = os.path.join(os.path.dirname(doc), "rapport-de-verification.html")
    end = time.monotonic() + 10
    while time.monotonic() < end and not os.path.exists(saved):
        time.sleep(0.3)
    check("report saved next to the verified file (rapport-de-verification.html)",
          os.path.exists(saved) and open(saved, encoding="utf-8").read() == html,
          os.listdir(os.path.dirname(doc)))
    check("« Rapport enregistré » said", wait_text(v, "Rapport enregistré", 5), texts(v))


def verify_pair(fx, env, doc):
    """A detached signature handed over with a document that is not its own (not
    named after it): verified against that document, INVALID, and why."""
    other = os.path.join(fx.dir, "budget-modifie.pdf")
    with open(other, "wb") as f:
        f.write(b"Budget primitif 2027 - modifie apres signature\n")
    r = subprocess.run([fx.agent_exe, "--config", os.path.join(fx.dir, "agent.conf"), "--verify",
                        doc + ".p7s", other], env=env, capture_output=True, text=True, timeout=30)
    check("sinadur-agent --verify SIGNATURE DOCUMENT hands both over", r.returncode == 0,
          r.stderr)
    v = find_window("vérifier un fichier")
    if not check("verify window opened with the signature and a document", v is not None):
        return
    check("both files listed", wait_text(v, "budget-modifie.pdf", 5), texts(v))
    if check("verdict against the other document: NON VALIDE",
             wait_text(v, "signature NON VALIDE", 30), texts(v)):
        t = [x for x in texts(v) if "signature NON VALIDE" in x]
        lines = t[0].split("\n") if t else []
        i = next((k for k, x in enumerate(lines) if "NON VALIDE" in x), -1)
        check("the reason is given under the verdict",
              0 <= i < len(lines) - 1 and lines[i + 1].startswith("      ") and
              len(lines[i + 1].strip()) > 10, lines)
        screenshot("verify-invalid", "vérifier un fichier")
    click(v, "Fermer")
    window_gone("vérifier un fichier", 5)


def diagnostics(fx):
    """« Diagnostic » from the main window: the doctor's report, copied for support."""
    main = find_window("mes clés et certificats")
    if not check("main window has « Diagnostic »", main is not None and click(main, "Diagnostic")):
        return
    d = find_window("sinadur — diagnostic")
    if not check("diagnostics window raised", d is not None):
        return
    view = None
    end = time.monotonic() + 30
    report = ""
    while time.monotonic() < end:
        view = find(d, pyatspi.ROLE_TEXT)
        report = text_of(view) if view is not None else ""
        if report and "Diagnostic en cours" not in report:
            break
        time.sleep(0.5)
    check("the doctor's report is shown (checks with ✔/⚠/✘)",
          "✔" in report and ("RGS-TEST" in report or "module" in report.lower()), report[:300])
    screenshot("diagnostics", "sinadur — diagnostic")
    if check("« Copier le rapport »", click(d, "Copier le rapport")):
        time.sleep(0.5)
        got = subprocess.run([sys.executable, "-c",
                              "import gi; gi.require_version('Gtk', '3.0');"
                              "from gi.repository import Gtk, Gdk;"
                              "c = Gtk.Clipboard.get(Gdk.SELECTION_CLIPBOARD);"
                              "print(c.wait_for_text() or '', end='')"],
                             capture_output=True, text=True, timeout=20).stdout
        check("the clipboard holds the whole report", got.strip() == report.strip() and got,
              got[:200])
    click(d, "Fermer")
    check("Fermer closes the diagnostics", window_gone("sinadur — diagnostic", 5))


if __name__ == "__main__":
    sys.exit(main())
