/* pades-tool - test driver for PAdES signing and verification with file keys.
 *
 *   pades-tool sign KEY CERT CHAIN IN OUT|- [--level B|T|LT|LTA] [--tsa URL] [--trust PEM]
 *              [--visible --page N --rect x,y,w,h] [--reason R] [--location L] [--image PNG]
 *              [--field NAME] [--memory] [--in-place] [--sha384]
 *   pades-tool verify FILE [--trust PEM]... [--at ISO8601] [--memory] [--online]
 *
 * verify prints one line per signature: "<id> <VERDICT> <level> <details...>" and exits 0
 * when every signature is VALID, 1 otherwise, 2 on errors.
 */
#include "sdr-error.h"
#include "sdr-file.h"
#include "sdr-i18n.h"
#include "sdr-pades-verify.h"
#include "sdr-pades.h"
#include "sdr-trust.h"
#include "sdr-verify-report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *verdict_names[] = { "VALID", "INVALID", "INDETERMINATE" };

static int
do_verify(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrVerifyReport) rep = NULL;
	g_autoptr(GPtrArray) anchors = g_ptr_array_new();
	SdrVerifyOptions vo = { 0 };
	gboolean memory = FALSE;
	int rc = 0;

	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc) {
			g_ptr_array_add(anchors, argv[++i]);
		} else if (strcmp(argv[i], "--memory") == 0) {
			memory = TRUE;
		} else if (strcmp(argv[i], "--online") == 0) {
			vo.online = TRUE;
		} else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
			g_clear_pointer(&vo.at, g_date_time_unref);
			vo.at = g_date_time_new_from_iso8601(argv[++i], NULL);
			if (vo.at == NULL) {
				fprintf(stderr, "bad --at time: %s\n", argv[i]);
				return 2;
			}
		}
	}
	g_ptr_array_add(anchors, NULL);
	if (anchors->len > 1) {
		vo.trust = sdr_trust_store_new((const char *const *)anchors->pdata, FALSE, &error);
		if (vo.trust == NULL) {
			fprintf(stderr, "trust: %s\n", error->message);
			return 2;
		}
	}
	if (memory) {
		g_autoptr(GBytes) b = sdr_file_read(argv[2], G_MAXSIZE, &error);

		rep = b ? sdr_pades_verify_bytes(b, argv[2], &vo, &error) : NULL;
	} else {
		rep = sdr_pades_verify_file(argv[2], &vo, &error);
	}
	if (vo.trust != NULL) {
		X509_STORE_free(vo.trust);
	}
	g_clear_pointer(&vo.at, g_date_time_unref);
	if (rep == NULL) {
		fprintf(stderr, "error %s: %s\n", sdr_error_code_name(error->code), error->message);
		return 2;
	}
	for (guint i = 0; i < rep->notes->len; i++) {
		SdrReason *r = g_ptr_array_index(rep->notes, i);

		printf("note %s: %s\n", sdr_reason_code_name(r->code), r->message);
	}
	if (rep->signatures->len == 0) {
		rc = 1;
	}
	for (guint i = 0; i < rep->signatures->len; i++) {
		SdrSignatureResult *s = g_ptr_array_index(rep->signatures, i);
		GHashTableIter it;
		gpointer k, v;

		printf("sig %s %s %s", s->id, verdict_names[s->verdict], sdr_level_name(s->level));
		if (s->details != NULL) {
			g_autoptr(GList) keys = g_hash_table_get_keys(s->details);

			keys = g_list_sort(keys, (GCompareFunc)strcmp);
			for (GList *l = keys; l; l = l->next) {
				printf(" %s=%s", (char *)l->data,
				       (char *)g_hash_table_lookup(s->details, l->data));
			}
		}
		(void)it;
		(void)k;
		(void)v;
		printf("\n");
		for (guint j = 0; j < s->reasons->len; j++) {
			SdrReason *r = g_ptr_array_index(s->reasons, j);

			printf("  reason %s: %s\n", sdr_reason_code_name(r->code), r->message);
		}
		for (guint j = 0; j < s->warnings->len; j++) {
			SdrReason *r = g_ptr_array_index(s->warnings, j);

			printf("  warning %s: %s\n", sdr_reason_code_name(r->code), r->message);
		}
		if (s->verdict != SDR_VERDICT_VALID) {
			rc = 1;
		}
	}
	return rc;
}

