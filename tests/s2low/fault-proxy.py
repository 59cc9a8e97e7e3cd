#!/usr/bin/python3
"""fault-proxy.py - a fault-injection TCP proxy for the S²LOW rig (TLS passes through untouched).

    fault-proxy.py --listen PORT --to PORT [--drop-upload-after N] [--delay SECONDS]
                   [--log FILE]

--drop-upload-after N  close both sides once N bytes went from the client to the server in
                       one connection (an upload cut in the middle; count the TLS handshake)
--delay S              wait S seconds before forwarding each chunk, both ways (a slow link)
Each connection is logged as one JSON line in --log: {"up": bytes, "down": bytes, "cut": bool}.
For "the answer is lost after the server stored the send" use the service's
/_admin/fault {"lose_answer": n} instead: the request arrives whole, the answer never does.
"""
import argparse
import json
import socket
import threading
import time


def pipe(src, dst, conn, way, a):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if a.delay:
                time.sleep(a.delay)
            if way == "up" and a.drop_upload_after is not None:
                room = a.drop_upload_after - conn["up"]
                if len(data) >= room:
                    if room > 0:
                        dst.sendall(data[:room])
                        conn["up"] += room
                    conn["cut"] = True
                    break
            dst.sendall(data)
            conn[way] += len(data)
    except OSError:
        pass
    finally:
        if conn["cut"]:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        else:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def serve(c, a):
    try:
        s = socket.create_connection(("127.0.0.1", a.to))
    except OSError:
        c.close()
        return
    conn = {"up": 0, "down": 0, "cut": False}
    t1 = threading.Thread(target=pipe, args=(c, s, conn, "up", a))
    t2 = threading.Thread(target=pipe, args=(s, c, conn, "down", a))
    t1.start()
    t2.start()
    t1.join()
    t2.join()
    c.close()
    s.close()
    if a.log:
        with open(a.log, "a") as f:
            f.write(json.dumps(conn) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--to", type=int, required=True)
    ap.add_argument("--drop-upload-after", type=int)
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--log")
    a = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, a), daemon=True).start()


if __name__ == "__main__":
    main()
