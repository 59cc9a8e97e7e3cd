/* sdr-probe-report.c - the probe report's text format (sdr-probe-report.h): the
 * writer used by sinadur-p11-probe and the strict parser used by the token layer.
 * The format is canonical: a report the parser accepts formats back to the very
 * same bytes (the fuzz harness checks it).
 */
#include "sdr-probe-report.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static const char *const stage_names[SDR_PROBE_N_STAGES] = {
	[SDR_PROBE_OK] = "ok",
	[SDR_PROBE_NO_FILE] = "no-file",
	[SDR_PROBE_DLOPEN] = "dlopen",
	[SDR_PROBE_NO_SYMBOL] = "no-symbol",
	[SDR_PROBE_GET_FUNCTION_LIST] = "function-list",
	[SDR_PROBE_INITIALIZE] = "initialize",
	[SDR_PROBE_INFO] = "info",
	[SDR_PROBE_SLOT_LIST] = "slot-list",
};

const char *
sdr_probe_stage_name(SdrProbeStage stage)
{
	if ((guint)stage >= SDR_PROBE_N_STAGES)
		return "?";
	return stage_names[stage];
}

/* C0, DEL and C1 controls. */
static gboolean
is_control(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

static gboolean
needs_escape(guchar b)
{
	return b < 0x20 || b > 0x7e || b == '%';
}

/* ---- Writer ----------------------------------------------------------------------- */

/* s: a field of max + 1 bytes, NUL-terminated or full. */
static void
append_text(GString *out, const char *key, const char *s, gsize max)
{
	g_autoptr(GString) clean = g_string_new(NULL);
	const char *p = s;
	const char *end = s + strnlen(s, max + 1);

	/* Valid UTF-8 without controls, at most max bytes, cut between characters. */
	while (p < end) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		gboolean bad = c == (gunichar)-1 || c == (gunichar)-2;
		gsize n = bad ? 1 : (gsize)(g_utf8_next_char(p) - p);

		if (bad || is_control(c)) {
			if (clean->len + 1 > max)
				break;
			g_string_append_c(clean, '?');
		} else {
			if (clean->len + n > max)
				break;
			g_string_append_len(clean, p, (gssize)n);
		}
		p += n;
	}

	g_string_append_printf(out, "%s ", key);
	for (gsize i = 0; i < clean->len; i++) {
		guchar b = (guchar)clean->str[i];

		if (needs_escape(b))
			g_string_append_printf(out, "%%%02X", b);
		else
			g_string_append_c(out, (char)b);
	}
	g_string_append_c(out, '\n');
}

char *
sdr_probe_report_format(const SdrProbeReport *report)
{
	GString *out = g_string_new(SDR_PROBE_REPORT_MAGIC "\n");

	g_return_val_if_fail(report != NULL, NULL);

	g_string_append_printf(out, "stage %s\n", sdr_probe_stage_name(report->stage));
	g_string_append_printf(out, "rv 0x%08" G_GINT64_MODIFIER "x\n", report->rv);
	g_string_append_printf(out, "cryptoki %u.%u\n", MIN(report->cryptoki_major, 255u),
	                       MIN(report->cryptoki_minor, 255u));
	g_string_append_printf(out, "slots %u\n", MIN(report->slots, (guint)SDR_PROBE_SLOTS_MAX));
	append_text(out, "manufacturer", report->manufacturer, SDR_PROBE_NAME_MAX);
	append_text(out, "description", report->description, SDR_PROBE_NAME_MAX);
	append_text(out, "detail", report->detail, SDR_PROBE_DETAIL_MAX);
	g_string_append(out, "end\n");
	return g_string_free(out, FALSE);
}

/* ---- Parser ----------------------------------------------------------------------- */

typedef struct {
	const char *p;
	const char *end;
	guint line; /* of the last line taken, from 1 */
} Cursor;

/* The next line "key value" (or just "key" when value is NULL): its value, without
 * the key, the space and the newline. */
static gboolean
take_line(Cursor *c, const char *key, const char **value, gsize *value_len)
{
	gsize key_len = strlen(key);
	const char *nl;
	gsize len;

	c->line++;
	if (c->p >= c->end)
		return FALSE;
	nl = memchr(c->p, '\n', (gsize)(c->end - c->p));
	if (nl == NULL)
		return FALSE;
	len = (gsize)(nl - c->p);
	if (value == NULL) {
		if (len != key_len || memcmp(c->p, key, key_len) != 0)
			return FALSE;
	} else {
		if (len < key_len + 1 || memcmp(c->p, key, key_len) != 0 || c->p[key_len] != ' ')
			return FALSE;
		*value = c->p + key_len + 1;
		*value_len = len - key_len - 1;
	}
	c->p = nl + 1;
	return TRUE;
}

/* Decimal, 1 to 10 digits, no leading zero, at most max. */
static gboolean
parse_decimal(const char *s, gsize n, guint64 max, guint64 *out)
{
	guint64 v = 0;

	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return FALSE;
		v = v * 10 + (guint64)(s[i] - '0');
	}
	if (v > max)
		return FALSE;
	*out = v;
	return TRUE;
}

