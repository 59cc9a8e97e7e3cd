#!/usr/bin/python3
"""events-rig.py - /v1/events with a real pcscd and a virtual card: run by
tests/pcsc/pcsc-rig.sh (private namespaces, pcscd config with vpcd, sdr-vcard,
SoftHSM fixture; see tests/pcsc/README.md). Plugging the card must reach an open
event stream as "token-inserted", pulling it as "token-removed", within 5 s."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridgelib as bl  # noqa: E402

O = "https://portail.example.fr"
failures = []


def check(name, cond, detail=""):
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else " " + detail))
    if not cond:
        failures.append(name)


class Stream(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.data = ""
        self.lock = threading.Lock()

    def run(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n\r\n" %
                   (self.port, O)).encode())
        while True:
            try:
                chunk = s.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            with self.lock:
                self.data += chunk.decode("latin-1")

    def wait_for(self, text, start, timeout=5.0):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            with self.lock:
                if text in self.data[start:]:
                    return time.monotonic() - t0
            time.sleep(0.02)
        return None

    def size(self):
        with self.lock:
            return len(self.data)


def main():
    agent_exe = os.environ.get("SINADUR_AGENT")
    vcard = os.environ.get("SDR_VCARD")
    logs = os.environ["SDR_RIG_LOGS"]
    pcscd = subprocess.Popen(["pcscd", "--foreground", "--config", os.environ["SDR_RIG_CONF"]],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(logs, "pcscd.log"), "w"))
    card = None
    agent = None
    fx = None
    try:
        time.sleep(1.0)
        # The agent, with the same SoftHSM module (the card is a second view of it).
        os.environ["SINADUR_AGENT"] = agent_exe
        fx = bl.Fixture.__new__(bl.Fixture)
        fx.src = os.environ.get("SINADUR_SOURCE_ROOT")
        fx.agent_exe = agent_exe
        fx.dir = os.path.join(logs, "agent")
        os.makedirs(fx.dir, exist_ok=True)
        fx.pki = os.path.join(os.path.dirname(os.environ["SOFTHSM2_CONF"]), "pki")
        fx.env = dict(os.environ)
        fx.env.update({"SINADUR_SYSCONFDIR": fx.dir, "SINADUR_TEST_NO_DISCOVERY": "1",
                       "XDG_STATE_HOME": os.path.join(fx.dir, "state"), "LANG": "C.UTF-8"})
        agent = bl.Agent(fx, ["consent yes"], origins=(O,))
        r = bl.request(agent.port, "GET", "/v1/certificates", origin=O)
        check("certificates listed (origin approved)", r.status == 200, r.body[:200])
        stream = Stream(agent.port)
        stream.start()
        check("stream opened", stream.wait_for("retry: 3000", 0) is not None)

        mark = stream.size()
        card = subprocess.Popen([vcard, "--db", os.environ["SDR_RIG_DB"], "--port", os.environ["SDR_RIG_PORT"],
                                 "--reconnect", "--plug-on-signal"], stdout=subprocess.PIPE,
                                stderr=open(os.path.join(logs, "vcard.log"), "w"), text=True)
        line = card.stdout.readline().strip()
        check("virtual card ready", line == "initialized", line)
        card.send_signal(signal.SIGUSR1)
        t = stream.wait_for("event: token-inserted", mark)
        check("token-inserted event (%s s)" % (None if t is None else round(t, 2)), t is not None,
              stream.data[mark:][-400:])

        mark = stream.size()
        card.terminate()
        card.wait(10)
        card = None
        t = stream.wait_for("event: token-removed", mark)
        check("token-removed event (%s s)" % (None if t is None else round(t, 2)), t is not None,
              stream.data[mark:][-400:])
        r = bl.request(agent.port, "GET", "/v1/info")
        check("agent still serving", r.status == 200)
    finally:
        if card is not None:
            card.kill()
            card.wait()
        if agent is not None:
            rc = agent.stop()
            check("clean exit", rc == 0, "rc=%s %s" % (rc, agent.stderr()[-500:]))
        pcscd.terminate()
        try:
            pcscd.wait(10)
        except subprocess.TimeoutExpired:
            pcscd.kill()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
