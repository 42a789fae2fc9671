// SPDX-License-Identifier: GPL-2.0-only
/* A managed host's declared configuration: desired.h. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "desired.h"
#include "file.h"
#include "log.h"

int desired_sha256(const char *text, size_t len, char out[PROTO_HASH_LEN + 1])
{
	unsigned char md[32];
	unsigned int n = 0;

	if (!EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return -EIO;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

void desired_label(char *buf, size_t size, const char *name, uint64_t version)
{
	snprintf(buf, size, "%s@v%" PRIu64, name, version);
}

void desired_error_text(char *buf, size_t size, const char *what,
			const struct moat_diags *diags, const char *file)
{
	size_t n = (size_t)snprintf(buf, size, "%s", what);

	for (size_t i = 0; diags && i < diags->n && n < size; i++) {
		const struct moat_diag *g = &diags->v[i];

		if (g->severity != MOAT_ERROR)
			continue;
		if (g->line)
			n += (size_t)snprintf(buf + n, size - n,
					      "; %s:%u:%u: %s", file, g->line,
					      g->col, g->msg);
		else
			n += (size_t)snprintf(buf + n, size - n, "; %s: %s",
					      file, g->msg);
	}
}

/* ---- STATE-DIR/desired.gen: "key value" lines ---- */

static int path_of(const char *dir, char path[PATH_MAX])
{
	if (snprintf(path, PATH_MAX, "%s/" DESIRED_FILE, dir) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int desired_save(const char *state_dir, const struct desired_state *d)
{
	char path[PATH_MAX], text[512];
	int n, ret = path_of(state_dir, path);

	if (ret < 0)
		return ret;
	n = snprintf(text, sizeof(text), "generation %" PRIu64 "\n",
		     d->generation);
	if (d->has_ruleset)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "ruleset %s\nversion %" PRIu64
			      "\nsha256 %s\nmode %s\n",
			      d->name, d->version, d->sha256,
			      proto_rs_mode_name(d->mode));
	n += snprintf(text + n, sizeof(text) - (size_t)n, "drift %d\n",
		      d->drift);
	return file_write_atomic(path, text, (size_t)n, 0600, true);
}

static int parse_line(struct desired_state *d, const char *key, const char *val)
{
	char *end;

	if (!strcmp(key, "generation") || !strcmp(key, "version")) {
		unsigned long long v;

		errno = 0;
		v = strtoull(val, &end, 10);
		if (errno || *end || !*val || *val == '-')
			return -EBADMSG;
		*(key[0] == 'g' ? &d->generation : &d->version) = v;
	} else if (!strcmp(key, "ruleset")) {
		if (!proto_ruleset_name_valid(val, strlen(val)))
			return -EBADMSG;
		snprintf(d->name, sizeof(d->name), "%s", val);
		d->has_ruleset = true;
	} else if (!strcmp(key, "sha256")) {
		if (strlen(val) != PROTO_HASH_LEN ||
		    strspn(val, "0123456789abcdef") != PROTO_HASH_LEN)
			return -EBADMSG;
		memcpy(d->sha256, val, PROTO_HASH_LEN + 1);
	} else if (!strcmp(key, "mode")) {
		if (strcmp(val, "enforce") && strcmp(val, "audit"))
			return -EBADMSG;
		d->mode = !strcmp(val, "audit") ? PROTO_MODE_AUDIT :
						  PROTO_MODE_ENFORCE;
	} else if (!strcmp(key, "drift")) {
		if (strcmp(val, "0") && strcmp(val, "1"))
			return -EBADMSG;
		d->drift = val[0] == '1';
	}
	/* keys of a later moatd are ignored */
	return 0;
}

int desired_load(const char *state_dir, struct desired_state *d, char *why,
		 size_t whysz)
{
	char path[PATH_MAX], *text = NULL, *line, *save = NULL;
	unsigned lineno = 0;
	size_t len;
	int ret = path_of(state_dir, path);

	memset(d, 0, sizeof(*d));
	if (!ret)
		ret = file_read(path, 4096, &text, &len);
	if (ret < 0) {
		snprintf(why, whysz, "cannot read %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	for (line = strtok_r(text, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		lineno++;
		if (!sp)
			ret = -EBADMSG;
		else
			*sp = '\0';
		if (!ret)
			ret = parse_line(d, line, sp + 1);
		if (ret)
			snprintf(why, whysz,
				 "%s:%u: not a key and its value: '%.64s'",
				 path, lineno, line);
	}
	free(text);
	if (!ret && d->has_ruleset && (!d->sha256[0] || !d->generation)) {
		snprintf(why, whysz,
			 "%s: a ruleset without its sha256 or generation",
			 path);
		ret = -EBADMSG;
	}
	if (ret)
		memset(d, 0, sizeof(*d));
	return ret;
}

/* ---- applying ---- */

static bool in_force(const struct desired_state *d,
		     const struct proto_desired *m)
{
	return d->generation == m->generation && d->has_ruleset && !d->drift &&
	       !strcmp(d->sha256, m->ruleset.sha256) &&
	       d->mode == m->ruleset.mode;
}

static int refuse(struct proto_applied *out, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct proto_applied *out, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->error, sizeof(out->error), fmt, ap);
	va_end(ap);
	out->ok = false;
	return ret;
}

int desired_apply(struct desired_state *d, const char *state_dir,
		  const struct proto_desired *m, desired_apply_fn fn, void *arg,
		  struct proto_applied *out)
{
	const struct proto_desired_ruleset *r = &m->ruleset;
	struct desired_state next = { .generation = m->generation };
	char sha[PROTO_HASH_LEN + 1], label[96];
	int ret;

	memset(out, 0, sizeof(*out));
	out->generation = m->generation;
	out->ok = true;
	if (m->has_ruleset && in_force(d, m)) {
		out->drift = d->drift;
		return 0;
	}
	if (m->has_ruleset) {
		desired_label(label, sizeof(label), r->name, r->version);
		if (desired_sha256(r->text ? r->text : "", r->text_len, sha) <
		    0)
			return refuse(out, -EIO, "%s: cannot hash the text",
				      label);
		if (strcmp(sha, r->sha256))
			return refuse(
				out, -EBADMSG,
				"%s: the text's SHA-256 is %s, not the %s the control plane sent",
				label, sha, r->sha256);
		ret = fn(arg, r->text ? r->text : "", r->text_len, label,
			 r->mode == PROTO_MODE_AUDIT, out->error,
			 sizeof(out->error));
		if (ret < 0) {
			out->ok = false;
			if (!out->error[0])
				snprintf(out->error, sizeof(out->error),
					 "%s: %s", label, strerror(-ret));
			/* the previous generation stays in force, and on record */
			out->drift = d->drift;
			return ret;
		}
		next.has_ruleset = true;
		snprintf(next.name, sizeof(next.name), "%s", r->name);
		next.version = r->version;
		memcpy(next.sha256, r->sha256, sizeof(next.sha256));
		next.mode = r->mode;
	}
	/* in force: a failure to record it only costs a re-send */
	ret = desired_save(state_dir, &next);
	if (ret < 0)
		log_warn("cannot record desired generation %" PRIu64
			 " in %s/" DESIRED_FILE ": %s",
			 m->generation, state_dir, strerror(-ret));
	*d = next;
	return 0;
}

int desired_note_drift(struct desired_state *d, const char *state_dir)
{
	d->drift = true;
	return desired_save(state_dir, d);
}
