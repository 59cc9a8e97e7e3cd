/* sdr-tl.h - trusted lists (ETSI TS 119 612) and the qualified status of a
 * certificate (a simplified ETSI TS 119 615 procedure), as pure functions over
 * bytes: no network, no file cache, no clock of their own (the caller passes
 * "now" and the signing time). Fetching, caching and refresh are the agent's.
 *
 * A list is parsed with sdr-xml.h (no DTD, no entity, no network, size caps),
 * then its enveloped XML signature is checked with sdr-xmldsig.h against the
 * certificates the caller trusts for it: configured ones for the LOTL, those the
 * LOTL's pointer publishes for a national list. A list whose signature fails or
 * whose NextUpdate is past is kept for the report but never used to qualify.
 */
#pragma once

#include "sdr-verify.h"

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

#define SDR_TL_NS "http://uri.etsi.org/02231/v2#"
#define SDR_TL_MAX_SIZE ((gsize)32 * 1024 * 1024)

#define SDR_TL_SVC_CA_QC "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
#define SDR_TL_STATUS_GRANTED "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
#define SDR_TL_STATUS_WITHDRAWN "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
#define SDR_TL_QUALIFIER_PREFIX "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/"

typedef enum {
	SDR_TL_NOT_CHECKED = 0, /* parsed only */
	SDR_TL_TRUSTED,         /* signature good against a given signer, not expired */
	SDR_TL_SIGNATURE_INVALID,
	SDR_TL_UNSIGNED,
	SDR_TL_EXPIRED, /* NextUpdate is past (or absent: the list is closed) */
} SdrTlStatus;

const char *sdr_tl_status_name(SdrTlStatus status); /* "trusted", "signature-invalid"... */

typedef struct {
	char *status; /* ServiceStatus URI */
	GDateTime *start;
} SdrTlStatusPeriod;

typedef enum {
	SDR_TL_ASSERT_ALL = 0,
	SDR_TL_ASSERT_AT_LEAST_ONE,
	SDR_TL_ASSERT_NONE,
} SdrTlAssert;

/* One Qualifications/QualificationElement. */
typedef struct {
	GPtrArray *qualifiers; /* char*: the last segment of the URI ("QCWithSSCD"...) */
	SdrTlAssert assert_;
	GPtrArray *policy_sets; /* GPtrArray* of char* OIDs: one per PolicySet (all of a set) */
	GPtrArray *key_usages;  /* GPtrArray* of "name=true|false" strings: one per KeyUsage */
} SdrTlQualificationElement;

typedef struct {
	char *type;       /* ServiceTypeIdentifier URI */
	char *name;       /* ServiceName (French, else English, else the first) */
	GPtrArray *certs; /* X509* (owned) from ServiceDigitalIdentity */
	SdrTlStatusPeriod current;
	GPtrArray *history;        /* SdrTlStatusPeriod*, as listed (newest first) */
	GPtrArray *qualifications; /* SdrTlQualificationElement* (current status) */
	GPtrArray *additional;     /* char*: AdditionalServiceInformation last URI segment */
} SdrTlService;

typedef struct {
	char *name;
	GPtrArray *services; /* SdrTlService* */
} SdrTlProvider;

typedef struct {
	char *location;   /* TSLLocation */
	char *territory;  /* SchemeTerritory of the pointed list */
	char *mime;       /* MimeType, may be NULL */
	GPtrArray *certs; /* X509*: the keys allowed to sign the pointed list */
} SdrTlPointer;

typedef struct {
	char *name;      /* SchemeOperatorName */
	char *territory; /* SchemeTerritory */
	char *type;      /* TSLType URI */
	guint64 sequence;
	GDateTime *issued;
	GDateTime *next_update; /* NULL: closed list */
	GPtrArray *pointers;    /* SdrTlPointer* */
	GPtrArray *providers;   /* SdrTlProvider* */
	SdrTlStatus status;
	char *status_detail; /* translated, NULL when trusted */
	X509 *signer;        /* the certificate the signature verified with, owned, may be NULL */
	/* private */
	gpointer doc;
} SdrTl;

/* Parses a TSL. Fails (SDR_ERROR_PARSE / TOO_LARGE) only when the bytes are not
 * a usable TrustServiceStatusList. status is NOT_CHECKED until sdr_tl_check(). */
SdrTl *sdr_tl_parse(const guint8 *data, gsize len, const char *name, GError **error);
void sdr_tl_free(SdrTl *tl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrTl, sdr_tl_free)

/* TRUE when this is a list of lists (TSLType .../EUlistofthelists or any list
 * with pointers and no provider). */
gboolean sdr_tl_is_lotl(const SdrTl *tl);

/* Checks the enveloped signature against signers (X509*, any of them), and the
 * NextUpdate against now. Sets and returns tl->status. */
SdrTlStatus sdr_tl_check(SdrTl *tl, GPtrArray *signers, GDateTime *now);

/* ---- A set of lists ---------------------------------------------------------- */

