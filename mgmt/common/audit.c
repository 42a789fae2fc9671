// SPDX-License-Identifier: GPL-2.0-only
/* The audit hash chain: one hash function and a verifier (audit.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit.h"

const char audit_genesis[AUDIT_HEX_LEN] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static const char audit_magic[] = "moat-audit-v1\n";

/* "LEN:bytes\n" into the digest. */
static bool put_field(EVP_MD_CTX *ctx, const char *s, size_t len)
{
	char prefix[24];
	int n;

	n = snprintf(prefix, sizeof(prefix), "%zu:", len);
	return EVP_DigestUpdate(ctx, prefix, (size_t)n) &&
	       EVP_DigestUpdate(ctx, s, len) && EVP_DigestUpdate(ctx, "\n", 1);
}

static bool put_str(EVP_MD_CTX *ctx, const char *s)
{
	/* a missing field hashes as empty, as the store writes it */
	return put_field(ctx, s ? s : "", s ? strlen(s) : 0);
}

static bool put_num(EVP_MD_CTX *ctx, int64_t v)
{
	char num[24];
	int n;

	n = snprintf(num, sizeof(num), "%" PRId64, v);
	return put_field(ctx, num, (size_t)n);
}

void audit_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

int audit_hash(const struct audit_record *r, char out[AUDIT_HEX_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	bool ok;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, audit_magic, sizeof(audit_magic) - 1) &&
	     put_num(ctx, r->seq) && put_num(ctx, r->time) &&
	     put_str(ctx, r->actor) && put_str(ctx, r->source) &&
	     put_str(ctx, r->action) && put_str(ctx, r->workspace) &&
	     put_str(ctx, r->target) && put_str(ctx, r->result) &&
	     put_str(ctx, r->detail) && put_str(ctx, r->prev) &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EINVAL;
	audit_hex(md, mdlen, out);
	return 0;
}

void audit_verify_init(struct audit_verifier *v)
{
	audit_verify_init_at(v, 0, audit_genesis);
}

void audit_verify_init_at(struct audit_verifier *v, int64_t seq,
			  const char *hash)
{
	memset(v, 0, sizeof(*v));
	v->next_seq = seq + 1;
	snprintf(v->prev, sizeof(v->prev), "%s", hash);
}

__attribute__((format(printf, 2, 3))) static int fail(struct audit_verifier *v,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	v->err = -EBADMSG;
	return v->err;
}

int audit_verify_next(struct audit_verifier *v, const struct audit_record *r)
{
	char want[AUDIT_HEX_LEN];
	int ret;

	if (v->err)
		return v->err;
	if (r->seq > v->next_seq && r->seq == v->next_seq + 1)
		return fail(v,
			    "record %" PRId64 ": follows record %" PRId64
			    " (record %" PRId64 " removed or moved)",
			    r->seq, v->next_seq - 1, v->next_seq);
	if (r->seq > v->next_seq)
		return fail(v,
			    "record %" PRId64 ": follows record %" PRId64
			    " (records %" PRId64 "-%" PRId64
			    " removed or moved)",
			    r->seq, v->next_seq - 1, v->next_seq, r->seq - 1);
	if (r->seq < v->next_seq)
		return fail(v,
			    "record %" PRId64 ": comes after record %" PRId64
			    " (reordered or repeated)",
			    r->seq, v->next_seq - 1);
	if (!r->prev || strcmp(r->prev, v->prev))
		return fail(v,
			    "record %" PRId64 ": prev `%s' is not the hash of "
			    "record %" PRId64
			    " (removed, replaced or reordered?)",
			    r->seq, r->prev ? r->prev : "", r->seq - 1);
	ret = audit_hash(r, want);
	if (ret)
		return fail(v, "record %" PRId64 ": cannot hash: %s", r->seq,
			    strerror(-ret));
	if (!r->hash || strcmp(r->hash, want))
		return fail(v,
			    "record %" PRId64
			    ": hash does not match its contents (edited?)",
			    r->seq);
	memcpy(v->prev, want, sizeof(v->prev));
	v->next_seq++;
	v->checked++;
	return 0;
}
