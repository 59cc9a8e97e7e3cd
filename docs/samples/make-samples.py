#!/usr/bin/env python3
"""make-samples.py - writes the demo's sample documents (Python standard library only):
deliberation.txt (a short French deliberation), deliberation.pdf (a small valid PDF 1.7
with the same text). Deterministic: running it again gives the same bytes.

  make-samples.py [DIR]   (default: the folder of this script)
"""
import os
import sys

TEXT = """COMMUNE DE PLOUGASTEL-DAOULAS
Extrait du registre des délibérations du conseil municipal
Séance du 20 novembre 2026 — Délibération n° 2026-042

Objet : Rénovation de l'éclairage public (tranche 2)

Le conseil municipal, après en avoir délibéré, à l'unanimité :
- approuve le programme de rénovation de l'éclairage public pour un montant de 48 500 € HT ;
- autorise le maire à signer les pièces du marché correspondant ;
- dit que les crédits sont inscrits au budget primitif 2026, article 2315.

Fait et délibéré les jour, mois et an susdits.
Le maire,
"""


def pdf_escape(s):
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(text):
    lines = text.splitlines()
    ops = ["BT", "/F1 11 Tf", "14 TL", "60 780 Td"]
    for line in lines:
        # WinAnsiEncoding covers the French accents used here.
        ops.append("(%s) '" % pdf_escape(line))
    ops.append("ET")
    stream = "\n".join(ops).encode("cp1252")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title (Deliberation 2026-042) /Producer (sinadur make-samples.py) >>",
    ]
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, body in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, xref)
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "deliberation.txt"), "w", encoding="utf-8") as f:
        f.write(TEXT)
    with open(os.path.join(d, "deliberation.pdf"), "wb") as f:
        f.write(make_pdf(TEXT))


if __name__ == "__main__":
    main()
