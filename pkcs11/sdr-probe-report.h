/* sdr-probe-report.h - what sinadur-p11-probe (pkcs11/sdr-p11-probe.c) tells the
 * token layer about a PKCS#11 module, and the strict text format it travels in
 * over a pipe. Shared by the probe program (writer) and sdr-module.c (parser).
 * Internal to pkcs11/ (and tests/pkcs11/, tests/fuzz/).
 *
 * The format (docs/internals/pkcs11.md), every line ending in "\n", in this order,
 * each exactly once, nothing before or after, SDR_PROBE_REPORT_MAX bytes at most:
 *
 *   sinadur-p11-probe 1
 *   stage <ok|no-file|dlopen|no-symbol|function-list|initialize|info|slot-list>
 *   rv 0x<8 lower-case hex digits, or 9 to 16 not starting with 0>
 *   cryptoki <major>.<minor>          (decimal 0-255, no leading zero)
 *   slots <decimal, no leading zero, at most SDR_PROBE_SLOTS_MAX>
 *   manufacturer <text>
 *   description <text>
 *   detail <text>
 *   end
 *
 * <text>: bytes 0x20-0x7e stand for themselves except '%'; any other byte is "%XX"
 * (upper-case hex). Decoded, it must be UTF-8 without control characters (C0, DEL,
 * C1) and at most the size of its field.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SDR_PROBE_REPORT_MAGIC "sinadur-p11-probe 1"
#define SDR_PROBE_REPORT_MAX 4096
#define SDR_PROBE_SLOTS_MAX 100000
#define SDR_PROBE_NAME_MAX 64    /* decoded bytes of manufacturer, description */
#define SDR_PROBE_DETAIL_MAX 512 /* decoded bytes of detail (dlerror()) */

typedef enum {
	SDR_PROBE_OK = 0,
	SDR_PROBE_NO_FILE,           /* the file does not exist */
	SDR_PROBE_DLOPEN,            /* dlopen() failed; detail = dlerror() */
	SDR_PROBE_NO_SYMBOL,         /* no C_GetFunctionList */
	SDR_PROBE_GET_FUNCTION_LIST, /* C_GetFunctionList failed or gave no C_Initialize */
	SDR_PROBE_INITIALIZE,        /* C_Initialize failed (rv) */
	SDR_PROBE_INFO,              /* C_GetInfo failed (rv) or is missing */
	SDR_PROBE_SLOT_LIST,         /* C_GetSlotList failed (rv) or is missing */
	SDR_PROBE_N_STAGES
} SdrProbeStage;

typedef struct {
	SdrProbeStage stage;
	guint64 rv; /* the CK_RV of the failed call, 0 otherwise */
	guint cryptoki_major, cryptoki_minor;
	guint slots; /* C_GetSlotList(FALSE) count */
	char manufacturer[SDR_PROBE_NAME_MAX + 1];
	char description[SDR_PROBE_NAME_MAX + 1];
	char detail[SDR_PROBE_DETAIL_MAX + 1];
} SdrProbeReport;

/* The report as text. Text fields (NUL-terminated, or filling their array) are made
 * valid first (each invalid UTF-8 byte and each control character becomes '?', cut
 * at their maximum on a character boundary), so any report formats into something
 * sdr_probe_report_parse() accepts. */
char *sdr_probe_report_format(const SdrProbeReport *report);

/* Parses exactly len bytes. On success fills *out (only then) and returns TRUE;
 * otherwise FALSE with SDR_ERROR_PARSE. */
gboolean sdr_probe_report_parse(const char *data, gsize len, SdrProbeReport *out, GError **error);

/* "ok", "dlopen", ... */
const char *sdr_probe_stage_name(SdrProbeStage stage);

G_END_DECLS
