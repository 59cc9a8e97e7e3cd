/* sdr-gui-logic.c - the GUI's decisions as plain functions (see sdr-gui-logic.h). */
#include "sdr-gui-logic.h"

#include "sdr-file.h"
#include "sdr-gui-text.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Certificate validity ------------------------------------------------------ */

SdrGuiValidity
sdr_gui_validity(gint64 days_left, gboolean expired, GDateTime *not_before, GDateTime *now)
{
	if (not_before != NULL && now != NULL && g_date_time_compare(not_before, now) > 0)
		return SDR_GUI_VALIDITY_NOT_YET;
	if (expired || days_left < 0)
		return SDR_GUI_VALIDITY_EXPIRED;
	if (days_left <= SDR_GUI_CRITICAL_DAYS)
		return SDR_GUI_VALIDITY_CRITICAL;
	if (days_left <= SDR_GUI_WARNING_DAYS)
		return SDR_GUI_VALIDITY_WARNING;
	return SDR_GUI_VALIDITY_OK;
}

double
sdr_gui_validity_fraction(GDateTime *not_before, GDateTime *not_after, GDateTime *now)
{
	GTimeSpan total, left;

	if (not_before == NULL || not_after == NULL || now == NULL)
		return 0.0;
	total = g_date_time_difference(not_after, not_before);
	left = g_date_time_difference(not_after, now);
	if (total <= 0 || left <= 0)
		return 0.0;
	if (left >= total)
		return 1.0;
	return (double)left / (double)total;
}

const char *
sdr_gui_validity_css_class(SdrGuiValidity validity)
{
	switch (validity) {
	case SDR_GUI_VALIDITY_OK:
		return "sdr-ok";
	case SDR_GUI_VALIDITY_WARNING:
	case SDR_GUI_VALIDITY_NOT_YET: /* cannot be used yet, nothing is lost */
		return "sdr-warning";
	case SDR_GUI_VALIDITY_CRITICAL:
	case SDR_GUI_VALIDITY_EXPIRED:
	default:
		return "sdr-critical";
	}
}

char *
sdr_gui_validity_text(SdrGuiValidity validity, gint64 days_left)
{
	switch (validity) {
	case SDR_GUI_VALIDITY_NOT_YET:
		return g_strdup(_("Not yet valid"));
	case SDR_GUI_VALIDITY_EXPIRED:
		if (days_left >= 0)
			return g_strdup(_("Expired"));
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Expired %d day ago",
		                                   "Expired %d days ago", (gulong)-days_left),
		                       (int)-days_left);
	case SDR_GUI_VALIDITY_OK:
	case SDR_GUI_VALIDITY_WARNING:
	case SDR_GUI_VALIDITY_CRITICAL:
	default:
		if (days_left == 0)
			return g_strdup(_("Expires today"));
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Expires in %d day",
		                                   "Expires in %d days", (gulong)days_left),
		                       (int)days_left);
	}
}

/* ---- PIN dialog ------------------------------------------------------------------ */

void
sdr_gui_pin_text(const SdrPinPromptRequest *request, const char *label, const char *holder,
                 gboolean protected_path, SdrGuiPinText *out)
{
	memset(out, 0, sizeof *out);
	out->show_entry = !protected_path;
	out->title = g_strdup(_("PIN code of the key"));
	if (protected_path) {
		out->message = g_strdup(_("Type your PIN code in the window of the reader or of "
		                          "the key’s software."));
		return;
	}
	if (holder != NULL && label != NULL)
		out->message = g_strdup_printf(_("Type the PIN code of the key %s to sign as %s."),
		                               label, holder);
	else if (label != NULL)
		out->message = g_strdup_printf(_("Type the PIN code of the key %s."), label);
	else
		out->message = g_strdup(_("Type the PIN code of your key."));
	if (request == NULL)
		return;
	out->hint = sdr_gui_pin_length_hint(request->min_len, request->max_len);
	if (request->rejected != NULL)
		out->rejected = sdr_gui_sanitize(request->rejected, 400);
	if (request->final_try) {
		out->warning = g_strdup(_("Last try: a wrong PIN code will block the key for "
		                          "good. Check your code before typing it."));
		out->danger = TRUE;
		out->needs_confirmation = TRUE;
	} else if (request->count_low) {
		out->warning = g_strdup(request->previous_incorrect
		                                ? _("Incorrect PIN code. Few tries are left "
		                                    "before the key is blocked.")
		                                : _("Few tries are left before the key is "
		                                    "blocked: type your PIN code with care."));
	} else if (request->previous_incorrect) {
		out->warning = g_strdup(_("Incorrect PIN code. Try again."));
	}
}

