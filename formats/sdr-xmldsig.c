/* sdr-xmldsig.c - XML-DSig core: C14N, references, SignedInfo, SignatureValue. */
#include "sdr-xmldsig.h"

#include "sdr-error.h"
#include "sdr-xml.h"

#include <glib/gi18n-lib.h>
#include <libxml/c14n.h>
#include <libxml/globals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlsave.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <string.h>

#define SIGNED_INFO_MAX ((gsize)4 * 1024 * 1024)
#define DIGEST_VALUE_MAX 256
#define CERT_MAX ((gsize)64 * 1024)
#define KEYINFO_MAX_CERTS 16
#define MAX_REFERENCES 256
#define BASE64_TARGET_MAX ((gsize)2 * 1024 * 1024 * 1024)

/* ---- Algorithm names ------------------------------------------------------ */

static const struct {
	SdrC14nMethod method;
	const char *uri;
	int mode;
	gboolean comments;
} c14n_table[] = {
	{ SDR_C14N_EXCLUSIVE, SDR_DSIG_EXC_C14N, XML_C14N_EXCLUSIVE_1_0, FALSE },
	{ SDR_C14N_EXCLUSIVE_COMMENTS, SDR_DSIG_EXC_C14N_COMMENTS, XML_C14N_EXCLUSIVE_1_0, TRUE },
	{ SDR_C14N_INCLUSIVE_10, SDR_DSIG_C14N10, XML_C14N_1_0, FALSE },
	{ SDR_C14N_INCLUSIVE_10_COMMENTS, SDR_DSIG_C14N10_COMMENTS, XML_C14N_1_0, TRUE },
	{ SDR_C14N_INCLUSIVE_11, SDR_DSIG_C14N11, XML_C14N_1_1, FALSE },
	{ SDR_C14N_INCLUSIVE_11_COMMENTS, SDR_DSIG_C14N11_COMMENTS, XML_C14N_1_1, TRUE },
};

const char *
sdr_c14n_method_uri(SdrC14nMethod method)
{
	for (gsize i = 0; i < G_N_ELEMENTS(c14n_table); i++) {
		if (c14n_table[i].method == method)
			return c14n_table[i].uri;
	}
	return SDR_DSIG_EXC_C14N;
}

gboolean
sdr_c14n_method_from_uri(const char *uri, SdrC14nMethod *out)
{
	if (uri == NULL)
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(c14n_table); i++) {
		if (strcmp(c14n_table[i].uri, uri) == 0) {
			*out = c14n_table[i].method;
			return TRUE;
		}
	}
	return FALSE;
}

static SdrC14nMethod
c14n_without_comments(SdrC14nMethod m)
{
	switch (m) {
	case SDR_C14N_EXCLUSIVE_COMMENTS:
		return SDR_C14N_EXCLUSIVE;
	case SDR_C14N_INCLUSIVE_10_COMMENTS:
		return SDR_C14N_INCLUSIVE_10;
	case SDR_C14N_INCLUSIVE_11_COMMENTS:
		return SDR_C14N_INCLUSIVE_11;
	default:
		return m;
	}
}

static const struct {
	const char *uri;
	const char *name;
} digest_table[] = {
	{ "http://www.w3.org/2001/04/xmlenc#sha256", "SHA256" },
	{ "http://www.w3.org/2001/04/xmldsig-more#sha384", "SHA384" },
	{ "http://www.w3.org/2001/04/xmlenc#sha512", "SHA512" },
	{ "http://www.w3.org/2000/09/xmldsig#sha1", "SHA1" },
	{ "http://www.w3.org/2001/04/xmldsig-more#sha224", "SHA224" },
	{ "http://www.w3.org/2001/04/xmlenc#sha384", "SHA384" },
};

const char *
sdr_dsig_digest_uri(SdrHashAlg hash)
{
	switch (hash) {
	case SDR_HASH_SHA384:
		return digest_table[1].uri;
	case SDR_HASH_SHA512:
		return digest_table[2].uri;
	case SDR_HASH_SHA256:
	default:
		return digest_table[0].uri;
	}
}

const EVP_MD *
sdr_dsig_digest_md_from_uri(const char *uri)
{
	if (uri == NULL)
		return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(digest_table); i++) {
		if (strcmp(digest_table[i].uri, uri) == 0)
			return EVP_get_digestbyname(digest_table[i].name);
	}
	return NULL;
}

typedef struct {
	const char *uri;
	SdrSigScheme scheme;
	const char *md;         /* NULL for EdDSA and for the refused entries */
	SdrSigAlgStatus status; /* OK, or why the method is refused */
	gboolean eddsa;
} SigMethod;

/* The one SignatureMethod URI -> (scheme, hash) mapping (RFC 3275, RFC 6931, RFC 9231);
 * the first nine entries are the ones sinadur signs with, in sdr_dsig_signature_method_uri()
 * order. */
static const SigMethod sig_table[] = {
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", SDR_SIG_RSA_PKCS1, "SHA256" },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", SDR_SIG_RSA_PKCS1, "SHA384" },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", SDR_SIG_RSA_PKCS1, "SHA512" },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", SDR_SIG_ECDSA, "SHA256" },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", SDR_SIG_ECDSA, "SHA384" },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", SDR_SIG_ECDSA, "SHA512" },
	{ "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1", SDR_SIG_RSA_PSS, "SHA256" },
	{ "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1", SDR_SIG_RSA_PSS, "SHA384" },
	{ "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1", SDR_SIG_RSA_PSS, "SHA512" },
	/* verification only */
	{ "http://www.w3.org/2000/09/xmldsig#rsa-sha1", SDR_SIG_RSA_PKCS1, "SHA1" },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", SDR_SIG_ECDSA, "SHA1" },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224", SDR_SIG_RSA_PKCS1, "SHA224" },
	{ "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519", SDR_SIG_ECDSA, NULL,
	  SDR_SIG_ALG_OK, TRUE },
	/* real signature methods not checked here: INDETERMINATE */
	{ "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed448", 0, NULL, SDR_SIG_ALG_UNSUPPORTED },
	{ "http://www.w3.org/2007/05/xmldsig-more#rsa-pss", 0, NULL, SDR_SIG_ALG_UNSUPPORTED },
	{ "http://www.w3.org/2000/09/xmldsig#dsa-sha1", 0, NULL, SDR_SIG_ALG_UNSUPPORTED },
	{ "http://www.w3.org/2009/xmldsig11#dsa-sha256", 0, NULL, SDR_SIG_ALG_UNSUPPORTED },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224", 0, NULL, SDR_SIG_ALG_UNSUPPORTED },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-md5", 0, NULL, SDR_SIG_ALG_UNSUPPORTED },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-ripemd160", 0, NULL,
	  SDR_SIG_ALG_UNSUPPORTED },
	{ "http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1", 0, NULL,
	  SDR_SIG_ALG_UNSUPPORTED },
	{ "http://www.w3.org/2007/05/xmldsig-more#sha3-384-rsa-MGF1", 0, NULL,
	  SDR_SIG_ALG_UNSUPPORTED },
	{ "http://www.w3.org/2007/05/xmldsig-more#sha3-512-rsa-MGF1", 0, NULL,
	  SDR_SIG_ALG_UNSUPPORTED },
	/* HMAC: a shared secret, not a signature by the certificate holder: INVALID
	 * (anything not listed is INVALID too) */
	{ "http://www.w3.org/2000/09/xmldsig#hmac-sha1", 0, NULL, SDR_SIG_ALG_INVALID },
	{ "http://www.w3.org/2001/04/xmldsig-more#hmac-sha224", 0, NULL, SDR_SIG_ALG_INVALID },
	{ "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", 0, NULL, SDR_SIG_ALG_INVALID },
	{ "http://www.w3.org/2001/04/xmldsig-more#hmac-sha384", 0, NULL, SDR_SIG_ALG_INVALID },
	{ "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512", 0, NULL, SDR_SIG_ALG_INVALID },
};

