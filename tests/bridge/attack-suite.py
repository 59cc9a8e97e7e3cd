#!/usr/bin/python3
"""attack-suite.py - hostile requests against a running sinadur-agent.

Every attack must be refused with the right HTTP status and SDR_ERROR code, and
after each one the agent must still answer a good request. A SoftHSM token and
the scripted prompter stand in for the key and the person.
"""
import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridgelib as bl  # noqa: E402
import transport_attacks  # noqa: E402

O = "https://portail.example.fr"
O2 = "https://autre.example.fr"
EVIL = "https://evil.example"

failures = []
count = 0


def check(name, cond, detail=""):
    global count
    count += 1
    if cond:
        bl.log("ok   %2d %s" % (count, name))
    else:
        bl.log("FAIL %2d %s %s" % (count, name, detail))
        failures.append(name)


def refused(agent, name, resp, status, code=None, acao=False):
    detail = ""
    ok = resp is not None and resp.status == status
    if resp is not None:
        detail = "got %d %s" % (resp.status, resp.body[:200])
        if code is not None and resp.error_code() != code:
            ok = False
        if not acao and resp.header("access-control-allow-origin") is not None:
            ok = False
            detail += " (echoed an origin)"
        if resp.header("access-control-allow-origin") == "*":
            ok = False
    else:
        detail = "no answer"
    check(name, ok, detail)
    still_up(agent, name)


def still_up(agent, after):
    r = None
    try:
        r = bl.request(agent.port, "GET", "/v1/info")
    except OSError as e:
        bl.log("  info after %s: %s" % (after, e))
    if not (agent.alive() and r is not None and r.status == 200 and r.json()["api_version"] == 1):
        failures.append("agent down after " + after)
        bl.log("FAIL agent not serving after %s" % after)


def sign_body(cert, docs, fmt="cades", **extra):
    body = {"format": fmt, "certificate": cert,
            "documents": [{"name": n, "type": "application/octet-stream",
                           "data": base64.b64encode(d).decode()} for n, d in docs]}
    body.update(extra)
    return body