void
sdr_gui_pin_text_clear(SdrGuiPinText *text)
{
	g_clear_pointer(&text->title, g_free);
	g_clear_pointer(&text->message, g_free);
	g_clear_pointer(&text->warning, g_free);
	g_clear_pointer(&text->rejected, g_free);
	g_clear_pointer(&text->hint, g_free);
}

char *
sdr_gui_pin_length_hint(gulong min_len, gulong max_len)
{
	if (min_len > 0 && max_len > 0 && min_len == max_len)
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
		                                   "The PIN code has %lu character.",
		                                   "The PIN code has %lu characters.", min_len),
		                       min_len);
	if (min_len > 0 && max_len > 0)
		return g_strdup_printf(_("The PIN code has %lu to %lu characters."), min_len,
		                       max_len);
	if (min_len > 0)
		return g_strdup_printf(
		        g_dngettext(GETTEXT_PACKAGE, "The PIN code has at least %lu character.",
		                    "The PIN code has at least %lu characters.", min_len),
		        min_len);
	if (max_len > 0)
		return g_strdup_printf(
		        g_dngettext(GETTEXT_PACKAGE, "The PIN code has at most %lu character.",
		                    "The PIN code has at most %lu characters.", max_len),
		        max_len);
	return NULL;
}

gboolean
sdr_gui_pin_entry_enabled(const SdrGuiPinText *text, gboolean confirmed)
{
	return text->show_entry && (!text->needs_confirmation || confirmed);
}

gboolean
sdr_gui_pin_can_submit(const SdrGuiPinText *text, gboolean confirmed, gsize len, gsize min_len,
                       gsize max_len)
{
	if (!sdr_gui_pin_entry_enabled(text, confirmed) || len == 0)
		return FALSE;
	if (min_len > 0 && len < min_len)
		return FALSE;
	if (max_len > 0 && len > max_len)
		return FALSE;
	return TRUE;
}

const char *
sdr_gui_locked_advice(void)
{
	return _("The key is blocked: no PIN code can be tried any more. Contact your "
	         "certificate provider or your administrator to unblock it with the PUK code "
	         "(or to order a new certificate).");
}

