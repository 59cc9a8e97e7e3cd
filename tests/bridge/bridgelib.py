"""bridgelib.py - shared helpers of the bridge integration tests (python3 stdlib only).

Starts a SoftHSM fixture token (tests/fixtures/softhsm-fixture.sh) and a real
sinadur-agent on a free loopback port, with a scripted prompter; raw-socket HTTP
client so that tests control every header (Host, Origin, partial requests...).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77


def log(*args):
    print(*args, flush=True)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need(tool):
    if shutil.which(tool) is None and not os.path.exists(tool):
        log("missing tool: %s" % tool)
        sys.exit(SKIP)


class Fixture:
    """A temp dir with the SoftHSM token, HOME/XDG dirs and an empty sysconfdir.
    responder=True: the PKI's AIA / CRLDP name a free port on which
    tests/cades/pki-responder.py (OCSP, CRL, TSA) runs until cleanup()."""

    def __init__(self, responder=False):
        self.src = os.environ.get("SINADUR_SOURCE_ROOT",
                                  os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
        self.build = os.environ.get("SINADUR_BUILD_ROOT", os.path.join(self.src, "build"))
        self.agent_exe = os.environ.get("SINADUR_AGENT", os.path.join(self.build, "agent", "sinadur-agent"))
        if not os.path.exists(self.agent_exe):
            log("no sinadur-agent at %s" % self.agent_exe)
            sys.exit(SKIP)
        for tool in ("openssl", "softhsm2-util", "pkcs11-tool"):
            need(tool)
        self.dir = tempfile.mkdtemp(prefix="sdr-bridge-test-")
        fx = os.path.join(self.dir, "fx")
        fx_env = dict(os.environ)
        self.responder = None
        self.pki_port = None
        if responder:
            self.pki_port = free_port()
            fx_env["SDR_PKI_PORT"] = str(self.pki_port)
        r = subprocess.run(["sh", os.path.join(self.src, "tests", "fixtures", "softhsm-fixture.sh"), fx],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=fx_env)
        if r.returncode == SKIP:
            sys.exit(SKIP)
        if r.returncode != 0:
            raise RuntimeError("softhsm fixture failed: " + r.stderr)
        self.fx = fx
        self.pki = os.path.join(fx, "pki")
        if responder:
            self.responder = subprocess.Popen(
                ["/usr/bin/python3", os.path.join(self.src, "tests", "cades", "pki-responder.py"),
                 self.pki, str(self.pki_port)], stderr=subprocess.DEVNULL)
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", self.pki_port), 1).close()
                    break
                except OSError:
                    time.sleep(0.1)
        self.env = dict(os.environ)
        self.env["SOFTHSM2_CONF"] = os.path.join(fx, "softhsm2.conf")
        home = os.path.join(self.dir, "home")
        for d in ("", ".config", ".state", ".cache", "sysconf"):
            os.makedirs(os.path.join(home, d), exist_ok=True)
        self.env.update({
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_STATE_HOME": os.path.join(home, ".state"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "SINADUR_SYSCONFDIR": os.path.join(home, "sysconf"),
            "SINADUR_TEST_NO_DISCOVERY": "1",
            "LANG": "C.UTF-8",
        })
        self.audit_log = os.path.join(home, ".state", "sinadur", "audit.log")

    def stop_responder(self):
        if self.responder is not None:
            self.responder.kill()
            self.responder.wait()
            self.responder = None

    def cleanup(self):
        self.stop_responder()
        shutil.rmtree(self.dir, ignore_errors=True)


class Agent:
    def __init__(self, fixture, script_lines, origins=("https://portail.example.fr",),
                 test_origins=(), max_body_mb=4, consent_timeout_s=5, nexu=False, extra=""):
        self.fx = fixture
        self.port = free_port()
        self.conf = os.path.join(fixture.dir, "agent-%d.conf" % self.port)
        self.script = os.path.join(fixture.dir, "script-%d" % self.port)
        with open(self.conf, "w") as f:
            f.write("[tokens]\nmodules=/usr/lib/softhsm/libsofthsm2.so\n")
            f.write("[signature]\ntrust_anchors=%s;%s\n" % (os.path.join(fixture.pki, "root.pem"), os.path.join(fixture.pki, "ca.pem")))
            # PES V2 wants the place of signature (sinadur refuses PES without it).
            f.write("city=Brest\npostal_code=29200\n")
            f.write("[bridge]\nport=%d\n" % self.port)
            f.write("allowed_origins=%s\n" % ";".join(origins))
            if test_origins:
                f.write("test_origins=%s\n" % ";".join(test_origins))
            f.write("max_body_mb=%d\nconsent_timeout_s=%d\nnexu=%s\n" %
                    (max_body_mb, consent_timeout_s, "true" if nexu else "false"))
            f.write(extra)
        with open(self.script, "w") as f:
            f.write("\n".join(script_lines) + "\n")
        os.chmod(self.script, 0o600)
        self.out = open(os.path.join(fixture.dir, "agent-%d.out" % self.port), "w+")
        self.err = open(os.path.join(fixture.dir, "agent-%d.err" % self.port), "w+")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([fixture.agent_exe, "--headless", "--config", self.conf,
                                      "--prompt-script", self.script],
                                     stdout=subprocess.PIPE, stderr=self.err, env=fixture.env,
                                     text=True)
        line = self.proc.stdout.readline()
        self.ready_s = time.monotonic() - self.t0
        if "listening on 127.0.0.1:%d" % self.port not in line:
            self.stop()
            raise RuntimeError("agent did not start: %r / %s" % (line, self.stderr()))

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error_code(self):
        try:
            return self.json()["error"]["code"]
        except Exception:
            return None


def read_response(sock, timeout=30):
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            if not data:
                return None
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Response(status, headers, rest[:length])


def request(port, method, path, host=None, origin=None, body=None, ctype=None, headers=(),
            timeout=30, addr="127.0.0.1"):
    """One request on a fresh connection; every header is explicit."""
    if host is None:
        host = "127.0.0.1:%d" % port
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        if ctype is None:
            ctype = "application/json"
    elif isinstance(body, str):
        body = body.encode()
    lines = ["%s %s HTTP/1.1" % (method, path)]
    if host is not False:
        lines.append("Host: %s" % host)
    if origin is not None:
        lines.append("Origin: %s" % origin)
    if ctype is not None:
        lines.append("Content-Type: %s" % ctype)
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    lines.extend(headers)
    lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((addr, port))
    try:
        s.sendall(raw)
        return read_response(s, timeout)
    finally:
        s.close()