const char *
sdr_dsig_signature_method_uri(SdrSigScheme scheme, SdrHashAlg hash)
{
	guint h = hash == SDR_HASH_SHA384 ? 1 : hash == SDR_HASH_SHA512 ? 2 : 0;

	switch (scheme) {
	case SDR_SIG_ECDSA:
		return sig_table[3 + h].uri;
	case SDR_SIG_RSA_PSS:
		return sig_table[6 + h].uri;
	case SDR_SIG_RSA_PKCS1:
	default:
		return sig_table[h].uri;
	}
}

static const SigMethod *
sig_method_from_uri(const char *uri)
{
	if (uri == NULL)
		return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(sig_table); i++) {
		if (strcmp(sig_table[i].uri, uri) == 0)
			return &sig_table[i];
	}
	return NULL;
}

static SdrSigAlgStatus
sig_method_resolve(const SigMethod *sm, SdrSigVerifyAlg *out)
{
	SdrSigVerifyAlg a = { 0 };

	if (sm == NULL)
		return SDR_SIG_ALG_INVALID;
	if (sm->status != SDR_SIG_ALG_OK)
		return sm->status;
	a.scheme = sm->scheme;
	a.eddsa = sm->eddsa;
	if (!a.eddsa) {
		a.md = EVP_get_digestbyname(sm->md);
		if (a.md == NULL)
			return SDR_SIG_ALG_UNSUPPORTED;
	}
	a.mgf1_md = a.md;
	a.salt_len = a.md != NULL ? EVP_MD_get_size(a.md) : 0; /* RFC 6931 2.3.10 */
	if (out != NULL)
		*out = a;
	return SDR_SIG_ALG_OK;
}

SdrSigAlgStatus
sdr_dsig_signature_method_from_uri(const char *uri, SdrSigVerifyAlg *out)
{
	return sig_method_resolve(sig_method_from_uri(uri), out);
}

/* ---- Canonicalisation ----------------------------------------------------- */

typedef struct {
	SdrXmlSinkFunc sink;
	gpointer user_data;
	gboolean stopped;
} SinkCtx;

static int
c14n_write(void *context, const char *buffer, int len)
{
	SinkCtx *ctx = context;

	if (len < 0 || ctx->stopped)
		return -1;
	if (len > 0 && !ctx->sink(ctx->user_data, (const guint8 *)buffer, (gsize)len)) {
		ctx->stopped = TRUE;
		return -1;
	}
	return len;
}

static int
c14n_close(void *context)
{
	return 0;
}

typedef struct {
	xmlNode *apex;          /* subtree being canonicalised, NULL = whole document */
	xmlNode *exclude;       /* enveloped-signature: left out, may be NULL */
	gboolean no_signatures; /* XPath not(ancestor-or-self::ds:Signature) */
} Visibility;

/* A node is visible when it lies in the apex subtree and not in the excluded
 * one. Ancestors of the apex are invisible, which is what makes libxml2 render
 * inherited namespaces and (C14N 1.0) xml:* attributes on the apex, exactly as
 * for the XPath node-set of a same-document reference. */
static int
c14n_visible(void *user_data, xmlNodePtr node, xmlNodePtr parent)
{
	Visibility *vis = user_data;
	xmlNode *n = node->type == XML_NAMESPACE_DECL ? parent : node;
	gboolean in_apex = vis->apex == NULL;

	for (; n != NULL; n = n->parent) {
		if (n == vis->exclude)
			return 0;
		if (vis->no_signatures && n->type == XML_ELEMENT_NODE &&
		    sdr_xml_is(n, SDR_DSIG_NS, "Signature"))
			return 0;
		if (n == vis->apex)
			in_apex = TRUE;
	}
	return in_apex ? 1 : 0;
}

static gboolean c14n_run(xmlDoc *doc, xmlNode *node, xmlNode *exclude, gboolean no_signatures,
                         SdrC14nMethod method, const char *const *prefixes, SdrXmlSinkFunc sink,
                         gpointer user_data, GError **error);

gboolean
sdr_xmldsig_c14n(xmlDoc *doc, xmlNode *node, xmlNode *exclude, SdrC14nMethod method,
                 const char *const *prefixes, SdrXmlSinkFunc sink, gpointer user_data,
                 GError **error)
{
	return c14n_run(doc, node, exclude, FALSE, method, prefixes, sink, user_data, error);
}

static gboolean
c14n_run(xmlDoc *doc, xmlNode *node, xmlNode *exclude, gboolean no_signatures, SdrC14nMethod method,
         const char *const *prefixes, SdrXmlSinkFunc sink, gpointer user_data, GError **error)
{
	SinkCtx ctx = { sink, user_data, FALSE };
	xmlOutputBufferPtr buf;
	int mode = XML_C14N_EXCLUSIVE_1_0;
	gboolean comments = FALSE;
	int rc;
	xmlStructuredErrorFunc saved_handler = xmlStructuredError;
	void *saved_ctx = xmlStructuredErrorContext;

	for (gsize i = 0; i < G_N_ELEMENTS(c14n_table); i++) {
		if (c14n_table[i].method == method) {
			mode = c14n_table[i].mode;
			comments = c14n_table[i].comments;
		}
	}
	if (doc == NULL && node != NULL)
		doc = node->doc;
	if (doc == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, _("Nothing to canonicalise"));
		return FALSE;
	}
	buf = xmlOutputBufferCreateIO(c14n_write, c14n_close, &ctx, NULL);
	if (buf == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, _("Out of memory"));
		return FALSE;
	}
	/* libxml2 reports C14N and I/O errors on stderr; we report through GError. */
	xmlSetStructuredErrorFunc(NULL, sdr_xml_error_handler);
	if (node == NULL || node->type == XML_DOCUMENT_NODE) {
		Visibility vis = { NULL, exclude, no_signatures };

		rc = xmlC14NExecute(doc, exclude != NULL || no_signatures ? c14n_visible : NULL,
		                    &vis, mode, (xmlChar **)prefixes, comments, buf);
	} else {
		/* libxml2 always walks from doc->children: make the subtree the only
		 * top-level node for the duration of the call, so that the cost is the
		 * subtree's, not the document's (one pass per PES bordereau). Parent
		 * links stay, so in-scope namespaces and xml:* attributes are found. */
		xmlNode *saved_children = doc->children;
		xmlNode *saved_next = node->next;
		Visibility vis = { node, exclude, no_signatures };

		doc->children = node;
		node->next = NULL;
		rc = xmlC14NExecute(doc, c14n_visible, &vis, mode, (xmlChar **)prefixes, comments,
		                    buf);
		node->next = saved_next;
		doc->children = saved_children;
	}
	if (xmlOutputBufferClose(buf) < 0 && rc >= 0)
		rc = -1;
	xmlSetStructuredErrorFunc(saved_ctx, saved_handler);
	if (rc < 0) {
		if (!ctx.stopped || (error != NULL && *error == NULL))
			g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
			            _("XML canonicalisation failed"));
		return FALSE;
	}
	return TRUE;
}