gboolean
sdr_gui_choice_days_left(const char *not_after, GDateTime *now, gint64 *days_left)
{
	int d = 0, m = 0, y = 0;
	char tail = 0;
	g_autoptr(GDateTime) end = NULL;

	if (not_after == NULL || now == NULL)
		return FALSE;
	if (sscanf(not_after, "%2d/%2d/%4d%c", &d, &m, &y, &tail) != 3 &&
	    sscanf(not_after, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return FALSE;
	if (!g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
		return FALSE;
	/* Noon local time: the calendar day stays the one written. */
	end = g_date_time_new_local(y, m, d, 12, 0, 0);
	if (end == NULL)
		return FALSE;
	*days_left = sdr_time_days_left(end, now);
	return TRUE;
}

/* ---- Expiry notifications -------------------------------------------------------- */

static int
cmp_int_desc(gconstpointer a, gconstpointer b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x < y) - (x > y);
}

gsize
sdr_gui_parse_warn_days(char **values, int *out, gsize max)
{
	static const int defaults[] = { 90, 30, 7, 1 };
	gsize n = 0;

	for (gsize i = 0; values != NULL && values[i] != NULL && n < max; i++) {
		g_autofree char *v = g_strstrip(g_strdup(values[i]));
		gint64 d = 0;
		gboolean dup = FALSE;

		if (!g_ascii_string_to_signed(v, 10, 0, 3650, &d, NULL))
			continue;
		for (gsize k = 0; k < n; k++)
			dup = dup || out[k] == (int)d;
		if (!dup)
			out[n++] = (int)d;
	}
	if (n == 0) {
		for (gsize i = 0; i < G_N_ELEMENTS(defaults) && n < max; i++)
			out[n++] = defaults[i];
	}
	qsort(out, n, sizeof(int), cmp_int_desc);
	return n;
}

struct _SdrGuiExpiryMemory {
	char *path;
	GKeyFile *kf;
};

#define MEMORY_GROUP "announced"

SdrGuiExpiryMemory *
sdr_gui_expiry_memory_load(const char *path)
{
	SdrGuiExpiryMemory *m = g_new0(SdrGuiExpiryMemory, 1);

	m->path = g_strdup(path);
	m->kf = g_key_file_new();
	if (path != NULL)
		(void)g_key_file_load_from_file(m->kf, path, G_KEY_FILE_NONE, NULL);
	return m;
}

void
sdr_gui_expiry_memory_free(SdrGuiExpiryMemory *memory)
{
	if (memory == NULL)
		return;
	g_key_file_free(memory->kf);
	g_free(memory->path);
	g_free(memory);
}

static gboolean
announced(int *list, gsize n, int threshold)
{
	for (gsize i = 0; i < n; i++) {
		if (list[i] == threshold)
			return TRUE;
	}
	return FALSE;
}

int
sdr_gui_expiry_memory_check(SdrGuiExpiryMemory *memory, const char *cert_key, gint64 days_left,
                            const int *warn_days, gsize n_warn_days)
{
	gsize n_old = 0;
	g_autofree int *old = NULL;
	g_autoptr(GArray) now = g_array_new(FALSE, FALSE, sizeof(int));
	int smallest = -1;

	if (cert_key == NULL || n_warn_days == 0)
		return -1;
	old = g_key_file_get_integer_list(memory->kf, MEMORY_GROUP, cert_key, &n_old, NULL);
	for (gsize i = 0; i < n_old; i++)
		g_array_append_val(now, old[i]);
	for (gsize i = 0; i < n_warn_days; i++) {
		if (days_left > warn_days[i])
			continue;
		if (smallest < 0 || warn_days[i] < smallest)
			smallest = warn_days[i];
		if (!announced((int *)(void *)now->data, now->len, warn_days[i]))
			g_array_append_val(now, warn_days[i]);
	}
	if (smallest < 0 || announced(old, n_old, smallest))
		return -1;
	g_key_file_set_integer_list(memory->kf, MEMORY_GROUP, cert_key, (int *)(void *)now->data,
	                            now->len);
	return smallest;
}

gboolean
sdr_gui_expiry_memory_save(SdrGuiExpiryMemory *memory, GError **error)
{
	gsize len = 0;
	g_autofree char *data = g_key_file_to_data(memory->kf, &len, NULL);
	g_autofree char *dir = NULL;

	if (memory->path == NULL)
		return TRUE;
	dir = g_path_get_dirname(memory->path);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
		            _("Cannot create %s"), dir);
		return FALSE;
	}
	return sdr_file_write_atomic(memory->path, data, len, error);
}

char *
sdr_gui_cert_key(const char *issuer_dn, const char *serial)
{
	g_autofree char *both = g_strdup_printf("%s\n%s", issuer_dn != NULL ? issuer_dn : "",
	                                        serial != NULL ? serial : "");
	char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, both, -1);

	sum[16] = '\0';
	return sum;
}

/* ---- Tray ------------------------------------------------------------------------ */

