#!/usr/bin/python3
"""agent-cli.py - sinadur-agent's command line and life cycle: --version, invalid
policies refused (exit 2), port already taken (exit 1), SIGINT clean exit, French
messages by default."""
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridgelib as bl  # noqa: E402

failures = []


def check(name, cond, detail=""):
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else " " + detail))
    if not cond:
        failures.append(name)


def run(fx, args, env_extra=None):
    env = dict(fx.env)
    env.update(env_extra or {})
    return subprocess.run([fx.agent_exe] + args, capture_output=True, text=True, env=env, timeout=10)


def listening(port):
    """Local addresses listening on port, from /proc/net/tcp{,6}."""
    found = set()
    for path, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    addr, p = parts[1].split(":")
                    if parts[3] != "0A" or int(p, 16) != port:  # 0A = LISTEN
                        continue
                    raw = bytes.fromhex(addr)
                    if v6:
                        words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                        found.add(socket.inet_ntop(socket.AF_INET6, words))
                    else:
                        found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
        except OSError:
            pass
    return found


def main():
    fx = bl.Fixture()
    try:
        r = run(fx, ["--version"])
        check("--version", r.returncode == 0 and r.stdout.startswith("sinadur-agent "), r.stdout)
        for name, conf in [("http origin in allowed_origins", "allowed_origins=http://portail.example.fr\n"),
                           ("wildcard origin", "allowed_origins=*\n"),
                           ("null origin", "allowed_origins=null\n"),
                           ("remote http test origin", "test_origins=http://intranet.example.fr:8080\n"),
                           ("port out of range", "port=70000\n"),
                           ("max_body_mb 0", "max_body_mb=0\n")]:
            path = os.path.join(fx.dir, "bad.conf")
            with open(path, "w") as f:
                f.write("[bridge]\n" + conf)
            r = run(fx, ["--headless", "--config", path], {"LANG": "C.UTF-8"})
            check("refuses a policy with a %s (exit 2)" % name, r.returncode == 2 and r.stderr, r.stderr)
        r = run(fx, ["--headless", "--config", path], {"LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"})
        check("messages in French", "invalide" in r.stderr, r.stderr)

        # Another program on [::1]:PORT (browsers may try "localhost" there first).
        try:
            squat = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            squat.bind(("::1", 0))
            squat.listen(1)
        except OSError:
            squat = None
        if squat is not None:
            path = os.path.join(fx.dir, "squat.conf")
            with open(path, "w") as f:
                f.write("[bridge]\nport=%d\n" % squat.getsockname()[1])
            r = run(fx, ["--headless", "--config", path])
            check("refuses to start when [::1]:PORT belongs to another program (exit 1)",
                  r.returncode == 1 and "::1" in r.stderr, "rc=%d %s" % (r.returncode, r.stderr))
            squat.close()

        a = bl.Agent(fx, ["consent yes"])
        try:
            r = run(fx, ["--headless", "--config", a.conf, "--prompt-script", a.script])
            check("second agent on the same port exits 1", r.returncode == 1, "rc=%d %s" % (r.returncode, r.stderr))
            socks = listening(a.port)
            check("listens on the loopback only (%s)" % ", ".join(sorted(socks)),
                  socks and all(h in ("127.0.0.1", "::1") for h in socks), str(socks))
            a.proc.send_signal(signal.SIGINT)
            rc = a.proc.wait(10)
            check("SIGINT: clean exit", rc == 0, "rc=%s" % rc)
            check("ready in under 150 ms (%.0f ms)" % (a.ready_s * 1000), a.ready_s < 0.150)
        finally:
            a.stop()
    finally:
        fx.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
