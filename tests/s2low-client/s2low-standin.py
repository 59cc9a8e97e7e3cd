#!/usr/bin/env python3
"""s2low-standin.py PORT CERT KEY CAFILE STATEDIR - a minimal S²LOW stand-in for the
client tests (the real test service is tests/s2low/, another area's). TLS with a
REQUIRED client certificate verified against CAFILE only (the root): a client that
does not send its intermediate CA fails the handshake. Answers as the service's code
does (reference french-eadmin.md): legacy 'OK\\n'/'KO\\n' in ISO-8859-1 with HTML
entities, ACTES numbers unique, Hélios duplicates by SHA-1 without id.
STATEDIR/log records every request; STATEDIR/drop-NUMBER makes the create of that
number succeed but the answer be lost (connection closed)."""
import hashlib, html, http.server, json, os, re, ssl, sys, urllib.parse

port, cert, key, cafile, state = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
actes = {}   # number -> id
helios = {}  # sha1 -> id
next_id = [100]


def multipart(handler):
    n = int(handler.headers.get('Content-Length', '0'))
    body = handler.rfile.read(n)
    ctype = handler.headers.get('Content-Type', '')
    b = re.search(r'boundary=(.+)', ctype).group(1).strip('"').encode()
    fields = []
    for part in body.split(b'--' + b)[1:]:
        if part.startswith(b'--'):
            break
        head, _, data = part.partition(b'\r\n\r\n')
        data = data[:-2]
        name = re.search(rb'name="([^"]*)"', head).group(1).decode()
        fn = re.search(rb'filename="([^"]*)"', head)
        fields.append((name, data, fn.group(1) if fn else None))
    return fields


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, body, ctype='text/html; charset=UTF-8'):
        self.send_response(200)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def legacy(self, ok, msg):
        self.answer(((('OK' if ok else 'KO') + '\n' + html.escape(msg) + '\n')).encode('iso-8859-1'))

    def log(self, what):
        with open(os.path.join(state, 'log'), 'a', encoding='utf-8') as f:
            f.write(what + '\n')

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        self.log('GET ' + u.path)
        if u.path == '/api/test-connexion.php':
            self.legacy(True, '')
        elif u.path == '/api/test-rgs.php':
            self.answer(b'OK')
        elif u.path == '/modules/actes/actes_classification_fetch.php':
            # the shape of the rig's (tests/s2low): DateClassification, Matiere1/2
            self.answer(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<actes:RetourClassification'
                        b' xmlns:actes="http://www.interieur.gouv.fr/ACTES#v1.1-20040216">'
                        b'<actes:DateClassification>2024-01-15</actes:DateClassification>'
                        b'<actes:Matieres><actes:Matiere1 actes:CodeMatiere="1" actes:Libelle="C">'
                        b'<actes:Matiere2 actes:CodeMatiere="1" actes:Libelle="M"/>'
                        b'</actes:Matiere1></actes:Matieres></actes:RetourClassification>\n',
                        'text/xml')
        elif u.path == '/modules/actes/actes_transac_get_status.php':
            self.answer(b'OK\n4\n<actes:ARActe/>\n')
        elif u.path == '/modules/actes/api/list_actes.php':
            # Pages of ONE transaction whatever the limit asked (a service may cap
            # it): the client must page on with offset.
            off = int(q.get('offset', ['0'])[0])
            tr = [{'id': i, 'number': n} for n, i in sorted(actes.items(), key=lambda x: x[1])]
            self.answer(json.dumps({'status_id': None, 'authority_id': 1, 'offset': off,
                                    'limit': 1, 'transactions': tr[off:off + 1]}).encode(),
                        'application/json')
        elif u.path == '/modules/helios/api/helios_transac_get_status.php':
            self.answer(('<?xml version="1.0" encoding="ISO-8859-1"?>\n<transaction><id>%s</id>'
                         '<resultat>OK</resultat><message>Fichier bien reçu par la plate-forme S2low'
                         '</message><status>7</status></transaction>' % q['transaction'][0]).encode('utf-8'))
        else:
            self.send_response(404)
            self.end_headers()

    def do_POST(self):
        u = urllib.parse.urlparse(self.path)
        fields = multipart(self)
        self.log('POST ' + u.path + ' ' + ' '.join(n for n, _, _ in fields))
        if u.path == '/modules/actes/actes_transac_create.php':
            f = {n: d for n, d, _ in fields}
            for need in ('api', 'nature_code', 'classif1', 'number', 'decision_date', 'subject',
                         'type_acte', 'acte_pdf_file'):
                if need not in f:
                    return self.legacy(False, 'Champ manquant : ' + need)
            subject = f['subject'].decode('iso-8859-1')  # the server utf8_encode()s it
            self.log('subject ' + subject)
            number = f['number'].decode()
            if number in actes:
                return self.legacy(False, "Un acte portant le même numéro interne existe déjà")
            next_id[0] += 1
            actes[number] = next_id[0]
            if os.path.exists(os.path.join(state, 'drop-' + number)):
                os.unlink(os.path.join(state, 'drop-' + number))
                self.connection.close()  # the answer is lost
                return
            self.answer(('OK\n%d\n\n' % next_id[0]).encode())
        elif u.path == '/modules/helios/api/helios_importer_fichier.php':
            data = [d for n, d, _ in fields if n == 'enveloppe'][0]
            h = hashlib.sha1(data).hexdigest()
            if h in helios:
                body = '<import><id/><resultat>KO</resultat><message>doublon</message></import>'
            else:
                next_id[0] += 1
                helios[h] = next_id[0]
                body = '<import><id>%d</id><resultat>OK</resultat><message/></import>' % next_id[0]
            self.answer(body.encode(), 'text/xml')
        else:
            self.send_response(404)
            self.end_headers()


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.load_verify_locations(cafile)
srv = http.server.HTTPServer(('127.0.0.1', int(port)), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(os.path.join(state, 'ready'), 'w').close()
srv.serve_forever()
