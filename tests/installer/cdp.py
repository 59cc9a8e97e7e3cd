"""cdp.py - the least of the Chrome DevTools protocol the installer tests need
(python3 standard library only): open a page in a running Chromium
(--remote-debugging-port) and evaluate JavaScript in it, over a WebSocket
written here (client side of RFC 6455: masked text frames, no extensions).
"""
import base64
import json
import os
import socket
import struct
import time
import urllib.parse
import urllib.request


class WebSocket:
    def __init__(self, url, timeout=20):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (u.path, u.hostname, u.port, key))
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("DevTools closed the connection during the handshake")
            head += chunk
        head, _, self.buf = head.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise OSError("DevTools refused the WebSocket: %r" % head[:200])

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("DevTools closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 0x8:
                raise OSError("DevTools closed the WebSocket")
            if op in (0x9, 0xA):  # ping/pong: not sent by Chromium to clients
                continue
            msg += payload
            if b0 & 0x80:
                return msg.decode()

    def close(self):
        self.sock.close()


class Page:
    """A new target on url; call(method, params) waits for the answer."""

    def __init__(self, port, url, timeout=20):
        req = urllib.request.Request("http://127.0.0.1:%d/json/new?%s" % (port, url), method="PUT")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            self.target = json.loads(r.read().decode())
        self.ws = WebSocket(self.target["webSocketDebuggerUrl"], timeout)
        self.next_id = 0

    def call(self, method, params=None):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise OSError("%s: %s" % (method, m["error"]))
                return m["result"]

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            raise OSError("evaluate: %s" % json.dumps(r["exceptionDetails"])[:300])
        return r["result"].get("value")

    def close(self):
        self.ws.close()


def wait_port(profile, proc, timeout):
    """The DevTools port Chromium chose (--remote-debugging-port=0)."""
    path = os.path.join(profile, "DevToolsActivePort")
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and proc.poll() is None:
        try:
            with open(path) as f:
                line = f.readline().strip()
            if line:
                return int(line)
        except OSError:
            pass
        time.sleep(0.2)
    return None


# chrome://policy draws one <policy-row> per policy (shadow DOM): its first text
# nodes are the name, the value, the source, the scope, the level, the status.
_POLICY_ROWS = r"""(async function () {
	for (let i = 0; i < 100; i++) {
		if (document.readyState === "complete" && deep(document.documentElement).length)
			break;
		await new Promise((r) => setTimeout(r, 100));
	}
	function deep(n, out = []) {
		if (n.shadowRoot) deep(n.shadowRoot, out);
		for (const c of n.children || []) deep(c, out);
		if (n.tagName === "POLICY-ROW") out.push(n);
		return out;
	}
	function texts(n, out = []) {
		if (n.shadowRoot) texts(n.shadowRoot, out);
		for (const c of n.childNodes || []) {
			if (c.nodeType === 3) {
				if (c.textContent.trim()) out.push(c.textContent.trim());
			} else {
				texts(c, out);
			}
		}
		return out;
	}
	const rows = [];
	for (const row of deep(document.documentElement)) {
		const t = texts(row);
		if (t.length < 6 || t[1] === "Not set.") continue;
		rows.push({ name: t[0], value: t[1], source: t[2], scope: t[3], level: t[4], status: t[5] });
	}
	return rows;
})()"""


def policy_values(port, timeout=20):
    """The policies that are set, as chrome://policy shows them: a list of
    {name, value (parsed JSON when it is JSON), source, scope, level, status}."""
    page = Page(port, "chrome://policy", timeout)
    try:
        rows = page.evaluate(_POLICY_ROWS)
    finally:
        page.close()
    for r in rows:
        try:
            r["value"] = json.loads(r["value"])
        except ValueError:
            pass
    return rows
