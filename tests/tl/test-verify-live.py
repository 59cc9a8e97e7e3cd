#!/usr/bin/python3
"""test-verify-live.py SINADUR MAKE_TL - revocation fetched when the signature carries
none, and chains above an intermediate CA for trusted lists.

A test PKI whose AIA (OCSP, caIssuers) and CRL distribution point name 127.0.0.1:PORT; on
that port an in-process server: POST OCSP -> `openssl ocsp -index` (delegated responder
ocsp.pem), POST timestamp -> `openssl ts -reply`, GET /crl.der and /ca.der, with request
counters and a "CRL only" mode (OCSP answers 503). CAdES, XAdES, PAdES and PES signatures:
good (OCSP), revoked before the signing time (INVALID), revoked after it (B-T: a warning;
B-B: INDETERMINATE), --offline, responder down, CRL fallback, [verify] require_revocation.
Then a trusted list whose service certificate is the root (3 levels): qualified with the
chain in the signature, and with the intermediate fetched from the AIA when it is not."""
import http.server, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

sinadur, make_tl = sys.argv[1], sys.argv[2]
src = os.environ.get("SINADUR_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
work = tempfile.mkdtemp(prefix="sdr-live-")
pki, tl = os.path.join(work, "pki"), os.path.join(work, "tl")
failures = 0


def check(name, cond, out=""):
    global failures
    print(("ok - " if cond else "not ok - ") + name)
    if not cond:
        failures += 1
        print(out)


class Handler(http.server.BaseHTTPRequestHandler):
    counts = {"ocsp": 0, "crl": 0, "ca": 0, "ts": 0}
    mode = "up"
    bad_crl = False

    def log_message(self, *a):
        pass

    def answer(self, body, ctype):
        if body is None:
            self.send_response(500 if body is None else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def run(self, cmd, query):
        with tempfile.TemporaryDirectory() as t:
            q, r = os.path.join(t, "q"), os.path.join(t, "r")
            open(q, "wb").write(query)
            p = subprocess.run([c.replace("@Q", q).replace("@R", r) for c in cmd], cwd=pki,
                               capture_output=True)
            return open(r, "rb").read() if p.returncode == 0 and os.path.exists(r) else None

    def do_POST(self):
        query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ctype = self.headers.get("Content-Type")
        if ctype == "application/ocsp-request":
            Handler.counts["ocsp"] += 1
            if Handler.mode == "crl-only":
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.answer(self.run(["openssl", "ocsp", "-index", "index.txt", "-rsigner",
                                  "ocsp.pem", "-rkey", "ocsp.key", "-CA", "ca.pem", "-nmin",
                                  "10", "-reqin", "@Q", "-respout", "@R"], query),
                        "application/ocsp-response")
        elif ctype == "application/timestamp-query":
            Handler.counts["ts"] += 1
            self.answer(self.run(["openssl", "ts", "-reply", "-config", "openssl.cnf",
                                  "-section", "tsa_section", "-queryfile", "@Q", "-out", "@R"],
                                 query), "application/timestamp-reply")
        else:
            self.answer(None, "")

    def do_GET(self):
        name = self.path.lstrip("/")
        if name in ("crl.der", "ca.der"):
            Handler.counts[name[:-4]] += 1
            body = open(os.path.join(pki, name), "rb").read()
            if name == "crl.der" and Handler.bad_crl:
                body = body[:-1] + bytes([body[-1] ^ 0x55])  # the signature no longer verifies
            self.answer(body, "application/octet-stream")
        else:
            self.answer(None, "")


with socket.socket() as so:
    so.bind(("127.0.0.1", 0))
    port = so.getsockname()[1]
subprocess.run(["sh", os.path.join(src, "tests/fixtures/make-pki.sh"), pki, str(port)],
               check=True, stdout=subprocess.DEVNULL)
subprocess.run(["/usr/bin/python3", make_tl, pki, tl, "http://127.0.0.1:1"], check=True)


class Server:
    def __init__(self):
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


server = Server()
env = dict(os.environ, LANG="fr_FR.UTF-8", LANGUAGE="fr", HOME=work,
           XDG_CONFIG_HOME=os.path.join(work, "cfg"), XDG_STATE_HOME=os.path.join(work, "st"),
           XDG_CACHE_HOME=os.path.join(work, "cache"))
for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    env.pop(k, None)
P = lambda n: os.path.join(pki, n)
conf = os.path.join(work, "anchored.conf")
open(conf, "w").write("[signature]\nsystem_trust=false\ntrust_anchors=%s;\ncity=Brest\n"
                      "postal_code=29200\ntsa_url=http://127.0.0.1:%d/\n" % (P("root.pem"), port))
strict = os.path.join(work, "strict.conf")
open(strict, "w").write(open(conf).read() + "[verify]\nrequire_revocation=true\n")
# A PES signature carries the signer's certificate only (DGFiP profile): the issuing CA
# is an anchor too, as on a Hélios workstation.
pes_conf = os.path.join(work, "pes.conf")
open(pes_conf, "w").write(open(conf).read().replace("trust_anchors=%s;" % P("root.pem"),
                                                    "trust_anchors=%s;%s;" % (P("root.pem"),
                                                                              P("ca.pem"))))
pes_strict = os.path.join(work, "pes-strict.conf")
open(pes_strict, "w").write(open(pes_conf).read() + "[verify]\nrequire_revocation=true\n")


def cfg(fmt, strict_mode=False):
    if fmt == "pes":
        return pes_strict if strict_mode else pes_conf
    return strict if strict_mode else conf


bare = os.path.join(work, "bare.conf")
open(bare, "w").write("[signature]\nsystem_trust=false\n")


def sinadur_run(config, *args):
    r = subprocess.run([sinadur, "--config", config] + list(args), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)
    return r.returncode, r.stdout


def sign(fmt, user, doc, out, *extra, chain=True):
    args = ["sign", "-f", fmt, "--key", P(user + ".key"), "--cert-file", P(user + ".pem")]
    if chain:
        args += ["--chain-file", P("ca.pem")]
    rc, text = sinadur_run(conf, *(args + list(extra) + ["-o", out, doc]))
    check("sign %s %s" % (fmt, os.path.basename(out)), rc == 0 and os.path.exists(out), text)


def verify(sig, *extra, config=conf, content=None):
    args = ["--json", "verify", sig] + (["--content", content] if content else []) + list(extra)
    rc, text = sinadur_run(config, *args)
    try:
        j = json.loads(text[text.index("{"):])
        s = j["files"][0]["signatures"][0]
    except (ValueError, KeyError, IndexError):
        s = {}
    codes = [x.get("code") for x in s.get("reasons", [])]
    warns = [x.get("code") for x in s.get("warnings", [])]
    return s.get("verdict"), codes, warns, text


txt = os.path.join(work, "délibération.txt")
open(txt, "w").write("délibération 42\n")
xml = os.path.join(work, "acte.xml")
open(xml, "w").write("<acte><objet>Voirie</objet></acte>\n")
pdf = os.path.join(work, "plain.pdf")
subprocess.run(["/usr/bin/python3", os.path.join(src, "tests", "pades", "mkpdf.py"), "plain", pdf],
               check=True)

pes = os.path.join(work, "PES_Aller.xml")
subprocess.run(["/usr/bin/python3", os.path.join(src, "tests", "profiles", "gen-pes.py"), pes,
                "--bordereaux", "1", "--pieces", "1", "--pj", "0"], check=True,
               capture_output=True)

sigs = {}
for user in ("user-ec", "user-revoked"):
    s = os.path.join(work, "%s-pes.xml" % user)
    sign("pes", user, pes, s)
    sigs[("pes", user)] = (s, None)
    s = os.path.join(work, "%s.p7s" % user)
    sign("cades", user, txt, s)
    sigs[("cades", user)] = (s, txt)
    s = os.path.join(work, "%s-xades.xml" % user)
    sign("xades", user, txt, s)
    sigs[("xades", user)] = (s, txt)
    if True:
        s = os.path.join(work, "%s.pdf" % user)
        sign("pades", user, pdf, s)
        sigs[("pades", user)] = (s, None)

# 1. good and revoked certificates, every format, revocation fetched from the AIA
for (fmt, user), (s, content) in sorted(sigs.items()):
    before = Handler.counts["ocsp"]
    v, codes, warns, out = verify(s, content=content, config=cfg(fmt))
    if user == "user-ec":
        check("%s good: VALID, no REVOCATION_UNKNOWN, OCSP asked" % fmt,
              v == "VALID" and "REVOCATION_UNKNOWN" not in warns and
              Handler.counts["ocsp"] > before, out)
    else:
        check("%s revoked before the signing time: INVALID CERT_REVOKED" % fmt,
              v == "INVALID" and "CERT_REVOKED" in codes, out)

# 2. --offline: no request; the certificates name an OCSP responder and a CRL, so never
# VALID (DSS's default policy: INDETERMINATE, the reason says offline)
for fmt in ("cades", "xades", "pades", "pes"):
    s, content = sigs[(fmt, "user-ec")]
    before = dict(Handler.counts)
    v, codes, warns, out = verify(s, "--offline", content=content, config=cfg(fmt))
    check("%s --offline: no network, INDETERMINATE REVOCATION_UNKNOWN says offline" % fmt,
          Handler.counts == before and v == "INDETERMINATE" and "REVOCATION_UNKNOWN" in codes and
          "hors ligne" in out, out)
    v, codes, warns, out = verify(s, "--offline", content=content, config=cfg(fmt, True))
    check("%s --offline with require_revocation: INDETERMINATE" % fmt,
          v == "INDETERMINATE" and "REVOCATION_UNKNOWN" in codes, out)

# 2b. a certificate that names no OCSP responder and no CRL: nothing could be asked, VALID
# with a warning; require_revocation makes it INDETERMINATE
with open(P("openssl.cnf"), "a") as f:
    f.write("[ nosource ]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,nonRepudiation\n"
            "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n")
subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "nosrc.key",
                "-out", "nosrc.csr", "-subj", "/C=FR/O=Sinadur TEST/CN=Sans REVOCATION"], cwd=pki,
               check=True, capture_output=True)
