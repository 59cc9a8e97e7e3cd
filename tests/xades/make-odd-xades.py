#!/usr/bin/python3
"""make-odd-xades.py CASE CERT CA OUT - writes an xmlsec1 signing template of an
enveloped XAdES 1.3.2 signature (SigningTime, SigningCertificateV2 with
IssuerSerialV2, DataObjectFormat) whose references have a shape seen in
third-party signatures. Sign it with
  xmlsec1 --sign --privkey-pem KEY,CERT --id-attr:Id SignedProperties \
          --id-attr:Id KeyInfo --id-attr:Id Object --id-attr:Id content OUT
Cases:
  keyinfo-signed     document + own KeyInfo + SignedProperties  -> not wrapping
  object-next-to-doc document + own ds:Object + SignedProperties -> not wrapping
  own-object-only    own ds:Object + SignedProperties, document unsigned -> wrapping
  xpath-enveloped    document signed through the XPath transform
                     not(ancestor-or-self::dsig:Signature) of older tools -> verifies
  target-no-hash     QualifyingProperties/@Target="S1" (no '#')   -> verifies, warning
  enveloped-moved    enveloped-signature transform on an element that does not
                     contain the signature (XSW: signed content moved aside) -> wrapping
  xades111-certdigest  XAdES 1.1.1 SigningCertificate whose CertDigest holds
                     DigestMethod/DigestValue in the XAdES namespace (as 1.1.1 defines) -> verifies
  object-in-wrapper  own ds:Object only, the root holding nothing but the signature
                     (an enveloping signature in a wrapper element)        -> not wrapping
  many-refs          300 references (over the 256 checked): INDETERMINATE, not INVALID
  object-type-moved  Type=#Object reference to an element of the document
                     that is not a ds:Object (moved signed data) -> wrapping
  hmac               SignatureMethod hmac-sha256 (sign with xmlsec1 --hmackey): a shared
                     secret proves nothing about the certificate holder -> INVALID
"""
import base64
import datetime
import hashlib
import sys

from asn1crypto import core, pem, x509

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENV = DS + "enveloped-signature"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"


class IssuerSerial(core.Sequence):
    _fields = [("issuer", x509.GeneralNames), ("serial_number", core.Integer)]


def load_cert(path):
    data = open(path, "rb").read()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data)


def ref(uri, ref_id=None, rtype=None, transforms=()):
    attrs = ' URI="%s"' % uri
    if ref_id:
        attrs = ' Id="%s"' % ref_id + attrs
    if rtype:
        attrs += ' Type="%s"' % rtype
    tr = "".join(
        '<ds:Transform Algorithm="%s"><ds:XPath xmlns:dsig="%s">'
        "not(ancestor-or-self::dsig:Signature)</ds:XPath></ds:Transform>" % (XPATH, DS)
        if t == XPATH else '<ds:Transform Algorithm="%s"/>' % t for t in transforms)
    tr = "<ds:Transforms>%s</ds:Transforms>" % tr if tr else ""
    return ('<ds:Reference%s>%s<ds:DigestMethod Algorithm="%s"/>'
            "<ds:DigestValue></ds:DigestValue></ds:Reference>" % (attrs, tr, SHA256))


