#!/usr/bin/python3
"""interop.py CMD ... - synthetic PDFs and CMS swaps for test-pades-interop.sh.

Each case reproduces, in a few hundred bytes, a structure met in real-world PDFs
(third-party files are never copied into the repository).

  orphan-sig IN OUT        IN with an extra signature dictionary that no xref section
                           lists (a stale dictionary left in the file)
  restart-xref IN ORIG OUT IN (ORIG + incremental updates) with one more section: ORIG's
                           own xref table and trailer again, without /Prev, so the
                           objects of the updates are no longer listed (a broken /Prev
                           chain, as in some real files)
  pubsec OUT               a PDF encrypted with the public-key security handler
                           (/Filter /Adobe.PubSec), which qpdf cannot open
  xobj-base OUT shared|alone  a 2-page PDF with a form XObject (object 9); "shared": the
                           catalog also refers to it (/FooBar 9 0 R)
  override-xobj IN OUT     IN + an update that redefines object 9 (new drawing) next to
                           a new signature dictionary (pyHanko's "sneaky" appearance
                           override)
  signed-bytes IN OUT      the bytes covered by the last /ByteRange of IN
  put-cms IN DER OUT       IN with the /Contents of its last signature replaced by DER
"""
import os
import re
import sys


def last_br(d):
    m = list(re.finditer(rb'/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]', d))[-1]
    return [int(x) for x in m.groups()]


def main():
    cmd = sys.argv[1]
    if cmd == 'pubsec':
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import mkpdf
        objs = mkpdf.pages_doc(more=[b'<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s4 /V 1'
                                      b' /R 2 /Recipients [<3000>] >>'])
        data, x = mkpdf.build(objs, info=8)
        tail = data[x:].replace(b'/Root 1 0 R', b'/Root 1 0 R /Encrypt 9 0 R /ID [<01> <01>]', 1)
        open(sys.argv[2], 'wb').write(bytes(data[:x]) + tail)
        return
    if cmd == 'xobj-base':
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import mkpdf
        xo = mkpdf.stream(b'0 0 1 rg 0 0 50 50 re f', b' /Type /XObject /Subtype /Form /BBox [0 0 50 50]')
        extra = b' /FooBar 9 0 R' if sys.argv[3] == 'shared' else b''
        data, _ = mkpdf.build(mkpdf.pages_doc(catalog_extra=extra, more=[xo]), info=8)
        open(sys.argv[2], 'wb').write(data)
        return
    d = open(sys.argv[2], 'rb').read()
    if cmd == 'override-xobj':
        prev = int(re.findall(rb'startxref\s+(\d+)', d)[-1])
        size = int(re.findall(rb'/Size (\d+)', d)[-1])
        c = b'1 0 0 rg 0 0 50 50 re f'
        o9 = len(d)
        upd = (b'9 0 obj\n<< /Type /XObject /Subtype /Form /BBox [0 0 50 50] /Length %d >>\n'
               b'stream\n%s\nendstream\nendobj\n' % (len(c), c))
        osig = o9 + len(upd)
        upd += (b'%d 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached'
                b' /ByteRange [0 1 2 3] /Contents <3000> >>\nendobj\n' % size)
        x = o9 + len(upd)
        upd += (b'xref\n9 1\n%010d 00000 n \n%d 1\n%010d 00000 n \ntrailer\n'
                b'<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n'
                % (o9, size, osig, size + 1, prev, x))
        open(sys.argv[3], 'wb').write(d + upd)
        return
    if cmd == 'orphan-sig':
        # Put the stale object just before the (only) xref table and shift startxref.
        x = int(re.findall(rb'startxref\s+(\d+)', d)[-1])
        junk = (b'77 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached'
                b' /ByteRange [0 10 30 40] /Contents <3000> >>\nendobj\n')
        head, tail = d[:x], d[x:]
        tail = re.sub(rb'startxref\s+\d+', b'startxref\n%d' % (x + len(junk)), tail)
        open(sys.argv[3], 'wb').write(head + junk + tail)
    elif cmd == 'restart-xref':
        o = open(sys.argv[3], 'rb').read()
        assert d.startswith(o)
        x = int(re.findall(rb'startxref\s+(\d+)', o)[-1])
        sec = o[x:o.rindex(b'startxref')]
        open(sys.argv[4], 'wb').write(d + sec + b'startxref\n%d\n%%%%EOF\n' % len(d))
    elif cmd == 'signed-bytes':
        a, b, c, e = last_br(d)
        open(sys.argv[3], 'wb').write(d[a:a + b] + d[c:c + e])
    elif cmd == 'put-cms':
        a, b, c, e = last_br(d)
        der = open(sys.argv[3], 'rb').read()
        room = c - b - 2
        h = der.hex().upper().encode()
        if len(h) > room:
            sys.exit('CMS too large for the reserved space')
        out = d[:b + 1] + h + b'0' * (room - len(h)) + d[c - 1:]
        open(sys.argv[4], 'wb').write(out)
    else:
        sys.exit('unknown command ' + cmd)


if __name__ == '__main__':
    main()