typedef struct {
	GByteArray *out;
	gsize max_len;
	gboolean too_large;
} MemSink;

static gboolean
mem_sink(gpointer user_data, const guint8 *data, gsize len)
{
	MemSink *m = user_data;

	if (m->out->len + len > m->max_len || m->out->len + len < len) {
		m->too_large = TRUE;
		return FALSE;
	}
	g_byte_array_append(m->out, data, (guint)len);
	return TRUE;
}

GBytes *
sdr_xmldsig_c14n_to_bytes(xmlDoc *doc, xmlNode *node, xmlNode *exclude, SdrC14nMethod method,
                          const char *const *prefixes, gsize max_len, GError **error)
{
	MemSink m = { g_byte_array_new(), max_len, FALSE };
	GError *local = NULL;

	if (!sdr_xmldsig_c14n(doc, node, exclude, method, prefixes, mem_sink, &m, &local)) {
		if (m.too_large) {
			g_clear_error(&local);
			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("The canonical form is over %lu bytes"),
			            (unsigned long)max_len);
		} else {
			g_propagate_error(error, local);
		}
		g_byte_array_unref(m.out);
		return NULL;
	}
	return g_byte_array_free_to_bytes(m.out);
}

static gboolean
md_sink(gpointer user_data, const guint8 *data, gsize len)
{
	return EVP_DigestUpdate(user_data, data, len) == 1;
}

static gboolean c14n_digest_run(xmlDoc *doc, xmlNode *node, xmlNode *exclude,
                                gboolean no_signatures, SdrC14nMethod method,
                                const char *const *prefixes, const EVP_MD *md, guint8 *out,
                                gsize *out_len, GError **error);

gboolean
sdr_xmldsig_c14n_digest(xmlDoc *doc, xmlNode *node, xmlNode *exclude, SdrC14nMethod method,
                        const char *const *prefixes, const EVP_MD *md, guint8 *out, gsize *out_len,
                        GError **error)
{
	return c14n_digest_run(doc, node, exclude, FALSE, method, prefixes, md, out, out_len,
	                       error);
}

static gboolean
c14n_digest_run(xmlDoc *doc, xmlNode *node, xmlNode *exclude, gboolean no_signatures,
                SdrC14nMethod method, const char *const *prefixes, const EVP_MD *md, guint8 *out,
                gsize *out_len, GError **error)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	gboolean ok = FALSE;

	if (mctx == NULL || EVP_DigestInit_ex(mctx, md, NULL) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_DigestInit");
		goto out;
	}
	if (!c14n_run(doc, node, exclude, no_signatures, method, prefixes, md_sink, mctx, error))
		goto out;
	if (EVP_DigestFinal_ex(mctx, out, &n) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_DigestFinal");
		goto out;
	}
	*out_len = n;
	ok = TRUE;
out:
	EVP_MD_CTX_free(mctx);
	return ok;
}

/* ---- Base64 --------------------------------------------------------------- */

GBytes *
sdr_xml_base64_decode(const char *text, gsize max_len, GError **error)
{
	gsize n = 0, pad = 0, len;
	g_autofree char *clean = NULL;
	guchar *raw;
	gsize raw_len = 0;

	if (text == NULL)
		text = "";
	len = strlen(text);
	clean = g_malloc(len + 1);
	for (gsize i = 0; i < len; i++) {
		char c = text[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
		} else if (g_ascii_isalnum(c) || c == '+' || c == '/') {
			if (pad > 0)
				goto bad;
		} else {
			goto bad;
		}
		clean[n++] = c;
	}
	clean[n] = '\0';
	if (n % 4 != 0 || pad > 2)
		goto bad;
	if (n / 4 * 3 > max_len + 2) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("A base64 value is over %lu bytes"), (unsigned long)max_len);
		return NULL;
	}
	if (n == 0)
		return g_bytes_new(NULL, 0);
	raw = g_base64_decode_inplace(clean, &raw_len);
	if (raw_len > max_len) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
		            _("A base64 value is over %lu bytes"), (unsigned long)max_len);
		return NULL;
	}
	return g_bytes_new(raw, raw_len);
bad:
	g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE, _("A value is not valid base64"));
	return NULL;
}

X509 *
sdr_xml_base64_decode_cert(const char *text, gsize max_len)
{
	g_autoptr(GBytes) der = sdr_xml_base64_decode(text, max_len, NULL);
	const unsigned char *p;

	if (der == NULL)
		return NULL;
	p = g_bytes_get_data(der, NULL);
	return d2i_X509(NULL, &p, (long)g_bytes_get_size(der));
}

/* ---- Reference digests ---------------------------------------------------- */

gboolean
sdr_xmldsig_digest_stream(GInputStream *in, const EVP_MD *md, guint8 *out, gsize *out_len,
                          GCancellable *cancellable, GError **error)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	gsize bufsize = 64 * 1024; /* stays in L2: read() then hash while hot */
	g_autofree guint8 *buf = g_malloc(bufsize);
	unsigned int n = 0;
	gboolean ok = FALSE;

	if (mctx == NULL || EVP_DigestInit_ex(mctx, md, NULL) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_DigestInit");
		goto out;
	}
	for (;;) {
		GError *local = NULL;
		gssize r = g_input_stream_read(in, buf, bufsize, cancellable, &local);

		if (r < 0) {
			g_set_error(error, SDR_ERROR,
			            g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED)
			                    ? SDR_ERROR_CANCELLED
			                    : SDR_ERROR_IO,
			            _("Cannot read the data to sign: %s"), local->message);
			g_error_free(local);
			goto out;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(mctx, buf, (gsize)r) != 1) {
			sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_DigestUpdate");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(mctx, out, &n) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_DigestFinal");
		goto out;
	}
	*out_len = n;
	ok = TRUE;
out:
	EVP_MD_CTX_free(mctx);
	return ok;
}

/* Base64 transform over an element: the decoded text content. */
static gboolean
digest_base64_text(xmlNode *target, const EVP_MD *md, guint8 *out, gsize *out_len, GError **error)
{
	g_autofree xmlChar *content = xmlNodeGetContent(target);
	const char *text = content != NULL ? (const char *)content : "";
	gsize len = strlen(text);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	guchar chunk[3 * 4096 + 16];
	gint state = 0;
	guint save = 0;
	unsigned int n = 0;
	gboolean ok = FALSE;

	if (mctx == NULL || EVP_DigestInit_ex(mctx, md, NULL) != 1) {
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "EVP_DigestInit");
		goto out;
	}
	for (gsize off = 0; off < len; off += 4 * 4096) {
		gsize step = MIN((gsize)4 * 4096, len - off);
		gsize got = g_base64_decode_step(text + off, step, chunk, &state, &save);

		if (EVP_DigestUpdate(mctx, chunk, got) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(mctx, out, &n) != 1)
		goto out;
	*out_len = n;
	ok = TRUE;
out:
	if (!ok && error != NULL && *error == NULL)
		sdr_error_set_openssl(error, SDR_ERROR_CRYPTO, "digest");
	EVP_MD_CTX_free(mctx);
	return ok;
}

