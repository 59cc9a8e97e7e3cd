/* sdr-handlers-doctor.c - "doctor": what works, what does not, and what to do.
 *
 * Every check is {code, status (ok|info|warning|error), message, advice}; advice is
 * a plain sentence saying what to do (French through gettext). */
#include "sdr-deploy.h"
#include "sdr-error.h"
#include "sdr-handlers-private.h"
#include "sdr-json.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>

typedef struct {
	JsonArray *checks;
	guint problems;
} Doctor;

static void G_GNUC_PRINTF(5, 6) check(Doctor *d, const char *code, const char *status,
                                      const char *advice, const char *fmt, ...)
{
	JsonObject *o = json_object_new();
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	json_object_set_string_member(o, "code", code);
	json_object_set_string_member(o, "status", status);
	json_object_set_string_member(o, "message", msg);
	if (advice != NULL)
		json_object_set_string_member(o, "advice", advice);
	json_array_add_object_element(d->checks, o);
	if (g_str_equal(status, "warning") || g_str_equal(status, "error"))
		d->problems++;
}

static const char *
source_name(SdrModuleSource s)
{
	switch (s) {
	case SDR_MODULE_SOURCE_OPTION:
		return "option";
	case SDR_MODULE_SOURCE_CONFIG:
		return "config";
	case SDR_MODULE_SOURCE_P11KIT:
		return "p11-kit";
	case SDR_MODULE_SOURCE_KNOWN:
		return "known";
	case SDR_MODULE_SOURCE_ATR:
	default:
		return "atr";
	}
}

static void
doctor_pcsc(Doctor *d, JsonObject *out)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(GPtrArray) readers = sdr_pcsc_list_readers(&e);
	JsonObject *pcscd = json_object_new();
	JsonArray *ra = json_array_new();
	guint cards = 0;

	json_object_set_boolean_member(pcscd, "running", readers != NULL);
	json_object_set_object_member(out, "pcscd", pcscd);
	json_object_set_array_member(out, "readers", ra);
	if (readers == NULL) {
		check(d, "pcscd", "warning",
		      _("Start the smart card service: “sudo systemctl start pcscd.socket” "
		        "(package pcscd). Keys used only through their own software module may "
		        "still work."),
		      _("The smart card service (pcscd) is not running."));
		return;
	}
	check(d, "pcscd", "ok", NULL, _("The smart card service (pcscd) is running."));
	if (readers->len == 0) {
		check(d, "readers", "warning",
		      _("Plug in the USB key (or the card reader), wait a few seconds, then run "
		        "“sinadur doctor” again."),
		      _("No card reader or USB key is connected."));
		return;
	}
	for (guint i = 0; i < readers->len; i++) {
		SdrReaderInfo *r = g_ptr_array_index(readers, i);
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "name", r->name);
		json_object_set_boolean_member(o, "card_present", r->card_present);
		if (r->atr_hex != NULL)
			json_object_set_string_member(o, "atr", r->atr_hex);
		if (r->card_name != NULL)
			json_object_set_string_member(o, "card_name", r->card_name);
		if (r->module_hint != NULL)
			json_object_set_string_member(o, "module_hint", r->module_hint);
		json_array_add_object_element(ra, o);
		if (!r->card_present) {
			check(d, "reader", "info", NULL, _("Reader “%s”: no card."), r->name);
			continue;
		}
		cards++;
		if (r->card_name != NULL)
			check(d, "card", "ok", NULL, _("Reader “%s”: %s (ATR %s)."), r->name,
			      r->card_name, r->atr_hex != NULL ? r->atr_hex : "?");
		else
			check(d, "card", "info",
			      _("If this key is not found below, install the software module its "
			        "supplier provides and name it in [tokens] modules."),
			      _("Reader “%s”: a card this program does not know (ATR %s)."),
			      r->name, r->atr_hex != NULL ? r->atr_hex : "?");
		if (r->module_hint != NULL && !g_file_test(r->module_hint, G_FILE_TEST_EXISTS))
			check(d, "module_missing", "error",
			      _("Install the middleware of the key's supplier (for ChamberSign "
			        "keys: the Idopte “SCMiddleware” package), then unplug and plug "
			        "the key again."),
			      _("The card in “%s” needs the module %s, which is not installed."),
			      r->name, r->module_hint);
	}
	if (cards == 0)
		check(d, "cards", "warning",
		      _("Insert the card or plug in the USB key, then run “sinadur doctor” again."),
		      _("A reader is connected but holds no card."));
}

