/* sdr-time.h - small time helpers: everything is UTC. */
#pragma once

#include <glib.h>
#include <openssl/asn1.h>

G_BEGIN_DECLS

/* ASN1_TIME (UTCTime or GeneralizedTime) to a UTC GDateTime; NULL when invalid. */
GDateTime *sdr_time_from_asn1(const ASN1_TIME *t);
/* "2026-11-22T02:10:00Z" */
char *sdr_time_to_iso8601(GDateTime *t);
/* Parses ISO 8601 ("2026-11-22T02:10:00Z", offsets, or a bare date = midnight UTC). */
GDateTime *sdr_time_parse_iso8601(const char *text);
/* Whole days from now until t, rounded down; negative once t has passed. */
gint64 sdr_time_days_until(GDateTime *t, GDateTime *now);
/* Days left until t "as a person counts them": the calendar day of t minus today's,
 * both in local time (a certificate ending in 20 days at 09:00 has 20 days left all
 * day long); negative once t's day has passed, 0 on its last day. The one helper
 * behind every days-left shown to a person (certs, doctor, sign, agent). */
gint64 sdr_time_days_left(GDateTime *t, GDateTime *now);
/* A date for people in the message language: "22/11/2026" in French, ISO
 * "2026-11-22" otherwise (LANG=C), in local time. */
char *sdr_time_format_date(GDateTime *t);
/* Date and time in local time with the zone: "22/11/2026 10:00:00 CET" in French,
 * "2026-11-22 10:00:00 CET" otherwise. */
char *sdr_time_format_datetime(GDateTime *t);
/* Current UTC time. */
GDateTime *sdr_time_now(void);

G_END_DECLS