gboolean
sdr_xmldsig_digest_same_document(xmlDoc *doc, xmlNode *target, xmlNode *signature,
                                 SdrDsigReference *ref, GError **error)
{
	SdrC14nMethod method = SDR_C14N_INCLUSIVE_10;
	gboolean enveloped = FALSE, base64 = FALSE;
	const EVP_MD *md = sdr_hash_md(ref->hash);

	for (gsize i = 0; i < ref->n_transforms && i < SDR_DSIG_MAX_TRANSFORMS; i++) {
		SdrC14nMethod m;

		if (ref->transforms[i] == NULL)
			continue;
		if (strcmp(ref->transforms[i], SDR_DSIG_ENVELOPED) == 0)
			enveloped = TRUE;
		else if (strcmp(ref->transforms[i], SDR_DSIG_BASE64) == 0)
			base64 = TRUE;
		else if (sdr_c14n_method_from_uri(ref->transforms[i], &m))
			method = c14n_without_comments(m);
		else {
			g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
			            _("Unsupported transform %s"), ref->transforms[i]);
			return FALSE;
		}
	}
	if (base64)
		return digest_base64_text(target, md, ref->digest, &ref->digest_len, error);
	return sdr_xmldsig_c14n_digest(doc, target, enveloped ? signature : NULL, method, NULL, md,
	                               ref->digest, &ref->digest_len, error);
}

/* ---- Building ------------------------------------------------------------- */

static xmlNode *
ds_child(xmlNode *parent, xmlNs *ns, const char *name)
{
	return xmlNewChild(parent, ns, BAD_CAST name, NULL);
}

static xmlNs *
ds_ns(xmlNode *node)
{
	for (xmlNode *n = node; n != NULL && n->type == XML_ELEMENT_NODE; n = n->parent) {
		if (n->ns != NULL && xmlStrEqual(n->ns->href, BAD_CAST SDR_DSIG_NS))
			return n->ns;
	}
	return NULL;
}

static void
set_id(xmlNode *node, const char *id)
{
	xmlAttr *attr;

	if (id == NULL)
		return;
	attr = xmlSetProp(node, BAD_CAST "Id", BAD_CAST id);
	if (attr != NULL && node->doc != NULL && xmlGetID(node->doc, BAD_CAST id) == NULL)
		xmlAddID(NULL, node->doc, BAD_CAST id, attr);
}

xmlNode *
sdr_xmldsig_new_signature(xmlDoc *doc, xmlNode *parent, const char *prefix, const char *id)
{
	xmlNode *sig = xmlNewDocNode(doc, NULL, BAD_CAST "Signature", NULL);
	xmlNs *ns;

	if (prefix == NULL)
		prefix = "ds";
	ns = xmlNewNs(sig, BAD_CAST SDR_DSIG_NS, prefix[0] != '\0' ? BAD_CAST prefix : NULL);
	xmlSetNs(sig, ns);
	if (parent != NULL)
		xmlAddChild(parent, sig);
	else
		xmlDocSetRootElement(doc, sig);
	set_id(sig, id);
	return sig;
}

xmlNode *
sdr_xmldsig_add_reference(xmlNode *signed_info, const SdrDsigReference *ref)
{
	xmlNs *ns = ds_ns(signed_info);
	xmlNode *r = ds_child(signed_info, ns, "Reference");
	g_autofree char *b64 = NULL;

	if (ref->id != NULL)
		set_id(r, ref->id);
	if (ref->type != NULL)
		xmlSetProp(r, BAD_CAST "Type", BAD_CAST ref->type);
	if (ref->uri != NULL)
		xmlSetProp(r, BAD_CAST "URI", BAD_CAST ref->uri);
	if (ref->n_transforms > 0) {
		xmlNode *ts = ds_child(r, ns, "Transforms");

		for (gsize i = 0; i < ref->n_transforms && i < SDR_DSIG_MAX_TRANSFORMS; i++) {
			xmlNode *t = ds_child(ts, ns, "Transform");

			xmlSetProp(t, BAD_CAST "Algorithm", BAD_CAST ref->transforms[i]);
		}
	}
	xmlSetProp(ds_child(r, ns, "DigestMethod"), BAD_CAST "Algorithm",
	           BAD_CAST sdr_dsig_digest_uri(ref->hash));
	b64 = g_base64_encode(ref->digest, ref->digest_len);
	xmlNewTextChild(r, ns, BAD_CAST "DigestValue", BAD_CAST b64);
	return r;
}

static void
fill_signed_info(xmlNode *si, SdrC14nMethod c14n, const char *signature_method_uri,
                 const SdrDsigReference *refs, gsize n_refs)
{
	xmlNs *ns = ds_ns(si);

	xmlSetProp(ds_child(si, ns, "CanonicalizationMethod"), BAD_CAST "Algorithm",
	           BAD_CAST sdr_c14n_method_uri(c14n));
	xmlSetProp(ds_child(si, ns, "SignatureMethod"), BAD_CAST "Algorithm",
	           BAD_CAST signature_method_uri);
	for (gsize i = 0; i < n_refs; i++)
		sdr_xmldsig_add_reference(si, &refs[i]);
}

xmlNode *
sdr_xmldsig_add_signed_info(xmlNode *signature, SdrC14nMethod c14n,
                            const char *signature_method_uri, const SdrDsigReference *refs,
                            gsize n_refs)
{
	xmlNode *si = ds_child(signature, ds_ns(signature), "SignedInfo");

	fill_signed_info(si, c14n, signature_method_uri, refs, n_refs);
	return si;
}

char *
sdr_xmldsig_signed_info_string(const char *prefix, SdrC14nMethod c14n,
                               const char *signature_method_uri, const SdrDsigReference *refs,
                               gsize n_refs)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *si = xmlNewDocNode(doc, NULL, BAD_CAST "SignedInfo", NULL);
	xmlBuffer *buf = xmlBufferCreate();
	char *ret;

	if (prefix == NULL)
		prefix = "ds";
	xmlSetNs(si,
	         xmlNewNs(si, BAD_CAST SDR_DSIG_NS, prefix[0] != '\0' ? BAD_CAST prefix : NULL));
	xmlDocSetRootElement(doc, si);
	fill_signed_info(si, c14n, signature_method_uri, refs, n_refs);
	xmlNodeDump(buf, doc, si, 0, 0);
	ret = g_strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return ret;
}

xmlNode *
sdr_xmldsig_add_signature_value(xmlNode *signature, const char *id)
{
	xmlNode *sv = ds_child(signature, ds_ns(signature), "SignatureValue");

	set_id(sv, id);
	return sv;
}

xmlNode *
sdr_xmldsig_add_key_info(xmlNode *signature, X509 *cert, STACK_OF(X509) * chain)
{
	xmlNs *ns = ds_ns(signature);
	xmlNode *ki = ds_child(signature, ns, "KeyInfo");
	xmlNode *xd = ds_child(ki, ns, "X509Data");
	int n = chain != NULL ? sk_X509_num(chain) : 0;

	for (int i = -1; i < n; i++) {
		X509 *c = i < 0 ? cert : sk_X509_value(chain, i);
		unsigned char *der = NULL;
		int len = i2d_X509(c, &der);

		if (len > 0) {
			g_autofree char *b64 = g_base64_encode(der, (gsize)len);

			xmlNewTextChild(xd, ns, BAD_CAST "X509Certificate", BAD_CAST b64);
		}
		OPENSSL_free(der);
	}
	return ki;
}

xmlNode *
sdr_xmldsig_add_object(xmlNode *signature, const char *id)
{
	xmlNode *obj = ds_child(signature, ds_ns(signature), "Object");

	set_id(obj, id);
	return obj;
}

GBytes *
sdr_xmldsig_sign_signed_info(xmlNode *signed_info, SdrC14nMethod c14n, SdrHashAlg hash,
                             SdrSigner *signer, GError **error)
{
	guint8 digest[EVP_MAX_MD_SIZE];
	gsize digest_len = 0;

	if (!sdr_xmldsig_c14n_digest(signed_info->doc, signed_info, NULL, c14n, NULL,
	                             sdr_hash_md(hash), digest, &digest_len, error))
		return NULL;
	return sdr_signer_sign_digest(signer, hash, digest, digest_len, error);
}

