#!/usr/bin/python3
"""nexu-events.py - the NexU-compatible endpoints (on by policy) and /v1/events.

NexU: /nexu-info, /rest/certificates, /rest/sign with NexU's JSON shapes; the
signature value verifies with the certificate returned. Events: a stream opened
with an allowed origin receives the expiry warning of the certificate that
expires in 20 days, and keep-alive comments.
"""
import base64
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridgelib as bl  # noqa: E402

O = "https://portail.example.fr"
failures = []


def check(name, cond, detail=""):
    bl.log(("ok   " if cond else "FAIL ") + name + ("" if cond else " " + detail))
    if not cond:
        failures.append(name)


def read_events(port, origin, seconds):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n"
               "Accept: text/event-stream\r\n\r\n" % (port, origin)).encode())
    s.settimeout(0.5)
    data = b""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds and b"Yann LE GOFF" not in data:
        try:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        except socket.timeout:
            pass
    s.close()
    return data.decode("latin-1")


def main():
    fx = bl.Fixture()
    agent = bl.Agent(fx, ["consent yes", "choose 1", "consent yes", "pin 1234", "consent no"], origins=(O,), nexu=True,
                     extra="[expiry]\nwarn_days=90;30\n")
    try:
        ev_early = bl.request(agent.port, "GET", "/v1/events", origin=O)
        check("event stream refused before the origin is approved", ev_early.status == 403 and
              ev_early.error_code() == "SDR_ERROR_CONSENT_DENIED", ev_early.body[:200])
        r = bl.request(agent.port, "POST", "/rest/certificates", origin=O, body={})
        ok = r.status == 200 and r.json().get("success") is True
        check("rest/certificates (after first-use approval)", ok, str(r.body[:300]))
        if not ok:
            return 1
        resp = r.json()["response"]
        # The expiry check ran one second after start; a new stream replays it.
        time.sleep(1.5)
        ev = read_events(agent.port, O, 8)
        check("event stream opens with retry and comment", ev.startswith("HTTP/1.1 200") and
              "text/event-stream" in ev and "retry: 3000" in ev, ev[:300])
        check("expiry warning for the certificate expiring in 20 days",
              "event: expiry-warning" in ev and "Yann LE GOFF" in ev, ev[-500:])
        ev_bad = bl.request(agent.port, "GET", "/v1/events", origin="https://evil.example")
        check("event stream refused to a foreign origin", ev_bad.status == 403)

        r = bl.request(agent.port, "GET", "/nexu-info", origin=O)
        check("nexu-info", r.status == 200 and "version" in r.json(), r.body[:200])
        check("rest/certificates shape", isinstance(resp["tokenId"]["id"], str) and resp["keyId"] and
              resp["certificate"] and resp["certificateChain"] and resp["encryptionAlgorithm"] in ("RSA", "ECDSA"))
        tbs = b"<ds:SignedInfo>donnees a signer</ds:SignedInfo>"
        body = {"tokenId": resp["tokenId"], "keyId": resp["keyId"],
                "toBeSigned": {"bytes": base64.b64encode(tbs).decode()}, "digestAlgorithm": "SHA256"}
        r = bl.request(agent.port, "POST", "/rest/sign", origin=O, body=body)
        ok = r.status == 200 and r.json().get("success") is True
        check("rest/sign", ok, r.body[:300])
        if ok:
            sv = r.json()["response"]["signatureValue"]
            cert = os.path.join(fx.dir, "n.der")
            with open(cert, "wb") as f:
                f.write(base64.b64decode(resp["certificate"]))
            pub = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", cert, "-pubkey", "-noout"],
                                 capture_output=True, text=True).stdout
            pubf = os.path.join(fx.dir, "n.pub")
            with open(pubf, "w") as f:
                f.write(pub)
            data = os.path.join(fx.dir, "n.tbs")
            with open(data, "wb") as f:
                f.write(tbs)
            sig = os.path.join(fx.dir, "n.sig")
            with open(sig, "wb") as f:
                f.write(base64.b64decode(sv))
            v = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pubf, "-signature", sig, data],
                               capture_output=True, text=True)
            rs = r.json()["response"]
            check("NexU signature value verifies (%s)" % rs.get("signatureAlgorithm"), v.returncode == 0, v.stdout + v.stderr)
            check("SignatureResponse fields", rs.get("signatureAlgorithm") in ("RSA_SHA256", "ECDSA_SHA256") and
                  rs.get("certificate") == resp["certificate"] and
                  rs.get("certificateChain", [None])[0] == resp["certificate"] and len(rs["certificateChain"]) >= 2,
                  str(rs)[:300])
            fb = r.json().get("feedback") or {}
            check("feedback as NexU (info, nexuVersion)", fb.get("nexuVersion") == "1.22" and
                  (fb.get("info") or {}).get("os") == "LINUX", str(fb))
        body["extra"] = 1
        r = bl.request(agent.port, "POST", "/rest/sign", origin=O, body=body)
        check("rest/sign refuses unknown fields (NexU-shaped)", r.status == 500 and r.json().get("success") is False
              and r.json().get("error") == "exception" and r.json().get("errorMessage"), r.body[:200])
        del body["extra"]
        weak = dict(body, digestAlgorithm="SHA1", userLocale="fr-FR", externalId="x", nonce="n", requestSeal=None)
        r = bl.request(agent.port, "POST", "/rest/sign", origin=O, body=weak)
        check("rest/sign refuses SHA-1 and says why (NexU request fields accepted)", r.status == 500 and
              r.json().get("success") is False and "SHA1" in r.json().get("errorMessage", ""), r.body[:300])
        r = bl.request(agent.port, "POST", "/rest/sign", origin=O, body=body)
        check("rest/sign refused consent", r.status == 500 and r.json().get("error") == "user.cancel",
              r.body[:200])
        r = bl.request(agent.port, "POST", "/rest/certificates", origin="https://evil.example", body={})
        check("rest/certificates refused to a foreign origin", r.status == 403)
    finally:
        rc = agent.stop()
        check("clean exit with an open event stream", rc == 0, "rc=%s" % rc)
        if failures:
            bl.log(agent.stderr()[-2000:])
        fx.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