SdrGuiTrayState
sdr_gui_tray_state(gboolean busy, guint n_certs, gint64 min_days_left, gboolean any_expired)
{
	if (busy)
		return SDR_GUI_TRAY_BUSY;
	if (n_certs == 0)
		return SDR_GUI_TRAY_NO_KEY;
	if (any_expired || min_days_left < 0)
		return SDR_GUI_TRAY_EXPIRED;
	if (min_days_left <= SDR_GUI_WARNING_DAYS)
		return SDR_GUI_TRAY_EXPIRING;
	return SDR_GUI_TRAY_KEY;
}

const char *
sdr_gui_tray_icon_name(SdrGuiTrayState state)
{
	switch (state) {
	case SDR_GUI_TRAY_KEY:
		return "sinadur-key";
	case SDR_GUI_TRAY_EXPIRING:
		return "sinadur-key-expiring";
	case SDR_GUI_TRAY_EXPIRED:
		return "sinadur-key-expired";
	case SDR_GUI_TRAY_BUSY:
		return "sinadur-busy";
	case SDR_GUI_TRAY_NO_KEY:
	default:
		return "sinadur-no-key";
	}
}

char *
sdr_gui_tray_title(SdrGuiTrayState state, const char *holder, gint64 days_left)
{
	switch (state) {
	case SDR_GUI_TRAY_NO_KEY:
		return g_strdup(_("sinadur — no key"));
	case SDR_GUI_TRAY_BUSY:
		return g_strdup(_("sinadur — signing…"));
	case SDR_GUI_TRAY_EXPIRED:
		return g_strdup_printf(_("sinadur — %s, certificate expired"),
		                       holder != NULL ? holder : "?");
	case SDR_GUI_TRAY_KEY:
	case SDR_GUI_TRAY_EXPIRING:
	default:
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "sinadur — %s, %d day left",
		                                   "sinadur — %s, %d days left", (gulong)days_left),
		                       holder != NULL ? holder : "?", (int)days_left);
	}
}

/* ---- Texts ---------------------------------------------------------------------- */

char *
sdr_gui_origin_display(const char *origin)
{
	g_autoptr(GUri) uri = NULL;
	const char *scheme, *host;
	int port;

	if (origin == NULL || *origin == '\0')
		return NULL;
	uri = g_uri_parse(origin, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL)
		return NULL;
	scheme = g_uri_get_scheme(uri);
	host = g_uri_get_host(uri);
	port = g_uri_get_port(uri);
	if (scheme == NULL || host == NULL || *host == '\0')
		return NULL;
	if (port > 0)
		return g_strdup_printf("%s://%s%s%s:%d", scheme, strchr(host, ':') ? "[" : "", host,
		                       strchr(host, ':') ? "]" : "", port);
	return g_strdup_printf("%s://%s%s%s", scheme, strchr(host, ':') ? "[" : "", host,
	                       strchr(host, ':') ? "]" : "");
}

const char *
sdr_gui_usage_label(const char *usage)
{
	if (g_strcmp0(usage, "signature") == 0)
		return _("signature");
	if (g_strcmp0(usage, "authentication") == 0)
		return _("authentication");
	if (g_strcmp0(usage, "encryption") == 0)
		return _("encryption");
	return usage;
}

static const SdrGuiPurpose purposes[] = {
	{ "actes", N_("Deed for the prefecture (ACTES)"), FALSE },
	{ "pes", N_("PES accounting flow (Treasury)"), FALSE },
	{ "marche", N_("Public procurement document"), FALSE },
	{ "pades", N_("Signed PDF (PAdES)"), TRUE },
	{ "xades", N_("Detached XML signature (XAdES)"), FALSE },
	{ "cades", N_("Detached signature (CAdES)"), FALSE },
	{ NULL, NULL, FALSE },
};

const SdrGuiPurpose *
sdr_gui_purposes(void)
{
	return purposes;
}

const char *
sdr_gui_format_label(const char *format)
{
	for (const SdrGuiPurpose *p = purposes; p->format != NULL; p++) {
		if (g_strcmp0(p->format, format) == 0)
			return _(p->label);
	}
	return format;
}

