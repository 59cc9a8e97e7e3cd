/* nexu.js - sinadur's client for web pages written for NexU (DSS portals).
 *
 * Served by sinadur-agent at GET /nexu.js when [bridge] nexu=true. Written for
 * sinadur from NexU's documented JavaScript API: the same global functions, with
 * the same arguments and callbacks, so that a page that loads NexU's script
 * (by <script src> or by fetching its text) works unchanged with sinadur.
 *
 *   nexu_get_certificates(success, error)
 *   nexu_sign_with_token_infos(tokenId, keyId, dataToSign, digestAlgo, success, error)
 *   nexu_sign(dataToSign, digestAlgo, success, error)
 *   nexu_get_identity_info(success, error)
 *
 * success(result) receives the agent's answer {success, response, feedback};
 * error(xhr) receives an object shaped like jQuery's jqXHR: status, statusText,
 * responseText and responseJSON ({success:false, error, errorMessage, feedback}).
 * This script holds no data: everything goes through /rest/* on the agent, under
 * the agent's Origin rules. */
(function (root) {
	"use strict";

	/* Where the agent listens: where this script came from, else the port the
	 * agent wrote here when it served the script (pages that fetch the script's
	 * text and insert it have no script URL). */
	var agentUrl = (function () {
		var s = typeof document !== "undefined" ? document.currentScript : null;
		if (s && s.src) {
			try {
				return new URL(s.src).origin;
			} catch (e) {
				/* fall through */
			}
		}
		return "http://127.0.0.1:@SINADUR_PORT@";
	})();

	function jqxhrLike(xhr, json) {
		return {
			readyState: xhr.readyState,
			status: xhr.status,
			statusText: xhr.statusText,
			responseText: xhr.responseText,
			responseJSON: json,
			getResponseHeader: function (name) {
				return xhr.getResponseHeader(name);
			}
		};
	}

	function post(service, body, onSuccess, onError) {
		var xhr = new XMLHttpRequest();

		function fail(json) {
			if (typeof onError === "function")
				onError.call(root, jqxhrLike(xhr, json));
		}

		xhr.open("POST", agentUrl + "/rest/" + service, true);
		xhr.setRequestHeader("Content-Type", "application/json; charset=utf-8");
		xhr.onload = function () {
			var json;

			try {
				json = JSON.parse(xhr.responseText);
			} catch (e) {
				json = undefined;
			}
			if (xhr.status >= 200 && xhr.status < 300 && json && json.success === true) {
				if (typeof onSuccess === "function")
					onSuccess.call(root, json);
			} else {
				fail(json);
			}
		};
		xhr.onerror = function () {
			fail(undefined);
		};
		xhr.send(JSON.stringify(body));
	}

	function locale() {
		return typeof navigator !== "undefined" && navigator.language ? navigator.language
		                                                              : undefined;
	}

	root.nexu_get_certificates = function (success_callback, error_callback) {
		post("certificates", { userLocale: locale() }, success_callback, error_callback);
	};

	root.nexu_sign_with_token_infos = function (tokenId, keyId, dataToSign, digestAlgo,
	                                            success_callback, error_callback) {
		post("sign", {
			userLocale: locale(),
			tokenId: { id: String(tokenId) },
			keyId: String(keyId),
			toBeSigned: { bytes: String(dataToSign) },
			digestAlgorithm: String(digestAlgo)
		}, success_callback, error_callback);
	};

	/* Without tokenId/keyId: the agent uses the certificate chosen for this site. */
	root.nexu_sign = function (dataToSign, digestAlgo, success_callback, error_callback) {
		post("sign", {
			userLocale: locale(),
			toBeSigned: { bytes: String(dataToSign) },
			digestAlgorithm: String(digestAlgo)
		}, success_callback, error_callback);
	};

	/* sinadur reads no identity cards: the agent answers with a NexU error. */
	root.nexu_get_identity_info = function (success_callback, error_callback) {
		post("identityInfo", { userLocale: locale() }, success_callback, error_callback);
	};
})(typeof window !== "undefined" ? window : this);
