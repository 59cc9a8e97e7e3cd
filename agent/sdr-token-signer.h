/* sdr-token-signer.h - an SdrSigner over a logged-in SdrTokenSession. */
#pragma once

#include "sdr-signer.h"
#include "sdr-token.h"

G_BEGIN_DECLS

/* chain: the certificate's issuers found among candidates (X509*: certificates
 * on the token, trust anchors), in order, the signer excluded. The session must
 * outlive the signer. */
SdrSigner *sdr_token_signer_new(SdrTokenSession *session, GPtrArray *candidates, GError **error);

/* Orders the issuers of cert found in candidates (X509*), new owned refs. */
STACK_OF(X509) * sdr_chain_build(X509 *cert, GPtrArray *candidates);

G_END_DECLS
