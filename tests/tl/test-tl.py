#!/usr/bin/python3
"""test-tl.py TL_TOOL MAKE_TL - trusted lists end to end over generated lists:
a LOTL and two national lists from the test PKI, one withdrawn service, one status
history, one broken signature, one expired list, one list signed with another
territory's key; qualification of certificates with and without QCStatements."""
import atexit, os, socket, subprocess, sys, tempfile, time

tool, make_tl = sys.argv[1], sys.argv[2]
src = os.environ.get("SINADUR_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
work = tempfile.mkdtemp(prefix="sdr-tl-")
pki, tl = os.path.join(work, "pki"), os.path.join(work, "tl")
# The certificates name the PKI's OCSP responder and CRL on a free port: a chain that
# rests on a list is checked for revocation like any other, so the responder runs.
with socket.socket() as so:
    so.bind(("127.0.0.1", 0))
    pki_port = so.getsockname()[1]
subprocess.run(["sh", os.path.join(src, "tests/fixtures/make-pki.sh"), pki, str(pki_port)],
               check=True, stdout=subprocess.DEVNULL)
subprocess.run(["/usr/bin/python3", make_tl, pki, tl], check=True)
responder = subprocess.Popen(["/usr/bin/python3", os.path.join(src, "tests/cades/pki-responder.py"),
                              pki, str(pki_port)], stderr=subprocess.DEVNULL)
atexit.register(lambda: (responder.kill(), responder.wait()))
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", pki_port), 1).close()
        break
    except OSError:
        time.sleep(0.1)
NOW = "2026-06-01T00:00:00Z"
failures = 0


def L(n):
    return os.path.join(tl, n)


def run(files, cert=None, at=None, now=NOW):
    args = [tool, "--now", now] + files
    if cert:
        args += ["--cert", cert]
    if at:
        args += ["--at", at]
    out = subprocess.run(args, stdout=subprocess.PIPE, text=True).stdout
    lists = [l.split(" ") for l in out.splitlines() if l.startswith("list ")]
    kv = dict(l.split("=", 1) for l in out.splitlines() if "=" in l and not l.startswith("list "))
    return lists, kv, out


def check(name, cond, out=""):
    global failures
    print(("ok - " if cond else "not ok - ") + name)
    if not cond:
        failures += 1
        print(out)


ALL = [L("lotl-signer.pem"), L("lotl.xml")]
# 1. statuses of the lists
lists, _, out = run(ALL + [L("fr.xml"), L("be.xml"), L("fr-broken.xml"), L("fr-expired.xml"),
                           L("fr-wrongkey.xml")])
st = [x[4] for x in lists]
check("lotl trusted with the configured signer", st[0] == "trusted", out)
check("FR list trusted through the LOTL pointer", st[1] == "trusted", out)
check("BE list trusted through the LOTL pointer", st[2] == "trusted", out)
check("broken signature never trusted", st[3] == "signature-invalid", out)
check("expired list never trusted", st[4] == "expired", out)
check("list signed with another territory's key refused", st[5] == "signature-invalid", out)
check("LOTL parsed: 2 pointers", lists[0][-2] == "pointers=2" and lists[0][-1] == "lotl=1", out)

# 2. without the LOTL signer nothing is trusted
lists, kv, out = run([L("lotl.xml"), L("fr.xml")], cert=os.path.join(pki, "user-rsa.pem"))
check("no configured signer: LOTL not trusted",
      lists[0][4] == "signature-invalid" and lists[1][4] == "signature-invalid", out)
check("no trusted list: certificate not found", kv.get("found") == "0", out)
# a different configured signer does not do either
lists, _, out = run([os.path.join(pki, "ocsp.pem"), L("lotl.xml")])
check("wrong configured signer: LOTL not trusted", lists[0][4] == "signature-invalid", out)

# 3. qualification: granted now, QES with the criteria
_, kv, out = run(ALL + [L("fr.xml")], cert=os.path.join(pki, "user-rsa.pem"))
check("user-rsa qualified QES for e-signature",
      kv["found"] == "1" and kv["granted"] == "1" and kv["qualified"] == "1" and
      kv["qscd"] == "1" and kv["esig"] == "1" and kv["eseal"] == "0", out)
check("TSP and service names", kv["tsp"] == "Sinadur TEST TSP" and
      kv["service"] == "AC Sinadur TEST RGS** Signature", out)
check("qualifiers applied", kv["qualifiers"] == "QCStatement,QCWithQSCD,QCForESig", out)
# EC user, same policy: qualified too
_, kv, out = run(ALL + [L("fr.xml")], cert=os.path.join(pki, "user-ec.pem"))
check("user-ec qualified", kv["qualified"] == "1", out)
# authentication certificate: policy and key usage criteria do not match
_, kv, out = run(ALL + [L("fr.xml")], cert=os.path.join(pki, "user-auth.pem"))
check("auth certificate: found, granted, not qualified (criteria)",
      kv["found"] == "1" and kv["granted"] == "1" and kv["qualified"] == "0" and
      kv["qualifiers"] == "", out)

# 4. status history
_, kv, out = run(ALL + [L("fr.xml")], cert=os.path.join(pki, "user-rsa.pem"),
                 at="2024-06-01T00:00:00Z")
check("history: withdrawn in 2024", kv["granted"] == "0" and kv["qualified"] == "0" and
      kv["status"].endswith("/withdrawn"), out)
_, kv, out = run(ALL + [L("fr.xml")], cert=os.path.join(pki, "user-rsa.pem"),
                 at="2022-06-01T00:00:00Z")
check("history: granted in 2022", kv["granted"] == "1" and kv["qualified"] == "1", out)
_, kv, out = run(ALL + [L("fr.xml")], cert=os.path.join(pki, "user-rsa.pem"),
                 at="2010-06-01T00:00:00Z")
check("history: before any status, not granted", kv["granted"] == "0", out)

# 5. withdrawn service
_, kv, out = run(ALL + [L("be.xml")], cert=os.path.join(pki, "user-rsa.pem"))
check("withdrawn service: found, not granted", kv["found"] == "1" and kv["granted"] == "0" and
      kv["qualified"] == "0" and kv["status"].endswith("/withdrawn"), out)
_, kv, out = run(ALL + [L("be.xml")], cert=os.path.join(pki, "user-rsa.pem"),
                 at="2018-01-01T00:00:00Z")
check("withdrawn service: granted in its history", kv["granted"] == "1", out)
# both lists: the granted one wins
_, kv, out = run(ALL + [L("be.xml"), L("fr.xml")], cert=os.path.join(pki, "user-rsa.pem"))
check("withdrawn + granted: the granted service wins", kv["granted"] == "1" and
      kv["tsp"] == "Sinadur TEST TSP", out)

# 6. broken / expired / wrong-key lists never qualify
for bad in ("fr-broken.xml", "fr-expired.xml", "fr-wrongkey.xml"):
    _, kv, out = run(ALL + [L(bad)], cert=os.path.join(pki, "user-rsa.pem"))
    check(bad + ": not used to qualify", kv["found"] == "0", out)
# the expired list was fine before its NextUpdate
lists, _, out = run(ALL + [L("fr-expired.xml")], now="2026-01-01T12:00:00Z")
check("fr-expired trusted before its NextUpdate", lists[1][4] == "trusted", out)

# 7. a certificate with its own QCStatements (QcCompliance, QcSSCD, QcType eseal)
ext = os.path.join(work, "qc.cnf")
open(ext, "w").write("""[e]
basicConstraints = critical,CA:FALSE
keyUsage = critical,nonRepudiation
certificatePolicies = 1.2.250.1.999.1.1.2.3
1.3.6.1.5.5.7.1.3 = ASN1:SEQUENCE:qcs
[qcs]
s1 = SEQUENCE:qc_compliance
s2 = SEQUENCE:qc_sscd
s3 = SEQUENCE:qc_type
[qc_compliance]
id = OID:0.4.0.1862.1.1
[qc_sscd]
id = OID:0.4.0.1862.1.4
[qc_type]
id = OID:0.4.0.1862.1.6
types = SEQUENCE:qc_types
[qc_types]
t = OID:0.4.0.1862.1.6.2
""")
key, csr, crt = (os.path.join(work, n) for n in ("qc.key", "qc.csr", "qc.pem"))
subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-subj", "/CN=Mairie de TEST cachet", "-out", csr], check=True,
               stderr=subprocess.DEVNULL)
subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(pki, "ca.pem"),
                "-CAkey", os.path.join(pki, "ca.key"), "-CAcreateserial", "-days", "30",
                "-extfile", ext, "-extensions", "e", "-out", crt], check=True,
               stderr=subprocess.DEVNULL)
_, kv, out = run(ALL + [L("fr.xml")], cert=crt)
check("QCStatements read", kv["qc_compliance"] == "1" and kv["qc_sscd"] == "1" and
      kv["qc_eseal"] == "1", out)
check("QC statements: qualified; list's QCForESig overrides QcType",
      kv["qualified"] == "1" and kv["esig"] == "1", out)
# the same certificate with the withdrawn BE service: QCStatements alone do not qualify
_, kv, out = run(ALL + [L("be.xml")], cert=crt)
check("QCStatements with a withdrawn service: not qualified",
      kv["found"] == "1" and kv["qualified"] == "0", out)

# 8. a folder (tl_dir) loads the same
lists, _, out = run([tl])
check("folder (tl_dir): the 6 lists loaded", len(lists) == 6, out)
# 9. junk is refused with a parse error
junk = os.path.join(work, "junk.xml")
open(junk, "w").write("<a/>")
_, _, out = run([junk])
check("not a TSL: parse error", out.startswith("error "), out)

# 10. end to end: sinadur verify with --tl (CAdES signed by user-rsa, chain outside anchors)
if len(sys.argv) > 3:
    import json
    sinadur = sys.argv[3]
    env = dict(os.environ, LANG="fr_FR.UTF-8", LANGUAGE="fr", HOME=work,
               XDG_CONFIG_HOME=os.path.join(work, "cfg"), XDG_STATE_HOME=os.path.join(work, "st"),
               XDG_CACHE_HOME=os.path.join(work, "cache"))
    conf = os.path.join(work, "sinadur.conf")
    open(conf, "w").write("[signature]\nsystem_trust=false\ncity=Brest\npostal_code=29200\n")
    doc = os.path.join(work, "délibération.txt")
    open(doc, "w").write("délibération 42\n")
    sig = doc + ".p7s"
    r = subprocess.run([sinadur, "--config", conf, "sign", "-f", "cades", "--key",
                        os.path.join(pki, "user-rsa.key"), "--cert-file",
                        os.path.join(pki, "user-rsa.pem"), "--chain-file",
                        os.path.join(pki, "ca.pem"), "-o", sig, doc], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check("sign with the file key", r.returncode == 0 and os.path.exists(sig), r.stdout)

    def verify(*extra):
        r = subprocess.run([sinadur, "--config", conf, "--json", "verify", sig, "--content",
                            doc] + list(extra), env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        try:
            return r.returncode, json.loads(r.stdout), r.stdout + r.stderr
        except ValueError:
            return r.returncode, {}, r.stdout + r.stderr

    def sig0(j):
        return j["files"][0]["signatures"][0]

    rc, j, out = verify()
    check("no lists: INDETERMINATE chain", j and sig0(j)["verdict"] == "INDETERMINATE" and
          "CHAIN_NOT_TRUSTED" in out, out)
    rc, j, out = verify("--tl", L("lotl-signer.pem"), "--tl", L("lotl.xml"), "--tl", L("fr.xml"))
    d = sig0(j)["details"] if j else {}
    check("--tl: VALID, chain rests on the granted service",
          j and sig0(j)["verdict"] == "VALID" and "CHAIN_NOT_TRUSTED" not in out, out)
    check("--tl: qualification block", d.get("qualified") == "true" and d.get("qscd") == "true"
          and d.get("qualification_tsp") == "Sinadur TEST TSP" and
          d.get("qualified_for") == "esig" and "QES" in d.get("qualification", ""), out)
    check("--tl: French wording", "dispositif qualifié" in d.get("qualification", ""), out)
    # the chain that rests on the list is checked for revocation like the others
    rc, j, out = verify("--tl", L("lotl-signer.pem"), "--tl", L("lotl.xml"), "--tl", L("fr.xml"),
                        "--offline")
    codes = [x["code"] for x in sig0(j)["reasons"]] if j else []
    check("--tl --offline: INDETERMINATE REVOCATION_UNKNOWN, still qualified",
          j and sig0(j)["verdict"] == "INDETERMINATE" and codes == ["REVOCATION_UNKNOWN"] and
          sig0(j)["details"].get("qualified") == "true" and "hors ligne" in out, out)
    rsig = os.path.join(work, "revoque.p7s")
    r = subprocess.run([sinadur, "--config", conf, "sign", "-f", "cades", "--key",
                        os.path.join(pki, "user-revoked.key"), "--cert-file",
                        os.path.join(pki, "user-revoked.pem"), "--chain-file",
                        os.path.join(pki, "ca.pem"), "-o", rsig, doc], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    r = subprocess.run([sinadur, "--config", conf, "--json", "verify", rsig, "--content", doc,
                        "--tl", L("lotl-signer.pem"), "--tl", L("lotl.xml"), "--tl", L("fr.xml")],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check("--tl, revoked signer under the listed CA: INVALID CERT_REVOKED",
          '"verdict" : "INVALID"' in r.stdout and "CERT_REVOKED" in r.stdout,
          r.stdout + r.stderr)
    report = os.path.join(work, "rapport.html")
    rc, j, out = verify("--tl", L("lotl-signer.pem"), "--tl", L("lotl.xml"), "--tl",
                        L("fr-broken.xml"), "--report", report)
    check("--tl with a broken list: still INDETERMINATE, list reported",
          j and sig0(j)["verdict"] == "INDETERMINATE" and "fr-broken" not in out and
          "n’est pas utilisée" in out, out)
    rc, j, out = verify("--tl", L("lotl-signer.pem"), "--tl", L("lotl.xml"), "--tl", L("be.xml"))
    check("--tl with the withdrawn service: INDETERMINATE, status withdrawn",
          j and sig0(j)["verdict"] == "INDETERMINATE" and
          sig0(j)["details"].get("qualified") == "false", out)
    rc, j, out = verify("--tl", L("lotl-signer.pem"), "--tl", L("lotl.xml"), "--tl", L("fr.xml"),
                        "--report", report)
    html = open(report, encoding="utf-8").read() if os.path.exists(report) else ""
    check("HTML report: qualification rows", "Sinadur TEST TSP" in html and
          "Qualification" in html, html[-3000:])

    # [trust] tl_dir: a folder with the LOTL signer and the lists (fr-broken etc. are refused,
    # fr.xml qualifies)
    open(conf, "a").write("[trust]\ntl_dir=%s\n" % tl)
    rc, j, out = verify()
    check("[trust] tl_dir: VALID and qualified", j and sig0(j)["verdict"] == "VALID" and
          sig0(j)["details"].get("qualified") == "true", out)

print("# failures: %d" % failures)
sys.exit(1 if failures else 0)
