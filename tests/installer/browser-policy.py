#!/usr/bin/python3
"""browser-policy.py - the managed policy "sinadur deploy browsers" writes is what
lets a public https portal reach the agent on loopback in a real Chromium.

The portal (docs/examples/portal.html) is served over https by this test as
https://portail.example.fr:PORT (a certificate made here, accepted by its SPKI
hash; --host-resolver-rules maps the name to 127.0.0.1) and its address space is
declared public (--ip-address-space-overrides), as a real portal's is. Chromium
runs headless WITHOUT --disable-features=LocalNetworkAccessChecks, in a private
mount namespace where /etc/chromium is a folder of the test's (the host's /etc is
untouched):
  1. with the managed policy written by "sinadur deploy browsers" from a
     policy.conf allowing the portal: chrome://policy (DevTools protocol) lists
     LocalNetworkAccessAllowedForUrls and LoopbackNetworkAllowedForUrls from the
     platform, the page lists the certificates and signs a PDF through the
     bridge, the signature verifies;
  2. with the policy removed, the same page gets nothing (the browser blocks the
     loopback request: UNREACHABLE), and the agent signed nothing.
Needs root (mount namespace), chromium, openssl, SoftHSM.
"""
import base64
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bridge"))
import bridgelib as bl  # noqa: E402

sys.path.insert(0, HERE)
import cdp  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SINADUR = os.environ.get("SINADUR", "")
PORTAL = "portail.example.fr"
failures = []


def check(name, cond, detail=""):
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else " " + detail))
    if not cond:
        failures.append(name)


class WebRoot(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(min(n, 64 * 1024 * 1024))
        self.server.reports.append(json.loads(data.decode()))
        self.send_response(204)
        self.end_headers()


def make_cert(d):
    key, crt = os.path.join(d, "portal.key"), os.path.join(d, "portal.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=" + PORTAL,
                    "-addext", "subjectAltName=DNS:" + PORTAL], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "x509", "-in", crt, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    spki = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der, check=True,
                          capture_output=True).stdout
    return key, crt, base64.b64encode(spki).decode()


def serve_https(root, key, crt):
    handler = lambda *a, **kw: WebRoot(*a, directory=root, **kw)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", bl.free_port()), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.reports = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def run_browser(fx, etc_chromium, url, srv, spki, portal_port, timeout=60, dump_policy=None):
    """Chromium in a private mount namespace over etc_chromium; returns the
    page's report (or None) and, when dump_policy is a path, chrome://policy's
    JSON written there by a DevTools client."""
    profile = tempfile.mkdtemp(prefix="chromium-", dir=fx.dir)
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--user-data-dir=" + profile,
            "--host-resolver-rules=MAP %s 127.0.0.1" % PORTAL,
            "--ignore-certificate-errors-spki-list=" + spki,
            "--ip-address-space-overrides=127.0.0.1:%d=public" % portal_port]
    if dump_policy:
        args.append("--remote-debugging-port=0")
    args.append(url)
    wrapper = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               'mount --bind "$0" /etc/chromium && exec "$@"', etc_chromium] + args
    env = dict(fx.env)
    proc = subprocess.Popen(wrapper, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            start_new_session=True, text=True)
    policy = None
    t0 = time.monotonic()
    try:
        if dump_policy:
            policy = read_policy_over_devtools(proc, profile, timeout)
            with open(dump_policy, "w") as f:
                json.dump(policy, f, indent=1)
        while not srv.reports and time.monotonic() - t0 < timeout and proc.poll() is None:
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
    return (srv.reports[0] if srv.reports else None), policy


def read_policy_over_devtools(proc, profile, timeout):
    """chrome://policy's rows, over the DevTools port Chromium chose."""
    port = cdp.wait_port(profile, proc, timeout)
    return None if port is None else cdp.policy_values(port, timeout=timeout)