subprocess.run(["openssl", "ca", "-batch", "-config", "openssl.cnf", "-cert", "ca.pem", "-keyfile",
                "ca.key", "-extensions", "nosource", "-days", "30", "-in", "nosrc.csr", "-out",
                "nosrc.pem", "-notext"], cwd=pki, check=True, capture_output=True)
for fmt, doc, content in (("cades", txt, txt), ("xades", txt, txt), ("pades", pdf, None)):
    s = os.path.join(work, "nosrc-%s.sig" % fmt)
    sign(fmt, "nosrc", doc, s)
    before = dict(Handler.counts)
    v, codes, warns, out = verify(s, content=content)
    check("%s certificate without AIA/CDP: VALID with a REVOCATION_UNKNOWN warning" % fmt,
          v == "VALID" and "REVOCATION_UNKNOWN" in warns and Handler.counts["ocsp"] ==
          before["ocsp"] and Handler.counts["crl"] == before["crl"], out)
    v, codes, warns, out = verify(s, content=content, config=strict)
    check("%s certificate without AIA/CDP, require_revocation: INDETERMINATE" % fmt,
          v == "INDETERMINATE" and "REVOCATION_UNKNOWN" in codes, out)

# 3. revoked after the signing time: B-T (timestamp proves it) and B-B
late = os.path.join(work, "late.p7s")
sign("cades", "user-rsa", txt, late, "--level", "T")
late_b = os.path.join(work, "late-b.p7s")
sign("cades", "user-rsa", txt, late_b)
v, _, _, out = verify(late, content=txt)
check("B-T before revocation: VALID", v == "VALID", out)
time.sleep(1.5)  # the revocation time (seconds) after the signing times
subprocess.run(["openssl", "ca", "-batch", "-config", "openssl.cnf", "-cert", "ca.pem", "-keyfile",
                "ca.key", "-revoke", "user-rsa.pem", "-crl_reason", "keyCompromise"], cwd=pki,
               check=True, capture_output=True)
