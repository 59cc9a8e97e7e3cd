#!/usr/bin/env python3
"""gen-pes.py - writes a realistic, unsigned PES_Aller (PES V2) file for tests and
benchmarks: N bordereaux of M pièces (dépenses, or recettes with --recette), a PES_PJ
block with base64 attachments, ISO-8859-1 text with accents.

Python standard library only. Deterministic for a given --seed.

  gen-pes.py OUT [--bordereaux N] [--pieces M] [--pj K] [--pj-size BYTES]
             [--recette] [--mixed] [--no-ids] [--seed S]
"""
import argparse
import base64
import random

NS = "http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller"

TIERS = [
    ("SARL Énergies du Léman", "12 rue de l'Église", "74200", "THONON-LES-BAINS"),
    ("Boulangerie Lefèvre", "3 place du Marché", "29000", "QUIMPER"),
    ("Société Générale d'Équipement", "45 avenue Jean Jaurès", "69007", "LYON"),
    ("Menuiserie Bréhat & Fils", "Lieu-dit Kerhéol", "22870", "ÎLE-DE-BRÉHAT"),
    ("Cabinet Müller-Gaëtan", "8 quai de la Fosse", "44000", "NANTES"),
]
OBJETS = [
    "Fournitures scolaires école élémentaire",
    "Entretien éclairage public - tranche 2",
    "Réparation toiture salle polyvalente",
    "Repas cantine : facture n°%d",
    "Électricité bâtiments communaux",
]


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def piece(out, rnd, b, p, recette):
    t = rnd.choice(TIERS)
    obj = rnd.choice(OBJETS)
    if "%d" in obj:
        obj = obj % rnd.randint(1000, 99999)
    mt = "%d.%02d" % (rnd.randint(10, 99999), rnd.randint(0, 99))
    out.append("\t\t\t<Piece>\n\t\t\t\t<BlocPiece>\n\t\t\t\t\t<InfoPce>\n")
    out.append('\t\t\t\t\t\t<IdPce V="%d"/>\n' % (p + 1))
    out.append('\t\t\t\t\t\t<TypPce V="01"/>\n\t\t\t\t\t\t<NatPce V="01"/>\n')
    out.append('\t\t\t\t\t\t<Obj V="%s"/>\n' % esc(obj))
    out.append("\t\t\t\t\t</InfoPce>\n\t\t\t\t</BlocPiece>\n")
    out.append("\t\t\t\t<LigneDePiece>\n\t\t\t\t\t<BlocLignePiece>\n")
    out.append("\t\t\t\t\t\t<InfoLignePce>\n")
    out.append('\t\t\t\t\t\t\t<IdLigne V="1"/>\n')
    out.append('\t\t\t\t\t\t\t<Nature V="%d"/>\n' % rnd.choice([6042, 6064, 61521, 615221]))
    out.append('\t\t\t\t\t\t\t<Fonction V="%d"/>\n' % rnd.choice([20, 211, 814, 821]))
    out.append('\t\t\t\t\t\t\t<LibVir1 V="%s"/>\n' % esc(obj[:32]))
    if not recette:
        out.append('\t\t\t\t\t\t\t<ModRegl V="03"/>\n')
    out.append('\t\t\t\t\t\t\t<MtHT V="%s"/>\n' % mt)
    out.append("\t\t\t\t\t\t</InfoLignePce>\n\t\t\t\t\t</BlocLignePiece>\n")
    out.append("\t\t\t\t\t<Tiers>\n\t\t\t\t\t\t<InfoTiers>\n")
    out.append('\t\t\t\t\t\t\t<IdTiers V="%014d"/>\n' % rnd.randint(10**12, 10**13))
    out.append('\t\t\t\t\t\t\t<NatIdTiers V="01"/>\n\t\t\t\t\t\t\t<CatTiers V="50"/>\n')
    out.append('\t\t\t\t\t\t\t<Nom V="%s"/>\n' % esc(t[0]))
    out.append("\t\t\t\t\t\t</InfoTiers>\n\t\t\t\t\t\t<Adresse>\n")
    out.append('\t\t\t\t\t\t\t<TypAdr V="1"/>\n')
    out.append('\t\t\t\t\t\t\t<Adr2 V="%s"/>\n' % esc(t[1]))
    out.append('\t\t\t\t\t\t\t<CP V="%s"/>\n' % t[2])
    out.append('\t\t\t\t\t\t\t<Ville V="%s"/>\n' % esc(t[3]))
    out.append("\t\t\t\t\t\t</Adresse>\n\t\t\t\t\t</Tiers>\n")
    out.append("\t\t\t\t</LigneDePiece>\n\t\t\t</Piece>\n")


