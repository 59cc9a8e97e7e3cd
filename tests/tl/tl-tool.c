/* tl-tool - loads trusted lists with formats/sdr-tl and prints what it found, for
 * test-tl.py: tl-tool --now ISO [--at ISO] [--cert PEM] FILE|DIR...
 *   one line per list:  list NAME STATUS TERRITORY seq=N providers=N pointers=N
 *   then with --cert:   key=value lines of the qualification at --at (default --now)
 */
#include "sdr-tl.h"

#include <glib.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

static const char *
yn(gboolean b)
{
	return b ? "1" : "0";
}

int
main(int argc, char **argv)
{
	g_autoptr(GDateTime) now = NULL;
	g_autoptr(GDateTime) at = NULL;
	g_autoptr(SdrTlSet) set = sdr_tl_set_new();
	g_autoptr(GPtrArray) files = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	const char *cert_path = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--now") == 0 && i + 1 < argc)
			now = g_date_time_new_from_iso8601(argv[++i], NULL);
		else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
			at = g_date_time_new_from_iso8601(argv[++i], NULL);
		else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc)
			cert_path = argv[++i];
		else
			g_ptr_array_add(files, argv[i]);
	}
	g_ptr_array_add(files, NULL);
	if (now == NULL)
		now = g_date_time_new_now_utc();
	if (!sdr_tl_set_add_files(set, (const char *const *)files->pdata, &error)) {
		printf("error %d %s\n", error->code, error->message);
		return 2;
	}
	sdr_tl_set_check(set, now);
	for (guint i = 0; i < set->lists->len; i++) {
		SdrTl *tl = g_ptr_array_index(set->lists, i);

		printf("list %s %s %s seq=%" G_GUINT64_FORMAT " providers=%u pointers=%u lotl=%s\n",
		       tl->name, sdr_tl_status_name(tl->status), tl->territory, tl->sequence,
		       tl->providers->len, tl->pointers->len, yn(sdr_tl_is_lotl(tl)));
	}
	if (cert_path != NULL) {
		FILE *f = fopen(cert_path, "r");
		X509 *cert = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
		g_autoptr(SdrTlQualification) q = NULL;
		g_autofree char *summary = NULL;
		g_autofree char *quals = NULL;

		if (f != NULL)
			fclose(f);
		if (cert == NULL) {
			printf("error no certificate\n");
			return 2;
		}
		q = sdr_tl_qualify(set, cert, NULL, at != NULL ? at : now);
		g_ptr_array_add(q->qualifiers, NULL);
		quals = g_strjoinv(",", (char **)q->qualifiers->pdata);
		g_ptr_array_remove_index(q->qualifiers, q->qualifiers->len - 1);
		summary = sdr_tl_qualification_summary(q);
		printf("found=%s\ngranted=%s\nqualified=%s\nqscd=%s\nesig=%s\neseal=%s\n",
		       yn(q->found), yn(q->granted), yn(q->qualified), yn(q->qscd), yn(q->for_esig),
		       yn(q->for_eseal));
		printf("qc_compliance=%s\nqc_sscd=%s\nqc_eseal=%s\n", yn(q->qc_compliance),
		       yn(q->qc_sscd), yn(q->qc_type_eseal));
		printf("tsp=%s\nservice=%s\nstatus=%s\nqualifiers=%s\nsummary=%s\n",
		       q->tsp ? q->tsp : "", q->service ? q->service : "",
		       q->status ? q->status : "", quals, summary);
		X509_free(cert);
	}
	return 0;
}