gboolean
sdr_xmldsig_sign(xmlNode *signature, SdrHashAlg hash, SdrSigner *signer, GError **error)
{
	xmlNode *si = sdr_xml_first_child(signature, SDR_DSIG_NS, "SignedInfo");
	xmlNode *cm = sdr_xml_first_child(si, SDR_DSIG_NS, "CanonicalizationMethod");
	xmlNode *sv = sdr_xml_first_child(signature, SDR_DSIG_NS, "SignatureValue");
	g_autofree char *alg = sdr_xml_attr(cm, "Algorithm");
	g_autoptr(GBytes) value = NULL;
	g_autofree char *b64 = NULL;
	SdrC14nMethod method;

	if (si == NULL || !sdr_c14n_method_from_uri(alg, &method)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED,
		            _("The signature has no usable SignedInfo"));
		return FALSE;
	}
	value = sdr_xmldsig_sign_signed_info(si, method, hash, signer, error);
	if (value == NULL)
		return FALSE;
	if (sv == NULL) {
		sv = xmlNewDocNode(signature->doc, ds_ns(signature), BAD_CAST "SignatureValue",
		                   NULL);
		xmlAddNextSibling(si, sv);
	}
	b64 = g_base64_encode(g_bytes_get_data(value, NULL), g_bytes_get_size(value));
	xmlNodeSetContent(sv, BAD_CAST b64);
	return TRUE;
}

/* ---- Verification --------------------------------------------------------- */

static void
ref_result_free(gpointer p)
{
	SdrDsigRefResult *r = p;

	if (r == NULL)
		return;
	g_free(r->id);
	g_free(r->uri);
	g_free(r->type);
	g_free(r->detail);
	g_free(r);
}

void
sdr_dsig_verification_free(SdrDsigVerification *v)
{
	if (v == NULL)
		return;
	g_free(v->id);
	g_free(v->c14n_uri);
	g_free(v->signature_method_uri);
	g_free(v->signature_detail);
	if (v->references != NULL)
		g_ptr_array_unref(v->references);
	if (v->certs != NULL)
		g_ptr_array_unref(v->certs);
	X509_free(v->cert);
	g_free(v);
}

static void
x509_unref(gpointer p)
{
	X509_free(p);
}

/* InclusiveNamespaces PrefixList of a c14n Transform / CanonicalizationMethod. */
static GStrv
inclusive_prefixes(xmlNode *method_node)
{
	xmlNode *inc = sdr_xml_first_child(method_node, SDR_DSIG_EXC_C14N, "InclusiveNamespaces");
	g_autofree char *list = sdr_xml_attr(inc, "PrefixList");
	g_auto(GStrv) parts = NULL;
	GPtrArray *out;

	if (list == NULL)
		return NULL;
	parts = g_strsplit_set(list, " \t\r\n", -1);
	out = g_ptr_array_new();
	for (gsize i = 0; parts[i] != NULL && out->len < 64; i++) {
		if (parts[i][0] == '\0')
			continue;
		/* "#default" is the default namespace for libxml2 too. */
		g_ptr_array_add(out, g_strdup(parts[i]));
	}
	g_ptr_array_add(out, NULL);
	return (GStrv)g_ptr_array_free(out, FALSE);
}

typedef struct {
	gboolean enveloped;
	gboolean no_signatures; /* XPath not(ancestor-or-self::ds:Signature) */
	gboolean base64;
	gboolean has_c14n;
	SdrC14nMethod c14n;
	GStrv prefixes;
	char *unsupported;
} TransformPlan;

static void
plan_clear(TransformPlan *p)
{
	g_strfreev(p->prefixes);
	g_free(p->unsupported);
}

#define SDR_DSIG_XPATH "http://www.w3.org/TR/1999/REC-xpath-19991116"

/* Is the Transform's XPath exactly not(ancestor-or-self::P:Signature) (blanks
 * ignored) with P bound to the XML-DSig namespace? */
static gboolean
is_no_signature_xpath(xmlNode *transform)
{
	xmlNode *xp = sdr_xml_first_child(transform, SDR_DSIG_NS, "XPath");
	g_autofree char *text = NULL;
	g_autoptr(GString) compact = g_string_new(NULL);
	const char *p, *colon;
	g_autofree char *prefix = NULL;
	xmlNs *ns;

	if (xp == NULL || sdr_xml_next_sibling(xp, SDR_DSIG_NS, "XPath") != NULL)
		return FALSE;
	text = sdr_xml_text(xp);
	if (text == NULL || strlen(text) > 256)
		return FALSE;
	for (p = text; *p != '\0'; p++)
		if (!g_ascii_isspace(*p))
			g_string_append_c(compact, *p);
	if (!g_str_has_prefix(compact->str, "not(ancestor-or-self::") ||
	    !g_str_has_suffix(compact->str, ":Signature)"))
		return FALSE;
	p = compact->str + strlen("not(ancestor-or-self::");
	colon = strchr(p, ':');
	if (colon == NULL || colon == p || strcmp(colon, ":Signature)") != 0)
		return FALSE;
	prefix = g_strndup(p, (gsize)(colon - p));
	ns = xmlSearchNs(xp->doc, xp, (const xmlChar *)prefix);
	return ns != NULL && ns->href != NULL && strcmp((const char *)ns->href, SDR_DSIG_NS) == 0;
}

static void
plan_read(xmlNode *reference, TransformPlan *p)
{
	xmlNode *ts = sdr_xml_first_child(reference, SDR_DSIG_NS, "Transforms");

	for (xmlNode *t = sdr_xml_first_child(ts, SDR_DSIG_NS, "Transform"); t != NULL;
	     t = sdr_xml_next_sibling(t, SDR_DSIG_NS, "Transform")) {
		g_autofree char *alg = sdr_xml_attr(t, "Algorithm");
		SdrC14nMethod m;

		if (alg == NULL) {
			p->unsupported = g_strdup("(none)");
			return;
		}
		if (strcmp(alg, SDR_DSIG_ENVELOPED) == 0) {
			p->enveloped = TRUE;
		} else if (strcmp(alg, SDR_DSIG_BASE64) == 0) {
			p->base64 = TRUE;
		} else if (strcmp(alg, SDR_DSIG_XPATH) == 0 && is_no_signature_xpath(t)) {
			/* The only XPath transform we evaluate: the enveloped-signature
			 * of older tools, leaving out every ds:Signature. */
			p->no_signatures = TRUE;
		} else if (sdr_c14n_method_from_uri(alg, &m)) {
			p->has_c14n = TRUE;
			p->c14n = m;
			g_strfreev(p->prefixes);
			p->prefixes = inclusive_prefixes(t);
		} else {
			p->unsupported = g_steal_pointer(&alg);
			return;
		}
	}
}

/* Parses "xpointer(id('X'))" / "xpointer(id(\"X\"))". */
static char *
xpointer_id(const char *frag)
{
	gsize len;

	if (!g_str_has_prefix(frag, "xpointer(id(") || !g_str_has_suffix(frag, "))"))
		return NULL;
	frag += strlen("xpointer(id(");
	len = strlen(frag) - 2;
	if (len < 2 || (frag[0] != '\'' && frag[0] != '"') || frag[len - 1] != frag[0])
		return NULL;
	return g_strndup(frag + 1, len - 2);
}

