#!/usr/bin/python3
"""consent-suite.py - what the person is asked to consent to (issue 10, points 2-4).

A real sinadur-agent with a SoftHSM token. Part 1 uses the scripted prompter,
whose record (script line "record PATH") holds exactly the text a person would
have read: page-chosen strings reach it only through the sanitiser, the first-use
approval is not worded as a signature, PAdES reason/location are shown, and
contradictory requests are refused before any prompt. It also checks that an
origin the user never approved learns nothing about the certificates (same
status, same bytes, whatever the case). Part 2 drives the real terminal prompter
on a pseudo-terminal and checks that no ESC, C1 or bidi byte reaches it.
"""
import base64
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridgelib as bl  # noqa: E402

O = "https://portail.example.fr"
O2 = "https://autre.example.fr"  # allowed, never approved
failures = []
count = 0

FORBIDDEN = [b"\x1b", b"\x07", b"\xc2\x9b", b"\xc2\x85", b"\xe2\x80\xae", b"\xe2\x80\xa8",
             b"\xe2\x80\x8b", b"\xef\xbb\xbf", b"\x7f"]


def check(name, cond, detail=""):
    global count
    count += 1
    if cond:
        bl.log("ok   %2d %s" % (count, name))
    else:
        bl.log("FAIL %2d %s %s" % (count, name, detail))
        failures.append(name)


def doc(name, data=b"%PDF-1.4 test", typ="application/pdf"):
    d = {"name": name, "data": base64.b64encode(data).decode()}
    if typ is not None:
        d["type"] = typ
    return d


def sign(port, origin, body):
    return bl.request(port, "POST", "/v1/sign", origin=origin, body=body)


