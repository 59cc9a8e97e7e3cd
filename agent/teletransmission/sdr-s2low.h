/* sdr-s2low.h - the S²LOW client: ACTES (prefecture) and Hélios (Trésorerie) over
 * HTTPS with TLS client authentication by the token's key, and the persistent send
 * queue. Contract: docs/internals/teletransmission.md.
 *
 * Layers: uses libcurl, OpenSSL, SQLite and the token layer (an EVP_PKEY from a
 * logged-in SdrTokenSession); never formats' signers and never a prompt: the
 * caller logs in (one PIN entry per session) before building the client.
 * No logging. Every answer text is decoded (UTF-8, else ISO-8859-1), HTML
 * entities undone, and must still go through sdr_sanitize_for_display() before a
 * person reads it.
 */
#pragma once

#include "sdr-secret.h"

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* ---- Answers (pure functions, tested without a network) -------------------------- */

/* Bytes of an answer as UTF-8: valid UTF-8 is kept, anything else is read as
 * ISO-8859-1; then HTML entities (&amp; &lt; &gt; &quot; &#039; &#NN; &#xHH;) are
 * decoded. Never NULL. */
char *sdr_s2low_decode_text(const guint8 *data, gsize len);

typedef struct {
	gboolean ok;   /* first line "OK" */
	char **lines;  /* the lines after the first, trimmed, decoded (may be empty) */
	char *message; /* the lines after the first joined by " ", decoded */
} SdrS2lowAnswer;

void sdr_s2low_answer_free(SdrS2lowAnswer *answer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrS2lowAnswer, sdr_s2low_answer_free)

/* Parses a legacy "OK\n..." / "KO\n..." answer; SDR_ERROR_NETWORK when the body is
 * neither (an HTML page, a redirect target...). */
SdrS2lowAnswer *sdr_s2low_answer_parse(const guint8 *data, gsize len, GError **error);

/* French labels (translated msgids) of the documented status codes; an unknown code
 * gives "statut N inconnu" (static buffer: copy it). */
const char *sdr_s2low_actes_status_label(int status);
const char *sdr_s2low_helios_status_label(int status);
/* TRUE when polling can stop at this status. */
gboolean sdr_s2low_actes_status_is_final(int status);
gboolean sdr_s2low_helios_status_is_final(int status);

/* The <import> answer of helios_importer_fichier.php (or a plain "KO\n..."). */
typedef struct {
	gboolean ok;
	gboolean duplicate; /* KO "doublon": already received, to reconcile, never resend */
	char *id;           /* NULL unless ok */
	char *message;
} SdrHeliosImport;

void sdr_helios_import_free(SdrHeliosImport *import);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrHeliosImport, sdr_helios_import_free)
SdrHeliosImport *sdr_s2low_helios_import_parse(const guint8 *data, gsize len, GError **error);

/* <transaction><id/><resultat/><message/><status/></transaction>, leniently
 * (declared ISO-8859-1, message in UTF-8). */
gboolean sdr_s2low_helios_status_parse(const guint8 *data, gsize len, int *status, char **message,
                                       GError **error);
/* "OK\n<status>\n[ARActe XML | message]": status, and what follows. */
gboolean sdr_s2low_actes_status_parse(const guint8 *data, gsize len, int *status, char **rest,
                                      GError **error);

/* ---- ACTES fields (checked before anything is sent) ------------------------------- */

#define SDR_ACTES_SUBJECT_MAX 499
#define SDR_ACTES_NUMBER_MAX 15
#define SDR_ACTES_TOTAL_MAX (150u * 1024u * 1024u) /* bytes, act + annexes */
#define SDR_ACTES_ANNEXES_MAX 100

typedef struct {
	char *path;      /* the file sent */
	char *type_pj;   /* annexes: ^[A-Z0-9_]{5}$ */
	char *sign_path; /* its detached signature (PEM, acte_attachments_sign[]), or NULL */
} SdrActesFile;

typedef struct {
	int nature;           /* 1 DE, 2 AR, 3 AI, 4 CC, 5 BF, 6 AU */
	char *classification; /* "1.2.3" (1 to 5 levels) */
	char *number;         /* ^([A-Z0-9][A-Z0-9_]{0,13})?[A-Z0-9]$ */
	char *date;           /* YYYY-MM-DD, not in the future */
	char *subject;        /* 1..499 characters, representable in ISO-8859-1 */
	char *type_acte;      /* ^[A-Z0-9_]{5}$ */
	char *acte_path;      /* PDF (XML only for nature 5 with classification 7.1) */
	GPtrArray *annexes;   /* SdrActesFile */
	char *acte_sign_path; /* detached signature of the act (PEM, acte_pdf_file_sign), or NULL */
	gboolean en_attente;  /* en_attente=1: S²LOW keeps it at 17 until confirmed */
} SdrActesFields;

