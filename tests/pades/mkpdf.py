#!/usr/bin/python3
"""mkpdf.py KIND OUT - small test PDFs written by hand (no third-party package).

KIND: plain (2 pages, classic xref, PDF 1.4), form (an inline AcroForm with a filled
text field), form-indirect (the AcroForm is an object of its own), rotated (page 1 has
/Rotate 90, inherited MediaBox), incremental (plain + an incremental update changing
the /Info dictionary), sig-no-byterange (a signature field whose dictionary has no
/ByteRange), empty-sig-field (a prepared signature field "Maire"), certified-pN (a certified document
with DocMDP permission N), big:N (N MiB of page content, for the benchmark).
"""
import sys


def build(objs, version=b"1.4", info=None):
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    tr = b"/Size %d /Root 1 0 R" % (len(objs) + 1)
    if info:
        tr += b" /Info %d 0 R" % info
    out += b"trailer\n<< " + tr + b" >>\nstartxref\n%d\n%%%%EOF\n" % x
    return out, x


def stream(data, extra=b""):
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def pages_doc(catalog_extra=b"", page1_extra=b"", pages_extra=b"", content=None, more=()):
    c1 = content or (b"BT /F1 24 Tf 72 760 Td (D\\351lib\\351ration du conseil municipal) Tj ET\n"
                     b"0 0 1 RG 72 700 m 500 700 l S\n")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R" + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 /MediaBox [0 0 595 842]" + pages_extra + b" >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 7 0 R >> >>" + page1_extra + b" >>",
        stream(c1),
        b"<< /Type /Page /Parent 2 0 R /Contents 6 0 R /Resources << /Font << /F1 7 0 R >> >> >>",
        stream(b"BT /F1 18 Tf 72 760 Td (Page 2) Tj ET\n"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Producer (mkpdf.py) /Title (Test) >>",
    ]
    objs.extend(more)
    return objs


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "plain":
        data, _ = build(pages_doc(), info=8)
    elif kind == "form":
        field = (b"<< /FT /Tx /T (Nom) /V (Jean) /Type /Annot /Subtype /Widget /Rect [72 600 300 620]"
                 b" /P 3 0 R /DA (/Helv 10 Tf 0 g) /AP << /N 10 0 R >> >>")
        ap = stream(b"/Tx BMC BT /Helv 10 Tf 2 5 Td (Jean) Tj ET EMC",
                    b" /Type /XObject /Subtype /Form /BBox [0 0 228 20] /Resources << /Font << /Helv 7 0 R >> >>")
        data, _ = build(pages_doc(
            catalog_extra=b" /AcroForm << /Fields [9 0 R] /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 7 0 R >> >> >>",
            page1_extra=b" /Annots [9 0 R]", more=[field, ap]), version=b"1.6", info=8)
    elif kind == "form-indirect":
        field = (b"<< /FT /Tx /T (Commune) /V (Brest) /Type /Annot /Subtype /Widget /Rect [72 600 300 620]"
                 b" /P 3 0 R /DA (/Helv 10 Tf 0 g) >>")
        af = b"<< /Fields [9 0 R] /DA (/Helv 0 Tf 0 g) /NeedAppearances true >>"
        data, _ = build(pages_doc(catalog_extra=b" /AcroForm 10 0 R", page1_extra=b" /Annots 11 0 R",
                                  more=[field, af, b"[9 0 R]"]), version=b"1.7", info=8)
    elif kind == "sig-no-byterange":
        # A signed-looking field whose signature dictionary has no /ByteRange.
        field = b"<< /FT /Sig /T (Signature1) /V 10 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R >>"
        sig = b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /Contents <3000> >>"
        data, _ = build(pages_doc(catalog_extra=b" /AcroForm << /Fields [9 0 R] /SigFlags 3 >>",
                                  page1_extra=b" /Annots [9 0 R]", more=[field, sig]), info=8)
    elif kind == "empty-sig-field":
        # A prepared, empty signature field "Maire" (merged field/widget) on page 1.
        field = (b"<< /FT /Sig /T (Maire) /Type /Annot /Subtype /Widget /F 4"
                 b" /Rect [300 40 550 110] /P 3 0 R >>")
        data, _ = build(pages_doc(catalog_extra=b" /AcroForm << /Fields [9 0 R] >>",
                                  page1_extra=b" /Annots [9 0 R]", more=[field]), version=b"1.7", info=8)
    elif kind.startswith("certified-p"):
        # A certified document (/Perms /DocMDP) with permission P (the signature itself is
        # a dummy: only the permission matters to the signer).
        p = int(kind[len("certified-p"):])
        sig = (b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached"
               b" /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams"
               b" << /Type /TransformParams /P %d /V /1.2 >> >>] /ByteRange [0 0 0 0] /Contents <00> >>" % p)
        field = b"<< /FT /Sig /T (Certification) /V 10 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R >>"
        data, _ = build(pages_doc(catalog_extra=b" /AcroForm << /Fields [9 0 R] /SigFlags 3 >> /Perms << /DocMDP 10 0 R >>",
                                  page1_extra=b" /Annots [9 0 R]", more=[field, sig]), version=b"1.7", info=8)
    elif kind == "rotated":
        data, _ = build(pages_doc(page1_extra=b" /Rotate 90"), info=8)
    elif kind == "incremental":
        objs = pages_doc()
        data, x = build(objs, info=8)
        data = bytearray(data)
        off = len(data)
        data += b"8 0 obj\n<< /Producer (mkpdf.py update) /Title (Test, revised) >>\nendobj\n"
        x2 = len(data)
        data += b"xref\n8 1\n%010d 00000 n \ntrailer\n<< /Size 9 /Root 1 0 R /Info 8 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (off, x, x2)
    elif kind.startswith("big:"):
        mib = int(kind[4:])
        # Incompressible-looking content (comments of varying digits) in one big stream.
        chunk = bytearray()
        i = 0
        while len(chunk) < 1024 * 1024:
            chunk += b"%% line %08d 0123456789abcdefghijklmnopqrstuvwxyz\n" % i
            i += 1
        body = bytes(chunk[:1024 * 1024]) * mib
        content = b"BT /F1 24 Tf 72 760 Td (Gros document) Tj ET\n" + body
        data, _ = build(pages_doc(content=content), info=8)
    else:
        sys.exit("unknown kind " + kind)
    open(path, "wb").write(data)


if __name__ == "__main__":
    main()
