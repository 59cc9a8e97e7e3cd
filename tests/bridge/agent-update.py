#!/usr/bin/python3
"""agent-update.py - sinadur-agent restarts itself when its executable is replaced
(a package upgrade in a session without a systemd user manager), only when idle.

A copy of the built sinadur-agent in a temporary bin/ folder runs with the scripted
prompter ("hold PATH": the first consent stays open until the test creates PATH)
on a free port. Then:
- the file is replaced (rename, new inode) by a shell script: "not an executable
  program: ignored", the process keeps running its first executable;
- a portal's first /v1/certificates opens the consent (held); the file is replaced
  by a copy of the agent (new inode): the agent says it will restart once idle, and
  for several seconds does NOT (same /proc/PID/exe inode, no "re-executing"), while
  /v1/info still answers and the held request is still waiting;
- the consent is answered: the request gets 200, then the agent re-executes: same
  PID (execv), /proc/PID/exe is the new inode, "listening on" the same port again,
  /v1/info answers; a few seconds later it has not re-executed a second time;
- SIGTERM: exit 0.
"""
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridgelib as bl  # noqa: E402

O = "https://portail.example.fr"
DEADLINE_S = 60
QUIET_S = 4  # longer than the agent's settle delay (1 s) plus its idle poll (1 s), twice
failures = []


def check(name, cond, detail=""):
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else " " + str(detail)[:400]))
    if not cond:
        failures.append(name)


def replace(path, source=None, text=None):
    """Atomic replacement (what dpkg does): a new file renamed over the path."""
    tmp = path + ".new"
    if source is not None:
        shutil.copy2(source, tmp)
    else:
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o755)
    os.rename(tmp, path)
    return os.stat(path).st_ino


def exe_inode(pid):
    return os.stat("/proc/%d/exe" % pid).st_ino