char *
sdr_gui_detached_content(const char *signature_path)
{
	static const char *const suffixes[] = { ".p7s", ".sig", ".p7m" };
	g_autofree char *candidate = NULL;
	const char *mark;

	if (signature_path == NULL)
		return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(suffixes) && candidate == NULL; i++) {
		if (g_str_has_suffix(signature_path, suffixes[i]))
			candidate = g_strndup(signature_path,
			                      strlen(signature_path) - strlen(suffixes[i]));
	}
	mark = g_strrstr(signature_path, " - Signature ");
	if (candidate == NULL && mark != NULL && g_str_has_suffix(signature_path, ".xml"))
		candidate = g_strndup(signature_path, (gsize)(mark - signature_path));
	if (candidate == NULL || !g_file_test(candidate, G_FILE_TEST_IS_REGULAR))
		return NULL;
	return g_steal_pointer(&candidate);
}

static gboolean
named_as_signature(const char *path)
{
	const char *mark = path != NULL ? g_strrstr(path, " - Signature ") : NULL;

	if (path == NULL)
		return FALSE;
	return g_str_has_suffix(path, ".p7s") || g_str_has_suffix(path, ".sig") ||
	       g_str_has_suffix(path, ".p7m") || (mark != NULL && g_str_has_suffix(path, ".xml"));
}

int
sdr_gui_verify_pair(const char *a, const char *b)
{
	gboolean sa = named_as_signature(a), sb = named_as_signature(b);

	if (a == NULL || b == NULL || sa == sb)
		return -1;
	return sa ? 0 : 1;
}

