// SPDX-License-Identifier: GPL-2.0-only
/*
 * /v1/workspaces/:ws/rulesets: named rulesets with immutable versions.
 * A text becomes a version only once libmoat-dp parses and compiles it
 * as moatd would (ruleset-check.c): a refusal is a 400 carrying the
 * parser's diagnostics, and nothing is stored.  Each version is shown
 * with its unified diff against the one before; the hosts whose desired
 * state a new version changes get it pushed at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "ruleset-check.h"

/* The ruleset name of the path, checked; else 400 replied. */
static const char *ruleset_name(struct api_call *c)
{
	const char *name = http_match_param(c->m, "name");

	if (store_name_valid(name))
		return name;
	api_fail(
		c, 400,
		"ruleset name '%.64s': expected 1-63 of a-z 0-9 -, starting with a letter or digit",
		name);
	return NULL;
}

/* "NAME@vN" for a diff's header; "/dev/null" before version 1. */
static void diff_label(char *buf, size_t len, const char *name, int64_t v)
{
	if (v > 0)
		snprintf(buf, len, "%s@v%lld", name, (long long)v);
	else
		snprintf(buf, len, "/dev/null");
}

/*
 * The diff of @v (with its text) against version @v->version - 1 into
 * @o as "diff"; 0 or the error replied.
 */
static int add_diff(struct api_call *c, struct json_object *o,
		    const struct store_ruleset_version *v)
{
	struct store_ruleset_version prev = { 0 };
	char la[STORE_NAME_LEN + 24], lb[STORE_NAME_LEN + 24];
	char *diff = NULL;
	int ret = 0;

	if (v->version > 1)
		ret = store_ruleset_get(c->cp->store, c->ws.id, v->name,
					v->version - 1, &prev);
	if (ret) {
		api_fail_store(c, ret, "ruleset version");
		goto out;
	}
	diff_label(la, sizeof(la), v->name, v->version - 1);
	diff_label(lb, sizeof(lb), v->name, v->version);
	ret = ruleset_diff(la, prev.text ? prev.text : "",
			   prev.text ? strlen(prev.text) : 0, lb, v->text,
			   strlen(v->text), &diff);
	if (ret) {
		api_fail_store(c, ret, "ruleset diff");
		goto out;
	}
	api_json_str(o, "diff", diff);
out:
	free(diff);
	store_ruleset_version_clear(&prev);
	return ret;
}

/* The diagnostics, one a line, as an array of strings. */
static struct json_object *diag_lines(const char *text)
{
	struct json_object *a = json_object_new_array();

	while (text && *text) {
		size_t n = strcspn(text, "\n");

		if (n)
			json_object_array_add(
				a, json_object_new_string_len(text, (int)n));
		text += n;
		text += *text == '\n';
	}
	return a;
}

/* The refusal: 400 with the diagnostics, and its audit record. */
static void refuse(struct api_call *c, const char *name,
		   const struct ruleset_check *chk)
{
	struct json_object *o = json_object_new_object();
	char msg[160], detail[700], first[400];

	snprintf(msg, sizeof(msg),
		 "ruleset '%s' refused: %zu error%s (diagnostics)", name,
		 chk->nerrors, chk->nerrors == 1 ? "" : "s");
	api_json_str(o, "error", msg);
	json_object_object_add(o, "diagnostics", diag_lines(chk->diags));
	api_reply(c, 400, o);
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(chk->diags, "\n"),
		 chk->diags);
	if (store_json_detail(detail, sizeof(detail), "diagnostic", first,
			      NULL))
		snprintf(detail, sizeof(detail), "{}");
	if (store_audit_append(c->cp->store, &c->who, "ruleset.version",
			       c->ws.id, name, "refused: does not check",
			       detail))
		log_err("cannot record the refusal of ruleset %s", name);
}