def bordereau(out, rnd, b, m, recette, ids):
    idattr = ' Id="%s%07d"' % ("R" if recette else "D", b + 1) if ids else ""
    out.append("\t\t<Bordereau%s>\n" % idattr)
    out.append("\t\t\t<BlocBordereau>\n")
    out.append('\t\t\t\t<Exer V="2026"/>\n')
    out.append('\t\t\t\t<IdBord V="%d"/>\n' % (b + 1))
    out.append('\t\t\t\t<DteBordEm V="2026-11-%02d"/>\n' % (1 + b % 28))
    out.append('\t\t\t\t<TypBord V="01"/>\n')
    out.append('\t\t\t\t<NbrPce V="%d"/>\n' % m)
    out.append("\t\t\t</BlocBordereau>\n")
    for p in range(m):
        piece(out, rnd, b, p, recette)
    out.append("\t\t</Bordereau>\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--bordereaux", type=int, default=3)
    ap.add_argument("--pieces", type=int, default=2)
    ap.add_argument("--pj", type=int, default=1)
    ap.add_argument("--pj-size", type=int, default=2048)
    ap.add_argument("--recette", action="store_true")
    ap.add_argument("--mixed", action="store_true", help="dépenses then recettes")
    ap.add_argument("--no-ids", action="store_true", help="bordereaux without Id")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)

    out = ['<?xml version="1.0" encoding="ISO-8859-1"?>\n']
    out.append('<n:PES_Aller xmlns:n="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
               'Id="PES%06d">\n' % (NS, a.seed))
    out.append("\t<Enveloppe>\n\t\t<Parametres>\n")
    out.append('\t\t\t<Version V="2"/>\n\t\t\t<TypFic V="PESALR2"/>\n')
    out.append('\t\t\t<NomFic V="PESALR2_21290001200011_261122_%03d"/>\n' % (a.seed % 1000))
    out.append("\t\t</Parametres>\n\t\t<Emetteur>\n")
    out.append('\t\t\t<Sigle V="MAIRIE"/>\n\t\t\t<Adresse V="Hôtel de ville, Ploemeur"/>\n')
    out.append("\t\t</Emetteur>\n\t</Enveloppe>\n")
    out.append("\t<EnTetePES>\n")
    out.append('\t\t<DteStr V="2026-11-22"/>\n\t\t<IdPost V="029042"/>\n')
    out.append('\t\t<IdColl V="21290001200011"/>\n\t\t<CodCol V="012"/>\n')
    out.append('\t\t<CodBud V="00"/>\n\t\t<LibelleColBud V="Commune de Ploemeur - budget principal"/>\n')
    out.append("\t</EnTetePES>\n")

    flows = []
    if a.mixed:
        flows = [("PES_DepenseAller", False, (a.bordereaux + 1) // 2),
                 ("PES_RecetteAller", True, a.bordereaux // 2)]
    else:
        flows = [("PES_RecetteAller" if a.recette else "PES_DepenseAller", a.recette,
                  a.bordereaux)]
    n = 0
    for tag, recette, count in flows:
        out.append("\t<%s>\n" % tag)
        hdr = "EnTeteRecette" if recette else "EnTeteDepense"
        out.append('\t\t<%s>\n\t\t\t<IdVer V="2"/>\n\t\t\t<InfoDematerialisee V="1"/>\n'
                   "\t\t</%s>\n" % (hdr, hdr))
        for _ in range(count):
            bordereau(out, rnd, n, a.pieces, recette, not a.no_ids)
            n += 1
        out.append("\t</%s>\n" % tag)

    if a.pj > 0:
        out.append("\t<PES_PJ>\n\t\t<EnTetePES_PJ>\n\t\t\t<IdVer V=\"1\"/>\n\t\t</EnTetePES_PJ>\n")
        for k in range(a.pj):
            blob = bytes(rnd.getrandbits(8) for _ in range(min(a.pj_size, 4096)))
            blob = (blob * (a.pj_size // max(1, len(blob)) + 1))[:a.pj_size]
            b64 = base64.encodebytes(blob).decode("ascii")
            out.append("\t\t<PJ>\n\t\t\t<Contenu>\n\t\t\t\t<Fichier MIMEType=\"application/pdf\">")
            out.append(b64)
            out.append("</Fichier>\n\t\t\t</Contenu>\n")
            out.append('\t\t\t<IdUnique V="PJ%06d"/>\n' % (k + 1))
            out.append('\t\t\t<NomPJ V="facture_n°%d_été.pdf"/>\n' % (k + 1))
            out.append("\t\t</PJ>\n")
        out.append("\t</PES_PJ>\n")
    out.append("</n:PES_Aller>\n")
    with open(a.out, "wb") as f:
        f.write("".join(out).encode("iso-8859-1"))


if __name__ == "__main__":
    main()
