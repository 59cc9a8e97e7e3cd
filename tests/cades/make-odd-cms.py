#!/usr/bin/python3
"""make-odd-cms.py CASE KEY CERT CA OUT - builds an attached CAdES-like CMS over
b"odd cms\n" with a shape seen in third-party signatures that OpenSSL's own CMS
checks refuse or that an earlier sinadur misjudged. The signature itself is made
with `openssl dgst -sign`. Cases:

  multi-certid     signing-certificate-v2 naming the signer then its CA (RFC 5035:
                   only the first ESSCertIDv2 designates the signer)       -> VALID
  wrong-certid     signing-certificate-v2 naming the CA only               -> INVALID
  double-sigcert   two identical signing-certificate-v2 attributes (OpenSSL's
                   CMS_SignerInfo_verify refuses the set)                 -> crypto OK
  pss-sha512       digestAlgorithm SHA-256, RSASSA-PSS with SHA-512 (OpenSSL
                   wants the same hash for both)                          -> crypto OK
  pss-sha512-bad   same with the signature value altered                 -> INVALID
  garbage-tst      unsigned signature-time-stamp that is not a token     -> INDETERMINATE
"""
import datetime
import hashlib
import subprocess
import sys

from asn1crypto import algos, cms, core, pem, tsp, x509  # noqa: F401 (tsp registers ESS attributes)

CONTENT = b"odd cms\n"


def load_cert(path):
    data = open(path, "rb").read()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data)


def cert_id_v2(cert):
    return {
        "hash_algorithm": {"algorithm": "sha256"},
        "cert_hash": hashlib.sha256(cert.dump()).digest(),
        "issuer_serial": {
            "issuer": [x509.GeneralName(name="directory_name", value=cert.issuer)],
            "serial_number": cert.serial_number,
        },
    }


def main():
    case, key, cert_path, ca_path, out = sys.argv[1:6]
    cert = load_cert(cert_path)
    ca = load_cert(ca_path)

    ids = [cert_id_v2(cert)]
    if case == "multi-certid":
        ids.append(cert_id_v2(ca))
    elif case == "wrong-certid":
        ids = [cert_id_v2(ca)]
    sigcert = cms.CMSAttribute(
        {"type": "signing_certificate_v2", "values": [{"certs": ids}]})
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "message_digest",
                          "values": [hashlib.sha256(CONTENT).digest()]}),
        cms.CMSAttribute({"type": "signing_time", "values": [
            cms.Time({"utc_time": datetime.datetime.now(datetime.timezone.utc)})]}),
        sigcert,
    ]
    if case == "double-sigcert":
        attrs.append(cms.CMSAttribute.load(sigcert.dump()))
    signed_attrs = cms.CMSAttributes(attrs)
    to_sign = signed_attrs.dump()

    if case.startswith("pss-sha512"):
        sig_alg = algos.SignedDigestAlgorithm({
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": {"algorithm": "sha512"},
                "mask_gen_algorithm": {"algorithm": "mgf1",
                                       "parameters": {"algorithm": "sha512"}},
                "salt_length": 64,
            },
        })
        cmd = ["openssl", "dgst", "-sha512", "-sign", key, "-sigopt",
               "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:64",
               "-sigopt", "rsa_mgf1_md:sha512"]
    else:
        sig_alg = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})
        cmd = ["openssl", "dgst", "-sha256", "-sign", key]
    signature = subprocess.run(cmd, input=to_sign, stdout=subprocess.PIPE,
                               check=True).stdout
    if case == "pss-sha512-bad":
        signature = signature[:-1] + bytes([signature[-1] ^ 1])

    signer = {
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": cert.issuer, "serial_number": cert.serial_number}}),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": signed_attrs,
        "signature_algorithm": sig_alg,
        "signature": signature,
    }
    if case == "garbage-tst":
        # SEQUENCE { id-aa-signatureTimeStampToken, SET { OCTET STRING "junk" } }
        bad = core.Sequence.load(bytes.fromhex(
            "3019060b2a864886f70d010910020e310a04086a756e6b6a756e6b"))
        signer["unsigned_attrs"] = cms.CMSAttributes.load(
            core.SetOf([bad], spec=core.Any).dump())
    sd = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "data", "content": CONTENT},
        "certificates": [cert, ca],
        "signer_infos": [signer],
    })
    ci = cms.ContentInfo({"content_type": "signed_data", "content": sd})
    open(out, "wb").write(ci.dump())


if __name__ == "__main__":
    main()