subprocess.run(["openssl", "ca", "-batch", "-config", "openssl.cnf", "-cert", "ca.pem", "-keyfile",
                "ca.key", "-gencrl", "-out", "crl.pem"], cwd=pki, check=True, capture_output=True)
subprocess.run(["openssl", "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"],
               cwd=pki, check=True)
v, codes, warns, out = verify(late, content=txt)
check("revoked after the timestamped signing time: VALID with a CERT_REVOKED warning",
      v == "VALID" and "CERT_REVOKED" in warns, out)
v, codes, warns, out = verify(late_b, content=txt)
check("revoked after an unproven signing time (B-B): INDETERMINATE CERT_REVOKED",
      v == "INDETERMINATE" and "CERT_REVOKED" in codes, out)

# 4. OCSP answers 503: the CRL of the distribution point is used, then kept in
# $XDG_CACHE_HOME/sinadur/crl/ (SHA-256 of the URL) until its nextUpdate
import hashlib
crl_url = "http://127.0.0.1:%d/crl.der" % port
crl_cache = os.path.join(work, "cache", "sinadur", "crl",
                         hashlib.sha256(crl_url.encode()).hexdigest() + ".crl")
Handler.mode = "crl-only"
for i, fmt in enumerate(("cades", "xades")):
    s, content = sigs[(fmt, "user-ec")]
    before = Handler.counts["crl"]
    v, codes, warns, out = verify(s, content=content)
    if i == 0:
        check("%s OCSP down, CRL up: VALID from the CRL, which is cached" % fmt,
              v == "VALID" and "REVOCATION_UNKNOWN" not in warns and
              Handler.counts["crl"] == before + 1 and os.path.exists(crl_cache), out)
        before = Handler.counts["crl"]
        v, codes, warns, out = verify(s, content=content)
    check("%s OCSP down, CRL cached: VALID, no CRL request" % fmt,
          v == "VALID" and Handler.counts["crl"] == before, out)
    s, content = sigs[(fmt, "user-revoked")]
    v, codes, warns, out = verify(s, content=content)
    check("%s OCSP down, CRL cached: revoked INVALID, no CRL request" % fmt,
          v == "INVALID" and "CERT_REVOKED" in codes and Handler.counts["crl"] == before, out)
