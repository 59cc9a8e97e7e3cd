#!/usr/bin/python3
"""s2low-service.py - an S²LOW-conformant test service (ACTES + Hélios API), behind nginx.

    s2low-service.py --state DIR --port PORT [--step SECONDS] [--post-max-size BYTES]
                     [--rgs-ca root.pem --rgs-ca ca.pem]

nginx terminates TLS and passes X-SSL-Client-Cert ($ssl_client_escaped_cert, the leaf) and
X-SSL-Client-Verify ($ssl_client_verify: nginx verified the leaf with ONLY the RGS roots as
trust anchors and the chain the client sent in the handshake as untrusted certificates, i.e.
`openssl verify -CAfile <RGS roots> -untrusted <handshake chain>`). The service maps the leaf to
accounts by base64(SHA-1(DER)) and answers as S²LOW does (tests/s2low/README.md).

State lives in DIR (state.json written atomically, files/ for the received documents,
accounts.json written by the rig), so a restart keeps it. /_admin/* (only on the backend port:
nginx refuses it) lets tests read the receipt counters, set statuses, add PES_Retour files and
plan faults.
"""
import argparse
import base64
import email.parser
import email.policy
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACTES_NS = "http://www.interieur.gouv.fr/ACTES#v1.1-20040216"
NUMBER_RE = re.compile(r"^([A-Z0-9][A-Z0-9_]{0,13})?[A-Z0-9]$")
TYPE_RE = re.compile(r"^[A-Z0-9_]{5}$")
NATURES = {"1": "DE", "2": "AR", "3": "AI", "4": "CC", "5": "BF", "6": "AU"}
# classification served by actes_classification_fetch.php (code -> label, level 1 -> level 2)
CLASSIFICATION = [
    ("1", "Commande Publique", [("1", "Marchés publics"), ("2", "Délégation de service public")]),
    ("2", "Urbanisme", [("1", "Documents d'urbanisme"), ("2", "Actes relatifs au droit d'occupation")]),
    ("5", "Institutions et vie politique", [("2", "Fonctionnement des assemblées")]),
    ("7", "Finances locales", [("1", "Décisions budgétaires"), ("2", "Fiscalité")]),
]
LOCK = threading.RLock()
ARGS = None
STATE = None


# ---------------------------------------------------------------- state
def state_path(*p):
    return os.path.join(ARGS.state, *p)