void api_ruleset_push(struct api_call *c)
{
	const char *name = ruleset_name(c), *text;
	struct store_ruleset_version v = { 0 };
	struct ruleset_check chk = { 0 };
	struct json_object *root = NULL, *t, *o;
	size_t len;
	int ret;

	if (!name || api_body(c, &root))
		return;
	/* not jsonv_get_str: a ruleset has newlines and tabs */
	if (!json_object_object_get_ex(root, "text", &t) ||
	    !json_object_is_type(t, json_type_string)) {
		api_fail(c, 400, "field 'text': expected the ruleset's text");
		goto out;
	}
	text = json_object_get_string(t);
	len = (size_t)json_object_get_string_len(t);
	if (len > STORE_RULESET_TEXT_MAX) {
		api_fail(
			c, 400,
			"field 'text': %zu bytes, at most %d (a desired state fits a frame)",
			len, STORE_RULESET_TEXT_MAX);
		goto out;
	}
	ret = ruleset_check(name, text, len, &chk);
	if (ret) {
		api_fail_store(c, ret, "ruleset check");
		goto out;
	}
	if (!chk.ok) {
		refuse(c, name, &chk);
		goto out;
	}
	ret = store_ruleset_add(c->cp->store, &c->who, c->ws.id, name, text,
				chk.rules, &v, api_push, c->cp);
	if (ret && ret != -EALREADY) {
		api_fail_store(c, ret, "ruleset");
		goto out;
	}
	if (!v.text) {
		/* the store's version record comes without its text */
		store_ruleset_version_clear(&v);
		ret = store_ruleset_get(c->cp->store, c->ws.id, name, v.version,
					&v);
		if (ret) {
			api_fail_store(c, ret, "ruleset");
			goto out;
		}
	}
	o = api_json_ruleset(&v);
	/* the same text as the latest: that version, nothing new */
	api_json_bool(o, "unchanged", ret == -EALREADY);
	json_object_object_add(o, "diagnostics", diag_lines(chk.diags));
	if (ret == -EALREADY)
		api_json_str(o, "diff", "");
	else if (add_diff(c, o, &v)) {
		json_object_put(o);
		goto out;
	}
	api_reply(c, ret == -EALREADY ? 200 : 201, o);
out:
	store_ruleset_version_clear(&v);
	ruleset_check_clear(&chk);
	json_object_put(root);
}

static int version_row(void *arg, const struct store_ruleset_version *v)
{
	struct api_list *l = arg;

	json_object_array_add(l->a, api_json_ruleset(v));
	return 0;
}

void api_ruleset_list(struct api_call *c)
{
	struct api_list l;

	api_list_init(&l, c);
	api_list_reply(
		&l, store_ruleset_list(c->cp->store, c->ws.id, version_row, &l),
		"ruleset list");
}

void api_ruleset_versions(struct api_call *c)
{
	const char *name = ruleset_name(c);
	struct api_list l;
	int ret;

	if (!name)
		return;
	api_list_init(&l, c);
	ret = store_ruleset_versions(c->cp->store, c->ws.id, name, version_row,
				     &l);
	if (ret == -ENOENT) {
		json_object_put(l.a);
		api_fail(c, 404, "no ruleset '%s' in workspace '%s'", name,
			 c->ws.name);
		return;
	}
	api_list_reply(&l, ret, "ruleset versions");
}

/* Version @version (0: the latest) of the path's ruleset, with a diff
 * when asked (?diff=1). */
static void show(struct api_call *c, int64_t version)
{
	const char *name = ruleset_name(c);
	const char *d = http_request_query(c->req, "diff");
	struct store_ruleset_version v = { 0 };
	struct json_object *o;
	int ret;

	if (!name)
		return;
	ret = store_ruleset_get(c->cp->store, c->ws.id, name, version, &v);
	if (ret == -ENOENT && version)
		api_fail(c, 404, "no version %lld of ruleset '%s'",
			 (long long)version, name);
	else if (ret == -ENOENT)
		api_fail(c, 404, "no ruleset '%s' in workspace '%s'", name,
			 c->ws.name);
	else if (ret)
		api_fail_store(c, ret, "ruleset");
	if (ret)
		goto out;
	o = api_json_ruleset(&v);
	if (d && strcmp(d, "0") && add_diff(c, o, &v))
		json_object_put(o);
	else
		api_reply(c, 200, o);
out:
	store_ruleset_version_clear(&v);
}

void api_ruleset_show(struct api_call *c)
{
	show(c, 0);
}

void api_ruleset_version(struct api_call *c)
{
	const char *s = http_match_param(c->m, "version");
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end || end == s || n < 1) {
		api_fail(c, 400, "version '%.32s': expected a number from 1",
			 s);
		return;
	}
	show(c, n);
}
