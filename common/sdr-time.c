/* sdr-time.c - UTC helpers. */
#include "sdr-time.h"

#include <glib/gi18n-lib.h>

#include <stdio.h>
#include <string.h>

GDateTime *
sdr_time_from_asn1(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL)
		return NULL;
	memset(&tm, 0, sizeof tm);
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return NULL;
	return g_date_time_new_utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	                           tm.tm_min, tm.tm_sec);
}

char *
sdr_time_to_iso8601(GDateTime *t)
{
	g_autoptr(GDateTime) utc = NULL;

	g_return_val_if_fail(t != NULL, NULL);
	utc = g_date_time_to_utc(t);
	return g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
}

GDateTime *
sdr_time_parse_iso8601(const char *text)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	GDateTime *t;
	int y, m, d;
	char tail;

	if (text == NULL)
		return NULL;
	t = g_date_time_new_from_iso8601(text, utc);
	if (t != NULL)
		return t;
	if (sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3)
		return g_date_time_new_utc(y, m, d, 0, 0, 0);
	return NULL;
}

gint64
sdr_time_days_until(GDateTime *t, GDateTime *now)
{
	GTimeSpan span;

	g_return_val_if_fail(t != NULL && now != NULL, 0);
	span = g_date_time_difference(t, now);
	if (span >= 0)
		return span / G_TIME_SPAN_DAY;
	return -((-span + G_TIME_SPAN_DAY - 1) / G_TIME_SPAN_DAY);
}

gint64
sdr_time_days_left(GDateTime *t, GDateTime *now)
{
	g_autoptr(GDateTime) lt = NULL;
	g_autoptr(GDateTime) ln = NULL;
	g_autoptr(GDate) dt = NULL;
	g_autoptr(GDate) dn = NULL;

	g_return_val_if_fail(t != NULL && now != NULL, 0);
	lt = g_date_time_to_local(t);
	ln = g_date_time_to_local(now);
	if (lt == NULL || ln == NULL)
		return sdr_time_days_until(t, now);
	dt = g_date_new_dmy((GDateDay)g_date_time_get_day_of_month(lt),
	                    (GDateMonth)g_date_time_get_month(lt),
	                    (GDateYear)g_date_time_get_year(lt));
	dn = g_date_new_dmy((GDateDay)g_date_time_get_day_of_month(ln),
	                    (GDateMonth)g_date_time_get_month(ln),
	                    (GDateYear)g_date_time_get_year(ln));
	return (gint64)g_date_days_between(dn, dt);
}

char *
sdr_time_format_date(GDateTime *t)
{
	g_autoptr(GDateTime) local = NULL;

	if (t == NULL)
		return g_strdup("?");
	local = g_date_time_to_local(t);
	/* TRANSLATORS: a g_date_time_format() date: French "%d/%m/%Y" */
	return g_date_time_format(local != NULL ? local : t, _("%Y-%m-%d"));
}

char *
sdr_time_format_datetime(GDateTime *t)
{
	g_autoptr(GDateTime) local = NULL;

	if (t == NULL)
		return g_strdup("?");
	local = g_date_time_to_local(t);
	/* TRANSLATORS: a g_date_time_format() date, time and zone: French "%d/%m/%Y %H:%M:%S %Z" */
	return g_date_time_format(local != NULL ? local : t, _("%Y-%m-%d %H:%M:%S %Z"));
}

GDateTime *
sdr_time_now(void)
{
	return g_date_time_new_now_utc();
}