def load_state():
    try:
        with open(state_path("state.json"), encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {"next_id": {"actes": 1, "helios": 1, "retour": 1}, "actes": {}, "helios": {},
                "retours": {}, "counts": {}, "faults": {"lose_answer": 0},
                "classification_date": "2024-01-15", "step": None}


def save_state():
    fd, tmp = tempfile.mkstemp(dir=ARGS.state, prefix=".state.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(STATE, f, indent=1, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, state_path("state.json"))


def count(name, n=1):
    STATE["counts"][name] = STATE["counts"].get(name, 0) + n


def new_id(kind):
    i = STATE["next_id"][kind]
    STATE["next_id"][kind] = i + 1
    return i


def store_file(data):
    sha = hashlib.sha1(data).hexdigest()
    os.makedirs(state_path("files"), exist_ok=True)
    p = state_path("files", sha)
    if not os.path.exists(p):
        with open(p + ".tmp", "wb") as f:
            f.write(data)
        os.replace(p + ".tmp", p)
    return sha


def read_stored(sha):
    with open(state_path("files", sha), "rb") as f:
        return f.read()


def accounts():
    with open(state_path("accounts.json"), encoding="utf-8") as f:
        return json.load(f)


def step():
    return STATE.get("step") or ARGS.step


def now_str():
    return time.strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------- answers
def legacy(ok, msg):
    """Helpers::returnAndExit in API mode: OK/KO, message HTML-escaped, ISO-8859-1, newline."""
    body = ("OK\n" if ok else "KO\n")
    if msg:
        body += html.escape(msg, quote=True).replace("&#x27;", "&#039;") + "\n"
    return body.encode("iso-8859-1", "replace")


def xml_text(s):
    return html.escape(s, quote=False)


# ---------------------------------------------------------------- transactions
def actes_status(t):
    return t["history"][-1][0]


def set_status(t, status, msg):
    t["history"].append([status, now_str(), msg])


def advance_actes(t):
    """Status progression by time: 1 POSTE -> 2 EN_ATTENTE_TRANSMISSION -> 3 TRANSMIS -> 4
    ACQUITTEMENT_RECU (ARActe generated). 17 waits for post-confirm; set statuses stay."""
    if t.get("frozen"):
        return False
    changed = False
    for c in STATE["actes"].values():          # a pending cancel decides this act's status 0
        if c.get("cancel_of") == t["id"] and c is not t:
            changed = advance_actes(c) or changed
    st = actes_status(t)
    age = time.time() - t["since"]
    order = [1, 2, 3, 4]
    msgs = {2: "Transaction en attente de transmission", 3: "Transmis au MIOCT",
            4: "Reçu par le MIOCT le " + time.strftime("%Y-%m-%d")}
    while st in order[:-1] and age >= step() * (order.index(st) + 1):
        st = order[order.index(st) + 1]
        set_status(t, st, msgs[st])
        changed = True
        if st == 4:
            t["aracte"] = store_file(make_aracte(t))
            if t.get("cancel_of"):
                orig = STATE["actes"].get(str(t["cancel_of"]))
                if orig:
                    set_status(orig, 0, "Acte annulé")
    return changed


def make_aracte(t):
    auth = accounts()["authorities"][str(t["authority_id"])]
    ida = "%s-%s-%s-%s-%s" % (auth["department"], auth["siren"],
                              t["decision_date"].replace("-", ""), t["number"],
                              NATURES.get(t["nature_code"], "AU"))
    t["unique_id"] = ida
    classif = "".join('<actes:CodeMatiere%d actes:CodeMatiere="%s"/>' % (i + 1, c)
                      for i, c in enumerate(t["classif"]))
    x = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n'
         '<actes:ARActe xmlns:actes="%s" actes:IDActe="%s" actes:DateReception="%s">'
         '<actes:ActeRecu actes:CodeNatureActe="%s" actes:Date="%s" actes:NumeroInterne="%s">'
         '%s<actes:Objet>%s</actes:Objet>'
         '<actes:ClassificationDateVersion>%s</actes:ClassificationDateVersion>'
         '</actes:ActeRecu></actes:ARActe>\n') % (
        ACTES_NS, ida, time.strftime("%Y-%m-%d"), t["nature_code"], t["decision_date"],
        t["number"], classif, xml_text(t["subject"]), t["classification_date"])
    return x.encode("iso-8859-1", "replace")


def pes_checks(t, data):
    """The worker's checks after import; returns None (good) or the error message."""
    if not data.strip():
        return "Le fichier est vide"
    if b"ISO-8859-1" not in data[:50]:
        return "Le fichier n'est pas encodé en ISO-8859-1"
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        return "Le fichier PES n'est pas un fichier XML valide : %s" % e
    def find(name):
        return [e for e in root.iter() if e.tag.split("}")[-1] == name]
    nomfic = [e.get("V") for e in find("NomFic")]
    if len(find("Enveloppe")) != 1 or len(find("Parametres")) != 1 or len(nomfic) != 1 \
            or not nomfic[0]:
        return "Le nom du fichier (NomFic) est absent ou non unique"
    codcol = [e.get("V") or "" for e in find("CodCol")]
    if not codcol or len(codcol[0]) > 3:
        return "Le code collectivité (CodCol) est absent ou dépasse 3 caractères"
    if hashlib.sha1(data).hexdigest() != t["sha1"]:
        return "Le fichier a été modifié"
    sigs = find("Signature")
    if sigs:
        err = verify_xades(data, root)
        if err:
            return "La signature du fichier est invalide : %s" % err
    key = "%s/%s" % (nomfic[0], codcol[0])
    for o in STATE["helios"].values():
        if o is not t and o.get("nomfic_key") == key and o["history"][-1][0] != -1:
            return "Le fichier %s pour le CodCol %s : ce fichier existe déjà" % (nomfic[0], codcol[0])
    idcoll = [e.get("V") or "" for e in find("IdColl")]
    if idcoll and len(idcoll[0]) > 14:
        return "L'identifiant de la collectivité (IdColl) dépasse 14 caractères"
    t["nomfic_key"] = key
    return None


def verify_xades(data, root):
    ids = sorted({e.tag.split("}")[-1] for e in root.iter() if e.get("Id") is not None})
    n = len([e for e in root.iter() if e.tag.split("}")[-1] == "Signature"])
    with tempfile.NamedTemporaryFile(suffix=".xml") as f:
        f.write(data)
        f.flush()
        for k in range(1, n + 1):
            cmd = ["xmlsec1", "--verify", "--enabled-reference-uris", "same-doc,empty",
                   "--node-xpath", "(//*[local-name()='Signature'])[%d]" % k]
            for i in ids:
                cmd += ["--id-attr:Id", i]
            for ca in ARGS.rgs_ca:
                cmd += ["--trusted-pem", ca]
            cmd.append(f.name)
            try:
                r = subprocess.run(cmd, capture_output=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as e:
                return str(e)
            if r.returncode != 0:
                return "signature %d" % k
    return None


def advance_helios(t):
    """1 POSTE -> (worker checks) -1 ERREUR or 2 EN_ATTENTE -> 3 TRANSMIS -> 4 ACQUITTE (the
    acquit file exists)."""
    if t.get("frozen"):
        return False
    changed = False
    age = time.time() - t["since"]
    st = t["history"][-1][0]
    if st == 1 and age >= step():
        err = pes_checks(t, read_stored(t["sha1"]))
        if err:
            set_status(t, -1, "Transaction %d : %s" % (t["id"], err))
            return True
        set_status(t, 2, "Fichier en attente d'envoi")
        st, changed = 2, True
    if st == 2 and age >= 2 * step():
        set_status(t, 3, "Transmis à la DGFiP")
        st, changed = 3, True
    if st == 3 and age >= 3 * step():
        t["acquit"] = store_file(make_acquit(t))
        set_status(t, 4, "Acquittement reçu")
        changed = True
    return changed


def make_acquit(t):
    return ('<?xml version="1.0" encoding="ISO-8859-1"?>\n'
            '<PES_ACQUIT><Enveloppe><Parametres><NomFic V="%s"/></Parametres></Enveloppe>'
            '<ACQUIT><ElementACQUIT><EtatAck V="1"/></ElementACQUIT></ACQUIT></PES_ACQUIT>\n'
            % xml_text(t["filename"])).encode("iso-8859-1", "replace")


# ---------------------------------------------------------------- HTTP
class Request:
    def __init__(self, h):
        self.h = h
        u = urllib.parse.urlsplit(h.path)
        self.path = u.path
        self.query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        self.form = {}
        self.files = {}
        self.body_len = 0
        self.too_big = False
        self.raw = b""

    def read_body(self):
        n = int(self.h.headers.get("Content-Length") or 0)
        self.body_len = n
        body = b""
        left = n
        chunks = []
        while left > 0:
            c = self.h.rfile.read(min(left, 1 << 20))
            if not c:
                break
            left -= len(c)
            if n <= ARGS.post_max_size:
                chunks.append(c)
        if n > ARGS.post_max_size:
            self.too_big = True      # PHP: $_POST and $_FILES are empty
            return
        body = b"".join(chunks)
        self.raw = body
        ctype = self.h.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                fname = part.get_param("filename", header="content-disposition")
                data = part.get_payload(decode=True) or b""
                if fname is not None:
                    # API mode: utf8_encode() of the (ISO-8859-1) file name
                    if isinstance(fname, str):
                        fname = fname.encode("latin-1", "replace").decode("latin-1")
                    self.files.setdefault(name, []).append((fname, data))
                else:
                    self.form.setdefault(name, []).append(data.decode("latin-1"))
        elif ctype.startswith("application/x-www-form-urlencoded"):
            for k, v in urllib.parse.parse_qs(body.decode("latin-1"), keep_blank_values=True,
                                              encoding="latin-1").items():
                self.form[k] = v

    def post(self, k):
        v = self.form.get(k)
        return v[-1] if v else None       # PHP: the last field of a name wins

    def get(self, k):
        v = self.query.get(k)
        return v[0] if v else None

    def api(self):
        return self.post("api") == "1" or self.get("api") == "1"


class Reply(Exception):
    def __init__(self, code, body=b"", headers=None):
        self.code, self.body, self.headers = code, body, headers or {}


HOST = threading.local()


def redirect(loc):
    """PHP's header("Location: " . WEBSITE_SSL . ...): an absolute https URL."""
    if loc.startswith("/"):
        loc = "https://%s%s" % (getattr(HOST, "name", "localhost"), loc)
    return Reply(302, b"", {"Location": loc})


def text(body):
    return Reply(200, body if isinstance(body, bytes) else body.encode("utf-8"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""

    def log_message(self, fmt, *a):
        sys.stderr.write("s2low-service: " + (fmt % a) + "\n")

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def handle_any(self):
        req = Request(self)
        HOST.name = self.headers.get("Host", "localhost")
        try:
            if self.command == "POST":
                req.read_body()
            with LOCK:
                route(req)
            raise Reply(404, b"Not Found\n")
        except Reply as r:
            self.send_response(r.code)
            hdrs = {"Content-Type": "text/html; charset=UTF-8"}
            hdrs.update(r.headers)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(r.body)))
            self.end_headers()
            self.wfile.write(r.body)


# ---------------------------------------------------------------- authentication
def client_hash(req):
    pem = urllib.parse.unquote(req.h.headers.get("X-SSL-Client-Cert", ""))
    m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)
    if not m:
        return None
    der = base64.b64decode("".join(m.group(1).split()))
    return base64.b64encode(hashlib.sha1(der).digest()).decode()


def authenticate(req, kind="legacy"):
    """User::authenticate(): certificate -> account(s); several -> HTTP Basic required.
    kind: 'legacy' (returnAndExit), 'raw' (echo without escaping), 'helios_status' (XML)."""
    h = client_hash(req)
    acc = accounts()
    mine = [a for a in acc["accounts"] if h and a.get("cert_hash") == h and a.get("status", 1) == 1]
    if not mine:
        count("auth_refused")
        raise redirect("/connexion-status")
    if len(mine) == 1:
        return mine[0]
    auth = req.h.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            login, _, pw = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            login = pw = None
        for a in mine:
            if a["login"] == login and a["password"] == pw:
                return a
    count("auth_refused")
    if req.api():
        raise text(b"KO\nLa connexion n&#039;a pas pu ?tre ?tablie\n")
    raise redirect("/connexion-status")


def is_rgs(req):
    return req.h.headers.get("X-SSL-Client-Verify", "") == "SUCCESS"


def rgs_reason(req):
    v = req.h.headers.get("X-SSL-Client-Verify", "")
    return v.partition(":")[2] or v


# ---------------------------------------------------------------- routes
def route(req):
    p = req.path
    if p.startswith("/_admin/"):
        return admin(req)
    table = {
        "/api/test-connexion.php": r_test_connexion,
        "/api/test-rgs.php": r_test_rgs,
        "/modules/actes/actes_classification_fetch.php": r_classification,
        "/modules/actes/actes_transac_create.php": r_actes_create,
        "/modules/actes/actes_transac_post_confirm_api.php": r_actes_confirm,
        "/modules/actes/actes_transac_get_status.php": r_actes_status,
        "/modules/actes/actes_transac_get_ARActe.php": r_actes_aracte,
        "/modules/actes/actes_transac_cancel.php": r_actes_cancel,
        "/modules/actes/actes_create_pdf.php": r_actes_slip,
        "/modules/actes/api/list_actes.php": r_actes_list,
        "/modules/helios/api/helios_importer_fichier.php": r_helios_import,
        "/modules/helios/api/helios_transac_get_status.php": r_helios_status,
        "/modules/helios/helios_download_acquit.php": r_helios_acquit,
        "/modules/helios/api/helios_get_list.php": r_helios_list,
        "/modules/helios/api/helios_get_retour.php": r_helios_retour,
        "/modules/helios/api/helios_change_status.php": r_helios_change_status,
    }
    f = table.get(p)
    only = STATE["faults"].get("http_500_on")
    if f and STATE["faults"].get("http_500", 0) > 0 and (not only or only == p):
        STATE["faults"]["http_500"] -= 1     # the server fails before doing anything
        count("http_500")
        save_state()
        raise Reply(500, b"")
    if f:
        f(req)


def r_test_connexion(req):
    authenticate(req)
    raise text(b"OK")


def r_test_rgs(req):
    authenticate(req)
    raise text(b"OK" if is_rgs(req) else b"KO")


def r_classification(req):
    authenticate(req)
    d = STATE["classification_date"]
    out = ['<?xml version="1.0" encoding="ISO-8859-1"?>\n<actes:RetourClassification '
           'xmlns:actes="%s"><actes:DateClassification>%s</actes:DateClassification>'
           '<actes:Matieres>' % (ACTES_NS, d)]
    for code, label, subs in CLASSIFICATION:
        out.append('<actes:Matiere1 actes:CodeMatiere="%s" actes:Libelle="%s">'
                   % (code, html.escape(label)))
        for c2, l2 in subs:
            out.append('<actes:Matiere2 actes:CodeMatiere="%s" actes:Libelle="%s"/>'
                       % (c2, html.escape(l2)))
        out.append("</actes:Matiere1>")
    out.append("</actes:Matieres></actes:RetourClassification>\n")
    raise Reply(200, "".join(out).encode("iso-8859-1"), {"Content-Type": "text/xml"})


def ko(req, msg, redirect_to):
    if req.api():
        raise text(legacy(False, msg))
    raise redirect(redirect_to)


def magic(data):
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.lstrip().startswith(b"<?xml") or data.lstrip().startswith(b"<"):
        return "xml"
    return "other"


def r_actes_create(req):
    add = "/modules/actes/actes_transac_add.php"
    count("actes_create_requests")
    if req.too_big or not req.form:
        # above post_max_size PHP loses every field, api=1 included: a redirect
        ko(req, "La taille totale des fichiers est trop importante (max : %d)" % ARGS.post_max_size,
           add)
    me = authenticate(req)
    right = me.get("actes", "TT")
    if right not in ("TT", "CS"):
        ko(req, "Accès refusé", "/")
    if not is_rgs(req):
        ko(req, "La télétransmission nécessite un certificat RGS<br/>Erreur : %s" % rgs_reason(req),
           "/modules/actes/")
    nature = req.post("nature_code") or ""
    classif = []
    for i in range(1, 6):
        v = req.post("classif%d" % i)
        if v is None:
            continue
        if v == "":
            raise Reply(500, b"")          # the real server fails on an empty classifN
        classif.append(v)
    number = req.post("number") or ""
    if not NUMBER_RE.match(number):
        ko(req, "Le numéro n'est pas correct", add)
    ddate = req.post("decision_date") or ""
    try:
        dt = time.mktime(time.strptime(ddate, "%Y-%m-%d"))
    except ValueError:
        dt = None
    if dt is not None and dt > time.time():
        ko(req, "La date de décision est une date dans le futur", "/")
    if dt is None:
        ko(req, "La date de décision n'est pas correcte", add)
    if nature not in NATURES:
        ko(req, "La nature de l'acte n'est pas correcte", add)
    subject = req.post("subject") or ""
    if not subject or len(subject) > 499:
        ko(req, "L'objet de l'acte est vide ou trop long (499 caractères maximum)", add)
    codes = {c: {s[0] for s in subs} for c, _, subs in CLASSIFICATION}
    if not classif or classif[0] not in codes or (len(classif) > 1 and classif[1] not in codes[classif[0]]):
        ko(req, "La classification matières/sous-matières n'est pas correcte", add)
    for t in STATE["actes"].values():
        if t["authority_id"] == me["authority_id"] and t["number"] == number and not t.get("cancel_of"):
            ko(req, "Un acte portant le même numéro interne existe déjà dans la base de données.\n"
                    "Il faut peut-être ajouter un suffixe au numéro.", add)
    acte = req.files.get("acte_pdf_file")
    if not acte or not acte[0][1]:
        ko(req, "Aucun fichier acte n'a été posté ", add)
    aname, adata = acte[0]
    type_acte = req.post("type_acte") or ""
    if not type_acte:
        ko(req, "Erreur lors de la réception du fichier %s : typologie absente" % aname, add)
    errs = ""
    kind = magic(adata)
    if not TYPE_RE.match(type_acte):
        errs += "Erreur de validation du fichier de l'acte :\nLa typologie %s n'est pas correcte\n" % type_acte
    elif not (kind == "pdf" or (kind == "xml" and nature == "5" and classif[:2] == ["7", "1"])):
        errs += "Erreur de validation du fichier de l'acte :\nLe fichier %s n'est pas au format PDF\n" % aname
    atts = [a for a in req.files.get("acte_attachments[]", []) if a[1]]
    type_pj = req.form.get("type_pj[]", [])
    if len(atts) > ARGS.max_file_uploads:
        ko(req, "Le nombre d'annexes est trop important (max : %d)" % ARGS.max_file_uploads, add)
    for i, (n, d) in enumerate(atts):
        tp = type_pj[i] if i < len(type_pj) else ""
        if not tp:
            ko(req, "Erreur lors de la réception du fichier annexe %s : typologie absente" % n, add)
        if not TYPE_RE.match(tp):
            errs += "Erreur de validation d'un fichier de pièce jointe :\nLa typologie %s n'est pas correcte\n" % tp
        elif magic(d) not in ("pdf", "xml", "png", "jpeg"):
            errs += ("Erreur de validation d'un fichier de pièce jointe :\nLe fichier %s n'est pas "
                     "dans un format autorisé (PDF, XML, PNG, JPEG)\n" % n)
    if errs:
        ko(req, errs, add)
    sign = req.files.get("acte_pdf_file_sign")
    tid = new_id("actes")
    en_attente = req.post("en_attente") == "1" or right == "CS"
    t = {"id": tid, "type": 1, "authority_id": me["authority_id"], "user_id": me["id"],
         "number": number, "nature_code": nature, "classif": classif, "subject": subject,
         "decision_date": ddate, "type_acte": type_acte, "type_pj": type_pj[:len(atts)],
         "classification_date": STATE["classification_date"],
         "document_papier": 1 if req.post("document_papier") == "1" else 0,
         "acte": {"name": aname, "sha1": store_file(adata)},
         "acte_sign": store_file(sign[0][1].rstrip()) if sign and sign[0][1] else None,
         "attachments_sign": [store_file(d.rstrip()) for _, d in
                              req.files.get("acte_attachments_sign[]", []) if d],
         "attachments": [{"name": n, "sha1": store_file(d)} for n, d in atts],
         "since": time.time(), "created": now_str(), "history": []}
    set_status(t, 17 if en_attente else 1, "En attente de validation" if en_attente else "Posté")
    STATE["actes"][str(tid)] = t
    count("actes_received")
    count("actes_received_bytes", len(adata) + sum(len(d) for _, d in atts))
    save_state()
    lose_answer_maybe()
    if not req.api():
        raise redirect("/modules/actes/actes_transac_show.php?id=%d" % tid)
    raise text(b"OK\n%d\n\n" % tid)


def lose_answer_maybe():
    if STATE["faults"].get("lose_answer", 0) > 0:
        STATE["faults"]["lose_answer"] -= 1
        count("answers_lost")
        save_state()
        raise Reply(599, b"")          # nginx turns 599 into a closed connection (444)


def actes_of(req, me, tid_s):
    try:
        tid = int(tid_s or "0")
    except ValueError:
        tid = 0
    return STATE["actes"].get(str(tid)) if tid else None


def r_actes_confirm(req):
    me = authenticate(req)
    if not is_rgs(req):
        ko(req, "La télétransmission nécessite un certificat RGS<br/>Erreur : %s" % rgs_reason(req),
           "/modules/actes/")
    t = actes_of(req, me, req.get("id") or req.post("id"))
    back = req.get("url_return") or "/modules/actes/"
    if not t or t["user_id"] != me["id"] or actes_status(t) != 17 or me.get("actes") == "CS":
        raise redirect(back)
    set_status(t, 1, "Posté")
    t["since"] = time.time()
    save_state()
    raise redirect(back)


def r_actes_status(req):
    me = authenticate(req)
    uid = req.get("unique_id")
    t = None
    if uid:
        t = next((x for x in STATE["actes"].values() if x.get("unique_id") == uid), None)
    else:
        t = actes_of(req, me, req.get("transaction"))
    if not t:
        raise text("KO\nNuméro de transaction invalide.")
    if t["user_id"] != me["id"] and not me.get("admin"):
        raise text("KO\nAccès refusé")
    if advance_actes(t):
        save_state()
    count("actes_status_requests")
    st = actes_status(t)
    body = b"OK\n%d\n" % st
    if st == 4 and t.get("aracte"):
        body += read_stored(t["aracte"])
    if st == -1:
        body += t["history"][-1][2].encode("iso-8859-1", "replace")
    raise text(body)


def r_actes_aracte(req):
    me = authenticate(req)
    t = actes_of(req, me, req.get("id"))
    if t and advance_actes(t):
        save_state()
    if not t or t["user_id"] != me["id"] or not t.get("aracte"):
        raise redirect("/modules/actes/index.php")
    raise Reply(200, read_stored(t["aracte"]),
                {"Content-Type": "text/xml",
                 "Content-Disposition": 'attachment; filename="%s-ar-actes.xml"' % t["number"]})


def make_slip(t):
    """A one-page PDF standing for S²LOW's BordereauPdfGenerator output."""
    text = ("Bordereau d'acquittement - transaction %d - acte %s"
            % (t["id"], t["number"])).encode("latin-1", "replace")
    content = b"BT /F1 12 Tf 50 800 Td (" + text.replace(b"(", b"[").replace(b")", b"]") + b") Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n"
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def r_actes_slip(req):
    """actes_create_pdf.php?trans_id=: the slip, 302 on any error (no id, not allowed)."""
    tid = req.get("trans_id")
    if not tid:
        raise redirect("/modules/actes/index.php")
    me = authenticate(req)
    t = actes_of(req, me, tid)
    if not t or (t["user_id"] != me["id"] and not me.get("admin")):
        raise redirect("/modules/actes/index.php")
    count("actes_slips")
    save_state()
    raise Reply(200, make_slip(t), {"Content-Type": "application/pdf",
                                    "Content-Disposition": 'attachment; filename="acquittement.pdf"'})


def r_actes_cancel(req):
    me = authenticate(req)
    t = actes_of(req, me, req.post("id") or req.get("id"))
    if t:
        advance_actes(t)
    if not t or t["authority_id"] != me["authority_id"]:
        ko(req, "Numéro de transaction invalide.", "/modules/actes/")
    if me.get("actes", "TT") != "TT":
        ko(req, "Accès refusé", "/modules/actes/")
    if actes_status(t) != 4:
        ko(req, "La transaction n'est pas dans un état permettant l'annulation.", "/modules/actes/")
    if any(x.get("cancel_of") == t["id"] for x in STATE["actes"].values()):
        ko(req, "Une annulation a déjà été demandée pour cette transaction.", "/modules/actes/")
    cid = new_id("actes")
    c = dict(t, id=cid, type=6, cancel_of=t["id"], since=time.time(), created=now_str(),
             history=[], aracte=None)
    set_status(c, 1, "Posté")
    STATE["actes"][str(cid)] = c
    count("actes_cancels")
    save_state()
    lose_answer_maybe()
    if not req.api():
        raise redirect("/modules/actes/actes_transac_show.php?id=%d" % cid)
    raise text(b"OK\n%d\n\n" % cid)


def r_actes_list(req):
    me = authenticate(req)
    try:
        offset = int(req.get("offset") or 0)
        limit = int(req.get("limit") or 100)
        status_id = int(req.get("status_id")) if req.get("status_id") not in (None, "") else None
    except ValueError:
        raise Reply(400, json.dumps({"error": "bad parameter"}).encode())
    mind, maxd = req.get("min_date") or "", req.get("max_date") or ""
    rows = []
    for t in sorted(STATE["actes"].values(), key=lambda x: x["id"]):
        advance_actes(t)
        if t["authority_id"] != me["authority_id"]:
            continue
        if status_id is not None and actes_status(t) != status_id:
            continue
        d = t["created"][:10]
        if (mind and d < mind) or (maxd and d > maxd):
            continue
        rows.append({"id": str(t["id"]), "type": str(t["type"]), "number": t["number"],
                     "subject": t["subject"], "nature_code": t["nature_code"],
                     "decision_date": t["decision_date"], "unique_id": t.get("unique_id"),
                     "last_status_id": str(actes_status(t)), "date": t["history"][-1][1],
                     "user_id": str(t["user_id"])})
    save_state()
    out = {"status_id": status_id, "authority_id": me["authority_id"], "offset": offset,
           "limit": limit, "transactions": rows[offset:offset + limit]}
    raise Reply(200, json.dumps(out).encode(), {"Content-Type": "application/json"})


def helios_xml(root, fields, decl='<?xml version="1.0" encoding="ISO-8859-1"?>\n'):
    out = decl + "<%s>" % root
    for k, v in fields:
        v = "" if v is None else str(v)
        out += "<%s>%s</%s>" % (k, xml_text(v), k) if v else "<%s/>" % k
    return (out + "</%s>\n" % root).encode("utf-8")


def r_helios_import(req):
    count("helios_import_requests")
    if req.too_big:
        raise redirect("/modules/helios/index.php")
    me = authenticate(req)
    if me.get("helios", "TT") not in ("TT", "CS"):
        raise text("KO\nAccès refusé")
    if not is_rgs(req):
        raise text("KO\nVotre certificat n'est pas RGS : %s" % rgs_reason(req))
    f = req.files.get("enveloppe")
    fields = {"id": None, "resultat": "KO", "message": ""}
    if not f:
        fields["message"] = "Echec lors du téléchargement du fichier"
    else:
        name, data = f[0]
        sha = hashlib.sha1(data).hexdigest()
        if any(o["sha1"] == sha for o in STATE["helios"].values()):
            count("helios_duplicates")
            fields["message"] = "doublon détecté. Ce fichier a déjà été posté."
        else:
            tid = new_id("helios")
            store_file(data)
            st = 13 if req.post("must_signed") else (1 if me.get("helios", "TT") == "TT" else 14)
            t = {"id": tid, "authority_id": me["authority_id"], "user_id": me["id"],
                 "filename": re.sub(r"[^A-Za-z0-9._ -]", "_", name), "sha1": sha,
                 "size": len(data), "since": time.time(), "created": now_str(), "history": []}
            set_status(t, st, "Fichier bien reçu par la plate-forme S2low")
            if st != 1:
                t["frozen"] = True
            STATE["helios"][str(tid)] = t
            count("helios_received")
            save_state()
            lose_answer_maybe()
            fields.update(id=tid, resultat="OK", message="Téléchargement du fichier réussi.")
    body = '<?xml version="1.0"?>\n<import>\n'
    for k in ("id", "resultat", "message"):
        v = fields[k]
        body += "  <%s>%s</%s>\n" % (k, xml_text(str(v)), k) if v not in (None, "") else "  <%s/>\n" % k
    body += "</import>\n"
    raise Reply(200, body.encode("utf-8"), {"Content-Type": "text/xml",
                                            "Content-Disposition": 'attachment; filename="import.xml"'})


def r_helios_status(req):
    tid_s = req.get("transaction") or ""
    tid = int(tid_s) if tid_s.isdigit() else 0
    f = [("id", tid), ("resultat", "KO"), ("message", ""), ("status", "")]
    if not tid:
        f[2] = ("message", "Pas de numéro de transaction.")
        raise Reply(200, helios_xml("transaction", f), {"Content-Type": "text/xml"})
    me = authenticate(req)
    t = STATE["helios"].get(str(tid))
    if not t:
        f[2] = ("message", "Numéro de transaction invalide")
    elif t["authority_id"] != me["authority_id"]:
        f[2] = ("message", "Accès refusé")
    else:
        if advance_helios(t):
            save_state()
        count("helios_status_requests")
        st, _, msg = t["history"][-1]
        if st == 4 and not t.get("acquit"):
            st = 3
        f = [("id", tid), ("resultat", "OK"), ("message", msg), ("status", st)]
    raise Reply(200, helios_xml("transaction", f), {"Content-Type": "text/xml"})


def r_helios_acquit(req):
    me = authenticate(req)
    t = STATE["helios"].get(req.get("id") or "")
    if t and advance_helios(t):
        save_state()
    if not t or t["authority_id"] != me["authority_id"] or not t.get("acquit"):
        raise redirect("/modules/helios/index.php")
    raise Reply(200, read_stored(t["acquit"]),
                {"Content-Type": "text/xml",
                 "Content-Disposition": 'attachment; filename="ACK_%s"' % t["filename"]})


def r_helios_list(req):
    me = authenticate(req)
    auth = accounts()["authorities"][str(me["authority_id"])]
    count("helios_list_requests")
    out = "<liste><idColl>%s</idColl><dateDemande>%s</dateDemande><resultat></resultat>" \
          "<message></message>" % (auth["siren"], time.strftime("%Y-%m-%d %I:%M:%S"))
    for r in sorted(STATE["retours"].values(), key=lambda x: x["id"]):
        if r["authority_id"] == me["authority_id"] and not r["read"]:
            out += "<pes_retour><id>%d</id><nom>%s</nom><date>%s</date></pes_retour>" % (
                r["id"], xml_text(r["nom"]), r["date"])
    out += "</liste>\n"
    out = "".join(ch if ord(ch) < 128 else "&#x%X;" % ord(ch) for ch in out)
    raise Reply(200, out.encode("ascii"), {"Content-Type": "text/xml"})


def retour_of(req, me):
    r = STATE["retours"].get(req.get("id") or "")
    if not r or r["authority_id"] != me["authority_id"]:
        return None
    return r


def r_helios_retour(req):
    me = authenticate(req)
    r = retour_of(req, me)
    if not r:
        raise text("KO\nAccès refusé")
    count("pes_retour_fetches")
    save_state()
    raise Reply(200, read_stored(r["sha1"]), {"Content-Type": "text/xml",
                "Content-Disposition": 'attachment; filename="%s"' % r["nom"]})


def r_helios_change_status(req):
    me = authenticate(req)
    r = retour_of(req, me)
    if not r:
        raise Reply(200, helios_xml("change", [("id", req.get("id")), ("resultat", "KO"),
                                                ("message", "Accès refusé")]))
    r["read"] = True
    count("pes_retour_marked_read")
    save_state()
    raise Reply(200, helios_xml("change", [("id", r["id"]), ("resultat", "OK"), ("message", "")]))


# ---------------------------------------------------------------- admin (backend port only)
def admin(req):
    p = req.path[len("/_admin/"):]
    body = {}
    if req.raw:
        body = json.loads(req.raw)
    if p == "state":
        for t in STATE["actes"].values():
            advance_actes(t)
        for t in STATE["helios"].values():
            advance_helios(t)
        save_state()
        raise Reply(200, json.dumps(STATE, ensure_ascii=False).encode("utf-8"),
                    {"Content-Type": "application/json"})
    if p == "set-status":                    # {"module": "actes"|"helios", "id", "status", "message"}
        t = STATE[body["module"]][str(body["id"])]
        set_status(t, int(body["status"]), body.get("message", ""))
        t["frozen"] = True
        if body["module"] == "actes" and int(body["status"]) == 4 and not t.get("aracte"):
            t["aracte"] = store_file(make_aracte(t))
        save_state()
    elif p == "config":                      # {"step": seconds, "classification_date": "..."}
        if "step" in body:
            STATE["step"] = float(body["step"])
        if "classification_date" in body:
            STATE["classification_date"] = body["classification_date"]
        save_state()
    elif p == "fault":                       # {"lose_answer": n, "http_500": n}
        STATE["faults"].update(body)
        save_state()
    elif p == "pes-retour":                  # {"authority_id", "nom", "content"}
        rid = new_id("retour")
        STATE["retours"][str(rid)] = {"id": rid, "authority_id": int(body["authority_id"]),
                                      "nom": body["nom"], "read": False,
                                      "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                      "sha1": store_file(body["content"].encode("iso-8859-1"))}
        save_state()
        raise Reply(200, json.dumps({"id": rid}).encode(), {"Content-Type": "application/json"})
    else:
        raise Reply(404, b"unknown admin call\n")
    raise Reply(200, b'{"ok": true}\n', {"Content-Type": "application/json"})


def main():
    global ARGS, STATE
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--step", type=float, default=2.0,
                    help="seconds between two automatic status changes")
    ap.add_argument("--post-max-size", type=int, default=150 * 1024 * 1024)
    ap.add_argument("--max-file-uploads", type=int, default=20)
    ap.add_argument("--rgs-ca", action="append", default=[],
                    help="a CA certificate (PEM) trusted for the PES signature check (repeat)")
    ARGS = ap.parse_args()
    os.makedirs(ARGS.state, exist_ok=True)
    STATE = load_state()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    print("s2low-service: listening on 127.0.0.1:%d, state in %s" % (ARGS.port, ARGS.state),
          file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