GPtrArray *
sdr_gui_dropped_paths(char **uris, guint max)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; uris != NULL && uris[i] != NULL && out->len < max; i++) {
		char *path = g_str_has_prefix(uris[i], "file://")
		                     ? g_filename_from_uri(uris[i], NULL, NULL)
		                     : NULL;

		if (path != NULL && g_file_test(path, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(out, path);
		else
			g_free(path);
	}
	return out;
}

/* ---- S²LOW sends ------------------------------------------------------------------ */

gboolean
sdr_gui_s2low_notice(const SdrGuiS2lowSend *send, char **title, char **body)
{
	gboolean pes = g_strcmp0(send->kind, "pes") == 0;
	g_autofree char *number = sdr_gui_outside_text(send->number, 40);
	g_autofree char *label = sdr_gui_sanitize(send->status_label, 80); /* ours */
	g_autofree char *message = sdr_gui_outside_text(send->message, 200);
	g_autofree char *what = NULL;
	g_autofree char *text = NULL;
	gboolean urgent = FALSE;

	if (pes)
		what = g_strdup_printf(_("PES, send %lld"), (long long)send->id);
	else if (number != NULL && *number != '\0')
		what = g_strdup_printf(_("Act %s, send %lld"), number, (long long)send->id);
	else
		what = g_strdup_printf(_("Act, send %lld"), (long long)send->id);
	if (g_strcmp0(send->state, "failed") == 0) {
		*title = g_strdup(_("Send refused by S²LOW"));
		text = g_strdup_printf(_("%s: refused by S²LOW, nothing was received."), what);
		urgent = TRUE;
	} else if (g_strcmp0(send->state, "to_reconcile") == 0) {
		*title = g_strdup(_("Send already received by S²LOW"));
		text = g_strdup_printf(_("%s: already received by S²LOW, to reconcile (see "
		                         "“sinadur status”)."),
		                       what);
	} else {
		*title = g_strdup(pes ? _("PES: answer of the Treasury")
		                      : _("Act: answer of the prefecture"));
		text = g_strdup_printf(_("%s: %s."), what,
		                       label != NULL && *label != '\0' ? label : "?");
		urgent = send->has_status && (send->status == -1 || send->status == 6);
	}
	if (message != NULL && *message != '\0')
		*body = g_strdup_printf("%s\n%s", text, message);
	else
		*body = g_steal_pointer(&text);
	return urgent;
}

/* ---- Batch of signatures ----------------------------------------------------------- */

/* Why a document the batch did not reach was not signed, from what stopped it. */
static const char *
stop_reason(const char *stop_code)
{
	if (g_strcmp0(stop_code, "SDR_ERROR_CANCELLED") == 0)
		return _("you cancelled the signature before this document");
	if (g_strcmp0(stop_code, "SDR_ERROR_CARD_REMOVED") == 0 ||
	    g_strcmp0(stop_code, "SDR_ERROR_NO_CARD") == 0)
		return _("the key was removed before this document");
	if (g_strcmp0(stop_code, "SDR_ERROR_PIN_LOCKED") == 0)
		return _("the key is locked");
	return _("the signature stopped before this document");
}

/* A document's own error in plain words; the core's message (French already)
 * says more and follows it. */
static const char *
error_words(const char *code)
{
	if (g_strcmp0(code, "SDR_ERROR_ALREADY_SIGNED") == 0)
		return _("already signed");
	if (g_strcmp0(code, "SDR_ERROR_IO") == 0)
		return _("the file cannot be read or written");
	if (g_strcmp0(code, "SDR_ERROR_PARSE") == 0 || g_strcmp0(code, "SDR_ERROR_PROFILE") == 0)
		return _("the document is not in the expected form");
	if (g_strcmp0(code, "SDR_ERROR_TOO_LARGE") == 0)
		return _("the document is too large");
	if (g_strcmp0(code, "SDR_ERROR_CARD_REMOVED") == 0)
		return _("the key was removed during the signature");
	if (g_strcmp0(code, "SDR_ERROR_NETWORK") == 0)
		return _("a service on the network did not answer");
	return _("not signed");
}

char *
sdr_gui_sign_result_line(const SdrGuiSignResult *r, const char *stop_code)
{
	const char *name = r->name != NULL ? r->name : "?";
	g_autofree char *out = r->output != NULL ? g_path_get_basename(r->output) : NULL;
	g_autofree char *out_shown = sdr_gui_outside_text(out, 100);
	g_autofree char *message = sdr_gui_sanitize(r->message, 300);

	if (g_strcmp0(r->status, "ok") == 0)
		return out_shown != NULL ? g_strdup_printf(_("✔ %s: signed (%s)"), name, out_shown)
		                         : g_strdup_printf(_("✔ %s: signed"), name);
	if (g_strcmp0(r->status, "skipped") == 0)
		return out_shown != NULL
		               ? g_strdup_printf(_("• %s: already signed (%s), left as it is"),
		                                 name, out_shown)
		               : g_strdup_printf(_("• %s: already signed, left as it is"), name);
	if (g_strcmp0(r->status, "not_signed") == 0)
		return g_strdup_printf(_("✘ %s: not signed — %s"), name, stop_reason(stop_code));
	if (message != NULL && *message != '\0')
		return g_strdup_printf(_("✘ %s: %s — %s"), name, error_words(r->code), message);
	return g_strdup_printf(_("✘ %s: %s"), name, error_words(r->code));
}

char *
sdr_gui_sign_summary(guint n_ok, guint n_failed, guint n_skipped, guint n_not_signed,
                     const char *stop_code)
{
	guint total = n_ok + n_failed + n_skipped + n_not_signed;
	GString *s = g_string_new(NULL);

	g_string_append_printf(s,
	                       g_dngettext(GETTEXT_PACKAGE, "%u document signed of %u.",
	                                   "%u documents signed of %u.", n_ok),
	                       n_ok, total);
	if (n_skipped > 0) {
		g_autofree char *f =
		        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u was already signed.",
		                                    "%u were already signed.", n_skipped),
		                        n_skipped);
		g_string_append_printf(s, " %s", f);
	}
	if (n_failed > 0) {
		g_autofree char *f =
		        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u could not be signed.",
		                                    "%u could not be signed.", n_failed),
		                        n_failed);
		g_string_append_printf(s, " %s", f);
	}
	if (n_not_signed > 0) {
		g_autofree char *f = g_strdup_printf(
		        g_strcmp0(stop_code, "SDR_ERROR_CANCELLED") == 0
		                ? g_dngettext(GETTEXT_PACKAGE,
		                              "Signature cancelled: %u document was not signed "
		                              "(the signed ones are complete).",
		                              "Signature cancelled: %u documents were not signed "
		                              "(the signed ones are complete).",
		                              n_not_signed)
		                : g_dngettext(
		                          GETTEXT_PACKAGE,
		                          "The signature stopped: %u document was not signed.",
		                          "The signature stopped: %u documents were not signed.",
		                          n_not_signed),
		        n_not_signed);
		g_string_append_printf(s, " %s", f);
	}
	return g_string_free(s, FALSE);
}