SdrActesFields *sdr_actes_fields_new(void);
void sdr_actes_fields_free(SdrActesFields *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrActesFields, sdr_actes_fields_free)

/* "DE", "AR"... or the number as text ("1".."6") -> 1..6; 0 when unknown. */
int sdr_actes_nature_from_string(const char *s);
/* Checks every field as S²LOW does, reading the files' first bytes and sizes:
 * SDR_ERROR_BAD_REQUEST (French message naming the field) or SDR_ERROR_NOT_FOUND /
 * SDR_ERROR_TOO_LARGE / SDR_ERROR_PROFILE. today: "YYYY-MM-DD" (NULL = local today). */
gboolean sdr_actes_fields_check(const SdrActesFields *f, const char *today, GError **error);
/* UTF-8 -> ISO-8859-1 (what the server expects for subject and file names);
 * SDR_ERROR_BAD_REQUEST when a character has no ISO-8859-1 form. */
char *sdr_s2low_to_latin1(const char *utf8, GError **error);
/* A file name as a real client sends it: [^a-zA-Z0-9._ -] -> '_'. */
char *sdr_s2low_safe_file_name(const char *path);

/* Local checks of a PES before import (encoding declaration, NomFic, CodCol,
 * IdColl... through formats' sdr_pes_check()). */
gboolean sdr_s2low_pes_check(const guint8 *data, gsize len, GError **error);

/* ---- ACTES classification (actes_classification_fetch.php) ----------------------- */

/* The authority's classification as S²LOW serves it (actes:RetourClassification):
 * its date (DateClassification, "YYYY-MM-DD") and every code, "1", "1.1", "1.1.2"... */
typedef struct {
	char *date;
	GHashTable *codes; /* code -> label (UTF-8, outside text) */
} SdrS2lowClassification;

void sdr_s2low_classification_free(SdrS2lowClassification *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrS2lowClassification, sdr_s2low_classification_free)
/* SDR_ERROR_NETWORK when the bytes are not a classification with a date (a plain
 * "KO\n..." answer gives SDR_ERROR_PROFILE with S²LOW's message). */
SdrS2lowClassification *sdr_s2low_classification_parse(const guint8 *data, gsize len,
                                                       GError **error);
/* Whether "1.2" (as given to --classification) is a code of c. */
gboolean sdr_s2low_classification_has(const SdrS2lowClassification *c, const char *code);

/* ---- PES_Retour (helios_get_list.php) --------------------------------------------- */

typedef struct {
	char *id;
	char *name; /* nom: the file's name (outside text) */
	char *date;
} SdrPesRetour;

void sdr_pes_retour_free(SdrPesRetour *r);
/* The list of unread returns: new array of SdrPesRetour (may be empty). A KO with
 * a message: SDR_ERROR_PROFILE; not a <liste>: SDR_ERROR_NETWORK. */
GPtrArray *sdr_s2low_retour_list_parse(const guint8 *data, gsize len, GError **error);

/* ---- The HTTPS client ------------------------------------------------------------- */

typedef struct _SdrS2lowClient SdrS2lowClient;

typedef struct {
	const char *url;      /* [s2low] url, https://... */
	const char *ca_file;  /* [s2low] ca_file: trusted besides the system store */
	const char *proxy;    /* [s2low] proxy; NULL = the environment's */
	const char *login;    /* [s2low] login (HTTP Basic, shared certificates) */
	const char *password; /* with login; NULL = no Basic */
	X509 *cert;           /* the authentication certificate (reference taken) */
	EVP_PKEY *key;        /* its key, usually sdr_token_session_get_pkey() (taken) */
	GPtrArray *chain;     /* X509* intermediate CAs sent in the handshake (refs taken) */
	long timeout_s;       /* 0 = 60 */
	/* The classification cache file ($XDG_CACHE_HOME/sinadur/...); NULL = no check
	 * of the classification before an act is sent. */
	const char *classification_cache;
} SdrS2lowClientOptions;

/* Checks the certificate (valid now, usable for TLS client authentication:
 * digitalSignature and clientAuth when the extensions are present) before any
 * connection: SDR_ERROR_CERT_EXPIRED / SDR_ERROR_CERT_USAGE with a French message. */
gboolean sdr_s2low_check_auth_cert(X509 *cert, GError **error);
/* Intermediate CAs for cert: from chain_file when given, else from candidates
 * (certificates on the token, the trust store's): every issuer up to (not
 * including) a self-signed root. New array of X509* references. */
GPtrArray *sdr_s2low_build_chain(X509 *cert, const char *chain_file, GPtrArray *candidates,
                                 GError **error);

SdrS2lowClient *sdr_s2low_client_new(const SdrS2lowClientOptions *options, GError **error);
void sdr_s2low_client_free(SdrS2lowClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrS2lowClient, sdr_s2low_client_free)

/* Whether the last failed request certainly never reached the service
 * (connection, TLS, proxy refused): then a send may go back to the queue. Any
 * other failure (timeout, connection lost during the upload) leaves it unknown. */