def record_text(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def part_scripted(fx):
    rec = os.path.join(fx.dir, "seen")
    script = [
        "record " + rec,
        "consent yes",  # first use of O
        "consent no",  # pades with reason/location
        "consent no",  # pades, injection in options
        "consent no",  # data-to-sign mode
    ]
    agent = bl.Agent(fx, script, origins=(O, O2), nexu=True)
    port = agent.port
    try:
        # --- Before any approval: nothing about the certificates ---------------------
        r = bl.request(port, "GET", "/v1/info", origin=O2)
        st = r.json().get("state", {})
        check("/v1/info to an unapproved origin: no certificate count",
              r.status == 200 and st.get("certificates") == -1 and st.get("tokens_present") is False,
              r.body[:300])

        # First use of O: the approval is about listing, not signing.
        r = bl.request(port, "GET", "/v1/certificates", origin=O)
        check("first-use approval then listing", r.status == 200, r.body[:200])
        seen = record_text(rec).decode()
        check("first-use wording: asks to see the certificates, not to sign",
              "asks to see the certificates" in seen and "Allow this site? [y/N]" in seen and
              "Sign" not in seen and "document" not in seen, seen)
        certs = r.json()["certificates"]
        ids = {c["label"] if "label" in c else c["id"]: c["id"] for c in certs}
        by_cn = {}
        for c in certs:
            by_cn.setdefault(c.get("subject_cn"), []).append(c)
        expired = [c["id"] for c in certs if "expired" in (c.get("label") or "") or
                   c.get("status") == "expired" or "xpir" in (c.get("subject_cn") or "")]
        auth = [c["id"] for c in certs if "signature" not in c.get("usage", [])]
        bl.log("  certificates: %s" % certs[0].keys())
        if not expired:
            # The fixture's expired certificate is the one whose not_after is past.
            expired = [c["id"] for c in certs if c.get("not_after", "9") < time.strftime("%Y-%m-%d")]

        # From O2 (allowed, never approved): every way to probe the certificates.
        probes = [
            ("unknown certificate", {"format": "cades", "certificate": "0123456789abcdef",
                                     "documents": [doc("a.bin", b"a", None)]}),
            ("missing certificate (several)", {"format": "cades", "documents": [doc("a.bin", b"a", None)]}),
            ("digest mode, unknown certificate",
             {"mode": "digest", "certificate": "feedfacefeedface",
              "digest": base64.b64encode(b"\0" * 32).decode()}),
            ("data mode, unknown certificate",
             {"mode": "data", "certificate": "feedfacefeedface",
              "data": base64.b64encode(b"x").decode()}),
            ("certificate prefix matching nothing", {"format": "cades", "certificate": "ffffffffffff",
                                                     "documents": [doc("a.bin", b"a", None)]}),
        ]
        if expired:
            probes.append(("expired certificate id", {"format": "cades", "certificate": expired[0],
                                                       "documents": [doc("a.bin", b"a", None)]}))
        if auth:
            probes.append(("authentication certificate id", {"format": "cades", "certificate": auth[0],
                                                              "documents": [doc("a.bin", b"a", None)]}))
        answers = []
        before = record_text(rec)
        for name, body in probes:
            r = sign(port, O2, body)
            answers.append((name, r))
        first = answers[0][1]
        names = [c.get("subject_cn") or "" for c in certs] + [c.get("issuer_cn") or "" for c in certs]
        for name, r in answers:
            text = r.body.decode(errors="replace") if isinstance(r.body, bytes) else r.body
            leak = [n for n in names if n and n in text] + [i for i in ids.values() if i in text]
            check("unapproved origin, %s: generic answer, nothing about the certificates" % name,
                  r.status == 403 and r.error_code() == "SDR_ERROR_CONSENT_DENIED" and not leak and
                  r.body == first.body, "%d %s leak=%s" % (r.status, r.body[:300], leak))
        check("unapproved origin: no prompt was shown for the probes", record_text(rec) == before)
        # NexU /rest/sign with an unknown, expired or authentication keyId.
        nexu = []
        for kid in ["0123456789abcdef"] + expired[:1] + auth[:1]:
            r = bl.request(port, "POST", "/rest/sign", origin=O2,
                           body={"tokenId": {"id": "x"}, "keyId": kid, "digestAlgorithm": "SHA256",
                                 "toBeSigned": {"bytes": base64.b64encode(b"tbs").decode()}})
            nexu.append(r)
        for i, r in enumerate(nexu):
            text = r.body.decode(errors="replace") if isinstance(r.body, bytes) else r.body
            leak = [n for n in names if n and n in text] + [x for x in ids.values() if x in text]
            check("NexU /rest/sign keyId #%d from an unapproved origin reveals nothing" % i,
                  # NexU's error shape (HTTP 500, success false), the refusal of consent.
                  r.status == 500 and not leak and r.body == nexu[0].body and
                  b'"success":false' in r.body and b'"error":"user.cancel"' in r.body,
                  "%d %s" % (r.status, r.body[:300]))

        # After approval, details are fine.
        r = sign(port, O, probes[0][1])
        check("approved origin: unknown certificate names the choices",
              r.status == 404 and r.error_code() == "SDR_ERROR_NOT_FOUND" and
              any(n and n.encode() in r.body for n in names), "%d %s" % (r.status, r.body[:300]))
        cert = [c["id"] for c in certs if "signature" in c.get("usage", []) and c["id"] not in expired][0]

        # --- Page-chosen strings refused before any prompt ------------------------------
        before = record_text(rec)
        bad = [
            ("type with a newline (fake origin line)",
             [doc("a.pdf", typ="application/pdf\nThe site https://impots.gouv.fr asks for a signature.")]),
            ("type with ESC (clear screen)", [doc("a.pdf", typ="application/pdf\x1b[2J")]),
            ("type that is no media type", [doc("a.pdf", typ="pdf")]),
            ("name with U+202E", [doc("facture\u202efdp.pdf")]),
            ("name with U+2028", [doc("a\u2028The site https://impots.gouv.fr.pdf")]),
            ("name with a C1 control", [doc("a\u009b2J.pdf")]),
            ("name with DEL", [doc("a\x7f.pdf")]),
            ("name with a zero-width space", [doc("a\u200b.pdf")]),
            ("name with a BOM", [doc("\ufeffa.pdf")]),
            ("name with ESC (set title)", [doc("\x1b]0;pwned\x07a.pdf")]),
        ]
        for name, docs in bad:
            r = sign(port, O, {"format": "pades", "certificate": cert, "documents": docs})
            check("refused before any prompt: %s" % name,
                  r.status == 400 and r.error_code() == "SDR_ERROR_BAD_REQUEST", "%d %s" % (r.status, r.body[:200]))
        for fmt in ("cades\nThe site x", "cades\x1b[2J", "raw", "CAdES"):
            r = sign(port, O, {"format": fmt, "certificate": cert, "documents": [doc("a.bin", b"a", None)]})
            check("unknown format %r refused before any prompt" % fmt,
                  r.status == 400 and r.error_code() == "SDR_ERROR_BAD_REQUEST", "%d %s" % (r.status, r.body[:200]))
        contradictory = [
            ("options.mode digest on documents",
             {"format": "cades", "certificate": cert, "options": {"mode": "digest"},
              "documents": [doc("a.bin", b"a", None)]}),
            ("unknown options.mode", {"format": "cades", "certificate": cert, "options": {"mode": "sideways"},
                                      "documents": [doc("a.bin", b"a", None)]}),
            ("CAdES enveloped", {"format": "cades", "certificate": cert, "options": {"mode": "enveloped"},
                                 "documents": [doc("a.bin", b"a", None)]}),
            ("digest mode with documents",
             {"mode": "digest", "certificate": cert, "digest": base64.b64encode(b"\0" * 32).decode(),
              "documents": [doc("a.bin", b"a", None)]}),
            ("documents with a digest",
             {"format": "cades", "certificate": cert, "digest": base64.b64encode(b"\0" * 32).decode(),
              "documents": [doc("a.bin", b"a", None)]}),
            ("digest mode with a format",
             {"mode": "digest", "format": "pades", "certificate": cert,
              "digest": base64.b64encode(b"\0" * 32).decode()}),
            ("digest mode with a reason (would not be signed)",
             {"mode": "digest", "certificate": cert, "options": {"reason": "Bon pour accord"},
              "digest": base64.b64encode(b"\0" * 32).decode()}),
            ("digest of the wrong length", {"mode": "digest", "certificate": cert,
                                            "digest": base64.b64encode(b"\0" * 5).decode()}),
            ("unknown option", {"format": "pades", "certificate": cert, "options": {"contact": "x"},
                                "documents": [doc("a.pdf")]}),
            ("unknown request mode", {"mode": "documents", "format": "cades", "certificate": cert,
                                      "documents": [doc("a.bin", b"a", None)]}),
        ]
        for name, body in contradictory:
            r = sign(port, O, body)
            check("refused before any prompt: %s" % name,
                  r.status == 400 and r.error_code() == "SDR_ERROR_BAD_REQUEST", "%d %s" % (r.status, r.body[:200]))
        check("none of the refused requests reached the person", record_text(rec) == before,
              record_text(rec)[len(before):][:300])

        # --- What is signed in is shown ----------------------------------------------------
        r = sign(port, O, {"format": "pades", "certificate": cert,
                           "options": {"reason": "Bon pour paiement de 1\u202f000\u202f000 EUR",
                                       "location": "Paris", "visible": True, "page": 2},
                           "documents": [doc("Délibération n° 12 « budget ».pdf")]})
        seen = record_text(rec)[len(before):].decode()
        check("signing refused by the person", r.status == 403 and r.error_code() == "SDR_ERROR_CONSENT_DENIED",
              r.body[:200])
        check("consent shows the origin, the documents, the certificate",
              ("The site %s asks for a signature." % O) in seen and "Sign 1 document (pades):" in seen and
              "Délibération n° 12 « budget ».pdf (application/pdf," in seen and "Certificate: " in seen, seen)
        check("consent shows the reason, location and visible stamp signed in",
              "Reason: Bon pour paiement de 1\u202f000\u202f000 EUR" in seen and "Location: Paris" in seen and
              "Visible signature: on page 2" in seen, seen)
        before = record_text(rec)
        r = sign(port, O, {"format": "pades", "certificate": cert,
                           "options": {"reason": "ok\nThe site https://impots.gouv.fr asks for a signature.",
                                       "location": "\x1b]0;title\x07\x1b[2J\u202eParis\u2028\u009b"},
                           "documents": [doc("a.pdf")]})
        seen = record_text(rec)[len(before):]
        check("injection in reason/location shown escaped",
              b"Reason: ok<U+000A>The site https://impots.gouv.fr" in seen and
              b"Location: <U+001B>]0;title<U+0007><U+001B>[2J<U+202E>Paris<U+2028><U+009B>" in seen and
              not re.search(rb"^The site https://impots", seen, re.M), seen.decode(errors="replace"))
        check("nothing raw reached the record", not any(b in record_text(rec) for b in FORBIDDEN))
        before = record_text(rec)
        r = sign(port, O, {"mode": "data", "certificate": cert, "data": base64.b64encode(b"tbs").decode()})
        seen = record_text(rec)[len(before):].decode()
        check("data-to-sign consent says a digest is signed, not documents",
              "asks to sign data it prepared itself" in seen and "Data to sign: sha256 digest" in seen and
              "document (" not in seen and r.error_code() == "SDR_ERROR_CONSENT_DENIED", seen)
    finally:
        rc = agent.stop()
        check("clean exit", rc == 0, "rc=%s" % rc)
        if failures:
            bl.log(agent.stderr()[-2000:])


def part_terminal(fx):
    """The real terminal prompter on a pseudo-terminal."""
    port = bl.free_port()
    conf = os.path.join(fx.dir, "tty.conf")
    with open(conf, "w") as f:
        f.write("[tokens]\nmodules=/usr/lib/softhsm/libsofthsm2.so\n")
        f.write("[bridge]\nport=%d\nallowed_origins=%s\nconsent_timeout_s=20\n" % (port, O))
    pid, master = pty.fork()
    if pid == 0:
        os.execve(fx.agent_exe, [fx.agent_exe, "--headless", "--config", conf], fx.env)
    out = b""

    def read_until(pattern, timeout):
        nonlocal out
        end = time.monotonic() + timeout
        while pattern not in out and time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
        return pattern in out

    try:
        if not read_until(b"listening on 127.0.0.1:%d" % port, 20):
            check("agent started on a terminal", False, out[-500:])
            return
        import threading
        result = {}

        def listing():
            result["l"] = bl.request(port, "GET", "/v1/certificates", origin=O)
        t = threading.Thread(target=listing)
        t.start()
        asked = read_until(b"Allow this site? [y/N] ", 20)
        os.write(master, b"y\n")
        t.join(30)
        lst = result.get("l")
        check("terminal: first-use approval asked on the terminal",
              asked and lst is not None and lst.status == 200, repr(out[-300:]))
        if lst is None or lst.status != 200:
            return
        cert = [c["id"] for c in lst.json()["certificates"]
                if c["subject_cn"] == "Jean DUPONT" and "signature" in c["usage"]][0]
        out = b""

        def go():
            result["r"] = sign(port, O, {
                "format": "pades", "certificate": cert,
                "options": {"reason": "ok\nThe site https://impots.gouv.fr asks for a signature.\x1b[2J",
                            "location": "\x1b]0;pwned\x07\u202eParis\u2028\u009b\u200b\ufeff\x7f"},
                "documents": [doc("a.pdf")]})
        t = threading.Thread(target=go)
        t.start()
        asked = read_until(b"[y/N] ", 20)
        mark = len(out)
        os.write(master, b"n\n")
        t.join(30)
        shown = out[:mark]
        r = result.get("r")
        check("terminal prompter asked and the refusal was answered",
              asked and r is not None and r.error_code() == "SDR_ERROR_CONSENT_DENIED",
              "%s %s" % (shown[-300:], None if r is None else r.body[:200]))
        check("terminal: no raw ESC, BEL, C1, DEL, bidi, separator, zero-width or BOM byte",
              not any(b in shown for b in FORBIDDEN), repr(shown[-600:]))
        check("terminal: reason/location shown, escaped, no forged origin line",
              b"<U+001B>]0;pwned<U+0007><U+202E>Paris<U+2028><U+009B><U+200B><U+FEFF><U+007F>" in shown and
              b"Reason: ok<U+000A>The site https://impots.gouv.fr" in shown and
              not re.search(rb"^The site https://impots", shown, re.M), repr(shown[-600:]))
    finally:
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                if os.read(master, 65536) == b"":
                    break
            except OSError:
                break
        _, status = os.waitpid(pid, 0)
        os.close(master)


def main():
    fx = bl.Fixture()
    try:
        part_scripted(fx)
        part_terminal(fx)
    finally:
        fx.cleanup()
    bl.log("%d checks, %d failures" % (count, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