double
sdr_gui_progress_fraction(guint done, guint total)
{
	if (total == 0)
		return 0.0;
	return CLAMP((double)done / (double)total, 0.0, 1.0);
}

char *
sdr_gui_progress_text(guint done, guint total)
{
	return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u document signed of %u",
	                                   "%u documents signed of %u", done),
	                       done, total);
}

/* ---- Visible stamp on a PDF page ------------------------------------------------- */

void
sdr_gui_stamp_clamp(const SdrGuiPage *page, double shown[4])
{
	shown[2] = CLAMP(shown[2], MIN(SDR_GUI_STAMP_MIN_W, page->width), page->width);
	shown[3] = CLAMP(shown[3], MIN(SDR_GUI_STAMP_MIN_H, page->height), page->height);
	shown[0] = CLAMP(shown[0], 0.0, page->width - shown[2]);
	shown[1] = CLAMP(shown[1], 0.0, page->height - shown[3]);
}

/* A displayed rectangle (lower-left origin) back on the unrotated page, relative to
 * the crop box: the inverse of the rotation by page->rotate degrees clockwise. */
static void
unrotate(const SdrGuiPage *page, const double s[4], double r[4])
{
	double w = page->width, h = page->height;

	switch (page->rotate) {
	case 90:
		r[0] = h - s[1] - s[3];
		r[1] = s[0];
		r[2] = s[3];
		r[3] = s[2];
		break;
	case 180:
		r[0] = w - s[0] - s[2];
		r[1] = h - s[1] - s[3];
		r[2] = s[2];
		r[3] = s[3];
		break;
	case 270:
		r[0] = s[1];
		r[1] = w - s[0] - s[2];
		r[2] = s[3];
		r[3] = s[2];
		break;
	default:
		memcpy(r, s, 4 * sizeof(double));
		break;
	}
}

void
sdr_gui_stamp_to_user(const SdrGuiPage *page, const double shown[4], double user[4])
{
	unrotate(page, shown, user);
	user[0] += page->crop_x;
	user[1] += page->crop_y;
}

int
sdr_gui_rotation_fit(double width, double height, const double unrotated[4],
                     const double shown_rect[4])
{
	static const int rotations[] = { 0, 90, 180, 270 };
	double s[4] = { shown_rect[0], shown_rect[1], shown_rect[2] - shown_rect[0],
		        shown_rect[3] - shown_rect[1] };

	for (gsize i = 0; i < G_N_ELEMENTS(rotations); i++) {
		SdrGuiPage page = { width, height, 0, 0, rotations[i] };
		double r[4];

		unrotate(&page, s, r);
		if (ABS(r[0] - unrotated[0]) < 0.5 && ABS(r[1] - unrotated[1]) < 0.5 &&
		    ABS(r[0] + r[2] - unrotated[2]) < 0.5 && ABS(r[1] + r[3] - unrotated[3]) < 0.5)
			return rotations[i];
	}
	return -1;
}

char *
sdr_gui_stamp_description(const double shown[4], int page, int n_pages)
{
	return g_strdup_printf(_("Signature stamp on page %d of %d: %.0f points from the left "
	                         "edge and %.0f points from the bottom, %.0f by %.0f points. "
	                         "Arrow keys move it; Shift and the arrow keys resize it."),
	                       page, n_pages, shown[0], shown[1], shown[2], shown[3]);
}
