/* sdr-pes.h - PES V2 (Hélios) signatures: one enveloped XAdES 1.1.1 signature per
 * bordereau (or one over PES_Aller/@Id when the bordereaux have no Id), in the
 * profile S²LOW and Hélios accept, spliced into the original ISO-8859-1 bytes.
 *
 * The document is parsed once (libxml2 streaming reader, no DTD, no network); each
 * bordereau is canonicalised (exclusive C14N) from that parse, every SignedInfo is
 * signed with one SdrSigner call (the caller logged in once), and the signatures are
 * inserted just before each bordereau's end tag. Bytes outside the inserted
 * signatures are kept as they were; PES_PJ is never touched.
 */
#pragma once

#include "sdr-signer.h"

#include <glib.h>

G_BEGIN_DECLS

#define SDR_PES_POLICY_ID "urn:oid:1.2.250.1.131.1.5.18.21.1.7"
#define SDR_PES_POLICY_DESCRIPTION "Politique de signature Helios de la DGFiP"
/* SHA-256 of the policy document as S²LOW uses it today (other sources differ). */
#define SDR_PES_POLICY_HASH "roF9+cfRHNPtVJolhdqfIqGMVuUXX8aR4rpiquf0u5E="
#define SDR_PES_POLICY_URI                                                                         \
	"https://www.collectivites-locales.gouv.fr/files/files/finances_locales/"                  \
	"dematerialisation/"                                                                       \
	"ps_helios_dgfip.pdf"
#define SDR_PES_DEFAULT_ROLE "Ordonnateur"
#define SDR_PES_MAX_SIZE ((gsize)1024 * 1024 * 1024) /* 1 GiB */

typedef struct {
	/* Ids of the bordereaux to sign (--bordereau, NULL-terminated); NULL = all. */
	const char *const *bordereaux;
	const char *policy_identifier;  /* default SDR_PES_POLICY_ID */
	const char *policy_description; /* default SDR_PES_POLICY_DESCRIPTION */
	const char *policy_hash;        /* base64 SHA-256, default SDR_PES_POLICY_HASH */
	const char *policy_uri;         /* SPURI, default SDR_PES_POLICY_URI; "" = none */
	/* SignatureProductionPlace: each part is omitted when NULL; all NULL = no element. */
	const char *city;
	const char *postal_code;
	const char *country_name;
	const char *claimed_role; /* default SDR_PES_DEFAULT_ROLE */
	GDateTime *signing_time;  /* NULL = now (UTC) */
	gsize max_size;           /* 0 = SDR_PES_MAX_SIZE */
} SdrPesOptions;

void sdr_pes_options_init(SdrPesOptions *options);

/* The PES V2 profile wants a SignatureProductionPlace (sinadur's verify and the
 * DGFiP's flag a signature without one): TRUE when city or postal_code is given,
 * else SDR_ERROR_CONFIG saying which configuration keys to set. Callers check it
 * before asking for a PIN; sdr_pes_sign_*() itself still accepts no place. */
gboolean sdr_pes_check_place(const char *city, const char *postal_code, GError **error);

typedef struct {
	GPtrArray *signed_ids;  /* char*: bordereaux (or the PES_Aller Id) signed now */
	GPtrArray *skipped_ids; /* char*: bordereaux already signed, left as they were */
	gboolean root;          /* TRUE: one signature over PES_Aller/@Id */
} SdrPesSignResult;

void sdr_pes_sign_result_free(SdrPesSignResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrPesSignResult, sdr_pes_sign_result_free)

/* Checks what S²LOW checks before accepting a PES (ISO-8859-1 declaration, PES_Aller
 * root, Enveloppe/Parametres/NomFic, CodCol <= 3, IdColl <= 14, unique Ids, no DTD).
 * SDR_ERROR_PROFILE (French message) when a rule is broken, SDR_ERROR_PARSE when the
 * XML is broken. */
gboolean sdr_pes_check(const guint8 *data, gsize len, GError **error);

/* What sdr_pes_sign_*() checks before any signature, without signing (the agent calls
 * it before asking for the PIN): the profile as sdr_pes_check(), every
 * options->bordereaux Id exists (SDR_ERROR_NOT_FOUND), and something is left to sign
 * (SDR_ERROR_ALREADY_SIGNED otherwise). */
gboolean sdr_pes_check_signable(const guint8 *data, gsize len, const SdrPesOptions *options,
                                GError **error);

/* Signs in memory. Returns the signed document; *result (may be NULL) says what was
 * signed and skipped. Errors: SDR_ERROR_PROFILE / PARSE / TOO_LARGE (the input is
 * refused before any signature), SDR_ERROR_NOT_FOUND (a --bordereau Id does not
 * exist), SDR_ERROR_ALREADY_SIGNED (nothing left to sign), or the signer's error. */
GBytes *sdr_pes_sign_bytes(SdrSigner *signer, GBytes *pes, const SdrPesOptions *options,
                           SdrPesSignResult **result, GError **error);

/* Signs in_path into out_path (atomically; out_path may equal in_path). On error
 * out_path is left as it was. */
gboolean sdr_pes_sign_file(SdrSigner *signer, const char *in_path, const char *out_path,
                           const SdrPesOptions *options, SdrPesSignResult **result, GError **error);

/* TRUE when data looks like a PES_Aller document (for format detection). */
gboolean sdr_pes_detect(const guint8 *data, gsize len);

G_END_DECLS
