#!/usr/bin/python3
"""batch-listing.py - a long batch does not hold the token for its whole duration.

A real sinadur-agent with the SoftHSM token and the scripted prompter. A portal
signs a batch of 300 small documents (one consent, one PIN); while it runs, the
same portal and a second approved one list the certificates (/v1/certificates:
the cache, or the token between two signatures) and the portal asks NexU's
/rest/certificates, which reads the token itself (no cache): each listing gets
200 with the certificate, and the batch is still running when it answers (its
answer has not come and the audit log holds fewer than 300 lines). The core takes
the token lock only around each signature, so a listing never waits for the
whole batch nor answers BUSY. The batch then completes: 300 valid signatures.
"""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridgelib as bl  # noqa: E402

O = "https://portail.example.fr"
O2 = "https://autre.example.fr"
N = 300
failures = []


def check(name, cond, detail=""):
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else " " + str(detail)[:400]))
    if not cond:
        failures.append(name)


def audit_lines(fx):
    try:
        with open(fx.audit_log) as f:
            return sum(1 for line in f if "result=ok" in line)
    except OSError:
        return 0


def main():
    fx = bl.Fixture()
    script = ["consent yes", "consent yes",  # first use of O, then of O2
              "consent yes", "pin 1234"]     # the batch
    agent = bl.Agent(fx, script, origins=(O, O2), max_body_mb=8, consent_timeout_s=30,
                     nexu=True)
    port = agent.port
    try:
        r = bl.request(port, "GET", "/v1/certificates", origin=O)
        check("first-use approval of the portal, certificates listed", r.status == 200,
              "%d %s" % (r.status, r.body[:200]))
        cert = [c["id"] for c in r.json()["certificates"]
                if c["subject_cn"] == "Jean DUPONT" and "signature" in c["usage"]][0]
        r = bl.request(port, "GET", "/v1/certificates", origin=O2)
        check("first-use approval of the second portal", r.status == 200, r.status)

        docs = [("piece-%03d.txt" % i, ("Pièce n° %d du marché\n" % i).encode()) for i in range(N)]
        body = {"format": "cades", "certificate": cert,
                "documents": [{"name": n, "type": "text/plain",
                               "data": base64.b64encode(d).decode()} for n, d in docs]}
        result = {}

        def batch():
            t0 = time.monotonic()
            result["r"] = bl.request(port, "POST", "/v1/sign", origin=O, body=body, timeout=600)
            result["t"] = time.monotonic()
            result["s"] = result["t"] - t0

        before = audit_lines(fx)
        th = threading.Thread(target=batch, daemon=True)
        th.start()
        # Wait until the batch is signing (past consent and PIN).
        t0 = time.monotonic()
        while audit_lines(fx) - before < 5 and th.is_alive() and time.monotonic() - t0 < 120:
            time.sleep(0.02)
        with open(os.path.join(fx.pki, "user-rsa.der"), "rb") as f:
            rsa_der = f.read()
        nexu_filter = {"certificateFilter": {
            "certificateSHA1": base64.b64encode(hashlib.sha1(rsa_der).digest()).decode()}}
        listings = []
        for origin, path in ((O, "/v1/certificates"), (O2, "/v1/certificates"),
                             (O, "/rest/certificates"), (O, "/v1/certificates")):
            lt0 = time.monotonic()
            if path == "/rest/certificates":
                r = bl.request(port, "POST", path, origin=origin, body=nexu_filter, timeout=120)
            else:
                r = bl.request(port, "GET", path, origin=origin, timeout=120)
            done = audit_lines(fx) - before
            listings.append((origin, path, r, time.monotonic() - lt0, done, th.is_alive()))
        for i, (origin, path, r, secs, done, running) in enumerate(listings):
            if r.status == 200 and path == "/rest/certificates":
                got = base64.b64decode(r.json().get("response", {}).get("certificate", "")) == rsa_der
            elif r.status == 200:
                got = cert in [c.get("id") for c in r.json().get("certificates", [])]
            else:
                got = False
            check("listing #%d (%s %s) during the batch: 200 with the certificate (%.2f s)"
                  % (i + 1, path, origin, secs), r.status == 200 and got,
                  "%d %s" % (r.status, r.body[:300]))
            check("listing #%d answered while the batch was still running (%d/%d signed)"
                  % (i + 1, done, N), running and done < N, "running=%s done=%d" % (running, done))
        th.join(600)
        r = result.get("r")
        check("the batch completes", r is not None and r.status == 200,
              r and "%d %s" % (r.status, r.body[:300]))
        if r is not None and r.status == 200:
            a = r.json()
            check("300 signed, no error", a.get("signed") == N and "error" not in a,
                  {k: a.get(k) for k in ("signed", "failed", "not_signed", "error")})
            bl.log("batch of %d documents: %.1f s" % (N, result["s"]))
            # Spot-check signatures: each verifies against its document.
            tmp = tempfile.mkdtemp(dir=fx.dir)
            bad = []
            for i in (0, N // 2, N - 1):
                res = a["results"][i]
                sig = os.path.join(tmp, "s.p7s")
                content = os.path.join(tmp, "c.txt")
                with open(sig, "wb") as f:
                    f.write(base64.b64decode(res["signature"]))
                with open(content, "wb") as f:
                    f.write(docs[i][1])
                v = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER",
                                    "-in", sig, "-content", content, "-noverify",
                                    "-out", os.devnull], capture_output=True, text=True)
                if v.returncode != 0:
                    bad.append((i, v.stderr[:200]))
            check("signatures of the batch verify (first, middle, last)", not bad, bad)
        check("agent still alive", agent.alive(), agent.stderr()[-500:])
    finally:
        agent.stop()
        fx.cleanup()
    bl.log("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
