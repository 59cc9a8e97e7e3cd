/* sdr-tsa-revocation.c - is a timestamp's TSA certificate revoked, by the signature's data? */
#include "sdr-tsa-revocation.h"

#include "sdr-cms-private.h"
#include "sdr-crypto.h"
#include "sdr-error.h"
#include "sdr-time.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>

static X509 *
find_issuer(X509 *cert, STACK_OF(X509) * token_certs, const SdrValidationData *data)
{
	for (int i = 0; token_certs != NULL && i < sk_X509_num(token_certs); i++)
		if (X509_check_issued(sk_X509_value(token_certs, i), cert) == X509_V_OK)
			return sk_X509_value(token_certs, i);
	for (guint i = 0; data->certs != NULL && i < data->certs->len; i++)
		if (X509_check_issued(g_ptr_array_index(data->certs, i), cert) == X509_V_OK)
			return g_ptr_array_index(data->certs, i);
	return NULL;
}

/* The status one OCSP response or CRL gives (data may hold a "good" answer from the LT
 * extension and a later "revoked" one: each is read on its own). */
static SdrRevocationStatus
status_of_one(GBytes *item, gboolean is_ocsp, X509 *cert, X509 *issuer, GDateTime **at)
{
	g_autoptr(SdrValidationData) one = sdr_validation_data_new();

	g_ptr_array_add(is_ocsp ? one->ocsp_responses : one->crls, g_bytes_ref(item));
	return sdr_revocation_status(one, cert, issuer, at);
}

gboolean
sdr_tsa_token_not_revoked(const guint8 *token, gsize token_len, const SdrValidationData *data,
                          GDateTime *ts_time, GError **error)
{
	g_autoptr(GBytes) tok = g_bytes_new_static(token, token_len);
	STACK_OF(X509) *tcerts = NULL;
	X509 *tsa = NULL, *issuer;
	gboolean ok = TRUE;

	if (data == NULL || ts_time == NULL || !sdr_cms_token_signer(tok, &tsa, &tcerts))
		return TRUE; /* nothing to judge with: the chain checks decide */
	issuer = find_issuer(tsa, tcerts, data);
	for (guint k = 0; issuer != NULL && ok && k < 2; k++) {
		GPtrArray *items = k == 0 ? data->ocsp_responses : data->crls;

		for (guint i = 0; ok && items != NULL && i < MIN(items->len, 64u); i++) {
			g_autoptr(GDateTime) at = NULL;

			if (status_of_one(g_ptr_array_index(items, i), k == 0, tsa, issuer, &at) !=
			            SDR_REVOCATION_REVOKED ||
			    (at != NULL && g_date_time_compare(at, ts_time) > 0))
				continue;
			{
				g_autofree char *name = sdr_cert_display_name(tsa);
				g_autofree char *when =
				        at != NULL ? sdr_time_to_iso8601(at) : g_strdup("?");
				g_autofree char *ts = sdr_time_to_iso8601(ts_time);

				g_set_error(error, SDR_ERROR, SDR_ERROR_CRYPTO,
				            _("The timestamping authority's certificate (%s) was "
				              "revoked (%s) before the timestamp (%s)"),
				            name, when, ts);
				ok = FALSE;
			}
		}
	}
	X509_free(tsa);
	sk_X509_pop_free(tcerts, X509_free);
	ERR_clear_error();
	return ok;
}
