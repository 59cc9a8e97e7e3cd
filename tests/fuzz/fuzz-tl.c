/* fuzz-tl.c - trusted list parsing (sdr_tl_parse), the signature check against the
 * list's own KeyInfo certificate and the pointers' certificates, and qualification
 * of every service certificate against the list. */
#include "sdr-tl.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(SdrTlSet) set = sdr_tl_set_new();
	g_autoptr(GDateTime) now = g_date_time_new_utc(2026, 6, 1, 0, 0, 0);
	SdrTl *tl;

	if (!sdr_tl_set_add_list(set, data, size, "fuzz.xml", NULL))
		return 0;
	tl = g_ptr_array_index(set->lists, 0);
	/* The pointers' certificates as anchors: exercises the whole check path. */
	for (guint i = 0; i < tl->pointers->len; i++) {
		SdrTlPointer *p = g_ptr_array_index(tl->pointers, i);

		for (guint c = 0; c < p->certs->len; c++)
			sdr_tl_set_add_anchor(set, g_ptr_array_index(p->certs, c));
	}
	(void)sdr_tl_set_check(set, now);
	tl->status = SDR_TL_TRUSTED; /* qualify even when the signature failed */
	for (guint i = 0; i < tl->providers->len; i++) {
		SdrTlProvider *p = g_ptr_array_index(tl->providers, i);

		for (guint s = 0; s < p->services->len; s++) {
			SdrTlService *svc = g_ptr_array_index(p->services, s);

			for (guint c = 0; c < svc->certs->len; c++) {
				SdrTlQualification *q = sdr_tl_qualify(
				        set, g_ptr_array_index(svc->certs, c), NULL, now);
				g_free(sdr_tl_qualification_summary(q));
				sdr_tl_qualification_free(q);
			}
		}
	}
	return 0;
}