static void
doctor_modules(Doctor *d, SdrTokenManager *tm, JsonObject *out)
{
	GPtrArray *mods = sdr_token_manager_get_modules(tm);
	JsonArray *ma = json_array_new();
	guint loaded = 0;

	for (guint i = 0; mods != NULL && i < mods->len; i++) {
		SdrModuleInfo *m = g_ptr_array_index(mods, i);
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "path", m->path);
		if (m->name != NULL)
			json_object_set_string_member(o, "name", m->name);
		json_object_set_string_member(o, "source", source_name(m->source));
		json_object_set_boolean_member(o, "loaded", m->loaded);
		if (m->error != NULL)
			json_object_set_string_member(o, "error", m->error->message);
		json_array_add_object_element(ma, o);
		if (m->loaded) {
			loaded++;
			check(d, "module", "ok", NULL, _("Module %s loaded (%s)."), m->path,
			      m->name != NULL ? m->name : source_name(m->source));
		} else {
			check(d, "module_error", "warning",
			      _("Reinstall the key's software, or remove this module from "
			        "[tokens] modules if it is not needed."),
			      _("Module %s could not be loaded: %s"), m->path,
			      m->error != NULL ? m->error->message : "?");
		}
	}
	json_object_set_array_member(out, "modules", ma);
	if (loaded == 0)
		check(d, "modules", "error",
		      _("Install the software of your key (ChamberSign: Idopte SCMiddleware; "
		        "others: OpenSC), or name its module with --module PATH."),
		      _("No PKCS#11 module could be used: no key can be read."));
}

static void
doctor_tokens(Doctor *d, SdrTokenManager *tm, JsonObject *out)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(GPtrArray) tokens = sdr_token_manager_list_tokens(tm, &e);
	JsonArray *ta = json_array_new();

	json_object_set_array_member(out, "tokens", ta);
	if (tokens == NULL) {
		check(d, "tokens", "error", _("Unplug the key, plug it in again and retry."),
		      _("The keys could not be listed: %s"), e->message);
		return;
	}
	if (tokens->len == 0) {
		check(d, "tokens", "warning",
		      _("Plug in your USB key. If it is plugged in, its software module is "
		        "probably missing: see the modules above."),
		      _("No key (token) was found."));
		return;
	}
	for (guint i = 0; i < tokens->len; i++) {
		SdrTokenInfo *t = g_ptr_array_index(tokens, i);
		const char *label = t->label != NULL ? t->label : "?";

		json_array_add_object_element(ta, sdr_json_from_token(t));
		if (t->pin_locked)
			check(d, "pin_locked", "error",
			      _("The PIN is blocked after too many wrong tries. Unblock it with "
			        "the "
			        "PUK code (key's software) or ask your certification authority; "
			        "do not try again."),
			      _("Key “%s”: the PIN is blocked."), label);
		else if (t->pin_final_try)
			check(d, "pin_final_try", "error",
			      _("Only one PIN try is left: the next wrong PIN blocks the key. Make "
			        "sure of your PIN before signing."),
			      _("Key “%s”: last PIN try."), label);
		else if (t->pin_count_low)
			check(d, "pin_count_low", "warning",
			      _("Wrong PINs were entered: be careful, a few more will block the "
			        "key."),
			      _("Key “%s”: few PIN tries left."), label);
		else
			check(d, "token", "ok", NULL, _("Key “%s” found (%s)."), label,
			      t->manufacturer != NULL ? t->manufacturer : "?");
	}
}