# a CRL whose signature does not verify is neither used nor stored
os.unlink(crl_cache)
Handler.bad_crl = True
s, content = sigs[("cades", "user-ec")]
v, codes, warns, out = verify(s, content=content)
check("CRL with a broken signature: INDETERMINATE, not cached",
      v == "INDETERMINATE" and "REVOCATION_UNKNOWN" in codes and not os.path.exists(crl_cache),
      out)
# a cache file that does not verify against the issuer is not believed: downloaded again
good_crl = open(P("crl.der"), "rb").read()
os.makedirs(os.path.dirname(crl_cache), exist_ok=True)
open(crl_cache, "wb").write(good_crl[:-1] + bytes([good_crl[-1] ^ 0x55]))
Handler.bad_crl = False
before = Handler.counts["crl"]
v, codes, warns, out = verify(s, content=content)
check("forged cache file: the CRL is fetched again and replaces it",
      v == "VALID" and Handler.counts["crl"] == before + 1 and
      open(crl_cache, "rb").read() == good_crl, out)
Handler.mode = "up"

# 5. the trusted list's service is the root, 3 levels (root -> CA -> signer)
ALL = ["--tl", os.path.join(tl, "lotl-signer.pem"), "--tl", os.path.join(tl, "lotl.xml"),
       "--tl", os.path.join(tl, "fr-root.xml")]
q_chain = os.path.join(work, "q-chain.p7s")
sign("cades", "user-ec", txt, q_chain)
v, codes, warns, out = verify(q_chain, "--offline", *ALL, config=bare, content=txt)
d = json.loads(out[out.index("{"):])["files"][0]["signatures"][0].get("details", {}) if "{" in out else {}
check("service above the issuing CA, chain in the signature: qualified",
      d.get("qualified") == "true" and d.get("qualification_tsp") == "Sinadur TEST TSP racine" and
      "CHAIN_NOT_TRUSTED" not in codes, out)
q_alone = os.path.join(work, "q-alone.p7s")
sign("cades", "user-ec", txt, q_alone, chain=False)
v, codes, warns, out = verify(q_alone, "--offline", *ALL, config=bare, content=txt)
d = json.loads(out[out.index("{"):])["files"][0]["signatures"][0].get("details", {}) if "{" in out else {}
check("intermediate not in the signature, offline: not found on a list",
      d.get("qualified") != "true" and "CHAIN_NOT_TRUSTED" in codes, out)
before = Handler.counts["ca"]
v, codes, warns, out = verify(q_alone, *ALL, config=bare, content=txt)
d = json.loads(out[out.index("{"):])["files"][0]["signatures"][0].get("details", {}) if "{" in out else {}
check("intermediate fetched from the AIA (caIssuers): qualified",
      d.get("qualified") == "true" and Handler.counts["ca"] > before, out)
check("intermediate fetched from the AIA: the chain up to the listed root checked for "
      "revocation, VALID", v == "VALID" and "REVOCATION_UNKNOWN" not in codes + warns, out)
before = Handler.counts["ocsp"]
v, codes, warns, out = verify(q_chain, *ALL, config=bare, content=txt)
check("chain resting on the list, online: revocation asked (OCSP), VALID",
      v == "VALID" and Handler.counts["ocsp"] > before, out)
v, codes, warns, out = verify(q_chain, "--offline", *ALL, config=bare, content=txt)
check("chain resting on the list, offline: INDETERMINATE REVOCATION_UNKNOWN",
      v == "INDETERMINATE" and codes == ["REVOCATION_UNKNOWN"], out)

# 6. responder down: the cached CRL still answers until its nextUpdate; without it
# INDETERMINATE (the certificate names the responder), the reason says why
server.stop()
s, content = sigs[("xades", "user-ec")]
v, codes, warns, out = verify(s, content=content)
check("server down, CRL cached: VALID from the cache", v == "VALID", out)
os.unlink(crl_cache)
for fmt in ("cades", "xades", "pes"):
    s, content = sigs[(fmt, "user-ec")]
    v, codes, warns, out = verify(s, content=content, config=cfg(fmt))
    check("%s responder down: INDETERMINATE REVOCATION_UNKNOWN says why" % fmt,
          v == "INDETERMINATE" and "REVOCATION_UNKNOWN" in codes and
          ("injoignable" in out or "unreachable" in out), out)
    v, codes, warns, out = verify(s, content=content, config=cfg(fmt, True))
    check("%s responder down, require_revocation: INDETERMINATE, never VALID" % fmt,
          v == "INDETERMINATE" and "REVOCATION_UNKNOWN" in codes, out)

print("# failures: %d" % failures)
shutil.rmtree(work, ignore_errors=True) if failures == 0 else print("# kept " + work)
sys.exit(1 if failures else 0)
