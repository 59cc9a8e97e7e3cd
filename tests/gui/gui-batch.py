#!/usr/bin/python3
"""gui-batch.py - a batch of 40 documents signed from « Signer des fichiers », its
progress bar followed through AT-SPI and the batch cancelled in the middle (run by
run-gui-test.sh: Xvfb + a private session bus).

The 40 files are handed over by a second `sinadur-agent FILE…` (what "Ouvrir avec
sinadur" runs); CAdES chosen; one PIN typed through AT-SPI. The project's PIN-tries
module makes each signature slow (delay_ms) and holds the 12th one (hold_at) until
the test lets it go, so the Cancel click lands in the middle of the batch without
racing the key: the progress bar's value (documents done / total) must rise through
intermediate values, « Annuler » is clicked once it passes 25 %, then the held
signature is released. Checks: exactly the documents signed before the cancel
have a .p7s (12 signatures made by the key, files 1 to 12), each verifies with
openssl cms and one with `sinadur verify`; the others have no output and the folder
holds no temporary file; the results say in French which documents were cancelled;
« Ouvrir le dossier » asks the desktop's file manager (org.freedesktop.FileManager1,
played by fake-desktop.py) to show exactly the signed files. Screenshot saved.
"""
import importlib.machinery
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bridge"))
import bridgelib as bl  # noqa: E402

ui = importlib.machinery.SourceFileLoader("gui_e2e", os.path.join(HERE, "gui-e2e.py")).load_module()
import pyatspi  # noqa: E402

check = ui.check
N_DOCS = 40
HOLD_AT = 12  # the 12th signature waits for the test


def read_int(path, default=0):
    try:
        with open(path) as f:
            return int(f.read().strip() or default)
    except (OSError, ValueError):
        return default


def main():
    testp11 = os.environ.get("SDR_TESTP11")
    if not testp11 or not os.path.exists(testp11):
        bl.log("SDR_TESTP11 is not built")
        return bl.SKIP
    # sinadur verify checks revocation online: the PKI's OCSP responder runs
    fx = bl.Fixture(responder=True)
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
    shown = os.path.join(fx.dir, "shown.jsonl")
    desktop = subprocess.Popen([sys.executable, os.path.join(HERE, "fake-desktop.py"), "300",
                                os.path.join(fx.dir, "sni.jsonl"),
                                os.path.join(fx.dir, "notes.jsonl"), shown],
                               env=env, stdout=subprocess.PIPE, text=True)
    procs.append(desktop)
    check("fake desktop started", "ready" in desktop.stdout.readline())
    err = open(os.path.join(fx.dir, "agent.err"), "w+")
    agent = subprocess.Popen([fx.agent_exe, "--config", conf], env=env,
                             stdout=subprocess.PIPE, stderr=err, text=True)
    procs.append(agent)
    try:
        line = agent.stdout.readline()
        if check("agent listening", ("127.0.0.1:%d" % port) in line, line):
            run(fx, env, conf, p11dir, shown)
    finally:
        try:
            os.unlink(os.path.join(p11dir, "hold_at"))
        except OSError:
            pass
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
        else:
            fx.stop_responder()
    bl.log("%d failure(s)" % len(ui.failures))
    return 1 if ui.failures else 0


def choose_cades(w):
    combo = [n for n in ui.walk(w) if n.getRole() == pyatspi.ROLE_COMBO_BOX][0]
    purposes = [n.name for n in ui.walk(combo) if n.getRole() == pyatspi.ROLE_MENU_ITEM]
    if not check("CAdES purpose offered", "Signature détachée (CAdES)" in purposes, purposes):
        return False
    combo.querySelection().selectChild(purposes.index("Signature détachée (CAdES)"))
    time.sleep(0.5)
    return check("CAdES chosen", combo.name == "Signature détachée (CAdES)", combo.name)


def progress_value(bar):
    try:
        return bar.queryValue().currentValue
    except Exception:  # noqa: BLE001 - the bar may be rebuilt while read
        return None


