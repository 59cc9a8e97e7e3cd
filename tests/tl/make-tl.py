#!/usr/bin/python3
"""make-tl.py PKI_DIR OUT_DIR - test trusted lists (ETSI TS 119 612) over the
test PKI of tests/fixtures/make-pki.sh, signed by xmlsec1 (enveloped, URI="").

  lotl.xml         list of lists, signed by root.key; points to FR (ocsp.pem) and BE (server.pem)
  fr.xml           FR list, signed by ocsp.key: CA/QC "AC Sinadur TEST RGS** Signature" (ca.pem),
                   granted since 2025-06-01, history: withdrawn 2024-01-01, granted 2020-01-01;
                   qualifiers QCStatement + QCWithQSCD for nonRepudiation + policy 1.2.250.1.999.1.1.2.3,
                   a second element QCForESig for the same criteria
  be.xml           BE list, signed by server.key: the same CA withdrawn since 2021-01-01
  fr-broken.xml    fr.xml changed after signing (TSP name)
  fr-expired.xml   fr.xml with NextUpdate past (properly signed)
  fr-wrongkey.xml  fr.xml signed by server.key (the key published for BE, not FR)
  lotl-signer.pem  root.pem (the configured LOTL signer)

make-tl.py PKI_DIR OUT_DIR BASE_URL - the same, with the LOTL's pointers at BASE_URL/FR.xml
and BASE_URL/BE.xml (plus a PDF pointer for FR, which a download must skip), and for the
cache tests: fr-seq8.xml (a newer FR list, sequence 8, other TSP name), fr-seq6.xml (an older
one, sequence 6, properly signed), fr-root.xml (the service's certificate is root.pem, above
the issuing CA: a 3-level chain).
"""
import base64, datetime, os, shutil, subprocess, sys
from lxml import etree

TSL = "http://uri.etsi.org/02231/v2#"
ECC = "http://uri.etsi.org/TrstSvc/SvcInfoExt/eSigDir-1999-93-EC-TrustedList/#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {None: TSL, "ecc": ECC, "ds": DS, "xades": XADES}
EXT = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/"
ST = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/"


def T(tag, ns=TSL):
    return "{%s}%s" % (ns, tag)


def sub(parent, tag, text=None, ns=TSL, **attrs):
    e = etree.SubElement(parent, T(tag, ns), **attrs)
    if text is not None:
        e.text = text
    return e


def der_b64(pem_path):
    pem = open(pem_path).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return "".join(body.split())


def names(parent, tag, text):
    n = sub(parent, tag)
    sub(n, "Name", text, **{"{http://www.w3.org/XML/1998/namespace}lang": "fr"})
    sub(n, "Name", text + " (en)", **{"{http://www.w3.org/XML/1998/namespace}lang": "en"})


def scheme(root, territory, kind, next_update, seq=7):
    si = sub(root, "SchemeInformation")
    sub(si, "TSLVersionIdentifier", "5")
    sub(si, "TSLSequenceNumber", str(seq))
    sub(si, "TSLType", "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/" + kind)
    names(si, "SchemeOperatorName", "Opérateur TEST " + territory)
    sub(si, "SchemeTerritory", territory)
    sub(si, "ListIssueDateTime", "2026-01-01T00:00:00Z")
    nu = sub(si, "NextUpdate")
    sub(nu, "dateTime", next_update)
    return si


def pointer(parent, territory, cert_pem, location=None, mime="application/vnd.etsi.tsl+xml"):
    p = sub(parent, "OtherTSLPointer")
    sdis = sub(p, "ServiceDigitalIdentities")
    sdi = sub(sdis, "ServiceDigitalIdentity")
    sub(sub(sdi, "DigitalId"), "X509Certificate", der_b64(cert_pem))
    sub(p, "TSLLocation", location or "https://tl.example.test/%s.xml" % territory)
    ai = sub(p, "AdditionalInformation")
    sub(sub(ai, "OtherInformation"), "SchemeTerritory", territory)
    sub(sub(ai, "OtherInformation"), "MimeType", mime, ns=
        "http://uri.etsi.org/02231/v2/additionaltypes#")


def service(tsps, tsp_name, svc_name, cert_pem, status, start, history=(), quals=True):
    tsp = sub(tsps, "TrustServiceProvider")
    names(sub(tsp, "TSPInformation"), "TSPName", tsp_name)
    svc = sub(sub(tsp, "TSPServices"), "TSPService")
    info = sub(svc, "ServiceInformation")
    sub(info, "ServiceTypeIdentifier", "http://uri.etsi.org/TrstSvc/Svctype/CA/QC")
    names(info, "ServiceName", svc_name)
    sdi = sub(info, "ServiceDigitalIdentity")
    sub(sub(sdi, "DigitalId"), "X509Certificate", der_b64(cert_pem))
    sub(info, "ServiceStatus", ST + status)
    sub(info, "StatusStartingTime", start)
    exts = sub(info, "ServiceInformationExtensions")
    if quals:
        e = sub(exts, "Extension", Critical="true")
        q = sub(e, "Qualifications", ns=ECC)
        for qualifiers in (["QCStatement", "QCWithQSCD"], ["QCForESig"]):
            qe = sub(q, "QualificationElement", ns=ECC)
            qs = sub(qe, "Qualifiers", ns=ECC)
            for x in qualifiers:
                sub(qs, "Qualifier", ns=ECC, uri=EXT + x)
            cl = sub(qe, "CriteriaList", ns=ECC, assert_="all")
            cl.attrib.pop("assert_")
            cl.set("assert", "all")
            ku = sub(cl, "KeyUsage", ns=ECC)
            sub(ku, "KeyUsageBit", "true", ns=ECC, name="nonRepudiation")
            ps = sub(cl, "PolicySet", ns=ECC)
            sub(sub(ps, "PolicyIdentifier", ns=ECC), "Identifier", "urn:oid:1.2.250.1.999.1.1.2.3",
                ns=XADES)
    e = sub(exts, "Extension", Critical="false")
    sub(sub(e, "AdditionalServiceInformation"), "URI", EXT + "ForeSignatures")
    if history:
        h = sub(svc, "ServiceHistory")
        for st, t in history:
            hi = sub(h, "ServiceHistoryInstance")
            sub(hi, "ServiceTypeIdentifier", "http://uri.etsi.org/TrstSvc/Svctype/CA/QC")
            names(hi, "ServiceName", svc_name)
            sub(sub(sub(hi, "ServiceDigitalIdentity"), "DigitalId"), "X509Certificate",
                der_b64(cert_pem))
            sub(hi, "ServiceStatus", ST + st)
            sub(hi, "StatusStartingTime", t)