static gboolean
digest_external(GInputStream *in, const TransformPlan *plan, const EVP_MD *md, guint8 *out,
                gsize *out_len, GError **error)
{
	if (!plan->has_c14n && !plan->base64)
		return sdr_xmldsig_digest_stream(in, md, out, out_len, NULL, error);
	{
		/* Transforms over external XML: parse it (safely) then canonicalise. */
		g_autoptr(GByteArray) data = g_byte_array_new();
		guint8 buf[65536];
		g_autoptr(xmlDoc) doc = NULL;

		for (;;) {
			gssize r = g_input_stream_read(in, buf, sizeof buf, NULL, error);

			if (r < 0)
				return FALSE;
			if (r == 0)
				break;
			if (data->len + (gsize)r > SDR_XML_DEFAULT_MAX_SIZE) {
				g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
				            _("The referenced XML data is too large"));
				return FALSE;
			}
			g_byte_array_append(data, buf, (guint)r);
		}
		doc = sdr_xml_parse(data->data, data->len, NULL, NULL, error);
		if (doc == NULL)
			return FALSE;
		if (plan->base64)
			return digest_base64_text(xmlDocGetRootElement(doc), md, out, out_len,
			                          error);
		return sdr_xmldsig_c14n_digest(doc, NULL, NULL, c14n_without_comments(plan->c14n),
		                               (const char *const *)plan->prefixes, md, out,
		                               out_len, error);
	}
}

static void
verify_reference(SdrDsigVerification *v, xmlNode *signature, xmlNode *refnode,
                 SdrDsigResolveFunc resolve, gpointer user_data)
{
	SdrDsigRefResult *r = g_new0(SdrDsigRefResult, 1);
	TransformPlan plan = { 0 };
	xmlNode *dm = sdr_xml_first_child(refnode, SDR_DSIG_NS, "DigestMethod");
	xmlNode *dv = sdr_xml_first_child(refnode, SDR_DSIG_NS, "DigestValue");
	g_autofree char *dm_alg = sdr_xml_attr(dm, "Algorithm");
	g_autofree char *dv_text = sdr_xml_text(dv);
	g_autoptr(GBytes) expected = NULL;
	g_autoptr(GError) local = NULL;
	guint8 digest[EVP_MAX_MD_SIZE];
	gsize digest_len = 0;
	gboolean comments = FALSE;
	gboolean done = FALSE;

	g_ptr_array_add(v->references, r);
	r->element = refnode;
	r->id = sdr_xml_attr(refnode, "Id");
	r->uri = sdr_xml_attr(refnode, "URI");
	r->type = sdr_xml_attr(refnode, "Type");
	r->md = sdr_dsig_digest_md_from_uri(dm_alg);
	if (r->md == NULL) {
		r->status = SDR_DSIG_REF_UNSUPPORTED;
		r->detail = g_strdup_printf(_("unsupported digest algorithm %s"),
		                            dm_alg != NULL ? dm_alg : "?");
		return;
	}
	expected = sdr_xml_base64_decode(dv_text, DIGEST_VALUE_MAX, NULL);
	if (dv == NULL || expected == NULL ||
	    g_bytes_get_size(expected) != (gsize)EVP_MD_get_size(r->md)) {
		r->status = SDR_DSIG_REF_BROKEN;
		r->detail = g_strdup(_("the DigestValue is not a valid digest"));
		return;
	}
	plan_read(refnode, &plan);
	if (plan.unsupported != NULL) {
		r->status = SDR_DSIG_REF_UNSUPPORTED;
		r->detail = g_strdup_printf(_("unsupported transform %s"), plan.unsupported);
		goto out;
	}

	if (r->uri != NULL && (r->uri[0] == '\0' || r->uri[0] == '#')) {
		g_autofree char *xid = NULL;
		SdrC14nMethod method;

		if (r->uri[0] == '\0') {
			r->target = (xmlNode *)signature->doc;
		} else if (strcmp(r->uri, "#xpointer(/)") == 0) {
			r->target = (xmlNode *)signature->doc;
			comments = TRUE;
		} else if ((xid = xpointer_id(r->uri + 1)) != NULL) {
			r->target = sdr_xml_find_id(signature->doc, xid);
			comments = TRUE;
		} else {
			r->target = sdr_xml_find_id(signature->doc, r->uri + 1);
		}
		if (r->target == NULL) {
			r->status = SDR_DSIG_REF_MISSING;
			r->detail = g_strdup_printf(
			        _("the signed element %s is not in the document"), r->uri);
			goto out;
		}
		if (plan.base64) {
			done = digest_base64_text(r->target, r->md, digest, &digest_len, &local);
		} else {
			method = plan.has_c14n ? plan.c14n : SDR_C14N_INCLUSIVE_10;
			if (!comments)
				method = c14n_without_comments(method);
			done = c14n_digest_run(
			        signature->doc, r->target, plan.enveloped ? signature : NULL,
			        plan.no_signatures, method, (const char *const *)plan.prefixes,
			        r->md, digest, &digest_len, &local);
		}
	} else {
		g_autoptr(GInputStream) in = NULL;

		r->external = TRUE;
		if (resolve != NULL)
			in = resolve(user_data, r->uri, &local);
		if (in == NULL) {
			r->status = SDR_DSIG_REF_NOT_FOUND;
			r->detail = g_strdup_printf(_("the signed data %s was not found"),
			                            r->uri != NULL ? r->uri : "");
			goto out;
		}
		if (plan.enveloped || plan.no_signatures) {
			r->status = SDR_DSIG_REF_UNSUPPORTED;
			r->detail = g_strdup(_("enveloped-signature transform on external data"));
			goto out;
		}
		done = digest_external(in, &plan, r->md, digest, &digest_len, &local);
	}
	if (!done) {
		r->status = SDR_DSIG_REF_BROKEN;
		r->detail = g_strdup_printf(_("cannot compute the digest: %s"),
		                            local != NULL ? local->message : "?");
		goto out;
	}
	if (digest_len != g_bytes_get_size(expected) ||
	    CRYPTO_memcmp(digest, g_bytes_get_data(expected, NULL), digest_len) != 0) {
		r->status = SDR_DSIG_REF_MISMATCH;
		if (r->uri != NULL && r->uri[0] == '\0')
			r->detail = g_strdup(_("the digest of the whole document does not match"));
		else
			r->detail = g_strdup_printf(_("the digest of %s does not match"),
			                            r->uri != NULL ? r->uri : "");
	}
out:
	plan_clear(&plan);
}

/* ---- Reference octets (XAdES archive timestamps) ---------------------------- */

static gboolean
base64_text_into(xmlNode *target, SdrXmlSinkFunc sink, gpointer sink_data)
{
	g_autofree xmlChar *content = xmlNodeGetContent(target);
	const char *text = content != NULL ? (const char *)content : "";
	gsize len = strlen(text);
	guchar chunk[3 * 4096 + 16];
	gint state = 0;
	guint save = 0;

	for (gsize off = 0; off < len; off += 4 * 4096) {
		gsize step = MIN((gsize)4 * 4096, len - off);
		gsize got = g_base64_decode_step(text + off, step, chunk, &state, &save);

		if (got > 0 && !sink(sink_data, chunk, got))
			return FALSE;
	}
	return TRUE;
}