static void
doctor_certs(Doctor *d, SdrContext *ctx, SdrTokenManager *tm, JsonObject *out)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(GPtrArray) certs = sdr_token_manager_list_certificates(tm, &e);
	g_autoptr(GDateTime) now = sdr_time_now();
	JsonArray *ca = json_array_new();
	gsize n_warn = 0;
	const int *warn = sdr_context_get_warn_days(ctx, &n_warn);
	int last = n_warn > 0 ? warn[n_warn - 1] : 30, first = n_warn > 0 ? warn[0] : 90;
	guint n_sign = 0, n_listed = 0;

	json_object_set_array_member(out, "certificates", ca);
	if (certs == NULL) {
		check(d, "certificates", "error", _("Unplug the key, plug it in again and retry."),
		      _("The certificates could not be read: %s"), e->message);
		return;
	}
	for (guint i = 0; i < certs->len; i++) {
		SdrCertInfo *c = g_ptr_array_index(certs, i);
		const char *who = c->subject_cn != NULL ? c->subject_cn : c->id;
		g_autofree char *until = sdr_time_format_date(c->not_after);
		g_autofree char *from = sdr_time_format_date(c->not_before);
		gint64 days = c->not_after != NULL ? sdr_time_days_left(c->not_after, now) : -1;

		if (!c->has_private_key)
			continue;
		json_array_add_object_element(ca, sdr_json_from_cert(c, now));
		n_listed++;
		if (c->usage & SDR_CERT_USAGE_SIGNATURE)
			n_sign++;
		if (c->not_after == NULL || g_date_time_compare(c->not_after, now) < 0)
			check(d, "cert_expired", "error",
			      _("This certificate can no longer sign: ask your certification "
			        "authority (e.g. ChamberSign) for a new one."),
			      _("Certificate of %s expired on %s."), who, until);
		else if (c->not_before != NULL && g_date_time_compare(c->not_before, now) > 0)
			check(d, "cert_not_yet_valid", "error",
			      _("It cannot sign before that date. Check the computer's date; if it "
			        "is right, wait or ask your certification authority."),
			      _("Certificate of %s is not yet valid (from %s)."), who, from);
		else if (days <= last)
			check(d, "cert_expiring", "error",
			      _("Order the renewal now from your certification authority: it takes "
			        "several days."),
			      _("Certificate of %s expires in %lld day(s) (on %s)."), who,
			      (long long)days, until);
		else if (days <= first)
			check(d, "cert_expiring", "warning",
			      _("Plan the renewal with your certification authority."),
			      _("Certificate of %s expires in %lld day(s) (on %s)."), who,
			      (long long)days, until);
		else
			check(d, "cert", "ok", NULL, _("Certificate of %s valid until %s."), who,
			      until);
	}
	if (n_listed != 0 && n_sign == 0)
		check(d, "no_signature_cert", "warning",
		      _("Signing needs a signature certificate (RGS** “signature”): check with "
		        "your certification authority."),
		      _("No certificate on the keys is meant for signing."));
	(void)ctx;
}

/* ---- Deployment: the administrator's policy and the browsers' policies ---------- */

