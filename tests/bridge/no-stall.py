#!/usr/bin/python3
"""no-stall.py - the agent never stalls behind a prompt (issues 10.5, 16.5).

sinadur-agent --headless with the TERMINAL prompter, on a pty of its own:
1. a first-use approval is asked on the terminal and left unanswered while the
   expiry check (1 s after start) loads the PKCS#11 module, which forks a probe:
   other requests are still answered and the certificate list gets built (the
   probe used to fflush(NULL) and wait forever for the stream the prompt reads);
2. once approved, a signature's consent is left pending (the token is held):
   /v1/info, /v1/verify and the cached /v1/certificates answer meanwhile;
3. SIGTERM with the prompt still unanswered: the agent exits.
"""
import base64
import fcntl
import os
import signal
import subprocess
import sys
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridgelib as bl  # noqa: E402

O = "https://portail.example.fr"
failures = []


def check(name, cond, detail=""):
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else " " + str(detail)[:400]))
    if not cond:
        failures.append(name)


class Tty:
    """The agent's controlling terminal; everything it prints is collected."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        self.text = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.text += data

    def wait_for(self, needle, timeout=10):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            with self.lock:
                if needle.encode() in self.text:
                    return True
            time.sleep(0.1)
        return False

    def clear(self):
        with self.lock:
            self.text = b""

    def type(self, line):
        os.write(self.master, (line + "\n").encode())


def timed(fn):
    t0 = time.monotonic()
    try:
        r = fn()
    except Exception as e:  # a timeout is a stall
        r = e
    return r, time.monotonic() - t0


def main():
    fx = bl.Fixture()
    port = bl.free_port()
    conf = os.path.join(fx.dir, "agent.conf")
    with open(conf, "w") as f:
        f.write("[tokens]\nmodules=/usr/lib/softhsm/libsofthsm2.so\n")
        f.write("[signature]\ntrust_anchors=%s\n" % os.path.join(fx.pki, "root.pem"))
        f.write("[bridge]\nport=%d\nallowed_origins=%s\nconsent_timeout_s=60\n" % (port, O))
    tty = Tty()

    def ctty():
        os.setsid()
        fcntl.ioctl(tty.slave, termios.TIOCSCTTY, 0)

    env = dict(fx.env, LANG="C.UTF-8")
    proc = subprocess.Popen([fx.agent_exe, "--headless", "--config", conf], stdin=tty.slave,
                            stdout=subprocess.PIPE, stderr=tty.slave, env=env, text=True,
                            preexec_fn=ctty)
    try:
        line = proc.stdout.readline()
        if "listening on 127.0.0.1:%d" % port not in line:
            bl.log("agent did not start: %r" % line)
            return 1
        # 1. First-use approval pending on the terminal across the expiry check.
        first = {}
        t = threading.Thread(target=lambda: first.update(
            r=bl.request(port, "GET", "/v1/certificates", origin=O, timeout=90)), daemon=True)
        t.start()
        check("approval asked on the terminal", tty.wait_for("?"), tty.text[-300:])
        time.sleep(2.5)  # the expiry check ran (module load, probe fork) meanwhile
        r, dt = timed(lambda: bl.request(port, "GET", "/v1/info", origin=O, timeout=5))
        check("info answered while a terminal prompt is pending (%.2fs)" % dt,
              isinstance(r, bl.Response) and r.status == 200 and dt < 3, r)
        r, dt = timed(lambda: bl.request(port, "POST", "/v1/verify", origin=O, timeout=5, body={
            "documents": [{"name": "x.p7s", "data": base64.b64encode(b"not a signature").decode()}]}))
        check("verify answered while a terminal prompt is pending (%.2fs)" % dt,
              isinstance(r, bl.Response) and r.status in (200, 400, 422) and dt < 3, r)
        tty.clear()
        tty.type("o")
        t.join(15)
        check("listing approved on the terminal", "r" in first and first["r"].status == 200,
              first.get("r") and first["r"].body[:200])
        # The origin is approved now: info may count the certificates, which the
        # expiry check's module probe read while the prompt was pending.
        n = -1
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            r = bl.request(port, "GET", "/v1/info", origin=O, timeout=5)
            n = r.json()["state"]["certificates"]
            if n > 0:
                break
            time.sleep(0.5)
        check("the token was read (module probe did not hang)", n > 0, n)

        # 2. A signature's consent pending (token lock held by the sign handler).
        tty.clear()
        digest = base64.b64encode(b"\x01" * 32).decode()
        certs = first["r"].json()["certificates"] if "r" in first else []
        usable = [c for c in certs if c.get("days_left", -1) > 0 and "sign" in str(c.get("usage", ""))]
        cert_id = (usable or certs or [{"id": ""}])[0]["id"]
        sign = {}
        t2 = threading.Thread(target=lambda: sign.update(r=bl.request(
            port, "POST", "/v1/sign", origin=O, timeout=90,
            body={"mode": "digest", "digest": digest, "hash": "sha256", "certificate": cert_id})),
            daemon=True)
        t2.start()
        asked = tty.wait_for("?", 10)
        check("signature prompt pending on the terminal", asked, tty.text[-300:])
        for name, fn in (
                ("info", lambda: bl.request(port, "GET", "/v1/info", origin=O, timeout=5)),
                ("verify", lambda: bl.request(port, "POST", "/v1/verify", origin=O, timeout=5, body={
                    "documents": [{"name": "x.p7s", "data": base64.b64encode(b"nope").decode()}]})),
                ("cached certificates", lambda: bl.request(port, "GET", "/v1/certificates", origin=O,
                                                          timeout=5))):
            r, dt = timed(fn)
            check("%s answered while a consent is pending (%.2fs)" % (name, dt),
                  isinstance(r, bl.Response) and r.status in (200, 400, 422) and dt < 3, r)
        check("the signature is still waiting for its consent", "r" not in sign,
              sign.get("r") and sign["r"].body[:300])

        # 3. SIGTERM with the prompt unanswered.
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(15)
        except subprocess.TimeoutExpired:
            rc = None
        check("SIGTERM honoured with a prompt pending", rc is not None, rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if failures:
            bl.log(tty.text.decode(errors="replace")[-1500:])
        fx.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
