/* sdr-xades-verify.h - XAdES and XML-DSig verification (1.3.2, 1.2.2, 1.1.1).
 * Defined in sdr-xades-verify.c. Signing is sdr-xades.h.
 */
#pragma once

#include "sdr-verify-report.h"

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

/* Verifies every (top-level) ds:Signature of an XML file. Detached data is found
 * through options->content_path / content, else next to the file. Parse
 * failures (DTD/entities, not XML, too large) return NULL with SDR_ERROR_PARSE /
 * SDR_ERROR_TOO_LARGE; a document without ds:Signature gives
 * SDR_ERROR_UNSUPPORTED. */
SdrVerifyReport *sdr_xades_verify_file(const char *path, const SdrVerifyOptions *options,
                                       GError **error);
/* Same over bytes; base_dir (may be NULL) is where detached data is looked for. */
SdrVerifyReport *sdr_xades_verify_data(GBytes *xml, const char *name, const char *base_dir,
                                       const SdrVerifyOptions *options, GError **error);
/* Verifies one ds:Signature element of a parsed document whose Ids are registered
 * (sdr_xml_register_ids). The XAdES checks run when QualifyingProperties is
 * present (1.3.2, 1.2.2 or 1.1.1). base_dir: for detached references (may be
 * NULL). Never NULL. */
SdrSignatureResult *sdr_xades_verify_signature(xmlNode *signature, const char *base_dir,
                                               const SdrVerifyOptions *options);

G_END_DECLS