class Slowloris(threading.Thread):
    """Sends part of a request head, then nothing: the agent must hang up."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.closed_after = None

    def run(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        t0 = time.monotonic()
        s.sendall(b"GET /v1/info HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % self.port)
        s.settimeout(40)
        try:
            while s.recv(1024):
                pass
        except OSError:
            pass
        self.closed_after = time.monotonic() - t0
        s.close()


def main():
    fx = bl.Fixture()
    script = [
        "consent yes",  # first use of O: list certificates
        "consent no",  # signing refused
        "timeout",  # consent times out
        "consent yes", "pin 1234",  # a good signature
        "consent yes", "pin 1234",  # data-to-sign mode
        "consent no",  # first use of O2 refused
        "consent yes", "pin 1234",  # the long batch (two portals at once)
    ]
    agent = bl.Agent(fx, script, origins=(O, O2))
    port = agent.port
    bl.log("agent ready in %.0f ms on port %d" % (agent.ready_s * 1000, port))
    slow = Slowloris(port)
    slow.start()
    try:
        # --- Good requests ------------------------------------------------------
        r = bl.request(port, "GET", "/v1/certificates", origin=O)
        check("first-use approval then certificates listed", r.status == 200 and
              r.header("access-control-allow-origin") == O and "Origin" in (r.header("vary") or ""),
              "%d %s" % (r.status, r.body[:200]))
        certs = r.json()["certificates"]
        with open(os.path.join(fx.pki, "user-rsa.der"), "rb") as f:
            rsa_der = f.read()
        check("certificates carry their DER, not the module path",
              all("certificate" in c and "module" not in c for c in certs) and
              any(base64.b64decode(c["certificate"]) == rsa_der for c in certs), json.dumps(certs)[:300])
        cert = [c["id"] for c in certs if c["subject_cn"] == "Jean DUPONT" and "signature" in c["usage"]][0]
        r = bl.request(port, "OPTIONS", "/v1/sign", origin=O,
                       headers=["Access-Control-Request-Method: POST",
                                "Access-Control-Request-Headers: content-type",
                                "Access-Control-Request-Private-Network: true"])
        check("preflight from an allowed origin", r.status == 204 and
              r.header("access-control-allow-origin") == O and
              r.header("access-control-allow-private-network") == "true" and
              "POST" in (r.header("access-control-allow-methods") or ""), str(r.headers))

        # --- Origins -------------------------------------------------------------
        refused(agent, "foreign Origin GET", bl.request(port, "GET", "/v1/certificates", origin=EVIL),
                403, "SDR_ERROR_ORIGIN_DENIED")
        refused(agent, "foreign Origin POST",
                bl.request(port, "POST", "/v1/sign", origin=EVIL, body=sign_body(cert, [("a", b"a")])),
                403, "SDR_ERROR_ORIGIN_DENIED")
        refused(agent, "null Origin", bl.request(port, "POST", "/v1/sign", origin="null",
                                                 body=sign_body(cert, [("a", b"a")])),
                403, "SDR_ERROR_ORIGIN_DENIED")
        refused(agent, "look-alike Origin",
                bl.request(port, "GET", "/v1/certificates", origin=O + ".evil.example"),
                403, "SDR_ERROR_ORIGIN_DENIED")
        refused(agent, "http variant of an allowed Origin",
                bl.request(port, "GET", "/v1/certificates", origin=O.replace("https", "http")),
                403, "SDR_ERROR_ORIGIN_DENIED")
        refused(agent, "missing Origin on POST",
                bl.request(port, "POST", "/v1/sign", body=sign_body(cert, [("a", b"a")])),
                403, "SDR_ERROR_ORIGIN_DENIED")
        refused(agent, "missing Origin on GET /v1/certificates",
                bl.request(port, "GET", "/v1/certificates"), 403, "SDR_ERROR_ORIGIN_DENIED")
        refused(agent, "cross-site <img> probing /v1/info (Sec-Fetch-Site, no Origin)",
                bl.request(port, "GET", "/v1/info", headers=["Sec-Fetch-Site: cross-site",
                                                             "Sec-Fetch-Mode: no-cors"]),
                403, "SDR_ERROR_ORIGIN_DENIED")
        refused(agent, "two Origin headers",
                bl.request(port, "GET", "/v1/certificates", origin=O, headers=["Origin: " + EVIL]),
                400, "SDR_ERROR_BAD_REQUEST")

        # --- DNS rebinding ------------------------------------------------------
        refused(agent, "rebinding Host evil.com:PORT",
                bl.request(port, "GET", "/v1/info", host="evil.com:%d" % port), 421, "SDR_ERROR_HOST_DENIED")
        refused(agent, "rebinding Host 127.0.0.1.evil.com",
                bl.request(port, "GET", "/v1/certificates", origin=O, host="127.0.0.1.evil.com:%d" % port),
                421, "SDR_ERROR_HOST_DENIED")
        refused(agent, "Host without our port", bl.request(port, "GET", "/v1/info", host="localhost"),
                421, "SDR_ERROR_HOST_DENIED")

        # --- Requests that would skip the preflight -----------------------------------
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            refused(agent, "POST as %s" % ctype.split(";")[0],
                    bl.request(port, "POST", "/v1/sign", origin=O, ctype=ctype,
                               body=json.dumps(sign_body(cert, [("a", b"a")]))),
                    415, "SDR_ERROR_BAD_REQUEST", acao=True)
        refused(agent, "preflight from a foreign origin",
                bl.request(port, "OPTIONS", "/v1/sign", origin=EVIL,
                           headers=["Access-Control-Request-Method: POST",
                                    "Access-Control-Request-Headers: content-type"]), 403)
        refused(agent, "preflight asking for another header",
                bl.request(port, "OPTIONS", "/v1/sign", origin=O,
                           headers=["Access-Control-Request-Method: POST",
                                    "Access-Control-Request-Headers: content-type, x-pin"]), 403)
        refused(agent, "PUT", bl.request(port, "PUT", "/v1/sign", origin=O, body={}), 405)

        # --- Sizes ------------------------------------------------------------------
        s = socket.create_connection(("127.0.0.1", port))
        t0 = time.monotonic()
        s.sendall(("POST /v1/sign HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: 209715200\r\n\r\n" % (port, O)).encode())
        r = bl.read_response(s, 10)
        s.close()
        refused(agent, "oversized body answered before it is sent (%.0f ms)" % ((time.monotonic() - t0) * 1000),
                r, 413, "SDR_ERROR_TOO_LARGE", acao=True)
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(("POST /v1/sign HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n"
                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" % (port, O)).encode())
        sent = 0
        chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        try:
            while sent < 32 * 1024 * 1024:
                s.sendall(chunk)
                sent += 65536
        except OSError:
            pass
        try:
            r = bl.read_response(s, 10)
        except OSError:
            r = None  # reset: the agent hung up with our bytes unread
        s.close()
        if r is None:
            # The 413 may be lost in the reset; what matters is that the agent
            # stopped reading well before the client was done.
            check("chunked body over the cap: connection cut after %d KiB" % (sent // 1024),
                  sent < 32 * 1024 * 1024)
            still_up(agent, "chunked body")
        else:
            refused(agent, "chunked body over the cap (stopped after %d KiB)" % (sent // 1024), r,
                    413, "SDR_ERROR_TOO_LARGE", acao=True)

        # --- Bodies --------------------------------------------------------------------
        refused(agent, "malformed JSON", bl.request(port, "POST", "/v1/sign", origin=O,
                                                    ctype="application/json", body='{"format":'),
                400, "SDR_ERROR_BAD_REQUEST", acao=True)
        refused(agent, "deeply nested JSON",
                bl.request(port, "POST", "/v1/sign", origin=O, ctype="application/json",
                           body="[" * 100000 + "]" * 100000), 400, "SDR_ERROR_BAD_REQUEST", acao=True)
        refused(agent, "JSON array instead of an object",
                bl.request(port, "POST", "/v1/sign", origin=O, body=[1, 2]), 400, "SDR_ERROR_BAD_REQUEST",
                acao=True)
        refused(agent, "unknown field", bl.request(port, "POST", "/v1/sign", origin=O,
                                                   body=sign_body(cert, [("a", b"a")], pin="1234")),
                400, "SDR_ERROR_BAD_REQUEST", acao=True)
        refused(agent, "unknown option (allow_any_usage)",
                bl.request(port, "POST", "/v1/sign", origin=O,
                           body=sign_body(cert, [("a", b"a")], options={"allow_any_usage": True})),
                400, "SDR_ERROR_BAD_REQUEST", acao=True)
        refused(agent, "option naming a local file (image)",
                bl.request(port, "POST", "/v1/sign", origin=O,
                           body=sign_body(cert, [("a.pdf", b"%PDF")], fmt="pades",
                                          options={"visible": True, "image": "/etc/shadow"})),
                400, "SDR_ERROR_BAD_REQUEST", acao=True)
        refused(agent, "document by path on this computer",
                bl.request(port, "POST", "/v1/sign", origin=O,
                           body={"format": "cades", "documents": [{"name": "p", "path": "/etc/passwd"}]}),
                400, "SDR_ERROR_BAD_REQUEST", acao=True)
        refused(agent, "huge base64 digest",
                bl.request(port, "POST", "/v1/sign", origin=O,
                           body={"mode": "digest", "certificate": cert, "digest": "A" * 2000000}),
                413, "SDR_ERROR_TOO_LARGE", acao=True)
        refused(agent, "invalid base64 document",
                bl.request(port, "POST", "/v1/sign", origin=O,
                           body={"format": "cades", "documents": [{"name": "a", "data": "%%%%"}]}),
                400, "SDR_ERROR_BAD_REQUEST", acao=True)
        refused(agent, "unknown address", bl.request(port, "GET", "/v1/secret", origin=O), 404,
                "SDR_ERROR_NOT_FOUND", acao=True)
        refused(agent, "NexU endpoints off by default",
                bl.request(port, "POST", "/rest/certificates", origin=O, body={}), 404, acao=True)

        # --- Consent ---------------------------------------------------------------------
        doc = os.urandom(3000)
        refused(agent, "signing while consent is refused",
                bl.request(port, "POST", "/v1/sign", origin=O, body=sign_body(cert, [("a.bin", doc)])),
                403, "SDR_ERROR_CONSENT_DENIED", acao=True)
        refused(agent, "consent times out",
                bl.request(port, "POST", "/v1/sign", origin=O, body=sign_body(cert, [("a.bin", doc)])),
                408, "SDR_ERROR_TIMEOUT", acao=True)
        r = bl.request(port, "POST", "/v1/sign", origin=O, body=sign_body(cert, [("a.bin", doc)]))
        ok = r.status == 200
        if ok:
            p7s = os.path.join(fx.dir, "a.p7s")
            with open(p7s, "wb") as f:
                f.write(base64.b64decode(r.json()["results"][0]["signature"]))
            with open(os.path.join(fx.dir, "a.bin"), "wb") as f:
                f.write(doc)
            v = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", p7s,
                                "-content", os.path.join(fx.dir, "a.bin"), "-CAfile",
                                os.path.join(fx.pki, "chain.pem"), "-purpose", "any", "-out", os.devnull],
                               capture_output=True, text=True)
            ok = v.returncode == 0
        check("good signature after the refusals verifies (openssl cms)", ok, "%d %s" % (r.status, r.body[:300]))
        dig = hashlib.sha256(b"data to be signed").digest()
        r = bl.request(port, "POST", "/v1/sign", origin=O,
                       body={"mode": "data", "hash": "sha256", "certificate": cert,
                             "data": base64.b64encode(b"data to be signed").decode()})
        ok = r.status == 200
        if ok:
            res = r.json()["results"][0]
            cert_der = base64.b64decode(res["certificate"])
            cpem = os.path.join(fx.dir, "c.der")
            with open(cpem, "wb") as f:
                f.write(cert_der)
            sig = os.path.join(fx.dir, "d.sig")
            with open(sig, "wb") as f:
                f.write(base64.b64decode(res["signature"]))
            dg = os.path.join(fx.dir, "d.bin")
            with open(dg, "wb") as f:
                f.write(dig)
            pub = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", cpem, "-pubkey", "-noout"],
                                 capture_output=True, text=True).stdout
            with open(os.path.join(fx.dir, "pub.pem"), "w") as f:
                f.write(pub)
            v = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                                os.path.join(fx.dir, "pub.pem"), "-pkeyopt", "digest:sha256",
                                "-in", dg, "-sigfile", sig], capture_output=True, text=True)
            ok = v.returncode == 0
        check("data-to-sign mode: signature value verifies", ok, "%d %s" % (r.status, r.body[:300]))
        refused(agent, "first-use listing refused for another origin",
                bl.request(port, "GET", "/v1/certificates", origin=O2), 403, "SDR_ERROR_CONSENT_DENIED",
                acao=True)

        # --- Two portals at once ------------------------------------------------------------
        batch = sign_body(cert, [("d%03d.bin" % i, os.urandom(1024)) for i in range(600)])
        result = {}

        def long_batch():
            result["r"] = bl.request(port, "POST", "/v1/sign", origin=O, body=batch, timeout=60)
            result["t"] = time.monotonic()

        def audit_lines():
            try:
                with open(fx.audit_log) as f:
                    return f.read().count("\n")
            except OSError:
                return 0

        before = audit_lines()
        t = threading.Thread(target=long_batch)
        t0 = time.monotonic()
        t.start()
        # Wait until the batch is signing (its first documents are in the audit log):
        # then it holds the token, whatever the machine's load.
        while audit_lines() == before and time.monotonic() - t0 < 30 and t.is_alive():
            time.sleep(0.01)
        r2 = bl.request(port, "POST", "/v1/sign", origin=O2, body=sign_body(cert, [("b.bin", b"b")]))
        t2 = time.monotonic()
        # Meanwhile certificates are still served (from the cache).
        r3 = bl.request(port, "GET", "/v1/certificates", origin=O)
        t.join()
        r1 = result.get("r")
        check("second portal refused while the first signs (busy)",
              r2.status == 409 and r2.error_code() == "SDR_ERROR_BUSY" and "t" in result and t2 < result["t"],
              "got %d %s" % (r2.status, r2.body[:200]))
        check("certificates listed during the batch", r3.status == 200)
        check("first portal's batch of 600 signed (%.1f s)" % (result.get("t", t0) - t0),
              r1 is not None and r1.status == 200 and r1.json()["signed"] == 600,
              "" if r1 is None else "%d %s" % (r1.status, r1.body[:200]))
        still_up(agent, "two portals")

        # --- IPv6 loopback -------------------------------------------------------------------
        try:
            r = bl.request(port, "GET", "/v1/info", addr="::1", host="[::1]:%d" % port)
            check("served on [::1]", r.status == 200)
        except OSError as e:
            bl.log("skip [::1]: %s" % e)

        # --- Slowloris ---------------------------------------------------------------------------
        slow.join(30)
        check("slowloris connection closed by the agent (after %s s)" %
              (None if slow.closed_after is None else round(slow.closed_after, 1)),
              slow.closed_after is not None and slow.closed_after <= 15)
        still_up(agent, "slowloris")

        # --- Audit -------------------------------------------------------------------------------
        with open(fx.audit_log) as f:
            audit = f.read()
        lines = [l for l in audit.splitlines() if "result=ok" in l]
        check("audit log: a line per signature with origin and hash (%d lines)" % len(lines),
              len(lines) >= 602 and all("origin=" + O in l and "sha256=" in l for l in lines),
              audit[-300:])
    finally:
        rc = agent.stop()
        check("clean exit on SIGTERM", rc == 0, "rc=%s" % rc)
        if failures:
            bl.log(agent.stderr()[-2000:])
        fx.cleanup()
    # --- Transport attacks (issue 10): an agent of their own ---------------------------------
    fx = bl.Fixture()
    agent = bl.Agent(fx, ["consent yes"], **transport_attacks.config())
    try:
        transport_attacks.run(agent, check, refused, still_up)
    finally:
        rc = agent.stop()
        check("clean exit on SIGTERM after the transport attacks", rc == 0, "rc=%s" % rc)
        if failures:
            bl.log(agent.stderr()[-2000:])
        fx.cleanup()
    bl.log("%d checks, %d failures" % (count, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