class Lines:
    """The agent's stdout, line by line, on a thread (the pipe survives execv)."""

    def __init__(self, stream):
        self.q = queue.Queue()
        self.all = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.q.put(line.rstrip("\n"))

    def wait(self, needle, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                return None
            self.all.append(line)
            if needle in line:
                return line

    def drain(self):
        while True:
            try:
                self.all.append(self.q.get_nowait())
            except queue.Empty:
                return

    def seen(self, needle):
        self.drain()
        return [l for l in self.all if needle in l]


def main():
    fx = bl.Fixture()
    bindir = os.path.join(fx.dir, "bin")
    os.makedirs(bindir)
    exe = os.path.join(bindir, "sinadur-agent")
    shutil.copy2(fx.agent_exe, exe)
    fx.agent_exe = exe
    release = os.path.join(fx.dir, "release")
    agent = bl.Agent(fx, ["hold " + release, "consent yes"], origins=(O,), consent_timeout_s=90)
    port, pid = agent.port, agent.proc.pid
    lines = Lines(agent.proc.stdout)
    try:
        first = exe_inode(pid)
        r = bl.request(port, "GET", "/v1/info")
        check("the copied agent answers /v1/info", r.status == 200, r.status)

        # A file that is not an ELF program never triggers a restart.
        replace(exe, text="#!/bin/sh\nexit 0\n")
        line = lines.wait("not an executable program", DEADLINE_S)
        check("a script put over the agent is ignored", line is not None, lines.all)
        check("still the first executable after the script", exe_inode(pid) == first)

        # A consent kept open: the request is in progress.
        answer = {}

        def listing():
            answer["r"] = bl.request(port, "GET", "/v1/certificates", origin=O, timeout=DEADLINE_S + 30)

        t = threading.Thread(target=listing, daemon=True)
        t.start()
        end = time.monotonic() + DEADLINE_S
        while not os.path.exists(release + ".held") and time.monotonic() < end:
            time.sleep(0.05)
        check("the portal's consent is open (held)", os.path.exists(release + ".held"))

        new = replace(exe, source=agent_source(fx))
        line = lines.wait("restarting once idle", DEADLINE_S)
        check("the agent notices its new executable", line is not None, lines.all)
        time.sleep(QUIET_S)
        check("no re-exec while the consent is open", not lines.seen("re-executing"), lines.all)
        check("same executable while the consent is open", exe_inode(pid) == first)
        r = bl.request(port, "GET", "/v1/info")
        check("/v1/info answers meanwhile", r is not None and r.status == 200)
        check("the held request is still waiting", t.is_alive())

        # The person answers: the request completes, then the agent restarts.
        open(release, "w").close()
        t.join(DEADLINE_S)
        r = answer.get("r")
        check("the held request completes (200)", r is not None and r.status == 200,
              r.status if r is not None else "no answer")
        check("re-executed after the request", lines.wait("re-executing", DEADLINE_S) is not None,
              lines.all)
        line = lines.wait("listening on 127.0.0.1:%d" % port, DEADLINE_S)
        check("the new process listens on the same port", line is not None, lines.all)
        check("same PID (execv)", agent.alive(), agent.stderr())
        check("/proc/PID/exe is the new file", agent.alive() and exe_inode(pid) == new,
              "%s != %s" % (exe_inode(pid) if agent.alive() else None, new))
        r = bl.request(port, "GET", "/v1/info")
        check("/v1/info answers after the re-exec", r is not None and r.status == 200)
        time.sleep(QUIET_S)
        check("no second re-exec (no loop)", len(lines.seen("re-executing")) == 1, lines.all)
        check("one restart announcement only", len(lines.seen("restarting once idle")) == 1,
              lines.all)
        rc = agent.stop()
        check("SIGTERM after the re-exec: exit 0", rc == 0, "%s %s" % (rc, agent.stderr()))
    finally:
        agent.stop()
        if failures:
            bl.log("agent stdout:\n" + "\n".join(lines.all) + "\nstderr:\n" + agent.stderr())
        fx.cleanup()
    if failures:
        bl.log("%d failure(s): %s" % (len(failures), ", ".join(failures)))
        return 1
    bl.log("agent-update: all checks passed")
    return 0


def gui_main():
    """With the GTK face (under run-gui-test.sh: Xvfb and a private session bus),
    no window: the agent re-executes and the new process owns the application's
    bus name again (a second "sinadur-agent --show" is handed to it and exits 0);
    with its window shown, a new replacement is announced but not executed."""
    fx = bl.Fixture()
    bindir = os.path.join(fx.dir, "bin")
    os.makedirs(bindir)
    exe = os.path.join(bindir, "sinadur-agent")
    shutil.copy2(agent_source(fx), exe)
    port = bl.free_port()
    conf = os.path.join(fx.dir, "agent.conf")
    with open(conf, "w") as f:
        f.write("[tokens]\nmodules=/usr/lib/softhsm/libsofthsm2.so\n")
        f.write("[bridge]\nport=%d\nallowed_origins=%s\n" % (port, O))
    err = open(os.path.join(fx.dir, "agent.err"), "w+")
    proc = subprocess.Popen([exe, "--config", conf], env=fx.env, stdout=subprocess.PIPE,
                            stderr=err, text=True)
    lines = Lines(proc.stdout)
    try:
        ok = lines.wait("listening on 127.0.0.1:%d" % port, DEADLINE_S) is not None
        check("the GUI agent listens", ok, lines.all)
        if not ok:
            return 1
        new = replace(exe, source=agent_source(fx))
        check("GUI, no window: re-executed", lines.wait("re-executing", DEADLINE_S) is not None,
              lines.all)
        check("GUI: the new process listens again",
              lines.wait("listening on 127.0.0.1:%d" % port, DEADLINE_S) is not None, lines.all)
        time.sleep(2)
        check("GUI: same PID, alive (bus name taken again)", proc.poll() is None, proc.returncode)
        check("GUI: /proc/PID/exe is the new file", proc.poll() is None and exe_inode(proc.pid) == new)
        show = subprocess.run([exe, "--config", conf, "--show"], env=fx.env, timeout=DEADLINE_S,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        check("GUI: --show is handed to the re-executed agent (exit 0)",
              show.returncode == 0 and "listening" not in show.stdout, show.stdout)
        time.sleep(1)
        replace(exe, source=agent_source(fx))
        check("GUI, window shown: the new file is announced",
              lines.wait("restarting once idle", DEADLINE_S) is not None, lines.all)
        time.sleep(QUIET_S)
        check("GUI, window shown: no re-exec", len(lines.seen("re-executing")) == 1, lines.all)
        r = bl.request(port, "GET", "/v1/info")
        check("GUI: /v1/info answers", r is not None and r.status == 200)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if failures:
            err.seek(0)
            bl.log("agent stdout:\n" + "\n".join(lines.all) + "\nstderr:\n" + err.read())
        fx.cleanup()
    if failures:
        bl.log("%d failure(s): %s" % (len(failures), ", ".join(failures)))
        return 1
    bl.log("agent-update --gui: all checks passed")
    return 0


def agent_source(fx):
    return os.environ.get("SINADUR_AGENT", os.path.join(fx.build, "agent", "sinadur-agent"))


if __name__ == "__main__":
    sys.exit(gui_main() if sys.argv[1:] == ["--gui"] else main())