gboolean sdr_s2low_client_last_not_sent(SdrS2lowClient *client);

/* GET /api/test-connexion.php?api=1: the certificate (and the HTTP Basic login)
 * accepted. A refused login or password: SDR_ERROR_CONFIG. */
gboolean sdr_s2low_check_connection(SdrS2lowClient *client, GError **error);
/* sdr_s2low_check_connection, then /api/test-rgs.php. */
gboolean sdr_s2low_test(SdrS2lowClient *client, gboolean *rgs_ok, GError **error);

/* ACTES. create: *id set on "OK\n<id>"; a KO answer is SDR_ERROR_PROFILE with the
 * server's message, *duplicate_number set when it says the number exists. */
gboolean sdr_s2low_actes_create(SdrS2lowClient *client, const SdrActesFields *f, char **id,
                                gboolean *duplicate_number, GError **error);
gboolean sdr_s2low_actes_status(SdrS2lowClient *client, const char *id, int *status, char **rest,
                                GError **error);
GBytes *sdr_s2low_actes_get_aracte(SdrS2lowClient *client, const char *id, GError **error);
/* Looks for the transaction of this number (list_actes.php): *id NULL when the
 * listing answered and has none. FALSE when the listing failed. */
gboolean sdr_s2low_actes_find_number(SdrS2lowClient *client, const char *number, char **id,
                                     GError **error);

/* GET actes_classification_fetch.php?api=1: the raw XML (for the cache). */
GBytes *sdr_s2low_actes_get_classification(SdrS2lowClient *client, GError **error);
/* The cached classification (NULL with SDR_ERROR_NOT_FOUND when there is none). */
SdrS2lowClassification *sdr_s2low_classification_load(const char *cache_path, GError **error);
/* Fetches the server's classification and writes it to the cache (atomically) when
 * there is none or the cached one is older; *was_older: there was a cache and its
 * date was older than the server's (the caller refuses to send on it). */
SdrS2lowClassification *sdr_s2low_classification_refresh(SdrS2lowClient *client,
                                                         const char *cache_path,
                                                         gboolean *was_older, char **old_date,
                                                         GError **error);
/* Before an act goes out (the queue's check): refresh, then refuse
 * (SDR_ERROR_PROFILE) when the cache was older or the code is not in the server's
 * classification. TRUE without a cache path (no check asked). */
gboolean sdr_s2low_classification_check(SdrS2lowClient *client, const char *code, GError **error);
/* POST actes_transac_cancel.php api=1&id=: *cancel_id = the cancel's transaction.
 * A KO is SDR_ERROR_PROFILE with S²LOW's message. */
gboolean sdr_s2low_actes_cancel(SdrS2lowClient *client, const char *id, char **cancel_id,
                                GError **error);
/* GET actes_create_pdf.php?trans_id=: the slip (bordereau), a PDF; 302 = none. */
GBytes *sdr_s2low_actes_get_slip(SdrS2lowClient *client, const char *id, GError **error);

/* Hélios. */
/* GET helios_download_acquit.php?id=: the PES_ACQUIT; 302 = none yet. */
GBytes *sdr_s2low_helios_get_acquit(SdrS2lowClient *client, const char *id, GError **error);
/* GET helios_get_list.php: the unread PES_Retour (array of SdrPesRetour). */
GPtrArray *sdr_s2low_helios_list_retours(SdrS2lowClient *client, GError **error);
/* GET helios_get_retour.php?id=: one return's file (does not mark it read). */
GBytes *sdr_s2low_helios_get_retour(SdrS2lowClient *client, const char *id, GError **error);
/* GET helios_change_status.php?id=: marks it read (other clients no longer see it). */
gboolean sdr_s2low_helios_mark_read(SdrS2lowClient *client, const char *id, GError **error);
SdrHeliosImport *sdr_s2low_helios_import(SdrS2lowClient *client, const char *path,
                                         const char *file_name, GError **error);
gboolean sdr_s2low_helios_status(SdrS2lowClient *client, const char *id, int *status,
                                 char **message, GError **error);

/* ---- The HTTP Basic password (sdr-s2low-keyring.c) ------------------------------- */

/* In the desktop keyring (Secret Service, libsecret schema "fr.sinadur.S2low", keyed
 * by url and login), never in a file. SDR_ERROR_CONFIG with a French message when
 * no keyring answers on the session bus (or, for lookup, when none is stored);
 * SDR_ERROR_UNSUPPORTED when built without libsecret. */
gboolean sdr_s2low_keyring_store(const char *url, const char *login, const SdrSecret *password,
                                 GError **error);
SdrSecret *sdr_s2low_keyring_lookup(const char *url, const char *login, GError **error);
/* *removed: whether there was one. */
gboolean sdr_s2low_keyring_clear(const char *url, const char *login, gboolean *removed,
                                 GError **error);

G_END_DECLS
