/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host's identity in the fleet: its private key, its certificate and
 * the workspace CA that issued it, kept by the privileged moatd in one
 * file, STATE-DIR/identity.pem (mode 0600), replaced atomically so that a
 * crash never leaves a key without its certificate.
 *
 * The session process makes the key and gets the certificates; the
 * parent checks what it is handed before writing it: the key is EC
 * P-256, the certificate is for that key, the CA issued it, and it names
 * a host (SAN URI moat:host:WSID:HOSTID).
 */
#ifndef MOAT_AGENT_IDENTITY_H
#define MOAT_AGENT_IDENTITY_H

#include <stddef.h>

#include "privsep-msg.h"

#define IDENTITY_FILE "identity.pem"

/* What the certificate says; filled by identity_check(). */
struct identity_names {
	char host_id[PROTO_ID_MAX + 1];
	char workspace_id[PROTO_ID_MAX + 1];
};

/*
 * 0 when @id holds together, else -EBADMSG (or -EKEYREJECTED) with
 * @why saying what is wrong, in a sentence.  @names may be NULL.
 */
int identity_check(const struct psmsg_identity *id,
		   struct identity_names *names, char *why, size_t whysz);

/* Check, then write @dir/identity.pem: key, certificate, CA, in PEM. */
int identity_save(const char *dir, const struct psmsg_identity *id, char *why,
		  size_t whysz);

/*
 * Read @dir/identity.pem into @id (key PEM, certificate and CA DER) and
 * check it.  -ENOENT when there is none; other errors with @why.
 */
int identity_load(const char *dir, struct psmsg_identity *id, char *why,
		  size_t whysz);

#endif /* MOAT_AGENT_IDENTITY_H */