def add_signature_template(root):
    sig = sub(root, "Signature", ns=DS)
    si = sub(sig, "SignedInfo", ns=DS)
    sub(si, "CanonicalizationMethod", ns=DS, Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    sub(si, "SignatureMethod", ns=DS, Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    ref = sub(si, "Reference", ns=DS, URI="")
    tr = sub(ref, "Transforms", ns=DS)
    sub(tr, "Transform", ns=DS, Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature")
    sub(tr, "Transform", ns=DS, Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    sub(ref, "DigestMethod", ns=DS, Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    sub(ref, "DigestValue", ns=DS)
    sub(sig, "SignatureValue", ns=DS)
    sub(sub(sig, "KeyInfo", ns=DS), "X509Data", ns=DS)


def write_signed(root, path, key, cert):
    add_signature_template(root)
    tmp = path + ".tmpl"
    etree.ElementTree(root).write(tmp, xml_declaration=True, encoding="UTF-8")
    subprocess.run(["xmlsec1", "--sign", "--privkey-pem", "%s,%s" % (key, cert), "--output",
                    path, tmp], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.unlink(tmp)


def new_root():
    return etree.Element(T("TrustServiceStatusList"), nsmap=NS, Id="tsl", TSLTag="http://uri.etsi.org/19612/TSLTag")


def fr_list(pki, next_update="2099-01-01T00:00:00Z", seq=7, tsp="Sinadur TEST TSP",
            service_cert="ca.pem"):
    root = new_root()
    scheme(root, "FR", "EUgeneric", next_update, seq=seq)
    tsps = sub(root, "TrustServiceProviderList")
    service(tsps, tsp, "AC Sinadur TEST RGS** Signature", pki + "/" + service_cert,
            "granted", "2025-06-01T00:00:00Z",
            history=[("withdrawn", "2024-01-01T00:00:00Z"), ("granted", "2020-01-01T00:00:00Z")])
    return root


def main():
    pki, out = sys.argv[1], sys.argv[2]
    base = sys.argv[3] if len(sys.argv) > 3 else None
    os.makedirs(out, exist_ok=True)
    p = lambda n: os.path.join(pki, n)
    o = lambda n: os.path.join(out, n)

    lotl = new_root()
    si = scheme(lotl, "EU", "EUlistofthelists", "2099-01-01T00:00:00Z")
    ptrs = sub(si, "PointersToOtherTSL")
    if base:
        pointer(ptrs, "FR", p("ocsp.pem"), base + "/FR.pdf", "application/pdf")
        pointer(ptrs, "FR", p("ocsp.pem"), base + "/FR.xml")
        pointer(ptrs, "BE", p("server.pem"), base + "/BE.xml")
    else:
        pointer(ptrs, "FR", p("ocsp.pem"))
        pointer(ptrs, "BE", p("server.pem"))
    write_signed(lotl, o("lotl.xml"), p("root.key"), p("root.pem"))

    write_signed(fr_list(pki), o("fr.xml"), p("ocsp.key"), p("ocsp.pem"))
    write_signed(fr_list(pki, "2026-01-02T00:00:00Z"), o("fr-expired.xml"), p("ocsp.key"),
                 p("ocsp.pem"))
    write_signed(fr_list(pki), o("fr-wrongkey.xml"), p("server.key"), p("server.pem"))
    data = open(o("fr.xml"), encoding="utf-8").read()
    assert "Sinadur TEST TSP" in data
    open(o("fr-broken.xml"), "w", encoding="utf-8").write(
        data.replace("Sinadur TEST TSP", "Sinadur TEST TSQ", 1))

    be = new_root()
    scheme(be, "BE", "EUgeneric", "2099-01-01T00:00:00Z")
    tsps = sub(be, "TrustServiceProviderList")
    service(tsps, "Belgian TEST TSP", "AC retirée", p("ca.pem"), "withdrawn",
            "2021-01-01T00:00:00Z", history=[("granted", "2016-07-01T00:00:00Z")])
    write_signed(be, o("be.xml"), p("server.key"), p("server.pem"))
    shutil.copy(p("root.pem"), o("lotl-signer.pem"))
    if base:
        write_signed(fr_list(pki, seq=8, tsp="Sinadur TEST TSP v8"), o("fr-seq8.xml"),
                     p("ocsp.key"), p("ocsp.pem"))
        write_signed(fr_list(pki, seq=6), o("fr-seq6.xml"), p("ocsp.key"), p("ocsp.pem"))
        # the service certificate is the root: the signer's issuer is an intermediate
        write_signed(fr_list(pki, tsp="Sinadur TEST TSP racine", service_cert="root.pem"),
                     o("fr-root.xml"), p("ocsp.key"), p("ocsp.pem"))


if __name__ == "__main__":
    main()
