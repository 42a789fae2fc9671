// SPDX-License-Identifier: GPL-2.0-only
/*
 * One request to moat-controlplane's operator API: HTTPS with TLS 1.3,
 * the peer and its name verified against the control plane's CA, the API
 * key as a bearer token, JSON both ways.  Failures are said in the
 * operator's terms: which URL could not be reached and what to check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cp.h"

#define CP_CONNECT_TIMEOUT_S 5
#define CP_TIMEOUT_S 30
/* The API's own limit on a body (413); a reply bigger is not ours. */
#define CP_REPLY_MAX (64u << 20)

struct body {
	char *data;
	size_t len;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;
	char *nd;

	if (b->len + add > CP_REPLY_MAX) {
		b->too_big = true;
		return 0;
	}
	nd = realloc(b->data, b->len + add + 1);
	if (!nd)
		return 0;
	memcpy(nd + b->len, p, add);
	b->len += add;
	nd[b->len] = '\0';
	b->data = nd;
	return add;
}

/* What went wrong before any HTTP status, said with what to try. */
static int transport_fail(const struct cp_settings *s, CURLcode rc,
			  const char *errbuf, long oserr)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	/* "Connection refused" says more than curl's "Couldn't connect" */
	if (rc == CURLE_COULDNT_CONNECT && oserr)
		why = strerror((int)oserr);

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return fail(
			"cannot reach %s: %s; is moat-controlplane running? set --server",
			s->server, why);
	case CURLE_OPERATION_TIMEDOUT:
		return fail(
			"no answer from %s in time (%d s to connect, %d s in all): %s",
			s->server, CP_CONNECT_TIMEOUT_S, CP_TIMEOUT_S, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		return fail(
			"cannot verify %s against %s: %s; set --cacert to the control plane's ca.crt",
			s->server,
			s->cacert[0] ? s->cacert : "the system's CAs", why);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return fail("bad server URL '%s': %s", s->server, why);
	default:
		return fail("request to %s failed: %s", s->server, why);
	}
}

/* The API said no: its "error" text, and for 403 what was missing. */
static int http_fail(const struct cp_settings *s, const char *method,
		     const char *path, long status, json_object *reply)
{
	const char *msg = NULL, *perm = NULL;
	json_object *v;

	if (reply && json_object_object_get_ex(reply, "error", &v))
		msg = json_object_get_string(v);
	if (reply && json_object_object_get_ex(reply, "missing_permission", &v))
		perm = json_object_get_string(v);
	if (!msg)
		msg = "(no error text)";
	/* a ruleset refused: the parser's NAME:LINE:COL lines, as check's */
	if (reply && json_object_object_get_ex(reply, "diagnostics", &v) &&
	    json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			fprintf(stderr, "%s\n",
				json_object_get_string(
					json_object_array_get_idx(v, i)));
	if (status == 401)
		return fail("the control plane refused the API key from %s: %s",
			    s->api_key_from, msg);
	/* a workspace's path: the denial is about that workspace */
	if (status == 403 && perm && !strncmp(path, "/v1/workspaces/", 15))
		return fail(
			"permission denied: %s (missing permission '%s' in workspace '%s')",
			msg, perm, s->workspace);
	if (status == 403 && perm)
		return fail("permission denied: %s (missing permission '%s')",
			    msg, perm);
	return fail("%s %s: %ld: %s", method, path, status, msg);
}

static json_object *parse_reply(const struct body *b)
{
	enum json_tokener_error jerr;

	if (!b->len)
		return NULL;
	return json_tokener_parse_verbose(b->data, &jerr);
}

int cp_call(const struct cp_settings *s, const char *method, const char *path,
	    json_object *body, json_object **reply)
{
	char url[1024], errbuf[CURL_ERROR_SIZE] = "", auth[CP_KEY_MAX + 32];
	struct curl_slist *hdrs = NULL, *h;
	struct body b = { 0 };
	json_object *r = NULL;
	const char *text;
	long status = 0;
	CURLcode rc;
	CURL *c;
	int ret;

	*reply = NULL;
	if (snprintf(url, sizeof(url), "%s%s", s->server, path) >=
	    (int)sizeof(url))
		return fail("URL too long: %s%s", s->server, path);
	c = curl_easy_init();
	if (!c)
		return fail("cannot start libcurl");
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->api_key);
	h = curl_slist_append(NULL, auth);
	explicit_bzero(auth, sizeof(auth));
	if (h)
		hdrs = curl_slist_append(h, "Accept: application/json");
	/* no "Expect: 100-continue" and its wait: bodies are small */
	if (hdrs)
		hdrs = curl_slist_append(hdrs, "Expect:");
	if (hdrs && body)
		hdrs = curl_slist_append(hdrs,
					 "Content-Type: application/json");
	if (!hdrs) {
		curl_slist_free_all(h);
		curl_easy_cleanup(c);
		return fail("out of memory");
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->cacert[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, s->cacert);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CP_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CP_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "moatctl/" MOAT_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (body) {
		text = json_object_to_json_string_ext(body,
						      JSON_C_TO_STRING_PLAIN);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	}

	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		long oserr = 0;

		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		ret = b.too_big ? fail("the reply from %s is over %u MiB",
				       s->server, CP_REPLY_MAX >> 20) :
				  transport_fail(s, rc, errbuf, oserr);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	r = parse_reply(&b);
	if (status < 200 || status > 299) {
		ret = http_fail(s, method, path, status, r);
		goto out;
	}
	if (b.len && !r) {
		ret = fail("%s %s: the reply is not JSON: '%.80s'", method,
			   path, b.data);
		goto out;
	}
	*reply = r;
	r = NULL;
	ret = EXIT_OK;
out:
	json_object_put(r);
	/* the header list holds the key */
	for (h = hdrs; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(b.data);
	return ret;
}

int cp_get_record(const struct cp_settings *s, const char *what,
		  const char *id, json_object **reply)
{
	char path[512];

	snprintf(path, sizeof(path), "/v1/workspaces/%s/%s/%s", s->workspace,
		 what, id);
	return cp_call(s, "GET", path, NULL, reply);
}