def run(fx, env, conf, p11dir, shown):
    lot = os.path.join(fx.dir, "lot")
    os.makedirs(lot)
    docs = []
    for i in range(1, N_DOCS + 1):
        path = os.path.join(lot, "deliberation-%02d.txt" % i)
        with open(path, "wb") as f:
            f.write(("Délibération n° 2026-%03d du conseil municipal\n" % i).encode() * 20)
        docs.append(path)
    inputs = set(os.listdir(lot))
    r = subprocess.run([fx.agent_exe, "--config", conf] + docs, env=env, capture_output=True,
                       text=True, timeout=30)
    check("sinadur-agent FILE… (40 files) hands them over", r.returncode == 0, r.stderr)
    w = ui.find_window("signer des fichiers")
    if not check("sign window opened with the files", w is not None):
        return
    check("the 40 files listed", ui.wait_text(w, "deliberation-40.txt", 10), ui.texts(w)[:5])
    if not choose_cades(w):
        return
    combos = [n for n in ui.walk(w) if n.getRole() == pyatspi.ROLE_COMBO_BOX]
    end = time.monotonic() + 15
    while time.monotonic() < end and not (len(combos) == 2 and combos[1].name):
        time.sleep(0.3)
    check("certificate chosen", len(combos) == 2 and "(valide jusqu’au" in (combos[1].name or ""))
    bar = ui.find(w, pyatspi.ROLE_PROGRESS_BAR, "Avancement")
    check("no progress bar before the batch", bar is None or
          not bar.getState().contains(pyatspi.STATE_SHOWING))

    with open(os.path.join(p11dir, "delay_ms"), "w") as f:
        f.write("120\n")
    with open(os.path.join(p11dir, "hold_at"), "w") as f:
        f.write("%d\n" % HOLD_AT)
    ui.click(w, "Signer", exact=True)
    pin = ui.find_window("Code PIN de la clé")
    if not check("one PIN dialog for the batch", pin is not None):
        return
    entry = ui.find(pin, pyatspi.ROLE_PASSWORD_TEXT)
    entry.queryEditableText().insertText(0, "1234", 4)
    time.sleep(0.3)
    ui.click(pin, "Valider")

    # ---- The bar rises with the documents done; Annuler past 25 % ----
    bar = None
    end = time.monotonic() + 20
    while bar is None and time.monotonic() < end:
        bar = ui.find(w, pyatspi.ROLE_PROGRESS_BAR, "Avancement")
        time.sleep(0.1)
    if not check("progress bar « Avancement » shown", bar is not None):
        return
    seen = []
    end = time.monotonic() + 60
    while time.monotonic() < end:
        v = progress_value(bar)
        if v is not None and (not seen or v != seen[-1]):
            seen.append(v)
        if v is not None and v * N_DOCS >= HOLD_AT - 1 - 1e-6:
            break
        time.sleep(0.05)
    check("progress value rises past 25 %% (%s)" % ["%.3f" % v for v in seen],
          len(seen) >= 3 and seen == sorted(seen) and 0 < seen[1] < 0.25 and seen[-1] >= 0.25)
    check("progress value is documents done / total",
          all(abs(v * N_DOCS - round(v * N_DOCS)) < 1e-6 for v in seen), seen)
    end = time.monotonic() + 20
    while read_int(os.path.join(p11dir, "signs")) < HOLD_AT and time.monotonic() < end:
        time.sleep(0.1)
    made = read_int(os.path.join(p11dir, "signs"))
    check("the key holds signature %d (%d made)" % (HOLD_AT, made), made == HOLD_AT)
    busy = ui.tray_wait(fx, "sinadur-busy", 10)
    check("tray state while the batch runs: busy (« signature en cours… »)",
          busy is not None and busy.get("Title") == "sinadur — signature en cours…",
          ui.tray_records(fx)[-1:])
    cancel = ui.find(w, pyatspi.ROLE_PUSH_BUTTON, "Annuler", exact=True)
    if not check("« Annuler » offered during the batch", ui.sensitive(cancel)):
        return
    cancel.queryAction().doAction(0)
    time.sleep(0.5)
    check("« Annuler » disabled once clicked", not ui.sensitive(cancel))
    ui.screenshot("sign-batch-cancelling", "signer des fichiers")
    os.unlink(os.path.join(p11dir, "hold_at"))

    # ---- The results: done complete, the rest untouched, in French ----
    check("results: the batch was cancelled", ui.wait_text(w, "Signature annulée", 40), ui.texts(w))
    time.sleep(0.5)
    made = read_int(os.path.join(p11dir, "signs"))
    check("no signature after the cancel (%d made)" % made, made == HOLD_AT)
    signed = sorted(x for x in os.listdir(lot) if x.endswith(".p7s"))
    want = ["deliberation-%02d.txt.p7s" % i for i in range(1, HOLD_AT + 1)]
    check("the documents done before the cancel are signed (%d)" % len(signed), signed == want,
          signed)
    extra = set(os.listdir(lot)) - inputs - set(want)
    check("no temporary or partial file in the folder", not extra, sorted(extra))
    for name in signed:
        sig = os.path.join(lot, name)
        v = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
                            "-content", sig[:-4], "-CAfile", os.path.join(fx.pki, "chain.pem"),
                            "-purpose", "any", "-out", os.devnull], capture_output=True, text=True)
        check("%s verifies (openssl cms)" % name, v.returncode == 0, v.stderr[-300:])
    cli = os.path.join(fx.build, "agent", "sinadur")
    if os.path.exists(cli) and signed:
        v = subprocess.run([cli, "--config", conf, "verify", os.path.join(lot, signed[-1]),
                            "--content", os.path.join(lot, signed[-1][:-4])],
                           env=env, capture_output=True, text=True, timeout=60)
        check("sinadur verify: the last signed document is valid",
              "valide" in v.stdout.lower() and "invalide" not in v.stdout.lower(),
              v.stdout[-400:] + v.stderr[-400:])
    t = ui.texts(w)
    summary = [x for x in t if "Signature annulée" in x]
    check("summary counts in French",
          summary and "12 documents signés sur 40" in summary[0] and
          "28 documents n’ont pas été signés" in summary[0], summary)
    lines = "\n".join(x for x in t if "✘" in x or "✔" in x)
    check("each signed document listed « signé » with its output",
          all(("✔ \u2068deliberation-%02d.txt\u2069 : signé (\u2068deliberation-%02d.txt.p7s\u2069)"
               % (i, i)) in lines for i in range(1, HOLD_AT + 1)), lines[:400])
    check("each document after the cancel listed as cancelled",
          all(("✘ \u2068deliberation-%02d.txt\u2069 : non signé — vous avez annulé la signature "
               "avant ce document" % i) in lines for i in range(HOLD_AT + 1, N_DOCS + 1)),
          lines[-400:])
    after = ui.tray_wait(fx, "sinadur-key-expired", 10)
    check("tray state after the batch: the key's state again", after is not None,
          ui.tray_records(fx)[-1:])
    check("progress bar hidden at the end",
          not bar.getState().contains(pyatspi.STATE_SHOWING))
    ui.screenshot("sign-batch-cancelled", "signer des fichiers")

    # ---- « Ouvrir le dossier »: the file manager shows the signed files ----
    if check("« Ouvrir le dossier » offered", ui.click(w, "Ouvrir le dossier")):
        calls = []
        end = time.monotonic() + 10
        while not calls and time.monotonic() < end:
            time.sleep(0.3)
            calls = ui.read_jsonl(shown)
        uris = calls[0]["uris"] if calls else []
        check("the file manager is asked to show the signed files (ShowItems)",
              calls and calls[0]["method"] == "ShowItems" and
              sorted(uris) == sorted("file://" + os.path.join(lot, x) for x in want), calls)
    ui.click(w, "Fermer")
    check("Fermer closes the sign window", ui.window_gone("signer des fichiers", 5))
    notes_path = os.path.join(fx.dir, "notes.jsonl")
    done = [n for n in ui.read_jsonl(notes_path) if n["summary"] == "Signature terminée"]
    check("batch finished notified with its summary",
          len(done) == 1 and "12 documents signés sur 40" in done[0]["body"], done)
    failed_batch(fx, env, conf, lot, notes_path)


