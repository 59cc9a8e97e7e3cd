/* sdr-pdf.h - reading PDF files for signing and verification (internal to formats/).
 *
 * Two halves:
 * - SdrPdfDoc: what an incremental update needs to know about a document (catalog,
 *   pages, AcroForm, trailer, /Size, last startxref and its kind), read with qpdf's C API.
 *   The document object then tracks the state as updates are appended (new /Size, new
 *   startxref, rewritten catalog / AcroForm / page dictionaries).
 * - A raw scanner over the bytes: signature dictionaries (those with a /ByteRange) with the
 *   exact byte positions of their /Contents string, the revision ends (%%EOF) and the objects
 *   each revision defines. Works on memory (verification, fuzzing).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ---- Ordered PDF dictionaries as text (key without '/', value in PDF syntax) ---- */

typedef struct _SdrPdfDict SdrPdfDict;

SdrPdfDict *sdr_pdf_dict_new(void);
SdrPdfDict *sdr_pdf_dict_copy(const SdrPdfDict *dict);
void sdr_pdf_dict_free(SdrPdfDict *dict);
/* Replaces the value of key (keeps its position) or appends it. */
void sdr_pdf_dict_set(SdrPdfDict *dict, const char *key, const char *value);
void sdr_pdf_dict_take(SdrPdfDict *dict, const char *key, char *value);
const char *sdr_pdf_dict_get(const SdrPdfDict *dict, const char *key);
void sdr_pdf_dict_remove(SdrPdfDict *dict, const char *key);
/* "<< /K v ... >>" */
void sdr_pdf_dict_append_to(const SdrPdfDict *dict, GString *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrPdfDict, sdr_pdf_dict_free)

/* Appends a name ("/Name" with # escapes) or a literal string "(...)" (escaped). */
void sdr_pdf_append_name(GString *out, const char *name);
void sdr_pdf_append_string(GString *out, const guint8 *data, gsize len);
/* UTF-8 text as a PDF text string: PDFDocEncoding-compatible ASCII as is, else UTF-16BE. */
void sdr_pdf_append_text_string(GString *out, const char *utf8);
/* "D:20261122021000Z" (UTC) */
char *sdr_pdf_date(GDateTime *t);
/* Parses a PDF date string; NULL when invalid. */
GDateTime *sdr_pdf_date_parse(const char *text);

/* qpdf_cleanup() after clearing a pending error (qpdf prints unhandled errors otherwise). */
void sdr_pdf_qpdf_close(void *qpdf_data_ptr);
/* Whether an error (qpdf_error, from qpdf_get_error() on the qpdf_data) of a failed read
 * means "encrypted": a wrong password, or a security handler qpdf does not support
 * (public-key encryption). */
gboolean sdr_pdf_qpdf_error_is_encryption(void *qpdf_data_handle, void *qpdf_error_handle);

/* ---- A document to update ---- */

typedef struct {
	int index; /* 0-based */
	int num;
	int gen;
	double media_box[4];
	int rotate; /* 0, 90, 180, 270 */
	SdrPdfDict *dict;
	GPtrArray *annots; /* char*: the /Annots items in PDF syntax ("12 0 R") */
} SdrPdfPage;

/* A top-level form field (an indirect object). */
typedef struct {
	char *name;
	int num, gen;
	gboolean is_sig;    /* /FT /Sig */
	gboolean has_value; /* /V present (a signature field with /V is signed) */
	gboolean is_widget; /* merged field and widget annotation */
	SdrPdfDict *dict;
	double rect[4]; /* /Rect x0 y0 x1 y1 */
	int page_index; /* of /P, -1 when unknown */
	int rotate;     /* of that page */
} SdrPdfField;

typedef struct {
	char *path;
	char *version;        /* header version, "1.7" */
	guint64 file_size;    /* bytes of the current document */
	guint64 startxref;    /* offset of the last cross-reference section */
	gboolean xref_stream; /* the last section is an xref stream (else a table) */
	gint64 size;          /* trailer /Size = next free object number */
	int root_num, root_gen;
	char *info_value; /* trailer /Info in PDF syntax, or NULL */
	GBytes *id0;      /* first element of trailer /ID, or NULL */
	SdrPdfDict *catalog;
	/* AcroForm: absent (acroform == NULL), inline in the catalog, or an object. */
	SdrPdfDict *acroform;
	int acroform_num, acroform_gen; /* 0 when inline */
	GPtrArray *fields;              /* char*: /Fields items */
	GPtrArray *field_names;         /* char*: top-level field names /T (UTF-8) */
	GPtrArray *field_list;          /* SdrPdfField*: the indirect top-level fields */
	int n_pages;
	GPtrArray *pages; /* SdrPdfPage*, only the pages loaded (see below) */
	/* /Perms /DocMDP permission of a certified document (1: no change allowed, 2: form
	 * filling and signatures, 3: also annotations), 0 when not certified. */
	int docmdp_p;
	/* Catalog /DSS (B-LT): NULL when absent; its arrays as item texts. */
	SdrPdfDict *dss;
	GPtrArray *dss_certs, *dss_ocsps, *dss_crls;
} SdrPdfDoc;

/* Reads path with qpdf (no recovery: a broken file is refused with SDR_ERROR_PARSE; an
 * encrypted one with SDR_ERROR_UNSUPPORTED). load_pages: 0-based page numbers whose
 * dictionaries are loaded (out of range: SDR_ERROR_BAD_REQUEST), terminated by -1. */