def main():
    case, cert_path, ca_path, out = sys.argv[1:5]
    cert, ca = (load_cert(p) for p in (cert_path, ca_path))
    digest = base64.b64encode(hashlib.sha256(cert.dump()).digest()).decode()
    iss = IssuerSerial({
        "issuer": [x509.GeneralName(name="directory_name", value=cert.issuer)],
        "serial_number": cert.serial_number,
    })
    iss_b64 = base64.b64encode(iss.dump()).decode()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    sp_ref = ref("#SP", rtype="http://uri.etsi.org/01903#SignedProperties",
                 transforms=[EXC])
    doc_ref = ref("", "r-doc", transforms=[ENV, EXC])
    refs = {
        "keyinfo-signed": [doc_ref, ref("#KI", "r-ki", transforms=[EXC])],
        "object-next-to-doc": [doc_ref, ref("#OBJ", "r-obj", DS + "Object", [EXC])],
        "own-object-only": [ref("#OBJ", "r-obj", DS + "Object", [EXC])],
        "object-type-moved": [ref("#c1", "r-c1", DS + "Object", [EXC])],
        "xpath-enveloped": [ref("", "r-doc", transforms=[XPATH, EXC])],
        "target-no-hash": [doc_ref],
        "xades111-certdigest": [doc_ref],
        "object-in-wrapper": [ref("#OBJ", "r-obj", DS + "Object", [EXC])],
        "many-refs": [doc_ref] + [ref("#OBJ", None, DS + "Object", [EXC])] * 299,
        "enveloped-moved": [ref("#c1", "r-c1", transforms=[ENV, EXC])],
        "hmac": [doc_ref],
    }[case]
    first_id = {"keyinfo-signed": "r-doc", "object-next-to-doc": "r-doc",
                "xpath-enveloped": "r-doc", "target-no-hash": "r-doc",
                "xades111-certdigest": "r-doc", "object-in-wrapper": "r-obj",
                "many-refs": "r-doc", "hmac": "r-doc",
                "enveloped-moved": "r-c1",
                "own-object-only": "r-obj", "object-type-moved": "r-c1"}[case]
    dofs = "".join(
        '<xades:DataObjectFormat ObjectReference="#%s"><xades:MimeType>%s'
        "</xades:MimeType></xades:DataObjectFormat>" % (i, "text/xml")
        for i in [first_id] + (["r-ki"] if case == "keyinfo-signed" else [])
        + (["r-obj"] if case == "object-next-to-doc" else []))

    xns = "http://uri.etsi.org/01903/v1.3.2#"
    sigcert = ("<xades:SigningCertificateV2><xades:Cert>"
               '<xades:CertDigest><ds:DigestMethod Algorithm="%s"/><ds:DigestValue>%s'
               "</ds:DigestValue></xades:CertDigest><xades:IssuerSerialV2>%s"
               "</xades:IssuerSerialV2></xades:Cert></xades:SigningCertificateV2>"
               % (SHA256, digest, iss_b64))
    if case == "xades111-certdigest":
        xns = "http://uri.etsi.org/01903/v1.1.1#"
        sigcert = ("<xades:SigningCertificate><xades:Cert><xades:CertDigest>"
                   '<xades:DigestMethod Algorithm="%s"/><xades:DigestValue>%s'
                   "</xades:DigestValue></xades:CertDigest></xades:Cert>"
                   "</xades:SigningCertificate>" % (SHA256, digest))
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<doc>%s'
        '<ds:Signature xmlns:ds="%s" Id="S1"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="%s"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#%s"/>'
        "%s%s</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>"
        '<ds:KeyInfo Id="KI"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate>'
        "<ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        '<ds:Object><xades:QualifyingProperties xmlns:xades="%s" '
        'Target="%s"><xades:SignedProperties Id="SP"><xades:SignedSignatureProperties>'
        "<xades:SigningTime>%s</xades:SigningTime>%s</xades:SignedSignatureProperties>"
        "<xades:SignedDataObjectProperties>%s</xades:SignedDataObjectProperties>"
        "</xades:SignedProperties></xades:QualifyingProperties></ds:Object>"
        '<ds:Object Id="OBJ"><note>annexe signée</note></ds:Object>'
        "</ds:Signature></doc>\n"
    ) % ("\n  " if case == "object-in-wrapper" else
         '<content Id="c1">Délibération 42</content>', DS, EXC,
         "hmac-sha256" if case == "hmac" else "rsa-sha256", "".join(refs), sp_ref, base64.b64encode(cert.dump()).decode(),
         base64.b64encode(ca.dump()).decode(), xns,
         "S1" if case == "target-no-hash" else "#S1", now, sigcert, dofs)
    open(out, "w", encoding="utf-8").write(xml)


if __name__ == "__main__":
    main()
