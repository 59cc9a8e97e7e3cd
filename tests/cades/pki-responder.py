#!/usr/bin/python3
"""pki-responder.py - the loopback services of the test PKI (tests only).

  pki-responder.py --free-port          print a free loopback TCP port
  pki-responder.py PKI_DIR PORT [MODE]  serve on 127.0.0.1:PORT until killed

POST application/timestamp-query -> `openssl ts -reply` (PKI_DIR/openssl.cnf, tsa_section)
POST application/ocsp-request    -> `openssl ocsp -index PKI_DIR/index.txt` (ocsp.pem signs)
GET  /crl.der, /ca.der           -> the files of PKI_DIR
MODE "tsa-error" answers every timestamp request with HTTP 500 (a broken TSA).
"""
import http.server
import os
import socket
import subprocess
import sys
import tempfile

if sys.argv[1] == '--free-port':
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    print(s.getsockname()[1])
    s.close()
    sys.exit(0)

PKI = os.path.abspath(sys.argv[1])
PORT = int(sys.argv[2])
MODE = sys.argv[3] if len(sys.argv) > 3 else ''


def run(cmd, query):
    with tempfile.TemporaryDirectory() as tmp:
        q = os.path.join(tmp, 'q')
        r = os.path.join(tmp, 'r')
        open(q, 'wb').write(query)
        p = subprocess.run([c.replace('@Q', q).replace('@R', r) for c in cmd], cwd=PKI,
                           capture_output=True)
        if p.returncode != 0 or not os.path.exists(r):
            sys.stderr.write(p.stderr.decode(errors='replace'))
            return None
        return open(r, 'rb').read()


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, body, ctype):
        if body is None:
            self.send_error(500)
            return
        self.send_response(200)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        if n <= 0 or n > 65536:
            self.send_error(400)
            return
        query = self.rfile.read(n)
        ctype = self.headers.get('Content-Type')
        if ctype == 'application/timestamp-query':
            if MODE == 'tsa-error':
                self.send_error(500)
                return
            self.reply(run(['openssl', 'ts', '-reply', '-config', 'openssl.cnf', '-section',
                            'tsa_section', '-queryfile', '@Q', '-out', '@R'], query),
                       'application/timestamp-reply')
        elif ctype == 'application/ocsp-request':
            self.reply(run(['openssl', 'ocsp', '-index', 'index.txt', '-rsigner', 'ocsp.pem',
                            '-rkey', 'ocsp.key', '-CA', 'ca.pem', '-nmin', '10', '-reqin', '@Q',
                            '-respout', '@R'], query), 'application/ocsp-response')
        else:
            self.send_error(415)

    def do_GET(self):
        name = self.path.lstrip('/')
        if name in ('crl.der', 'ca.der'):
            self.reply(open(os.path.join(PKI, name), 'rb').read(), 'application/pkix-crl')
        else:
            self.send_error(404)

    def log_message(self, fmt, *args):
        pass


http.server.HTTPServer(('127.0.0.1', PORT), Handler).serve_forever()
