#!/usr/bin/env python3
"""pty-drive.py STEPS OUT -- CMD [ARG...]

Runs CMD on a new pseudo-terminal (its controlling terminal, so /dev/tty is the
pty) and plays STEPS, one per line:
    expect REGEX   wait (30 s at most) until the output after the previous match
                   matches REGEX
    send TEXT      type TEXT (backslash escapes: \\n for Enter)
    intr           type the interrupt character (Ctrl-C: the terminal sends SIGINT)
Everything CMD wrote on the terminal goes to OUT. When CMD has ended, prints on
stdout "rc N" (or "signal N"), then "echo on" or "echo off": the ECHO flag of the
terminal as CMD left it (what `stty` would show). Exit 0 when every step ran,
1 when an expect timed out (the output is in OUT)."""
import os
import re
import select
import signal
import sys
import termios
import time


def main():
    steps_path, out_path = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    with open(steps_path, encoding="utf-8") as f:
        steps = [line.rstrip("\n") for line in f if line.strip()]
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        import fcntl
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.execvp(cmd[0], cmd)
    out = b""
    pos = 0  # end of the previous match
    ok = True

    def pump(timeout):
        """Reads what is there: "data", "timeout" or "eof"."""
        nonlocal out
        r, _, _ = select.select([master], [], [], timeout)
        if not r:
            return "timeout"
        try:
            data = os.read(master, 4096)
        except OSError:
            return "eof"
        if not data:
            return "eof"
        out += data
        return "data"

    for step in steps:
        word, _, arg = step.partition(" ")
        if word == "expect":
            deadline = time.monotonic() + 30
            rx = re.compile(arg.encode())
            m = rx.search(out, pos)
            while m is None:
                if time.monotonic() > deadline or pump(0.2) == "eof":
                    m = rx.search(out, pos)
                    if m is None:
                        ok = False
                    break
                m = rx.search(out, pos)
            if m is not None:
                pos = m.end()
            if not ok:
                sys.stderr.write("pty-drive: timed out waiting for %r\n" % arg)
                break
        elif word == "send":
            os.write(master, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif word == "intr":
            os.write(master, termios.tcgetattr(slave)[6][termios.VINTR])
        else:
            sys.stderr.write("pty-drive: unknown step %r\n" % step)
            ok = False
            break
    if not ok:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        pump(0.1)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
    while pump(0.2) == "data":
        pass
    echo = termios.tcgetattr(slave)[3] & termios.ECHO
    with open(out_path, "wb") as f:
        f.write(out)
    if os.WIFSIGNALED(status):
        print("signal %d" % os.WTERMSIG(status))
    else:
        print("rc %d" % os.WEXITSTATUS(status))
    print("echo on" if echo else "echo off")
    return 0 if ok else 1


sys.exit(main())