SdrPdfDoc *sdr_pdf_doc_open(const char *path, const int *load_pages, GError **error);
/* Same on memory (the buffer must outlive the call only). */
SdrPdfDoc *sdr_pdf_doc_open_memory(const guint8 *data, gsize len, const int *load_pages,
                                   GError **error);
void sdr_pdf_doc_free(SdrPdfDoc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrPdfDoc, sdr_pdf_doc_free)
/* The top-level field named name, or NULL. */
SdrPdfField *sdr_pdf_doc_find_field(SdrPdfDoc *doc, const char *name);
/* The loaded page with 0-based index, or NULL. */
SdrPdfPage *sdr_pdf_doc_get_page(SdrPdfDoc *doc, int index);

/* ---- Incremental updates ---- */

typedef struct _SdrPdfUpdate SdrPdfUpdate;

/* Starts an update of doc (objects numbered from doc->size). */
SdrPdfUpdate *sdr_pdf_update_new(SdrPdfDoc *doc);
void sdr_pdf_update_free(SdrPdfUpdate *update);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SdrPdfUpdate, sdr_pdf_update_free)
/* Reserves a new object number. */
int sdr_pdf_update_alloc(SdrPdfUpdate *update);
/* Sets the body (text between "N G obj\n" and "\nendobj") of an object, new or replaced. */
void sdr_pdf_update_set_object(SdrPdfUpdate *update, int num, int gen, const char *body, gsize len);
/* A stream object: dict (without /Length, added here) and its raw (already encoded) data. */
void sdr_pdf_update_set_stream(SdrPdfUpdate *update, int num, const SdrPdfDict *dict,
                               const guint8 *data, gsize len);
/* Serialises the update (objects, xref table or stream matching the document, trailer,
 * startxref, %%EOF) and advances doc to the new revision. The bytes are appended to out;
 * the offset of out's first byte in the file is doc->file_size before the call. */
void sdr_pdf_update_finish(SdrPdfUpdate *update, GByteArray *out);
/* After finish: the offset inside out (relative to the update start) of an object's body. */
gssize sdr_pdf_update_object_offset(SdrPdfUpdate *update, int num);

/* ---- Raw scanning (verification) ---- */

typedef struct {
	int num, gen;
	gsize obj_offset; /* "N G obj" */
	gsize dict_end;   /* just after the dictionary's ">>" */
	gint64 byte_range[8];
	int n_byte_range;          /* number of integers in /ByteRange (4 expected) */
	gsize contents_start;      /* offset of '<' */
	gsize contents_end;        /* offset just after '>' */
	gboolean contents_hex;     /* /Contents was a hex string */
	gboolean contents_damaged; /* a hex string with non-hex characters */
	GBytes *contents;          /* decoded /Contents (trailing zero padding kept) */
	char *type;                /* "Sig", "DocTimeStamp" or NULL */
	char *filter;
	char *sub_filter;
	char *m; /* /M as written (literal string content) */
	char *reason;
	char *location;
	char *name;
	gboolean has_cert; /* a /Cert entry */
} SdrPdfSigDict;

void sdr_pdf_sig_dict_free(SdrPdfSigDict *sig);
/* Every dictionary of an indirect object that has a /ByteRange, in file order (at most
 * 1000; the parsing work is bounded by a few times the input size). */
GPtrArray *sdr_pdf_scan_signatures(const guint8 *data, gsize len);
/* End offsets of every revision: just after "%%EOF" and its end-of-line (at most 4096). */
GArray *sdr_pdf_scan_revisions(const guint8 *data, gsize len);

typedef struct {
	int num, gen;
	gsize offset;
	char *kind; /* classification, see sdr_pdf_classify_object() */
} SdrPdfObjectDef;

/* Objects defined ("N G obj") between start and end, classified; and the object
 * numbers held in object streams of that range (kind "compressed:..."). */
GPtrArray *sdr_pdf_scan_objects(const guint8 *data, gsize len, gsize start, gsize end);
/* Parses one dictionary at data[pos] and returns a short class name of the object:
 * "sig", "doctimestamp", "catalog", "catalog-dss", "dss", "acroform", "page", "sigfield",
 * "formfield", "widget", "annot", "xobject", "font", "xref", "objstm", "metadata", "info",
 * "stream" (untyped stream), "dict" (untyped dictionary), "array", "other". */
const char *sdr_pdf_classify_object(const guint8 *data, gsize len, gsize pos);

/* ---- Appearance of a visible signature (sdr-pdf-appearance.c) ---- */

typedef struct {
	const char *holder; /* UTF-8 */
	GDateTime *when;
	const char *reason;   /* may be NULL */
	const char *location; /* may be NULL */
	GBytes *png;          /* may be NULL */
	double width, height; /* the widget rectangle, in user space */
	int rotate;           /* page /Rotate */
} SdrPdfStamp;

/* Adds the appearance form XObject (and its image) to update; returns its object number. */
int sdr_pdf_appearance_add(SdrPdfUpdate *update, const SdrPdfStamp *stamp, GError **error);
/* UTF-8 to WinAnsi (CP1252) with '?' for what it cannot hold. */
char *sdr_pdf_winansi(const char *utf8, gsize *len);

G_END_DECLS
