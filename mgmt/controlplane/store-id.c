// SPDX-License-Identifier: GPL-2.0-only
/* Random ids and secrets, and the SHA-256 the store keeps of secrets. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "store-int.h"

int store_new_id(char prefix, char out[STORE_ID_LEN])
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char r[10];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -EIO;
	out[0] = prefix;
	/* 5 bits of each byte: 50 bits, plenty against collisions here */
	for (size_t i = 0; i < sizeof(r); i++)
		out[1 + i] = b32[r[i] & 31];
	out[STORE_ID_LEN - 1] = '\0';
	return 0;
}

int store_random_b64(size_t n, char *out, size_t out_len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[64];
	size_t bits = 0, o = 0;
	unsigned int acc = 0;

	if (n > sizeof(r) || out_len < (n * 8 + 5) / 6 + 1)
		return -ENOSPC;
	if (RAND_bytes(r, (int)n) != 1)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | r[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = b64[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

int store_sha256_hex(const void *s, size_t len, char out[STORE_HASH_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(s, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return -EIO;
	audit_hex(md, n, out);
	return 0;
}
