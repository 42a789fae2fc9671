// SPDX-License-Identifier: GPL-2.0-only
/*
 * The operator API, over HTTPS checked against the control plane's CA,
 * with the admin key: one install token for the whole fleet, and for
 * --push the rulesets, the assignment and the hosts' list.  Blocking
 * libcurl calls: the push thread makes them, never the loop's.
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
/* the hosts' list of 10,000 hosts is a few MiB */
#define REPLY_MAX (64u << 20)
/* a push of 900,000 bytes to a control plane busy with 10,000 hosts */
#define REQUEST_TIMEOUT_S 120L

struct reply {
	FILE *fp;
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct reply *r = data;
	size_t len = size * n;

	if (len > REPLY_MAX - r->len)
		return 0; /* too long: curl fails the transfer */
	r->len += len;
	return fwrite(p, 1, len, r->fp);
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

int fleet_api(struct fleet *f, const char *method, const char *path,
	      const char *body, long *status, char **reply)
{
	struct curl_slist *hdrs = NULL;
	char key[256], auth[300], url[FLEET_ADDR_MAX + 300];
	struct reply r = { 0 };
	size_t size = 0;
	CURLcode rc;
	CURL *c;
	int ret;

	*status = 0;
	*reply = NULL;
	ret = read_key(f->o.admin_key_file, key, sizeof(key));
	if (ret) {
		fleet_error(f, "cannot read the admin key from %s: %s",
			    f->o.admin_key_file, strerror(-ret));
		return ret;
	}
	r.fp = open_memstream(reply, &size);
	c = curl_easy_init();
	if (!r.fp || !c) {
		if (r.fp)
			fclose(r.fp);
		free(*reply);
		*reply = NULL;
		curl_easy_cleanup(c);
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "https://%s/v1/workspaces/default%s",
		 f->o.api, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_CAINFO, f->o.ca_file);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* a thread's call */
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (fclose(r.fp) && rc == CURLE_OK)
		rc = CURLE_OUT_OF_MEMORY;
	if (rc != CURLE_OK) {
		fleet_error(f, "%s %s: %s", method, url,
			    curl_easy_strerror(rc));
		free(*reply);
		*reply = NULL;
		return -EIO;
	}
	return 0;
}

static int parse_reply(struct fleet *f, const char *reply)
{
	struct json_object *o = json_tokener_parse(reply), *t;
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
	char body[160], labels[64] = "{}", *reply;
	long status;
	int ret;

	/* --push assigns its ruleset to this label: our hosts, no other */
	if (f->run_name[0])
		snprintf(labels, sizeof(labels), "{\"moat-fleet\": \"%s\"}",
			 f->run_name);
	snprintf(body, sizeof(body),
		 "{\"max_uses\": %u, \"ttl\": %d, \"labels\": %s}", uses,
		 TOKEN_TTL_S, labels);
	ret = fleet_api(f, "POST", "/tokens", body, &status, &reply);
	if (ret)
		return ret;
	if (status != 201 && status != 200) {
		fleet_error(f, "POST /tokens: HTTP %ld: %.200s", status, reply);
		ret = -EIO;
	} else {
		ret = parse_reply(f, reply);
		if (ret)
			fleet_error(
				f,
				"POST /tokens: no \"token\" in the reply: %.200s",
				reply);
	}
	free(reply);
	return ret;
}