static gboolean
external_into(GInputStream *in, const TransformPlan *plan, SdrXmlSinkFunc sink, gpointer sink_data,
              GError **error)
{
	g_autoptr(GByteArray) data = plan->has_c14n || plan->base64 ? g_byte_array_new() : NULL;
	g_autofree guint8 *buf = g_malloc(65536);
	g_autoptr(xmlDoc) doc = NULL;

	for (;;) {
		gssize r = g_input_stream_read(in, buf, 65536, NULL, error);

		if (r < 0)
			return FALSE;
		if (r == 0)
			break;
		if (data == NULL) {
			if (!sink(sink_data, buf, (gsize)r))
				goto stopped;
			continue;
		}
		if (data->len + (gsize)r > SDR_XML_DEFAULT_MAX_SIZE) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("The referenced XML data is too large"));
			return FALSE;
		}
		g_byte_array_append(data, buf, (guint)r);
	}
	if (data == NULL)
		return TRUE;
	doc = sdr_xml_parse(data->data, data->len, NULL, NULL, error);
	if (doc == NULL)
		return FALSE;
	if (plan->base64) {
		if (!base64_text_into(xmlDocGetRootElement(doc), sink, sink_data))
			goto stopped;
		return TRUE;
	}
	return sdr_xmldsig_c14n(doc, NULL, NULL, c14n_without_comments(plan->c14n),
	                        (const char *const *)plan->prefixes, sink, sink_data, error);
stopped:
	if (error != NULL && *error == NULL)
		g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED, _("Output stopped"));
	return FALSE;
}

/* long: the reference forms of verify_reference() (same-document URIs, transforms,
 * external data) in the same order, writing octets instead of a digest */
gboolean
sdr_xmldsig_reference_octets(xmlNode *signature, xmlNode *reference, SdrC14nMethod node_set_method,
                             SdrDsigResolveFunc resolve, gpointer user_data, SdrXmlSinkFunc sink,
                             gpointer sink_data, GError **error)
{
	TransformPlan plan = { 0 };
	g_autofree char *uri = sdr_xml_attr(reference, "URI");
	g_autofree char *xid = NULL;
	xmlNode *target = NULL;
	gboolean comments = FALSE, ok = FALSE;

	plan_read(reference, &plan);
	if (plan.unsupported != NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED, _("unsupported transform %s"),
		            plan.unsupported);
		goto out;
	}
	if (uri != NULL && (uri[0] == '\0' || uri[0] == '#')) {
		SdrC14nMethod method;

		if (uri[0] == '\0') {
			target = (xmlNode *)signature->doc;
		} else if (strcmp(uri, "#xpointer(/)") == 0) {
			target = (xmlNode *)signature->doc;
			comments = TRUE;
		} else if ((xid = xpointer_id(uri + 1)) != NULL) {
			target = sdr_xml_find_id(signature->doc, xid);
			comments = TRUE;
		} else {
			target = sdr_xml_find_id(signature->doc, uri + 1);
		}
		if (target == NULL) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
			            _("the signed element %s is not in the document"), uri);
			goto out;
		}
		if (plan.base64) {
			ok = base64_text_into(target, sink, sink_data);
			if (!ok)
				g_set_error(error, SDR_ERROR, SDR_ERROR_FAILED,
				            _("Output stopped"));
			goto out;
		}
		/* still a node-set without a c14n transform: the caller's method */
		method = plan.has_c14n ? plan.c14n : node_set_method;
		if (!comments)
			method = c14n_without_comments(method);
		ok = c14n_run(signature->doc, target, plan.enveloped ? signature : NULL,
		              plan.no_signatures, method, (const char *const *)plan.prefixes, sink,
		              sink_data, error);
	} else {
		g_autoptr(GInputStream) in =
		        resolve != NULL ? resolve(user_data, uri, error) : NULL;

		if (in == NULL) {
			if (error != NULL && *error == NULL)
				g_set_error(error, SDR_ERROR, SDR_ERROR_NOT_FOUND,
				            _("the signed data %s was not found"),
				            uri != NULL ? uri : "");
		} else if (plan.enveloped || plan.no_signatures) {
			g_set_error_literal(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
			                    _("enveloped-signature transform on external data"));
		} else {
			ok = external_into(in, &plan, sink, sink_data, error);
		}
	}
out:
	plan_clear(&plan);
	return ok;
}

static GPtrArray *
read_key_info_certs(xmlNode *signature)
{
	GPtrArray *certs = g_ptr_array_new_with_free_func(x509_unref);
	xmlNode *ki = sdr_xml_first_child(signature, SDR_DSIG_NS, "KeyInfo");

	for (xmlNode *xd = sdr_xml_first_child(ki, SDR_DSIG_NS, "X509Data"); xd != NULL;
	     xd = sdr_xml_next_sibling(xd, SDR_DSIG_NS, "X509Data")) {
		for (xmlNode *c = sdr_xml_first_child(xd, SDR_DSIG_NS, "X509Certificate");
		     c != NULL && certs->len < KEYINFO_MAX_CERTS;
		     c = sdr_xml_next_sibling(c, SDR_DSIG_NS, "X509Certificate")) {
			g_autofree char *text = sdr_xml_text(c);
			X509 *x = sdr_xml_base64_decode_cert(text, CERT_MAX);

			if (x != NULL)
				g_ptr_array_add(certs, x);
		}
	}
	return certs;
}

static gboolean
verify_value(EVP_PKEY *pkey, const SdrSigVerifyAlg *alg, GBytes *c14n_si, GBytes *value)
{
	g_autoptr(GBytes) der = NULL;
	const guint8 *sig = g_bytes_get_data(value, NULL);
	gsize sig_len = g_bytes_get_size(value);

	if (!sdr_sig_alg_fits_key(alg, pkey))
		return FALSE;
	if (!alg->eddsa && alg->scheme == SDR_SIG_ECDSA) {
		/* XML-DSig ECDSA values are raw r||s */
		der = sdr_ecdsa_raw_to_der(sig, sig_len);
		if (der == NULL)
			return FALSE;
		sig = g_bytes_get_data(der, NULL);
		sig_len = g_bytes_get_size(der);
	}
	return sdr_sig_alg_verify(alg, pkey, sig, sig_len, g_bytes_get_data(c14n_si, NULL),
	                          g_bytes_get_size(c14n_si));
}

static SdrHashAlg
hash_of_md_name(const char *name)
{
	if (g_strcmp0(name, "SHA384") == 0)
		return SDR_HASH_SHA384;
	if (g_strcmp0(name, "SHA512") == 0)
		return SDR_HASH_SHA512;
	return SDR_HASH_SHA256;
}

/* long: the XML-DSig core validation of one ds:Signature: SignedInfo, each Reference
 * with its transforms, then SignatureValue, filling one verification */