/* The policy file's values that the code cannot check when it reads them. */
static void
doctor_policy_values(Doctor *d, const SdrConfig *sys, const char *policy_file)
{
	g_auto(GStrv) modules = sdr_config_get_strv(sys, "tokens", "modules");
	g_auto(GStrv) anchors = sdr_config_get_strv(sys, "signature", "trust_anchors");
	g_autofree char *tsa = sdr_config_get_string(sys, "signature", "tsa_url", NULL);
	g_autofree char *renew = sdr_config_get_string(sys, "support", "renewal_url", NULL);
	gint64 port = sdr_config_get_int(sys, "bridge", "port", 24742);
	guint bad = 0;

	if (port < 1 || port > 65535) {
		check(d, "policy_value", "error",
		      _("Set [bridge] port between 1 and 65535 (24742 by default)."),
		      _("%s: [bridge] port %lld is not a port number."), policy_file,
		      (long long)port);
		bad++;
	}
	for (gsize i = 0; modules != NULL && modules[i] != NULL; i++) {
		if (modules[i][0] != '\0' && !g_file_test(modules[i], G_FILE_TEST_EXISTS)) {
			check(d, "policy_value", "warning",
			      _("Install that module or correct the path in [tokens] modules."),
			      _("%s: the PKCS#11 module %s does not exist."), policy_file,
			      modules[i]);
			bad++;
		}
	}
	for (gsize i = 0; anchors != NULL && anchors[i] != NULL; i++) {
		if (anchors[i][0] != '\0' && !g_file_test(anchors[i], G_FILE_TEST_EXISTS)) {
			check(d, "policy_value", "warning",
			      _("Install that file or correct [signature] trust_anchors."),
			      _("%s: the trust anchor file %s does not exist."), policy_file,
			      anchors[i]);
			bad++;
		}
	}
	if (tsa != NULL && tsa[0] != '\0' && !g_str_has_prefix(tsa, "http://") &&
	    !g_str_has_prefix(tsa, "https://")) {
		check(d, "policy_value", "error", _("Give an http:// or https:// address."),
		      _("%s: [signature] tsa_url “%s” is not a web address."), policy_file, tsa);
		bad++;
	}
	if (renew != NULL && renew[0] != '\0' && !g_str_has_prefix(renew, "https://")) {
		check(d, "policy_value", "warning",
		      _("Give an https:// address: other links are not shown."),
		      _("%s: [support] renewal_url “%s” is not an https:// address."), policy_file,
		      renew);
		bad++;
	}
	if (bad == 0)
		check(d, "policy", "ok", NULL, _("Administrator policy %s read and valid."),
		      policy_file);
}

static void
doctor_browser_policies(Doctor *d, const SdrConfig *sys, JsonObject *out)
{
	g_autoptr(GError) e = NULL;
	const char *root = g_getenv("SINADUR_DEPLOY_ROOT");
	g_autoptr(GPtrArray) items = sdr_deploy_browsers_check(sys, root, &e);
	JsonArray *a = json_array_new();
	const char *fix = _("As root, run “sinadur deploy browsers” (the package does it when "
	                    "installed or upgraded; run it again after editing the policy).");

	json_object_set_array_member(out, "browser_policies", a);
	if (items == NULL) {
		check(d, "policy_origins", "error",
		      _("Correct [bridge] allowed_origins in the policy, then run “sinadur deploy "
		        "browsers” as root."),
		      "%s", e->message);
		return;
	}
	for (guint i = 0; i < items->len; i++) {
		SdrDeployItem *it = g_ptr_array_index(items, i);
		const char *name = sdr_deploy_browser_name(it->browser);
		JsonObject *o = json_object_new();
		static const char *const states[] = { "ok",   "missing",  "stale",
			                              "none", "leftover", "invalid" };

		json_object_set_string_member(o, "browser", name);
		json_object_set_string_member(o, "path", it->path);
		json_object_set_string_member(o, "state", states[it->state]);
		json_array_add_object_element(a, o);
		switch (it->state) {
		case SDR_DEPLOY_STATE_OK:
			check(d, "browser_policy", "ok", NULL,
			      _("%s: the browser policy %s matches the administrator policy."),
			      name, it->path);
			break;
		case SDR_DEPLOY_STATE_NONE:
			check(d, "browser_policy", "info", NULL,
			      _("%s: no portal is allowed, no browser policy is needed."), name);
			break;
		case SDR_DEPLOY_STATE_MISSING:
			if (it->browser == SDR_DEPLOY_FIREFOX) {
				check(d, "browser_policy", "warning", fix,
				      _("%s: the key is not registered in %s: logging in to a site "
				        "with the key (S2LOW) will not work."),
				      name, it->path);
				break;
			}
			check(d, "browser_policy", "warning", fix,
			      _("%s: the browser policy %s is missing: the portals may not reach "
			        "sinadur."),
			      name, it->path);
			break;
		case SDR_DEPLOY_STATE_STALE:
		case SDR_DEPLOY_STATE_LEFTOVER:
			check(d, "browser_policy", "warning", fix,
			      _("%s: the browser policy %s does not match the administrator "
			        "policy."),
			      name, it->path);
			break;
		case SDR_DEPLOY_STATE_INVALID:
		default:
			check(d, "browser_policy", "error",
			      _("Fix or remove this file (it is not JSON), then run “sinadur "
			        "deploy "
			        "browsers” as root."),
			      _("%s: the browser policy %s cannot be read."), name, it->path);
			break;
		}
	}
}

