#!/usr/bin/python3
"""nexu-dss.py - a page written like the DSS demonstrations drives sinadur in
NexU's place, in headless Chromium: it loads http://127.0.0.1:PORT/nexu.js by
<script src>, calls nexu_get_certificates and nexu_sign_with_token_infos, and
hands the results to a small "DSS server" here that binds them as DSS's Java
classes would (signatureValue: base64 bytes; certificate and certificateChain:
base64 DER certificates) and verifies the signature value over the data to sign
with openssl. Also: /nexu.js is served without Origin only in NexU mode, as
JavaScript loadable cross-site, while data endpoints keep their Origin rules;
SHA-1 is refused with a NexU-shaped error saying why.
"""
import base64
import binascii
import hashlib
import http.server
import json
import os
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
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else " " + str(detail)[:600]))
    if not cond:
        failures.append(name)


def b64_bytes(value, what):
    """DSS binds byte[] with a strict base64 decoder: a string, nothing else."""
    if not isinstance(value, str):
        raise ValueError("%s is not a base64 string but %s" % (what, type(value).__name__))
    return base64.b64decode(value, validate=True)


def der_cert(value, what, tmp):
    der = b64_bytes(value, what)
    path = os.path.join(tmp, hashlib.sha256(der).hexdigest()[:16] + ".der")
    with open(path, "wb") as f:
        f.write(der)
    r = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", path, "-noout", "-subject"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise ValueError("%s is not a certificate" % what)
    return path


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>DSS-style signature</title>
<script src="http://127.0.0.1:%(aport)d/nexu.js"></script>
<script>
function post(url, body, ok, ko) {
  var x = new XMLHttpRequest();
  x.open("POST", url, true);
  x.setRequestHeader("Content-Type", "application/json");
  x.onload = function () { if (x.status === 200) ok(JSON.parse(x.responseText)); else ko({status: x.status, responseText: x.responseText}); };
  x.send(JSON.stringify(body));
}
function report(o) { post("/report", o, function () {}, function () {}); }
function failed(stage) {
  return function (e) { report({stage: stage, status: e && e.status, json: e && e.responseJSON, text: e && e.responseText}); };
}
window.onload = function () {
  if (typeof nexu_get_certificates !== "function" || typeof nexu_sign_with_token_infos !== "function" ||
      typeof nexu_sign !== "function" || typeof nexu_get_identity_info !== "function") {
    report({stage: "load"});
    return;
  }
  nexu_get_certificates(function (certificateData) {
    var c = certificateData.response;
    post("/get-data-to-sign", {signingCertificate: c.certificate, certificateChain: c.certificateChain,
                               encryptionAlgorithm: c.encryptionAlgorithm}, function (dts) {
      nexu_sign_with_token_infos(c.tokenId.id, c.keyId, dts.dataToSign, "SHA256", function (signatureData) {
        post("/sign-document", {signatureValue: signatureData.response.signatureValue,
                                signatureAlgorithm: signatureData.response.signatureAlgorithm,
                                certificate: signatureData.response.certificate,
                                certificateChain: signatureData.response.certificateChain}, function (server) {
          nexu_sign_with_token_infos(c.tokenId.id, c.keyId, dts.dataToSign, "SHA1", function (r) {
            report({stage: "sha1-accepted", r: r});
          }, function (e) {
            report({stage: "done", server: server, certificates: certificateData, signature: signatureData,
                    sha1: {status: e.status, json: e.responseJSON}});
          });
        }, failed("server"));
      }, failed("sign"));
    }, failed("get-data-to-sign"));
  }, failed("certificates"));
};
</script></head><body><p>Signature</p></body></html>
"""


class Dss(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, obj, ctype="application/json"):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200, (PAGE % {"aport": self.server.aport}).encode(), "text/html; charset=utf-8")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n).decode() or "null")
        st = self.server.state
        if self.path == "/report":
            st["report"] = body
            self.reply(200, {})
            return
        try:
            if self.path == "/get-data-to-sign":
                cert = der_cert(body["signingCertificate"], "signingCertificate", st["tmp"])
                chain = [der_cert(v, "certificateChain[%d]" % i, st["tmp"])
                         for i, v in enumerate(body["certificateChain"])]
                if body["encryptionAlgorithm"] not in ("RSA", "ECDSA"):
                    raise ValueError("EncryptionAlgorithm %r" % body["encryptionAlgorithm"])
                st["cert"], st["chain"] = cert, chain
                # What DSS would sign: SignedInfo naming the certificate.
                tbs = ("<ds:SignedInfo>deliberation 2026-042 %s</ds:SignedInfo>" %
                       hashlib.sha256(open(cert, "rb").read()).hexdigest()).encode()
                st["tbs"] = tbs
                self.reply(200, {"dataToSign": base64.b64encode(tbs).decode()})
            elif self.path == "/sign-document":
                sig = b64_bytes(body["signatureValue"], "signatureValue")
                cert = der_cert(body["certificate"], "certificate", st["tmp"])
                chain = [der_cert(v, "certificateChain", st["tmp"]) for v in body["certificateChain"]]
                alg = body["signatureAlgorithm"]
                if alg not in ("RSA_SHA256", "ECDSA_SHA256", "RSA_SSA_PSS_SHA256_MGF1"):
                    raise ValueError("SignatureAlgorithm %r" % alg)
                pub = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", cert, "-pubkey", "-noout"],
                                     capture_output=True, text=True).stdout
                paths = {k: os.path.join(st["tmp"], k) for k in ("pub", "sig", "tbs")}
                open(paths["pub"], "w").write(pub)
                open(paths["sig"], "wb").write(sig)
                open(paths["tbs"], "wb").write(st["tbs"])
                cmd = ["openssl", "dgst", "-sha256", "-verify", paths["pub"], "-signature", paths["sig"]]
                if "PSS" in alg:
                    cmd += ["-sigopt", "rsa_padding_mode:pss"]
                v = subprocess.run(cmd + [paths["tbs"]], capture_output=True, text=True)
                # The chain starts with the signer and reaches the CA (DSS builds on it).
                same_signer = open(cert, "rb").read() == open(chain[0], "rb").read()
                self.reply(200, {"verified": v.returncode == 0, "openssl": (v.stdout + v.stderr).strip(),
                                 "chain_len": len(chain), "chain_starts_with_signer": same_signer,
                                 "cert_is_the_listed_one": open(cert, "rb").read() == open(st["cert"], "rb").read()})
            else:
                self.reply(404, {})
        except (KeyError, ValueError, TypeError, binascii.Error) as e:
            # DSS answers 500 when the JSON does not bind.
            self.reply(500, {"error": "binding: %s" % e})


def run_browser(fx, url, state, timeout=60):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=fx.dir)
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-features=LocalNetworkAccessChecks", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--user-data-dir=" + profile, url]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(fx.env),
                            start_new_session=True)
    t0 = time.monotonic()
    try:
        while "report" not in state and time.monotonic() - t0 < timeout and proc.poll() is None:
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
    return state.get("report")


def main():
    if not os.path.exists(CHROMIUM):
        bl.log("no chromium")
        return bl.SKIP
    fx = bl.Fixture()
    wport = bl.free_port()
    origin = "http://127.0.0.1:%d" % wport
    agent = bl.Agent(fx, ["consent yes", "choose 1", "consent yes", "pin 1234"], test_origins=(origin,),
                     nexu=True, consent_timeout_s=20)
    off = bl.Agent(fx, [], test_origins=(origin,), nexu=False)
    state = {"tmp": fx.dir}
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", wport), Dss)
    srv.state, srv.aport = state, agent.port
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        r = bl.request(agent.port, "GET", "/nexu.js", headers=("Sec-Fetch-Site: cross-site",
                                                               "Sec-Fetch-Dest: script"))
        check("GET /nexu.js without Origin: 200", r.status == 200, r.status)
        check("/nexu.js is application/javascript", (r.header("content-type") or "").startswith(
            "application/javascript"), r.header("content-type"))
        check("/nexu.js loadable cross-site (CORP cross-origin), nosniff kept",
              r.header("cross-origin-resource-policy") == "cross-origin" and
              r.header("x-content-type-options") == "nosniff", r.headers)
        js = r.body.decode()
        check("/nexu.js defines NexU's functions", all(f in js for f in (
            "nexu_get_certificates", "nexu_sign_with_token_infos", "nexu_sign", "nexu_get_identity_info")))
        check("/nexu.js knows the agent's port", ("127.0.0.1:%d" % agent.port) in js)
        r = bl.request(agent.port, "POST", "/rest/certificates", body={})
        check("data endpoints still need an Origin", r.status == 403, r.status)
        r = bl.request(agent.port, "GET", "/nexu.js", origin="https://evil.example")
        check("/nexu.js refused to a foreign Origin", r.status == 403, r.status)
        r = bl.request(off.port, "GET", "/nexu.js")
        check("no /nexu.js when nexu=false", r.status == 403, r.status)

        rep = run_browser(fx, origin + "/", state)
        check("the page ran to the end", rep is not None and rep.get("stage") == "done", rep)
        if rep and rep.get("stage") == "done":
            srv_res = rep["server"]
            check("DSS binding accepts the signature and openssl verifies it", srv_res.get("verified") is True,
                  srv_res)
            check("certificateChain: signer first, then its CA(s)", srv_res.get("chain_starts_with_signer") and
                  srv_res.get("chain_len", 0) >= 2, srv_res)
            check("the signature names the certificate listed", srv_res.get("cert_is_the_listed_one"), srv_res)
            sd, cd = rep["signature"], rep["certificates"]
            check("Execution shape (success, response, feedback; no null error)",
                  sd.get("success") is True and "error" not in sd and
                  (sd.get("feedback") or {}).get("nexuVersion") == "1.22" and
                  cd.get("success") is True, sd)
            check("GetCertificateResponse fields", all(k in cd["response"] for k in (
                "tokenId", "keyId", "certificate", "certificateChain", "encryptionAlgorithm",
                "supportedDigests", "preferredDigest")), cd["response"].keys())
            s1 = rep["sha1"]
            check("SHA-1 refused, NexU-shaped, saying why", s1.get("status") == 500 and
                  (s1.get("json") or {}).get("success") is False and
                  "SHA1" in (s1.get("json") or {}).get("errorMessage", ""), s1)
        check("agent alive", agent.alive())
    finally:
        srv.shutdown()
        rc = agent.stop()
        off.stop()
        check("clean exit", rc == 0, rc)
        if failures:
            bl.log(agent.stderr()[-2000:])
        fx.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