SdrDsigVerification *
sdr_xmldsig_verify(xmlNode *signature, X509 *key_cert, SdrDsigResolveFunc resolve,
                   gpointer user_data, GError **error)
{
	g_autoptr(SdrDsigVerification) v = NULL;
	xmlNode *si = sdr_xml_first_child(signature, SDR_DSIG_NS, "SignedInfo");
	xmlNode *cm = sdr_xml_first_child(si, SDR_DSIG_NS, "CanonicalizationMethod");
	xmlNode *smn = sdr_xml_first_child(si, SDR_DSIG_NS, "SignatureMethod");
	xmlNode *svn = sdr_xml_first_child(signature, SDR_DSIG_NS, "SignatureValue");
	g_autofree char *sv_text = NULL;
	g_autoptr(GBytes) value = NULL;
	g_autoptr(GBytes) c14n_si = NULL;
	g_auto(GStrv) prefixes = NULL;
	g_autoptr(GError) local = NULL;
	const SigMethod *sm;
	SdrSigVerifyAlg alg = { 0 };
	SdrSigAlgStatus sm_status;
	guint nrefs = 0;

	if (!sdr_xml_is(signature, SDR_DSIG_NS, "Signature") || si == NULL || cm == NULL ||
	    smn == NULL || svn == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
		            _("The ds:Signature element is incomplete (SignedInfo, "
		              "CanonicalizationMethod, SignatureMethod or SignatureValue "
		              "missing)"));
		return NULL;
	}
	v = g_new0(SdrDsigVerification, 1);
	v->signature = signature;
	v->id = sdr_xml_attr(signature, "Id");
	v->c14n_uri = sdr_xml_attr(cm, "Algorithm");
	v->signature_method_uri = sdr_xml_attr(smn, "Algorithm");
	v->references = g_ptr_array_new_with_free_func(ref_result_free);
	v->certs = read_key_info_certs(signature);
	v->digest_name = "sha256";

	for (xmlNode *r = sdr_xml_first_child(si, SDR_DSIG_NS, "Reference"); r != NULL;
	     r = sdr_xml_next_sibling(r, SDR_DSIG_NS, "Reference")) {
		if (++nrefs > MAX_REFERENCES) {
			/* Not checked: the signature cannot be declared valid. */
			SdrDsigRefResult *over = g_new0(SdrDsigRefResult, 1);

			over->element = r;
			over->status = SDR_DSIG_REF_UNSUPPORTED;
			over->detail = g_strdup_printf(_("more than %u references: not checked"),
			                               (unsigned)MAX_REFERENCES);
			g_ptr_array_add(v->references, over);
			break;
		}
		verify_reference(v, signature, r, resolve, user_data);
	}

	sm = sig_method_from_uri(v->signature_method_uri);
	sm_status = sig_method_resolve(sm, &alg);
	v->signature_method_supported = sm_status == SDR_SIG_ALG_OK;
	v->signature_method_invalid = sm_status == SDR_SIG_ALG_INVALID;
	if (sm_status == SDR_SIG_ALG_OK && sm->eddsa) {
		v->digest_hash = SDR_HASH_SHA512;
		v->digest_name = "ed25519";
	} else if (sm_status == SDR_SIG_ALG_OK) {
		v->digest_hash = hash_of_md_name(sm->md);
		v->digest_name = g_str_equal(sm->md, "SHA1")     ? "sha1"
		                 : g_str_equal(sm->md, "SHA224") ? "sha224"
		                                                 : sdr_hash_name(v->digest_hash);
	}
	if (!sdr_c14n_method_from_uri(v->c14n_uri, &v->c14n)) {
		v->signature_detail = g_strdup_printf(_("unsupported canonicalisation method %s"),
		                                      v->c14n_uri != NULL ? v->c14n_uri : "?");
		v->signature_method_supported = FALSE;
		v->signature_method_invalid = FALSE;
		goto done;
	}
	if (sm_status == SDR_SIG_ALG_INVALID) {
		v->signature_detail = g_strdup_printf(
		        sm != NULL ? _("the signature method %s is not a public-key signature "
		                       "(HMAC): it proves nothing about the signer")
		                   : _("unknown signature method %s"),
		        v->signature_method_uri != NULL ? v->signature_method_uri : "?");
		goto done;
	}
	if (sm_status != SDR_SIG_ALG_OK) {
		v->signature_detail = g_strdup_printf(
		        _("unsupported signature method %s"),
		        v->signature_method_uri != NULL ? v->signature_method_uri : "?");
		goto done;
	}
	sv_text = sdr_xml_text(svn);
	value = sdr_xml_base64_decode(sv_text, 2048, NULL);
	if (value == NULL || g_bytes_get_size(value) == 0) {
		v->signature_detail = g_strdup(_("the SignatureValue is not valid base64"));
		goto done;
	}
	prefixes = inclusive_prefixes(cm);
	c14n_si = sdr_xmldsig_c14n_to_bytes(signature->doc, si, NULL, v->c14n,
	                                    (const char *const *)prefixes, SIGNED_INFO_MAX, &local);
	if (c14n_si == NULL) {
		v->signature_detail =
		        g_strdup_printf(_("cannot canonicalise SignedInfo: %s"), local->message);
		goto done;
	}
	if (key_cert != NULL) {
		EVP_PKEY *pk = X509_get0_pubkey(key_cert);

		v->cert = X509_dup(key_cert);
		v->signature_value_ok = pk != NULL && verify_value(pk, &alg, c14n_si, value);
	} else {
		for (guint i = 0; i < v->certs->len; i++) {
			X509 *c = g_ptr_array_index(v->certs, i);
			EVP_PKEY *pk = X509_get0_pubkey(c);

			if (pk != NULL && verify_value(pk, &alg, c14n_si, value)) {
				X509_up_ref(c);
				v->cert = c;
				v->signature_value_ok = TRUE;
				break;
			}
		}
		if (v->cert == NULL && v->certs->len > 0) {
			v->cert = g_ptr_array_index(v->certs, 0);
			X509_up_ref(v->cert);
		}
	}
	if (!v->signature_value_ok && v->cert != NULL &&
	    !sdr_sig_alg_fits_key(&alg, X509_get0_pubkey(v->cert)))
		v->signature_detail = g_strdup_printf(
		        _("the signature method %s does not fit the key of the certificate"),
		        v->signature_method_uri);
	else if (!v->signature_value_ok)
		v->signature_detail = g_strdup(
		        v->cert == NULL
		                ? _("no certificate in KeyInfo to check the signature value")
		                : _("the signature value does not verify with the "
		                    "certificate"));
done:
	return g_steal_pointer(&v);
}

void
sdr_xmldsig_report(const SdrDsigVerification *v, SdrSignatureResult *result)
{
	for (guint i = 0; i < v->references->len; i++) {
		const SdrDsigRefResult *r = g_ptr_array_index(v->references, i);

		switch (r->status) {
		case SDR_DSIG_REF_OK:
			break;
		case SDR_DSIG_REF_MISMATCH:
		case SDR_DSIG_REF_MISSING:
		case SDR_DSIG_REF_BROKEN:
			sdr_signature_result_fail(result, SDR_VERDICT_INVALID,
			                          SDR_REASON_DIGEST_MISMATCH, "%s", r->detail);
			break;
		case SDR_DSIG_REF_NOT_FOUND:
			sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_DATA_NOT_FOUND, "%s", r->detail);
			break;
		case SDR_DSIG_REF_UNSUPPORTED:
			sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_UNSUPPORTED_ALGORITHM, "%s",
			                          r->detail);
			break;
		}
	}
	if (!v->signature_value_ok) {
		if (v->signature_method_invalid)
			sdr_signature_result_fail(result, SDR_VERDICT_INVALID,
			                          SDR_REASON_SIGNATURE_VALUE, "%s",
			                          v->signature_detail);
		else if (!v->signature_method_supported)
			sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_UNSUPPORTED_ALGORITHM, "%s",
			                          v->signature_detail);
		else if (v->cert == NULL)
			sdr_signature_result_fail(result, SDR_VERDICT_INDETERMINATE,
			                          SDR_REASON_SIGNING_CERT_REF, "%s",
			                          v->signature_detail);
		else
			sdr_signature_result_fail(result, SDR_VERDICT_INVALID,
			                          SDR_REASON_SIGNATURE_VALUE, "%s",
			                          v->signature_detail);
	}
}