/* Only when an administrator policy exists: personal installations have none. */
static void
doctor_deployment(Doctor *d, JsonObject *out)
{
	g_autofree char *policy_file =
	        g_build_filename(sdr_config_sysconfdir(), "policy.conf", NULL);
	g_autoptr(GError) e = NULL;
	g_autoptr(SdrConfig) sys = NULL;
	g_autofree char *support = NULL;
	g_autofree char *renew = NULL;
	JsonObject *dep = json_object_new();

	json_object_set_object_member(out, "deployment", dep);
	json_object_set_string_member(dep, "policy_file", policy_file);
	json_object_set_boolean_member(dep, "policy_present",
	                               g_file_test(policy_file, G_FILE_TEST_EXISTS));
	if (!g_file_test(policy_file, G_FILE_TEST_EXISTS)) {
		check(d, "policy", "info", NULL,
		      _("No administrator policy (%s): settings are the user's own."), policy_file);
		return;
	}
	sys = sdr_deploy_load_system_config(NULL, &e);
	if (sys == NULL) {
		check(d, "policy", "error",
		      _("Correct the file (the message gives the line), then run “sinadur "
		        "doctor” again."),
		      "%s", e->message);
		return;
	}
	doctor_policy_values(d, sys, policy_file);
	doctor_browser_policies(d, sys, dep);
	support = sdr_config_get_string(sys, "support", "text", NULL);
	renew = sdr_config_get_string(sys, "support", "renewal_url", NULL);
	if (support != NULL && support[0] != '\0') {
		json_object_set_string_member(dep, "support", support);
		check(d, "support", "info", NULL, _("Support: %s"), support);
	}
	if (renew != NULL && g_str_has_prefix(renew, "https://")) {
		json_object_set_string_member(dep, "renewal_url", renew);
		check(d, "support", "info", NULL, _("Certificate renewal: %s"), renew);
	}
}

/* The trusted lists' cache (sdr-tl-cache.h): missing, not trusted, past NextUpdate. */
static void
doctor_trusted_lists(Doctor *d, SdrContext *ctx, JsonObject *out)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(SdrTlCacheConfig) cc = sdr_handlers_tl_cache_config(ctx, &e);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	JsonObject *st;
	JsonArray *lists, *missing;
	guint bad = 0, stale = 0, n;

	if (cc == NULL) {
		check(d, "trusted_lists", "error", _("Correct the [trust] section of the policy."),
		      "%s", e->message);
		return;
	}
	if (!sdr_tl_cache_configured(cc)) {
		check(d, "trusted_lists", "info", NULL,
		      _("Trusted lists (eIDAS) are not configured: signatures are checked "
		        "against the trust anchors only."));
		return;
	}
	st = sdr_tl_cache_status(cc, now);
	json_object_set_object_member(out, "trusted_lists", st);
	lists = json_object_get_array_member(st, "lists");
	missing = json_object_get_array_member(st, "missing");
	n = json_array_get_length(lists);
	for (guint i = 0; i < n; i++) {
		JsonObject *l = json_array_get_object_element(lists, i);

		if (sdr_json_get_bool(l, "stale", FALSE))
			stale++;
		else if (g_strcmp0(sdr_json_get_string(l, "status", NULL), "trusted") != 0)
			bad++;
	}
	if (n == 0) {
		check(d, "trusted_lists", "warning",
		      _("Run “sinadur trust update” (the agent does it by itself when it runs)."),
		      _("The trusted lists cache is empty: qualified status cannot be shown."));
	} else if (stale > 0) {
		check(d, "trusted_lists", "warning",
		      _("Run “sinadur trust update”; if it fails, check the network or the proxy."),
		      _("%u trusted list(s) of the cache are past their next update: they are not "
		        "used."),
		      stale);
	} else if (bad > 0) {
		check(d, "trusted_lists", "warning",
		      _("Run “sinadur trust update”; check [trust] lotl_signer_certs."),
		      _("%u trusted list(s) of the cache do not verify: they are not used."), bad);
	} else if (json_array_get_length(missing) > 0) {
		check(d, "trusted_lists", "warning", _("Run “sinadur trust update”."),
		      _("The trusted list of %s is not in the cache."),
		      json_array_get_string_element(missing, 0));
	} else {
		check(d, "trusted_lists", "ok", NULL,
		      _("%u trusted lists in the cache, all current."), n);
	}
}

