#!/usr/bin/python3
"""mutate-cms-alg.py CASE IN OUT - rewrites the algorithm identifiers of a CMS made by
sinadur (the signature value is left as it is) to check that the verifier takes the
algorithm to verify with from signatureAlgorithm, against the key and digestAlgorithm:

  same          nothing changed, re-encoded (control)                      -> as before
  oaep          id-RSAES-OAEP, an encryption algorithm                      -> INVALID
  unknown       an unknown OID                                             -> INVALID
  sha384-rsa    sha384WithRSAEncryption, digestAlgorithm left SHA-256      -> INVALID
  ecdsa-oid     ecdsa-with-SHA256 on an RSA signer                         -> INVALID
  rsa-oid       sha256WithRSAEncryption on an EC signer                    -> INVALID
  rsaenc        rsaEncryption (the usual CMS value) on an RSA signer       -> VALID
  ecpubkey      id-ecPublicKey (written by some producers) on an EC signer -> VALID
  pss-trailer   RSASSA-PSS with trailerField 2                             -> INVALID
  pss-mgf1      RSASSA-PSS whose MGF1 hash (SHA-1) is not its hash          -> INVALID
  pss-salt      RSASSA-PSS with a salt longer than the key allows          -> INVALID
  tst-oaep      the signature-time-stamp token's SignerInfo says OAEP      -> INVALID timestamp
"""
import sys

from asn1crypto import algos, cms, tsp  # noqa: F401 (tsp registers the token attribute)


def set_alg(si, oid, params=None):
    value = {"algorithm": oid}
    if params is not None:
        value["parameters"] = params
    si["signature_algorithm"] = algos.SignedDigestAlgorithm(value)


def pss_params(si, **change):
    p = si["signature_algorithm"]["parameters"].native
    p.update(change)
    set_alg(si, "rsassa_pss", p)


def main():
    case, src, out = sys.argv[1:4]
    ci = cms.ContentInfo.load(open(src, "rb").read())
    si = ci["content"]["signer_infos"][0]
    if case == "oaep":
        set_alg(si, "1.2.840.113549.1.1.7")
    elif case == "unknown":
        set_alg(si, "1.3.6.1.4.1.99999.7.1")
    elif case == "sha384-rsa":
        set_alg(si, "sha384_rsa")
    elif case == "ecdsa-oid":
        set_alg(si, "sha256_ecdsa")
    elif case == "rsa-oid":
        set_alg(si, "sha256_rsa")
    elif case == "rsaenc":
        set_alg(si, "1.2.840.113549.1.1.1")
    elif case == "ecpubkey":
        set_alg(si, "1.2.840.10045.2.1")
    elif case == "pss-trailer":
        pss_params(si, trailer_field=2)
    elif case == "pss-mgf1":
        pss_params(si, mask_gen_algorithm={"algorithm": "mgf1",
                                           "parameters": {"algorithm": "sha1"}})
    elif case == "pss-salt":
        pss_params(si, salt_length=1000)
    elif case == "tst-oaep":
        for attr in si["unsigned_attrs"]:
            if attr["type"].native == "signature_time_stamp_token":
                tok = attr["values"][0]
                set_alg(tok["content"]["signer_infos"][0], "1.2.840.113549.1.1.7")
                break
        else:
            sys.exit("no signature timestamp in " + src)
    elif case != "same":
        sys.exit("unknown case " + case)
    open(out, "wb").write(ci.dump(force=True))


if __name__ == "__main__":
    main()