def failed_batch(fx, env, conf, lot, notes_path):
    """A batch where nothing is signed (the PIN dialog cancelled): notified as failed."""
    doc = os.path.join(lot, "annexe-echec.txt")
    with open(doc, "wb") as f:
        f.write(b"Annexe\n" * 10)
    r = subprocess.run([fx.agent_exe, "--config", conf, doc], env=env, capture_output=True,
                       text=True, timeout=30)
    w = ui.find_window("signer des fichiers") if r.returncode == 0 else None
    if not check("sign window opened for the failing batch", w is not None, r.stderr) or \
            not choose_cades(w):
        return
    ui.click(w, "Signer", exact=True)
    pin = ui.find_window("Code PIN de la clé")
    if check("PIN dialog of the failing batch", pin is not None):
        ui.click(pin, "Annuler")
    end = time.monotonic() + 20
    failed = []
    while time.monotonic() < end and not failed:
        time.sleep(0.3)
        failed = [n for n in ui.read_jsonl(notes_path) if n["summary"] == "Échec de la signature"]
    check("batch failed notified", len(failed) == 1 and failed[0]["body"], failed)
    check("no document signed by the failing batch", not os.path.exists(doc + ".p7s"))
    ui.click(w, "Fermer")
    ui.window_gone("signer des fichiers", 5)


if __name__ == "__main__":
    sys.exit(main())