/* The key in the user's NSS databases (Chromium/Chrome TLS login), when asked. */
static void
doctor_nss(Doctor *d, const SdrConfig *config, JsonObject *out)
{
	gboolean enabled = sdr_deploy_nss_enabled(config);
	g_autoptr(GPtrArray) items = NULL;
	JsonObject *o = json_object_new();
	JsonArray *a = json_array_new();
	static const char *const states[] = { "added", "present", "other", "removed", "absent" };

	json_object_set_object_member(out, "nss", o);
	json_object_set_boolean_member(o, "nss_register", enabled);
	json_object_set_boolean_member(o, "locked",
	                               sdr_config_is_locked(config, "browsers", "nss_register"));
	json_object_set_array_member(o, "databases", a);
	if (!enabled)
		return;
	items = sdr_deploy_nss_check();
	for (guint i = 0; i < items->len; i++) {
		const SdrNssItem *it = g_ptr_array_index(items, i);
		JsonObject *e = json_object_new();

		json_object_set_string_member(e, "database", it->dbdir);
		json_object_set_string_member(e, "state", states[it->state]);
		json_array_add_object_element(a, e);
		if (it->state == SDR_NSS_ABSENT)
			check(d, "nss", "warning",
			      _("Run “sinadur deploy nss” (the agent does it when it starts), then "
			        "restart the browser."),
			      _("Chromium and Chrome: the key is not registered in %s: logging in "
			        "to a site with the key will not work there."),
			      it->dbdir);
		else
			check(d, "nss", "ok", NULL,
			      _("Chromium and Chrome: the key is registered in %s."), it->dbdir);
	}
}

JsonNode *
sdr_handle_doctor(SdrContext *ctx, JsonObject *request, GError **error)
{
	Doctor d = { 0 };
	JsonObject *out = json_object_new();
	g_autoptr(GError) e = NULL;
	SdrTokenManager *tm;

	d.checks = json_array_new();
	doctor_pcsc(&d, out);
	tm = sdr_context_get_token_manager(ctx, &e);
	if (tm == NULL) {
		check(&d, "modules", "error",
		      _("Check the path given with --module, or install the key's software."),
		      _("No PKCS#11 module could be used: %s"), e->message);
		json_object_set_array_member(out, "modules", json_array_new());
		json_object_set_array_member(out, "tokens", json_array_new());
		json_object_set_array_member(out, "certificates", json_array_new());
	} else {
		doctor_modules(&d, tm, out);
		doctor_tokens(&d, tm, out);
		doctor_certs(&d, ctx, tm, out);
	}
	doctor_deployment(&d, out);
	doctor_trusted_lists(&d, ctx, out);
	doctor_nss(&d, sdr_context_get_config(ctx), out);
	json_object_set_array_member(out, "checks", d.checks);
	json_object_set_int_member(out, "problems", d.problems);
	return sdr_json_node_take(out);
}