typedef struct {
	GPtrArray *lists;   /* SdrTl*: every list loaded, trusted or not (for reports) */
	GPtrArray *anchors; /* X509*: configured LOTL signers */
} SdrTlSet;

SdrTlSet *sdr_tl_set_new(void);
void sdr_tl_set_free(SdrTlSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrTlSet, sdr_tl_set_free)

/* Adds a configured LOTL signer (a new reference is taken). */
void sdr_tl_set_add_anchor(SdrTlSet *set, X509 *cert);
/* Adds a list (parsed, not yet checked). */
gboolean sdr_tl_set_add_list(SdrTlSet *set, const guint8 *data, gsize len, const char *name,
                             GError **error);
/* Loads files: PEM/DER certificates become anchors, the others are lists. A
 * folder is read one level deep (*.xml, *.pem, *.crt, *.der). */
gboolean sdr_tl_set_add_files(SdrTlSet *set, const char *const *paths, GError **error);
/* Checks every list: LOTLs against the anchors, the others against the
 * certificates of the trusted LOTLs' pointers for their territory (or the
 * anchors). Returns the number of trusted lists. */
guint sdr_tl_set_check(SdrTlSet *set, GDateTime *now);

/* ---- Qualification of a certificate ----------------------------------------- */

typedef struct {
	gboolean found;     /* a CA/QC service of a trusted list issued the certificate */
	gboolean granted;   /* its status at the time was granted */
	gboolean qualified; /* qualified certificate at the time */
	gboolean qscd;      /* private key in a QSCD/SSCD */
	gboolean for_esig;  /* for electronic signatures (natural person) */
	gboolean for_eseal; /* for electronic seals (legal person) */
	gboolean for_web;
	char *tsp;       /* provider name */
	char *service;   /* service name */
	char *territory; /* list territory */
	char *status;    /* status URI at the time */
	GDateTime *status_start;
	GPtrArray *qualifiers; /* char*: qualifiers that applied */
	/* The certificate's own QCStatements */
	gboolean qc_compliance;
	gboolean qc_sscd;
	gboolean qc_type_esign, qc_type_eseal, qc_type_web;
	X509 *service_cert; /* owned, may be NULL: the service certificate on the path */
} SdrTlQualification;

void sdr_tl_qualification_free(SdrTlQualification *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrTlQualification, sdr_tl_qualification_free)

/* Reads the QCStatements extension (QcCompliance, QcSSCD, QcType) into q.
 * FALSE when the extension is present but not DER it should be. */
gboolean sdr_tl_read_qc_statements(X509 *cert, SdrTlQualification *q);

/* Qualifies cert (the signer certificate) at time at with the trusted lists of
 * set. chain (X509*, may be NULL: the signature's certificates, the chain built,
 * AIA-fetched issuers) is searched for the path from cert up: a service whose
 * certificate issued cert or one of its issuers on that path (every link's
 * signature checked), or is one of those issuers, counts (intermediate CAs below the
 * service certificate). The qualifiers' criteria apply to cert. Never NULL; found is
 * FALSE when no trusted service is on the path. */
SdrTlQualification *sdr_tl_qualify(const SdrTlSet *set, X509 *cert, GPtrArray *chain,
                                   GDateTime *at);

/* A French sentence for people ("Signature électronique qualifiée…"), g_free. */
char *sdr_tl_qualification_summary(const SdrTlQualification *q);

/* ---- In a verification report ----------------------------------------------- */

/* For each signature of report with a signer certificate: qualifies it at its
 * timestamp time (else its claimed signing time, else at) and writes the block
 * into its details ("qualification", "qualification_tsp", "qualification_service",
 * "qualification_status", "qualification_qualifiers", "qualified", "qscd",
 * "qualified_for"). When a granted CA/QC service issued the certificate, the
 * CHAIN_NOT_TRUSTED reasons are lifted (a VALID verdict when nothing else is
 * wrong) and a remark says the chain rests on the list. Lists of set that are not
 * trusted become notes of the report. */
void sdr_tl_qualify_report(const SdrTlSet *set, SdrVerifyReport *report, GDateTime *at);

/* Verifies the same file again with anchors as the only trust anchors (the caller's
 * options otherwise), or NULL. */
typedef SdrVerifyReport *(*SdrTlReverifyFunc)(X509_STORE *anchors, gpointer data);

/* sdr_tl_qualify_report(); then, when a chain was accepted because it rests on a
 * granted service, the file is verified again by reverify with the service
 * certificates (and the issuers found above the signer) as anchors, so that the chain
 * up to the service certificate is checked link by link and for revocation like a
 * chain to a configured anchor; those signatures are replaced by the new results
 * (qualified the same way). When that chain still cannot be built, the signature is
 * INDETERMINATE REVOCATION_UNKNOWN (its revocation could not be checked). */
void sdr_tl_qualify_report_full(const SdrTlSet *set, SdrVerifyReport *report, GDateTime *at,
                                SdrTlReverifyFunc reverify, gpointer data);

G_END_DECLS
