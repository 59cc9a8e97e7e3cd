#!/usr/bin/python3
"""s2low-bridge.py - the bridge's "send what I just signed" (POST /v1/s2low/send,
GET /v1/s2low/status/{id}) attacked and used against the S²LOW rig (tests/s2low).

A real sinadur-agent (scripted prompter) with the SoftHSM token built on the rig's
PKI, in front of nginx with client certificates and s2low-service.py. What is
checked is what S²LOW itself saw (the rig's receipt counters) and what the queue
database holds: a refused or malformed send reaches neither; an accepted one is
received once; another origin never reads a send's status.
"""
import base64
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SINADUR_SOURCE_ROOT", os.path.abspath(os.path.join(HERE, "..", "..")))
sys.path.insert(0, os.path.join(SRC, "tests", "bridge"))
import bridgelib as bl  # noqa: E402

O = "https://portail.example.fr"
O2 = "https://autre.example.fr"  # allowed, approved too, never the sender
FOREIGN = "https://evil.example.com"
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


def start_rig(env):
    """tests/s2low/rig.sh run: prints its variables, stays up until killed."""
    p = subprocess.Popen(["sh", os.path.join(SRC, "tests", "s2low", "rig.sh"), "run"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    v = {}
    while "S2LOW_PKI" not in v:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("the rig did not start: " + p.stderr.read())
        k, _, val = line.strip().partition("=")
        if k.startswith("S2LOW_"):
            v[k] = val
    return p, v


def admin_state(v):
    import urllib.request
    with urllib.request.urlopen(v["S2LOW_ADMIN"] + "/state", timeout=30) as r:
        return json.load(r)


def received(v):
    c = admin_state(v)["counts"]
    return c.get("actes_received", 0), c.get("helios_received", 0), c.get("actes_create_requests", 0)


def queue_rows(db):
    if not os.path.exists(db):
        return 0
    with sqlite3.connect(db) as c:
        try:
            return c.execute("SELECT COUNT(*) FROM sends").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def minimal_pdf():
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    return bytes(out)


def cert_id(pem):
    der = subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"], check=True,
                         stdout=subprocess.PIPE).stdout
    import hashlib
    return hashlib.sha256(der).hexdigest()[:32]


class Fx:
    """What bridgelib.Agent needs of a fixture, with the token on the rig's PKI."""

    def __init__(self, rig_pki):
        self.dir = tempfile.mkdtemp(prefix="sdr-s2low-bridge-")
        self.agent_exe = os.environ.get("SINADUR_AGENT",
                                        os.path.join(os.environ.get("SINADUR_BUILD_ROOT", "build"),
                                                     "agent", "sinadur-agent"))
        fx = os.path.join(self.dir, "fx")
        os.makedirs(fx)
        shutil.copytree(rig_pki, os.path.join(fx, "pki"))
        r = subprocess.run(["sh", os.path.join(SRC, "tests", "fixtures", "softhsm-fixture.sh"), fx],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("softhsm fixture failed: " + r.stderr)
        self.pki = os.path.join(fx, "pki")
        home = os.path.join(self.dir, "home")
        for d in ("", ".config", ".state", ".cache", "sysconf"):
            os.makedirs(os.path.join(home, d), exist_ok=True)
        self.db = os.path.join(self.dir, "s2low.db")
        self.env = dict(os.environ)
        self.env.update({
            "SOFTHSM2_CONF": os.path.join(fx, "softhsm2.conf"), "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_STATE_HOME": os.path.join(home, ".state"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "SINADUR_SYSCONFDIR": os.path.join(home, "sysconf"),
            "SINADUR_TEST_NO_DISCOVERY": "1", "SINADUR_S2LOW_DB": self.db, "LANG": "C.UTF-8",
        })


def doc(name, data, **extra):
    d = {"name": name, "data": base64.b64encode(data).decode()}
    d.update(extra)
    return d


def actes(number, docs, **over):
    b = {"kind": "actes", "nature": "DE", "classification": "1.1", "number": number,
         "date": "2026-01-15", "subject": "Délibération portail", "type_acte": "99_DE",
         "documents": docs}
    b.update(over)
    return b


def main():
    for t in ("openssl", "nginx", "curl", "softhsm2-util", "pkcs11-tool", "xmlsec1"):
        bl.need(t)
    env = dict(os.environ)
    env["SINADUR_SOURCE_ROOT"] = SRC
    env["S2LOW_STEP"] = "1"
    rig, v = start_rig(env)
    fx = None
    agent = None
    try:
        fx = Fx(v["S2LOW_PKI"])
        pki = fx.pki
        rec = os.path.join(fx.dir, "seen")
        extra = ("[s2low]\nurl=%s\nca_file=%s\nchain_file=%s\ncertificate=%s\npoll_interval_s=0\n" %
                 (v["S2LOW_URL"], os.path.join(pki, "root.pem"), os.path.join(pki, "ca.pem"),
                  cert_id(os.path.join(pki, "user-auth.pem"))))
        script = ["record " + rec,
                  "consent yes",  # first use of O (listing)
                  "consent yes",  # first use of O2 (listing)
                  "consent no",  # the ACTES send refused
                  "consent yes", "pin 1234",  # the ACTES send accepted
                  "consent yes",  # the PES send (the S²LOW login is kept)
                  "pin 1234"]  # (only if the kept login was lost)
        agent = bl.Agent(fx, script, origins=(O, O2), extra=extra)
        port = agent.port
        pdf = minimal_pdf()
        good = actes("WEB_01", [doc("délibération.pdf", pdf),
                                doc("annexe 1.pdf", pdf, type_pj="99_AI")])

        def send(body, origin=O, ctype=None):
            return bl.request(port, "POST", "/v1/s2low/send", origin=origin, body=body,
                              ctype=ctype, timeout=120)

        # ---- Origins and CSRF, before any approval ----------------------------------------
        r = send(good, origin=FOREIGN)
        check("foreign origin refused", r.status == 403 and r.error_code() == "SDR_ERROR_ORIGIN_DENIED",
              r.body[:200])
        r = send(good, origin="null")
        check("null origin refused", r.status == 403, r.body[:200])
        r = send(good, origin=None)
        check("no origin: not this route", r.status in (403, 404), r.body[:200])
        r = send(json.dumps(good), ctype="text/plain")
        check("text/plain (CSRF form) refused", r.status in (400, 415) and r.error_code() is not None,
              r.body[:200])
        r = send(good)
        check("an origin not approved yet may not send",
              r.status == 403 and r.error_code() == "SDR_ERROR_CONSENT_DENIED", r.body[:200])
        check("nothing queued, nothing received so far",
              queue_rows(fx.db) == 0 and received(v) == (0, 0, 0), str(received(v)))

        # ---- First use of both origins ------------------------------------------------------
        for o in (O, O2):
            r = bl.request(port, "GET", "/v1/certificates", origin=o, timeout=60)
            check("first-use approval of %s" % o, r.status == 200, r.body[:200])

        # ---- Malformed bodies: 400 with a stable code, no prompt, nothing queued -----------
        bad_bodies = {
            "unknown member": dict(good, sign=True),
            "unknown kind": dict(good, kind="marche"),
            "missing ACTES field": {k: x for k, x in good.items() if k != "number"},
            "annex without type_pj": actes("WEB_02", [doc("a.pdf", pdf), doc("b.pdf", pdf)]),
            "type_pj on the act": actes("WEB_02", [doc("a.pdf", pdf, type_pj="99_AI")]),
            "no document": actes("WEB_02", []),
            "bad base64": actes("WEB_02", [{"name": "a.pdf", "data": "***"}]),
            "control character in a field": actes("WEB_02", [doc("a.pdf", pdf)],
                                                  subject="Objet\x1b[31m rouge"),
            "bidi override in a name": actes("WEB_02", [doc("a\u202efdp.exe", pdf)]),
            "a path as a name": actes("WEB_02", [doc("../../etc/x.pdf", pdf)]),
            "a dot name": actes("WEB_02", [doc("..", pdf)]),
            "PES with ACTES fields": {"kind": "pes", "number": "X", "documents": [doc("p.xml", b"<a/>")]},
            "S²LOW's rule: number pattern": actes("WEB 02!", [doc("a.pdf", pdf)]),
            "S²LOW's rule: decision date in the future": actes("WEB_02", [doc("a.pdf", pdf)],
                                                               date="2999-01-01"),
        }
        for name, body in bad_bodies.items():
            r = send(body)
            bl.log("     %s" % r.body[:160].decode("utf-8", "replace"))
            check("malformed (%s): 400 SDR_ERROR_BAD_REQUEST" % name,
                  r.status == 400 and r.error_code() == "SDR_ERROR_BAD_REQUEST",
                  "%s %s" % (r.status, r.body[:200]))
        r = send("{\"kind\": \"actes\",", ctype="application/json")
        check("malformed JSON: 400", r.status == 400 and r.error_code() is not None, r.body[:200])
        check("malformed: nothing queued, nothing received",
              queue_rows(fx.db) == 0 and received(v) == (0, 0, 0), str(received(v)))

        # ---- Refused consent: nothing queued, the rig received nothing --------------------
        r = send(good)
        check("refused consent: 403 SDR_ERROR_CONSENT_DENIED",
              r.status == 403 and r.error_code() == "SDR_ERROR_CONSENT_DENIED", r.body[:300])
        check("refused consent: the queue database is empty", queue_rows(fx.db) == 0)
        check("refused consent: the rig received nothing", received(v) == (0, 0, 0), str(received(v)))
        seen = open(rec, "rb").read().decode("utf-8", "replace") if os.path.exists(rec) else ""
        last = seen.split("----")[-2] if seen.count("----") >= 1 else ""
        check("the consent names the action, the site and the destination",
              "Send to S²LOW" in last and O in last and v["S2LOW_URL"] in last, last)
        check("the consent lists each document with size and short hash",
              "délibération.pdf" in last and "annexe 1.pdf" in last and
              ("%d o" % len(pdf)) in last and "SHA-256" in last, last)
        check("the consent shows the ACTES fields",
              "WEB_01" in last and "1.1" in last and "99_DE" in last and "99_AI" in last and
              "Délibération portail" in last, last)

        # ---- Accepted: queued and received once ------------------------------------------
        r = send(good)
        ok = r.status == 200
        ans = r.json() if ok else {}
        check("accepted: 200 with the queue id", ok and isinstance(ans.get("id"), int), r.body[:300])
        sid = ans.get("id", 0)
        check("accepted: received once by the rig", received(v)[0] == 1, str(received(v)))
        check("accepted: one row in the queue", queue_rows(fx.db) == 1)
        st = admin_state(v)
        t = st["actes"].get(ans.get("transaction", "?"), {})
        check("the rig has the act and its annex under their names",
              t.get("number") == "WEB_01" and len(t.get("attachments", [])) == 1, json.dumps(t)[:300])

        # ---- Status: the sender only ------------------------------------------------------
        r = bl.request(port, "GET", "/v1/s2low/status/%d" % sid, origin=O)
        check("status of its own send", r.status == 200 and r.json().get("id") == sid and
              r.json().get("transaction") == ans.get("transaction"), r.body[:300])
        r2 = bl.request(port, "GET", "/v1/s2low/status/%d" % sid, origin=O2)
        r3 = bl.request(port, "GET", "/v1/s2low/status/%d" % (sid + 1000), origin=O2)
        check("another origin cannot read the status (404, same answer as an unknown id)",
              r2.status == 404 and r2.error_code() == "SDR_ERROR_NOT_FOUND" and
              r2.body.replace(str(sid).encode(), b"N") == r3.body.replace(str(sid + 1000).encode(), b"N"),
              "%s %s / %s" % (r2.status, r2.body[:200], r3.body[:200]))
        # A send of the CLI (no origin) in the same queue: no page reads it either.
        cli = os.path.join(os.path.dirname(fx.agent_exe), "sinadur")
        pdf_path = os.path.join(fx.dir, "cli-acte.pdf")
        with open(pdf_path, "wb") as f:
            f.write(pdf)
        c = subprocess.run([cli, "--config", agent.conf, "--pin-fd", "0", "--json", "send", "actes",
                            "--nature", "DE", "--classification", "1.1", "--date", "2026-01-15",
                            "--type-acte", "99_DE", "--number", "CLI_01", "--subject", "Par la CLI",
                            pdf_path], input="1234\n", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=fx.env, timeout=120)
        cid = json.loads(c.stdout).get("id", 0) if c.returncode == 0 else 0
        check("a CLI send in the same queue", cid > sid, c.stdout[-300:] + c.stderr[-300:])
        r = bl.request(port, "GET", "/v1/s2low/status/%d" % cid, origin=O)
        check("a page cannot read a CLI send's status (404)",
              r.status == 404 and r.error_code() == "SDR_ERROR_NOT_FOUND", r.body[:200])
        r = bl.request(port, "GET", "/v1/s2low/status/%d" % sid, origin=FOREIGN)
        check("a foreign origin cannot read the status", r.status == 403)
        r = bl.request(port, "GET", "/v1/s2low/status/1x", origin=O)
        check("status of a malformed id: 400", r.status == 400 and r.error_code() == "SDR_ERROR_BAD_REQUEST")

        # ---- PES ----------------------------------------------------------------------------
        pes = open(os.path.join(SRC, "tests", "fuzz", "corpus", "pes", "small-depense.xml"), "rb").read()
        r = send({"kind": "pes", "documents": [doc("PES_depense.xml", pes)]})
        check("PES accepted and received once", r.status == 200 and received(v)[1] == 1,
              "%s %s %s" % (r.status, r.body[:300], received(v)))
        check("the agent is still up", agent.alive())
    finally:
        if agent is not None:
            rc = agent.stop()
            if rc not in (0, None):
                bl.log("agent exit %s: %s" % (rc, agent.stderr()[-2000:]))
        os.killpg(rig.pid, signal.SIGTERM)
        rig.wait(30)
        if fx is not None:
            shutil.rmtree(fx.dir, ignore_errors=True)
    bl.log("# %d checks, %d failed" % (count, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
