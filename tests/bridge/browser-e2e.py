#!/usr/bin/python3
"""browser-e2e.py - headless Chromium runs docs/examples/portal.html against a real
sinadur-agent: from an allowed origin it lists the certificates and signs a PDF and
a PES (falling back to CAdES/XAdES where this build lacks PAdES/PES), and the
results verify; from an origin that is not allowed it gets nothing.
"""
import base64
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridgelib as bl  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
failures = []


def check(name, cond, detail=""):
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else " " + detail))
    if not cond:
        failures.append(name)


def minimal_pdf(path):
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            None,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    text = b"BT /F1 18 Tf 72 760 Td (Deliberation n 2026-042 - test sinadur) Tj ET"
    objs[3] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i + 1, o)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    with open(path, "wb") as f:
        f.write(out)


class WebRoot(http.server.SimpleHTTPRequestHandler):
    reports = None  # set per server

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(min(n, 64 * 1024 * 1024))
        self.server.reports.append(json.loads(data.decode()))
        self.send_response(204)
        self.end_headers()


def serve(root):
    handler = lambda *a, **kw: WebRoot(*a, directory=root, **kw)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", bl.free_port()), handler)
    srv.reports = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def run_browser(fx, url, srv, timeout=45):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=fx.dir)
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-features=LocalNetworkAccessChecks", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--user-data-dir=" + profile, url]
    env = dict(fx.env)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    t0 = time.monotonic()
    try:
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
    return srv.reports[0] if srv.reports else None


def verify_result(agent, origin, fx, res, docs):
    name, fmt = res["name"], res["format"]
    content = docs[name]
    if res.get("signature") and fmt in ("cades", "actes"):
        sig = os.path.join(fx.dir, name + ".p7s")
        doc = os.path.join(fx.dir, "in-" + name)
        with open(sig, "wb") as f:
            f.write(base64.b64decode(res["signature"]))
        with open(doc, "wb") as f:
            f.write(content)
        v = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
                            "-content", doc, "-CAfile", os.path.join(fx.pki, "chain.pem"),
                            "-purpose", "any", "-out", os.devnull], capture_output=True, text=True)
        return v.returncode == 0, "openssl cms -verify: " + v.stderr.strip()[-200:]
    # Our own verification, through the bridge; the portal asks for the live revocation
    # check (a web origin verifies offline unless it asks, and the certificate names
    # the PKI's OCSP responder, which the fixture runs).
    if res.get("document"):
        body = {"documents": [{"name": "signed-" + name, "data": res["document"]}]}
    else:
        body = {"documents": [{"name": name + ".sig", "data": res["signature"]}],
                "content": {"name": name, "data": base64.b64encode(content).decode()}}
    body["online"] = True
    r = bl.request(agent.port, "POST", "/v1/verify", origin=origin, body=body, timeout=60)
    ok = r.status == 200 and r.json().get("verdict") == "VALID"
    return ok, "sinadur verify: %d %s" % (r.status, r.body[:400])


def main():
    if not os.path.exists(CHROMIUM):
        bl.log("no chromium")
        return bl.SKIP
    fx = bl.Fixture(responder=True)
    root = os.path.join(fx.dir, "www")
    os.makedirs(root)
    src = os.path.join(fx.src, "docs", "examples")
    for f in ("portal.html", "portal.js"):
        shutil.copy(os.path.join(src, f), root)
    minimal_pdf(os.path.join(root, "deliberation.pdf"))
    subprocess.run(["/usr/bin/python3", os.path.join(fx.src, "tests", "profiles", "gen-pes.py"),
                    os.path.join(root, "pes.xml"), "--bordereaux", "1", "--pieces", "2", "--pj", "0"],
                   check=True, capture_output=True)
    docs = {}
    for n in ("deliberation.pdf", "pes.xml"):
        with open(os.path.join(root, n), "rb") as f:
            docs[n] = f.read()

    good = serve(root)
    bad = serve(root)
    good_origin = "http://127.0.0.1:%d" % good.server_address[1]
    bad_origin = "http://127.0.0.1:%d" % bad.server_address[1]
    script = ["consent yes"] + ["consent yes", "pin 1234"] * 6
    agent = bl.Agent(fx, script, origins=("https://portail.example.fr",), test_origins=(good_origin,),
                     max_body_mb=16)
    try:
        query = "?agent=http://127.0.0.1:%d&docs=deliberation.pdf,pes.xml&report=/report&key=RSA" % agent.port
        out = run_browser(fx, good_origin + "/portal.html" + query, good)
        check("page from the allowed origin reported", out is not None)
        if out is not None:
            bl.log("  steps: %s" % json.dumps(out.get("steps")))
            check("no error in the page", "error" not in out, json.dumps(out.get("error")))
            check("certificates listed in the page", len(out.get("certificates", [])) >= 4,
                  json.dumps(out)[:300])
            results = out.get("results", [])
            check("both documents signed", len(results) == 2, json.dumps(out.get("steps")))
            for res in results:
                ok, detail = verify_result(agent, good_origin, fx, res, docs)
                check("%s signed as %s verifies" % (res["name"], res["format"]), ok, detail)
        with open(fx.audit_log) as f:
            lines_before = f.read().count("\n")

        out = run_browser(fx, bad_origin + "/portal.html" + query, bad)
        check("page from a foreign origin reported", out is not None)
        if out is not None:
            check("foreign origin gets nothing", "certificates" not in out and "results" not in out and
                  out.get("error", {}).get("code") == "UNREACHABLE" and "info" not in out,
                  json.dumps(out)[:300])
        with open(fx.audit_log) as f:
            check("no signature for the foreign origin", f.read().count("\n") == lines_before)
        r = bl.request(agent.port, "GET", "/v1/info")
        check("agent still serving", r.status == 200)
    finally:
        rc = agent.stop()
        check("clean exit", rc == 0, "rc=%s" % rc)
        good.shutdown()
        bad.shutdown()
        if failures:
            bl.log(agent.stderr()[-2000:])
        fx.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
