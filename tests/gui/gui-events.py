#!/usr/bin/python3
"""gui-events.py - the GUI follows the key without a restart: run by
tests/pcsc/pcsc-rig.sh (private pcscd with vpcd and the project's virtual card,
OpenSC's module) through run-gui-test.sh (Xvfb + private session bus + AT-SPI).
No card: « Insérez votre clé »; the card plugged: its certificate is listed and
« Clé insérée » notified; pulled: « Insérez votre clé » again and « Clé retirée ». The tray item (read on
fake-desktop.py's StatusNotifierWatcher) follows: no key, the state of the card's
certificate that expires first (its title the holder and days left, or expired), no
key again."""
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("gui_e2e", os.path.join(HERE, "gui-e2e.py"))
g = importlib.util.module_from_spec(spec)
spec.loader.exec_module(g)
bl = g.bl


def tray_wait(work, icon, timeout=15):
    """The tray item's last record once its icon is icon (fake-desktop.py's log)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        recs = g.read_jsonl(os.path.join(work, "sni.jsonl"))
        if recs and recs[-1].get("IconName") == icon:
            return recs[-1]
        time.sleep(0.5)
    return None


def main():
    agent_exe = os.environ["SINADUR_AGENT"]
    vcard = os.environ["SDR_VCARD"]
    logs = os.environ["SDR_RIG_LOGS"]
    cn = os.environ["SDR_RIG_CN"]
    work = os.path.join(logs, "gui")
    os.makedirs(os.path.join(work, "state"), exist_ok=True)
    env = dict(os.environ)
    env.update({"SINADUR_SYSCONFDIR": work, "SINADUR_TEST_NO_DISCOVERY": "1",
                "XDG_STATE_HOME": os.path.join(work, "state"), "LANG": "fr_FR.UTF-8",
                "LANGUAGE": "fr", "GDK_BACKEND": "x11"})
    port = bl.free_port()
    conf = os.path.join(work, "agent.conf")
    with open(conf, "w") as f:
        f.write("[tokens]\nmodules=%s\n[bridge]\nport=%d\n" % (os.environ["SDR_RIG_OPENSC"], port))
    procs = g.start_atspi(env)
    notes = os.path.join(work, "notes.jsonl")
    desk = subprocess.Popen([sys.executable, os.path.join(HERE, "fake-desktop.py"), "200",
                             os.path.join(work, "sni.jsonl"), notes],
                            env=env, stdout=subprocess.PIPE, text=True)
    procs.append(desk)
    g.check("fake desktop ready", "ready" in desk.stdout.readline())
    pcscd = subprocess.Popen(["pcscd", "--foreground", "--config", os.environ["SDR_RIG_CONF"]],
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(logs, "pcscd.log"), "w"))
    procs.append(pcscd)
    time.sleep(1.0)
    err = open(os.path.join(logs, "agent-gui.err"), "w+")
    agent = subprocess.Popen([agent_exe, "--config", conf, "--show"], env=env,
                             stdout=subprocess.PIPE, stderr=err, text=True)
    procs.append(agent)
    card = None
    try:
        g.check("agent listening", ("127.0.0.1:%d" % port) in agent.stdout.readline())
        win = g.find_window("mes clés et certificats", 30)
        if not g.check("main window shown", win is not None):
            return 1
        g.check("no card: « Insérez votre clé »", g.wait_text(win, "Insérez votre clé", 30),
                g.texts(win)[:10])
        g.check("no card: tray state no key", tray_wait(work, "sinadur-no-key") is not None,
                g.read_jsonl(os.path.join(work, "sni.jsonl"))[-1:])
        card = subprocess.Popen([vcard, "--db", os.environ["SDR_RIG_DB"], "--port",
                                 os.environ["SDR_RIG_PORT"], "--reconnect", "--plug-on-signal"],
                                stdout=subprocess.PIPE,
                                stderr=open(os.path.join(logs, "vcard.log"), "w"), text=True)
        g.check("virtual card ready", card.stdout.readline().strip() == "initialized")
        t0 = time.monotonic()
        card.send_signal(signal.SIGUSR1)
        ok = g.wait_text(win, cn, 20)
        g.check("card plugged: %s listed without a restart (%.1f s)" % (cn, time.monotonic() - t0),
                ok, g.texts(win)[:10])
        g.check("card plugged: « Insérez votre clé » gone",
                not any("Insérez votre clé" in x for x in g.texts(win)))
        g.screenshot("events-card-plugged", "mes clés et certificats")
        # The tray follows the card's certificates: the one that expires first speaks.
        t = g.texts(win)
        days = [int(m.group(1)) for x in t for m in [re.search(r"Expire dans (\d+) jours?", x)]
                if m]
        if any(x.startswith("Expiré depuis") for x in t):
            icon, end = "sinadur-key-expired", ", certificat expiré"
        elif days:
            icon = "sinadur-key" if min(days) > 90 else "sinadur-key-expiring"
            end = ", %d jours restants" % min(days)
        else:
            icon, end = None, None
        rec = tray_wait(work, icon) if icon else None
        g.check("card plugged: tray state %s, title « sinadur — …%s »" % (icon, end),
                rec is not None and str(rec.get("Title")).startswith("sinadur — ") and
                str(rec.get("Title")).endswith(end),
                g.read_jsonl(os.path.join(work, "sni.jsonl"))[-1:])
        t0 = time.monotonic()
        card.terminate()
        card.wait(10)
        card = None
        ok = g.wait_text(win, "Insérez votre clé", 20)
        g.check("card pulled: « Insérez votre clé » again (%.1f s)" % (time.monotonic() - t0), ok,
                g.texts(win)[:10])
        g.check("card pulled: tray state no key again",
                tray_wait(work, "sinadur-no-key") is not None,
                g.read_jsonl(os.path.join(work, "sni.jsonl"))[-1:])
        time.sleep(1)
        summaries = [n["summary"] for n in g.read_jsonl(notes)]
        g.check("notified « Clé insérée »", "Clé insérée" in summaries, summaries)
        g.check("notified « Clé retirée »", "Clé retirée" in summaries, summaries)
    finally:
        if card is not None:
            card.kill()
            card.wait()
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        err.seek(0)
        text = err.read()
        g.check("agent stderr has no critical", "CRITICAL" not in text, text[-800:])
    bl.log("%d failure(s)" % len(g.failures))
    return 1 if g.failures else 0


if __name__ == "__main__":
    sys.exit(main())