static int
do_sign(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SdrSigner) signer = NULL;
	g_autofree char *written = NULL;
	SdrPadesOptions po;
	const char *trust = NULL;
	gboolean memory = FALSE, in_place = FALSE;
	const char *out;
	gboolean ok;

	if (argc < 7) {
		fprintf(stderr, "usage: pades-tool sign KEY CERT CHAIN IN OUT|- [options]\n");
		return 2;
	}
	sdr_pades_options_init(&po);
	for (int i = 7; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--level") == 0 && v) {
			if (!sdr_target_level_from_name(v, &po.level)) {
				fprintf(stderr, "bad level\n");
				return 2;
			}
			i++;
		} else if (strcmp(a, "--tsa") == 0 && v) {
			po.tsa_url = v;
			i++;
		} else if (strcmp(a, "--trust") == 0 && v) {
			trust = v;
			i++;
		} else if (strcmp(a, "--visible") == 0) {
			po.visible = TRUE;
		} else if (strcmp(a, "--page") == 0 && v) {
			po.page = atoi(v);
			i++;
		} else if (strcmp(a, "--rect") == 0 && v) {
			if (sscanf(v, "%lf,%lf,%lf,%lf", &po.rect[0], &po.rect[1], &po.rect[2],
			           &po.rect[3]) != 4) {
				return 2;
			}
			i++;
		} else if (strcmp(a, "--reason") == 0 && v) {
			po.reason = v;
			i++;
		} else if (strcmp(a, "--location") == 0 && v) {
			po.location = v;
			i++;
		} else if (strcmp(a, "--field") == 0 && v) {
			po.field_name = v;
			i++;
		} else if (strcmp(a, "--image") == 0 && v) {
			po.image_path = v;
			i++;
		} else if (strcmp(a, "--memory") == 0) {
			memory = TRUE;
		} else if (strcmp(a, "--in-place") == 0) {
			in_place = TRUE;
		} else if (strcmp(a, "--sha384") == 0) {
			po.hash = SDR_HASH_SHA384;
		} else {
			fprintf(stderr, "unknown option %s\n", a);
			return 2;
		}
	}
	if (trust != NULL) {
		const char *anchors[] = { trust, NULL };

		po.trust = sdr_trust_store_new(anchors, FALSE, &error);
		if (po.trust == NULL) {
			fprintf(stderr, "trust: %s\n", error->message);
			return 2;
		}
	}
	signer = sdr_signer_new_from_files(argv[2], argv[3], *argv[4] ? argv[4] : NULL, &error);
	if (signer == NULL) {
		fprintf(stderr, "signer: %s\n", error->message);
		return 2;
	}
	out = strcmp(argv[6], "-") == 0 ? NULL : argv[6];
	if (in_place) {
		out = argv[5];
	}
	if (memory) {
		g_autoptr(GBytes) in = sdr_file_read(argv[5], G_MAXSIZE, &error);
		g_autoptr(GBytes) res = in ? sdr_pades_sign_bytes(signer, in, &po, &error) : NULL;
		gsize n;
		const void *p;

		ok = res != NULL;
		if (ok) {
			p = g_bytes_get_data(res, &n);
			ok = sdr_file_write_atomic(out ? out : "out.pdf", p, n, &error);
		}
	} else {
		ok = sdr_pades_sign_file(signer, argv[5], &po, out, &written, &error);
		if (ok) {
			printf("%s\n", written);
		}
	}
	if (po.trust != NULL) {
		X509_STORE_free(po.trust);
	}
	if (!ok) {
		fprintf(stderr, "error %s: %s\n", sdr_error_code_name(error->code), error->message);
		return 3;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	sdr_i18n_init();
	if (argc >= 3 && strcmp(argv[1], "sign") == 0) {
		return do_sign(argc, argv);
	}
	if (argc >= 3 && strcmp(argv[1], "verify") == 0) {
		return do_verify(argc, argv);
	}
	fprintf(stderr, "usage: pades-tool sign|verify ...\n");
	return 2;
}
