// SPDX-License-Identifier: GPL-2.0-only
/*
 * One install token for the whole fleet, from the operator API:
 * POST /v1/workspaces/default/tokens {"max_uses": N, "ttl": S} with the
 * admin key, over HTTPS checked against the control plane's CA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "fleet.h"

/* The token must outlive key making, enrollment and a slow machine. */
#define TOKEN_TTL_S 7200
#define REPLY_MAX 65536

struct reply {
	char buf[REPLY_MAX];
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct reply *r = data;
	size_t len = size * n;

	if (len > sizeof(r->buf) - 1 - r->len)
		return 0; /* too long: curl fails the transfer */
	memcpy(r->buf + r->len, p, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return len;
}

static int read_key(const char *path, char *key, size_t size)
{
	FILE *fp = fopen(path, "re");
	size_t n;

	if (!fp)
		return -errno;
	if (!fgets(key, (int)size, fp)) {
		fclose(fp);
		return -EBADMSG;
	}
	fclose(fp);
	n = strcspn(key, "\r\n");
	key[n] = '\0';
	return n ? 0 : -EBADMSG;
}

static int parse_reply(struct fleet *f, const struct reply *r)
{
	struct json_object *o = json_tokener_parse(r->buf), *t;
	int ret = -EBADMSG;

	if (o && json_object_object_get_ex(o, "token", &t) &&
	    json_object_is_type(t, json_type_string) &&
	    (size_t)json_object_get_string_len(t) < sizeof(f->token)) {
		snprintf(f->token, sizeof(f->token), "%s",
			 json_object_get_string(t));
		ret = 0;
	}
	json_object_put(o);
	return ret;
}

int fleet_token(struct fleet *f, unsigned uses)
{
	struct curl_slist *hdrs = NULL;
	char key[256], auth[300], url[FLEET_ADDR_MAX + 64], body[96];
	static struct reply r;
	long status = 0;
	CURLcode rc;
	CURL *c;
	int ret;

	ret = read_key(f->o.admin_key_file, key, sizeof(key));
	if (ret) {
		fleet_error(f, "cannot read the admin key from %s: %s",
			    f->o.admin_key_file, strerror(-ret));
		return ret;
	}
	c = curl_easy_init();
	if (!c)
		return -ENOMEM;
	snprintf(url, sizeof(url), "https://%s/v1/workspaces/default/tokens",
		 f->o.api);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
	snprintf(body, sizeof(body), "{\"max_uses\": %u, \"ttl\": %d}", uses,
		 TOKEN_TTL_S);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	r.len = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, f->o.ca_file);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		fleet_error(f, "POST %s: %s", url, curl_easy_strerror(rc));
		return -EIO;
	}
	if (status != 201 && status != 200) {
		fleet_error(f, "POST %s: HTTP %ld: %.200s", url, status, r.buf);
		return -EIO;
	}
	ret = parse_reply(f, &r);
	if (ret)
		fleet_error(f, "POST %s: no \"token\" in the reply: %.200s",
			    url, r.buf);
	return ret;
}
