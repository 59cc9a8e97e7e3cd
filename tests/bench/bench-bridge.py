#!/usr/bin/python3
"""bench-bridge.py - sinadur-agent's bridge: start-to-listening time, wrk on
GET /v1/certificates (unpaced, then paced at ~1000 req/s by a keep-alive client),
the same during a 600-document batch signature, and idle wake-ups over 10 s.
Prints the numbers; fails only when the agent misbehaves (errors, crash)."""
import base64
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bridge"))
import bridgelib as bl  # noqa: E402

O = "https://portail.example.fr"


def wrk(port, seconds, conns=4):
    out = subprocess.run(["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--latency", "-H", "Origin: " + O,
                          "http://127.0.0.1:%d/v1/certificates" % port], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, float(p99.group(1)) * scale, int(non2xx.group(1)) if non2xx else 0


def paced(port, rate, seconds):
    """One keep-alive connection, one request every 1/rate s; latency of each."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    lat = []
    errors = 0
    period = 1.0 / rate
    t_next = time.perf_counter()
    t_end = t_next + seconds
    while t_next < t_end:
        now = time.perf_counter()
        if now < t_next:
            time.sleep(t_next - now)
        t0 = time.perf_counter()
        c.request("GET", "/v1/certificates", headers={"Origin": O, "Host": "127.0.0.1:%d" % port})
        r = c.getresponse()
        r.read()
        lat.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            errors += 1
        t_next += period
    c.close()
    lat.sort()
    return len(lat) / seconds, lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], errors


def switches(pid):
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, t)) as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def main():
    if shutil.which("wrk") is None:
        return bl.SKIP
    fx = bl.Fixture()
    bad = False
    try:
        # Start-to-listening (time to the "listening on" line), 5 runs.
        starts = []
        for _ in range(5):
            a = bl.Agent(fx, ["consent yes"], origins=(O,))
            starts.append(a.ready_s * 1000)
            a.stop()
        print("start-to-listening: median %.1f ms, max %.1f ms (5 runs)" %
              (statistics.median(starts), max(starts)))

        agent = bl.Agent(fx, ["consent yes", "consent yes", "pin 1234"], origins=(O,), max_body_mb=8)
        r = bl.request(agent.port, "GET", "/v1/certificates", origin=O)
        cert = [c["id"] for c in r.json()["certificates"]
                if c["subject_cn"] == "Jean DUPONT" and "signature" in c["usage"]][0]

        time.sleep(2)
        s0 = switches(agent.proc.pid)
        time.sleep(10)
        s1 = switches(agent.proc.pid)
        print("idle wake-ups (context switches, all threads) over 10 s: %d" % (s1 - s0))

        rps, p99, non2xx = wrk(agent.port, 5)
        print("wrk GET /v1/certificates, 4 connections, unpaced: %.0f req/s, p99 %.2f ms, non-2xx %d" %
              (rps, p99, non2xx))
        bad |= non2xx > 0
        rate, p50, pp99, errors = paced(agent.port, 1000, 3)
        print("paced client at ~1000 req/s (keep-alive): %.0f req/s achieved, p50 %.2f ms, p99 %.2f ms, errors %d" %
              (rate, p50, pp99, errors))
        bad |= errors > 0

        docs = [{"name": "d%03d.bin" % i, "data": base64.b64encode(os.urandom(1024)).decode()}
                for i in range(600)]
        res = {}

        def batch():
            t0 = time.monotonic()
            res["r"] = bl.request(agent.port, "POST", "/v1/sign", origin=O, timeout=120,
                                  body={"format": "cades", "certificate": cert, "documents": docs})
            res["s"] = time.monotonic() - t0

        t = threading.Thread(target=batch)
        t.start()
        time.sleep(0.5)
        rps, p99, non2xx = wrk(agent.port, 2)
        t.join()
        ok = res["r"].status == 200 and res["r"].json()["signed"] == 600
        print("during a 600-document CAdES batch (%.1f s, %s): wrk %.0f req/s, p99 %.2f ms, non-2xx %d" %
              (res["s"], "ok" if ok else "FAILED %d" % res["r"].status, rps, p99, non2xx))
        bad |= not ok or non2xx > 0
        bad |= agent.stop() != 0
    finally:
        fx.cleanup()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
