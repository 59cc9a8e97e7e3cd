/* portal.js - a small client of the sinadur-agent local bridge (API v1) for web
 * portal developers. Plain browser JavaScript, no dependency.
 *
 *   const agent = new SinadurAgent();               // http://127.0.0.1:24742
 *   const info = await agent.info();                // {version, api_version, state}
 *   const certs = await agent.certificates();       // first call: the user approves
 *   const out = await agent.sign({format: "pades", certificate: certs[0].id,
 *                                 documents: [await SinadurAgent.document(file)]});
 *
 * Your site's origin (https://...) must be listed by the administrator in the
 * agent's policy: [bridge] allowed_origins. Every signature is shown to the user,
 * who consents and types the PIN in the agent's own window: never in the page.
 */
"use strict";

class SinadurError extends Error {
	constructor(status, code, message) {
		super(message);
		this.status = status; /* HTTP status, 0 when the agent cannot be reached */
		this.code = code;     /* "SDR_ERROR_CONSENT_DENIED", ... or "UNREACHABLE" */
	}
}

class SinadurAgent {
	constructor(base) {
		this.base = (base || "http://127.0.0.1:24742").replace(/\/$/, "");
	}

	async _call(method, path, body) {
		const init = { method: method, mode: "cors", credentials: "omit", cache: "no-store" };
		if (body !== undefined) {
			/* application/json: the browser sends a CORS preflight first, as the
			 * agent requires. */
			init.headers = { "Content-Type": "application/json" };
			init.body = JSON.stringify(body);
		}
		let resp;
		try {
			resp = await fetch(this.base + path, init);
		} catch (e) {
			/* Agent not running, or this origin is not allowed (the agent
			 * answers refused origins without CORS headers). */
			throw new SinadurError(0, "UNREACHABLE", String(e));
		}
		let json = null;
		try {
			json = await resp.json();
		} catch (e) {
			json = null;
		}
		if (!resp.ok) {
			const err = (json && json.error) || {};
			throw new SinadurError(resp.status, err.code || "SDR_ERROR_FAILED",
			                       err.message || resp.statusText);
		}
		return json;
	}

	info() {
		return this._call("GET", "/v1/info");
	}

	async certificates() {
		const r = await this._call("GET", "/v1/certificates");
		return r.certificates;
	}

	/* request: {format, certificate, options, documents:[{name, type, data}]}
	 * answer: {results:[{name, status, signature?, document?, error?}], ...} */
	sign(request) {
		return this._call("POST", "/v1/sign", request);
	}

	/* Data-to-sign mode (DSS-like portals): the bytes (base64) are hashed by the
	 * agent and signed; the answer's results[0].signature is the signature value. */
	signData(certificate, dataBase64, hash) {
		return this._call("POST", "/v1/sign", { mode: "data", certificate: certificate,
		                                        hash: hash || "sha256", data: dataBase64 });
	}

	verify(documents) {
		return this._call("POST", "/v1/verify", { documents: documents });
	}

	/* Key inserted/removed and expiry warnings, as server-sent events. */
	events(onEvent) {
		const es = new EventSource(this.base + "/v1/events");
		for (const type of ["token-inserted", "token-removed", "reader-added", "reader-removed",
		                    "expiry-warning"])
			es.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
		return es;
	}

	static async base64(blob) {
		const bytes = new Uint8Array(await blob.arrayBuffer());
		let bin = "";
		for (let i = 0; i < bytes.length; i += 0x8000)
			bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
		return btoa(bin);
	}

	/* A File (from <input type=file>) or a Blob with a name, as a document. */
	static async document(blob, name) {
		return { name: name || blob.name, type: blob.type || "application/octet-stream",
		         data: await SinadurAgent.base64(blob) };
	}
}

/* ---- The demo page (portal.html) ------------------------------------------------
 * Query parameters: agent=URL of the agent; docs=comma-separated files to fetch
 * from this site; formats=pdf:pades|cades,xml:pes|xades (first that works);
 * report=URL to POST the outcome to (tests). */
async function sinadurDemo() {
	const q = new URLSearchParams(location.search);
	const out = { origin: location.origin, steps: [] };
	const show = () => {
		document.getElementById("result").textContent = JSON.stringify(out, null, 1);
	};
	const agent = new SinadurAgent(q.get("agent") || undefined);
	const formats = {};
	for (const spec of (q.get("formats") || "pdf:pades|cades,xml:pes|xades|cades").split(",")) {
		const [ext, list] = spec.split(":");
		formats[ext] = list.split("|");
	}
	try {
		out.info = await agent.info();
		const certs = await agent.certificates();
		out.certificates = certs.map((c) => ({ id: c.id, subject_cn: c.subject_cn,
		                                       usage: c.usage, expired: c.expired,
		                                       key_type: c.key_type }));
		const list = document.getElementById("certificates");
		for (const c of certs) {
			const li = document.createElement("li");
			li.textContent = c.subject_cn + " — " + c.issuer_cn + " (" + c.not_after + ")";
			list.appendChild(li);
		}
		const cert = certs.find((c) => c.usage.includes("signature") && !c.expired &&
		                                (!q.get("key") || c.key_type === q.get("key")));
		if (!cert)
			throw new SinadurError(0, "NO_CERTIFICATE", "no usable signature certificate");
		out.certificate = cert.id;
		out.results = [];
		for (const name of (q.get("docs") || "").split(",").filter((s) => s)) {
			const resp = await fetch(name, { cache: "no-store" });
			const blob = await resp.blob();
			const doc = await SinadurAgent.document(blob, name);
			const ext = name.split(".").pop().toLowerCase();
			for (const format of formats[ext] || ["cades"]) {
				const r = await agent.sign({ format: format, certificate: cert.id,
				                             documents: [doc] });
				const res = r.results[0];
				out.steps.push({ name: name, format: format, status: res.status,
				                 error: res.error ? res.error.code : null });
				if (res.status === "ok") {
					out.results.push({ name: name, format: format,
					                   signature: res.signature || null,
					                   document: res.document || null });
					break;
				}
				if (!res.error || res.error.code !== "SDR_ERROR_UNSUPPORTED")
					break;
			}
		}
		out.done = true;
	} catch (e) {
		out.error = { name: e.name, code: e.code || null, status: e.status || 0,
		              message: String(e.message) };
	}
	show();
	if (q.get("report"))
		await fetch(q.get("report"), { method: "POST", body: JSON.stringify(out) });
}