def main():
    if os.geteuid() != 0:
        bl.log("SKIP: needs root (a private mount namespace over /etc/chromium)")
        return bl.SKIP
    if not os.path.exists(CHROMIUM):
        bl.log("SKIP: no chromium")
        return bl.SKIP
    if subprocess.run(["unshare", "-m", "--propagation", "private", "true"]).returncode != 0:
        bl.log("SKIP: unshare -m is not permitted here")
        return bl.SKIP
    fx = bl.Fixture()
    root = os.path.join(fx.dir, "www")
    os.makedirs(root)
    for f in ("portal.html", "portal.js"):
        shutil.copy(os.path.join(fx.src, "docs", "examples", f), root)
    pdf = os.path.join(root, "deliberation.pdf")
    subprocess.run(["sh", "-c", '. "$0/tests/fixtures/lib.sh"; sdr_minimal_pdf "$1"', fx.src, pdf],
                   check=True, env=dict(os.environ, SINADUR_SOURCE_ROOT=fx.src))

    key, crt, spki = make_cert(fx.dir)
    srv = serve_https(root, key, crt)
    portal_port = srv.server_address[1]
    origin = "https://%s:%d" % (PORTAL, portal_port)

    # The package's policy: "sinadur deploy browsers" from an admin policy.conf.
    sysconf = os.path.join(fx.dir, "etc-sinadur")
    os.makedirs(sysconf)
    with open(os.path.join(sysconf, "policy.conf"), "w") as f:
        f.write("[bridge]\nallowed_origins=%s;\n" % origin)
    deploy_root = os.path.join(fx.dir, "deploy")
    r = subprocess.run([SINADUR, "deploy", "browsers", "--root", deploy_root], capture_output=True,
                       text=True, env=dict(fx.env, SINADUR_SYSCONFDIR=sysconf))
    check("sinadur deploy browsers", r.returncode == 0, r.stdout + r.stderr)
    managed = os.path.join(deploy_root, "etc", "chromium", "policies", "managed", "sinadur.json")
    # /etc/chromium for the browser: the host's files, plus (or not) the policy.
    with_policy = os.path.join(fx.dir, "etc-chromium-policy")
    without = os.path.join(fx.dir, "etc-chromium-none")
    for d in (with_policy, without):
        shutil.copytree("/etc/chromium", d, symlinks=True)
    os.makedirs(os.path.join(with_policy, "policies", "managed"))
    shutil.copy(managed, os.path.join(with_policy, "policies", "managed"))

    agent = bl.Agent(fx, ["consent yes"] + ["consent yes", "pin 1234"] * 2, origins=(origin,))
    try:
        query = "?agent=http://127.0.0.1:%d&docs=deliberation.pdf&formats=pdf:cades&report=/report&key=RSA" \
            % agent.port
        url = origin + "/portal.html" + query
        dump = os.path.join(fx.dir, "policy.json")
        out, policy = run_browser(fx, with_policy, url, srv, spki, portal_port, dump_policy=dump)
        if policy is None:
            check("chrome://policy read over DevTools", False, "no answer")
        else:
            names = {p["name"]: p for p in policy}
            bl.log("  chrome://policy: %s" % json.dumps(policy)[:600])
            for n in ("LocalNetworkAccessAllowedForUrls", "LoopbackNetworkAllowedForUrls"):
                p = names.get(n)
                check("chrome://policy has %s = the portal" % n,
                      p is not None and p.get("value") == [origin], json.dumps(p))
        check("page with the policy reported", out is not None)
        if out is not None:
            bl.log("  steps: %s" % json.dumps(out.get("steps")))
            check("no error in the page", "error" not in out, json.dumps(out.get("error")))
            check("certificates listed in the page", len(out.get("certificates", [])) >= 1,
                  json.dumps(out)[:300])
            results = out.get("results", [])
            check("the PDF signed", len(results) == 1, json.dumps(out.get("steps")))
            for res in results:
                sig = os.path.join(fx.dir, "sig.p7s")
                with open(sig, "wb") as f:
                    f.write(base64.b64decode(res["signature"]))
                v = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
                                    "-content", pdf, "-CAfile", os.path.join(fx.pki, "chain.pem"),
                                    "-purpose", "any", "-out", os.devnull], capture_output=True, text=True)
                check("the signature made through the browser verifies", v.returncode == 0,
                      v.stderr[-300:])
        with open(fx.audit_log) as f:
            lines_before = f.read().count("\n")
        check("the agent logged the signature", lines_before >= 1)

        srv.reports.clear()
        out, _ = run_browser(fx, without, url, srv, spki, portal_port)
        check("page without the policy reported", out is not None)
        if out is not None:
            check("without the policy the browser blocks the bridge",
                  "certificates" not in out and "info" not in out and
                  out.get("error", {}).get("code") == "UNREACHABLE", json.dumps(out)[:300])
        with open(fx.audit_log) as f:
            check("no signature without the policy", f.read().count("\n") == lines_before)
    finally:
        rc = agent.stop()
        check("clean exit", rc == 0, "rc=%s" % rc)
        srv.shutdown()
        if failures:
            bl.log(agent.stderr()[-2000:])
        fx.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
