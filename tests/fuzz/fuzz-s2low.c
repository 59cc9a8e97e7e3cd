/* fuzz-s2low.c - every parser of S²LOW's answers (agent/teletransmission): the legacy
 * OK/KO text, the ACTES status, the Hélios import and status XML, the classification
 * (actes_classification_fetch.php) and the PES_Retour list (helios_get_list.php). */
#include "sdr-s2low.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(SdrS2lowAnswer) a = sdr_s2low_answer_parse(data, size, NULL);
	g_autoptr(SdrHeliosImport) imp = sdr_s2low_helios_import_parse(data, size, NULL);
	g_autoptr(SdrS2lowClassification) cl = sdr_s2low_classification_parse(data, size, NULL);
	g_autoptr(GPtrArray) retours = sdr_s2low_retour_list_parse(data, size, NULL);
	g_autofree char *rest = NULL;
	g_autofree char *msg = NULL;
	int status = 0;

	(void)sdr_s2low_actes_status_parse(data, size, &status, &rest, NULL);
	(void)sdr_s2low_helios_status_parse(data, size, &status, &msg, NULL);
	if (cl != NULL)
		(void)sdr_s2low_classification_has(cl, "1.1");
	g_free(sdr_s2low_decode_text(data, size));
	return 0;
}