static int
hex_digit(char ch, gboolean upper)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (upper && ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (!upper && ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* "0x" and 8 lower-case hex digits, or 9 to 16 without a leading zero. */
static gboolean
parse_rv(const char *s, gsize n, guint64 *out)
{
	guint64 v = 0;

	if (n < 2 + 8 || n > 2 + 16 || s[0] != '0' || s[1] != 'x')
		return FALSE;
	if (n > 2 + 8 && s[2] == '0')
		return FALSE;
	for (gsize i = 2; i < n; i++) {
		int d = hex_digit(s[i], FALSE);
		if (d < 0)
			return FALSE;
		v = (v << 4) | (guint64)d;
	}
	*out = v;
	return TRUE;
}

static gboolean
parse_version(const char *s, gsize n, guint *major, guint *minor)
{
	const char *dot = memchr(s, '.', n);
	guint64 a, b;

	if (dot == NULL)
		return FALSE;
	if (!parse_decimal(s, (gsize)(dot - s), 255, &a) ||
	    !parse_decimal(dot + 1, n - (gsize)(dot - s) - 1, 255, &b))
		return FALSE;
	*major = (guint)a;
	*minor = (guint)b;
	return TRUE;
}

/* Percent-decoded into out (cap + 1 bytes), canonical escapes only, UTF-8 without
 * controls. */
static gboolean
parse_text(const char *s, gsize n, char *out, gsize cap)
{
	gsize o = 0;
	const char *p;

	for (gsize i = 0; i < n;) {
		guchar b = (guchar)s[i];

		if (b == '%') {
			int hi, lo;

			if (n - i < 3)
				return FALSE;
			hi = hex_digit(s[i + 1], TRUE);
			lo = hex_digit(s[i + 2], TRUE);
			if (hi < 0 || lo < 0)
				return FALSE;
			b = (guchar)(hi << 4 | lo);
			if (!needs_escape(b))
				return FALSE; /* "%41" for "A": not canonical */
			i += 3;
		} else if (needs_escape(b)) {
			return FALSE;
		} else {
			i++;
		}
		if (o >= cap)
			return FALSE;
		out[o++] = (char)b;
	}
	out[o] = '\0';
	if (!g_utf8_validate(out, (gssize)o, NULL))
		return FALSE;
	for (p = out; *p != '\0'; p = g_utf8_next_char(p)) {
		if (is_control(g_utf8_get_char(p)))
			return FALSE;
	}
	return TRUE;
}

static gboolean
parse_stage(const char *s, gsize n, SdrProbeStage *out)
{
	for (guint i = 0; i < SDR_PROBE_N_STAGES; i++) {
		if (strlen(stage_names[i]) == n && memcmp(stage_names[i], s, n) == 0) {
			*out = (SdrProbeStage)i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
sdr_probe_report_parse(const char *data, gsize len, SdrProbeReport *out, GError **error)
{
	g_autofree SdrProbeReport *r = g_new0(SdrProbeReport, 1);
	Cursor c = { data, data + len, 0 };
	const char *v = NULL;
	gsize n = 0;
	guint64 number = 0;
	gboolean ok;

	g_return_val_if_fail(data != NULL || len == 0, FALSE);
	g_return_val_if_fail(out != NULL, FALSE);

	ok = len <= SDR_PROBE_REPORT_MAX && take_line(&c, SDR_PROBE_REPORT_MAGIC, NULL, NULL) &&
	     take_line(&c, "stage", &v, &n) && parse_stage(v, n, &r->stage) &&
	     take_line(&c, "rv", &v, &n) && parse_rv(v, n, &r->rv) &&
	     take_line(&c, "cryptoki", &v, &n) &&
	     parse_version(v, n, &r->cryptoki_major, &r->cryptoki_minor) &&
	     take_line(&c, "slots", &v, &n) && parse_decimal(v, n, SDR_PROBE_SLOTS_MAX, &number);
	if (ok) {
		r->slots = (guint)number;
		ok = take_line(&c, "manufacturer", &v, &n) &&
		     parse_text(v, n, r->manufacturer, SDR_PROBE_NAME_MAX) &&
		     take_line(&c, "description", &v, &n) &&
		     parse_text(v, n, r->description, SDR_PROBE_NAME_MAX) &&
		     take_line(&c, "detail", &v, &n) &&
		     parse_text(v, n, r->detail, SDR_PROBE_DETAIL_MAX) &&
		     take_line(&c, "end", NULL, NULL);
	}
	if (ok && c.p != c.end) {
		c.line++;
		ok = FALSE;
	}
	if (!ok) {
		if (len > SDR_PROBE_REPORT_MAX)
			g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
			            _("The module check answered more than %u bytes."),
			            (guint)SDR_PROBE_REPORT_MAX);
		else
			g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
			            _("The module check answered in an unexpected form (line %u)."),
			            c.line);
		return FALSE;
	}
	*out = *r;
	return TRUE;
}
