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
/* Current UTC time. */
GDateTime *sdr_time_now(void);

G_END_DECLS
