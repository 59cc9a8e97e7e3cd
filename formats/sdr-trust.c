/* sdr-trust.c - trust anchors: the system store plus configured bundles. */
#include "sdr-trust.h"

#include "sdr-error.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

X509_STORE *
sdr_trust_store_new(const char *const *anchors, gboolean system, GError **error)
{
	X509_STORE *store = X509_STORE_new();

	if (store == NULL) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "X509_STORE_new");
		return NULL;
	}
	if (system && X509_STORE_set_default_paths(store) != 1)
		ERR_clear_error(); /* no system store is not an error */
	for (gsize i = 0; anchors != NULL && anchors[i] != NULL; i++) {
		const char *path = anchors[i];
		BIO *bio;
		X509 *x;
		int n = 0;

		if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
			X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());

			if (lookup == NULL ||
			    X509_LOOKUP_add_dir(lookup, path, X509_FILETYPE_PEM) != 1) {
				sdr_error_set_openssl(error, SDR_ERROR_CONFIG,
				                      _("Cannot use the trust anchor folder"));
				X509_STORE_free(store);
				return NULL;
			}
			continue;
		}
		bio = BIO_new_file(path, "rb");
		if (bio == NULL) {
			ERR_clear_error();
			g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
			            _("Cannot read the trust anchors in %s"), path);
			X509_STORE_free(store);
			return NULL;
		}
		while ((x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) != NULL) {
			if (X509_STORE_add_cert(store, x) == 1)
				n++;
			X509_free(x);
		}
		ERR_clear_error();
		if (n == 0) {
			/* Maybe a single DER certificate. */
			(void)BIO_reset(bio);
			x = d2i_X509_bio(bio, NULL);
			if (x != NULL && X509_STORE_add_cert(store, x) == 1)
				n++;
			X509_free(x);
			ERR_clear_error();
		}
		BIO_free(bio);
		if (n == 0) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
			            _("No certificate in the trust anchor file %s"), path);
			X509_STORE_free(store);
			return NULL;
		}
	}
	return store;
}
