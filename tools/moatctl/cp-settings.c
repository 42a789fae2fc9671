// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the control plane is and how to prove who we are: a flag wins over
 * the environment, which wins over the config file.  The key itself comes
 * from a file or MOAT_API_KEY, never from the command line, where ps(1)
 * would show it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cp.h"
#include "file.h"

/* What a config file or key file may be; anything bigger is the wrong file. */
#define CP_FILE_MAX (64u << 10)

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/*
 * 1 to @max of a-z and 0-9, and after the first also the bytes of
 * @more: the control plane's names and ids (spec: "Names and concepts").
 */
static bool name_of(const char *s, size_t max, const char *more)
{
	size_t n = strlen(s);

	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool alnum = (s[i] >= 'a' && s[i] <= 'z') ||
			     (s[i] >= '0' && s[i] <= '9');

		if (!alnum && (i == 0 || !strchr(more, s[i])))
			return false;
	}
	return true;
}

bool cp_workspace_valid(const char *s)
{
	return name_of(s, 63, "-");
}

bool cp_name_valid(const char *s)
{
	return name_of(s, 63, "._-");
}

bool cp_id_valid(const char *s)
{
	return name_of(s, 64, "");
}

void cp_source_free(struct cp_source *s)
{
	free((char *)s->server);
	free((char *)s->api_key_file);
	free((char *)s->cacert);
	free((char *)s->workspace);
	memset(s, 0, sizeof(*s));
}

static const char *const config_keys[] = { "server", "api-key-file", "cacert",
					   "workspace" };
#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static const char **config_slot(struct cp_source *out, size_t k)
{
	const char **slots[] = { &out->server, &out->api_key_file, &out->cacert,
				 &out->workspace };

	return slots[k];
}

int cp_config_parse(const char *path, const char *text, struct cp_source *out,
		    char *err, size_t errlen)
{
	unsigned line = 0, seen[NKEYS] = { 0 };
	const char *p = text;

	memset(out, 0, sizeof(*out));
	while (*p) {
		const char *start = p, *ls = p, *le = strchr(p, '\n'), *k, *v,
			   *ve;
		size_t kn, i;

		if (!le)
			le = p + strlen(p);
		p = *le ? le + 1 : le;
		line++;
		while (ls < le && is_space(*ls))
			ls++;
		if (ls == le || *ls == '#')
			continue;
		for (k = ls; ls < le && !is_space(*ls); ls++)
			;
		kn = (size_t)(ls - k);
		while (ls < le && is_space(*ls))
			ls++;
		/* the value runs to a comment ('#' after a space) or the end */
		for (v = ve = ls; ve < le && !(*ve == '#' && is_space(ve[-1]));
		     ve++)
			;
		while (ve > v && is_space(ve[-1]))
			ve--;
		for (i = 0; i < NKEYS; i++)
			if (strlen(config_keys[i]) == kn &&
			    !memcmp(config_keys[i], k, kn))
				break;
		if (i == NKEYS) {
			snprintf(
				err, errlen,
				"%s:%u:%u: unknown key (expected server, api-key-file, cacert or workspace): '%.*s'",
				path, line, (unsigned)(k - start) + 1, (int)kn,
				k);
			goto bad;
		}
		if (seen[i]) {
			snprintf(
				err, errlen,
				"%s:%u: key given twice (first on line %u): '%s'",
				path, line, seen[i], config_keys[i]);
			goto bad;
		}
		seen[i] = line;
		if (ve == v) {
			snprintf(err, errlen, "%s:%u: key needs a value: '%s'",
				 path, line, config_keys[i]);
			goto bad;
		}
		*config_slot(out, i) = strndup(v, (size_t)(ve - v));
		if (!*config_slot(out, i)) {
			snprintf(err, errlen, "out of memory");
			cp_source_free(out);
			return -ENOMEM;
		}
		if (i == 3 && !cp_workspace_valid(out->workspace)) {
			snprintf(
				err, errlen,
				"%s:%u: bad workspace name (1-63 of a-z 0-9 -, not starting with -): '%s'",
				path, line, out->workspace);
			goto bad;
		}
		if (i == 0 && strncmp(out->server, "https://", 8)) {
			snprintf(err, errlen,
				 "%s:%u: the server is an https:// URL: '%s'",
				 path, line, out->server);
			goto bad;
		}
	}
	return 0;
bad:
	cp_source_free(out);
	return -EINVAL;
}

int cp_config_read(const char *path, struct cp_source *out, char *err,
		   size_t errlen)
{
	char *text = NULL;
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = file_read(path, CP_FILE_MAX, &text, &len);
	if (ret < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: not a text file (a NUL byte)", path);
		free(text);
		return -EINVAL;
	}
	ret = cp_config_parse(path, text, out, err, errlen);
	free(text);
	return ret;
}

void cp_config_path(char *buf, size_t size)
{
	const char *home = getenv("HOME");

	if (home && *home) {
		snprintf(buf, size, "%s/%s", home, CP_USER_CONFIG);
		if (access(buf, F_OK) == 0)
			return;
	}
	snprintf(buf, size, "%s",
		 access(CP_SYSTEM_CONFIG, F_OK) == 0 ? CP_SYSTEM_CONFIG : "");
}

static const char *pick(const char *flag, const char *env, const char *file)
{
	return flag ? flag : env ? env : file;
}

/* The key: one line of @path, the newline and blanks around it dropped. */
static int read_key(struct cp_settings *out, const char *path)
{
	char *text = NULL, *s, *e;
	struct stat st;
	size_t len;
	int ret;

	ret = file_read(path, CP_FILE_MAX, &text, &len);
	if (ret < 0)
		return fail("cannot read the API key file %s: %s", path,
			    strerror(-ret));
	/* said, not refused: the key works, but others may have it too */
	if (stat(path, &st) == 0 && (st.st_mode & 077))
		fprintf(stderr,
			"moatctl: warning: the API key file %s can be read by others (mode %03o); chmod 600 it\n",
			path, st.st_mode & 0777);
	for (s = text; is_space(*s) || *s == '\n'; s++)
		;
	for (e = s + strlen(s); e > s && (is_space(e[-1]) || e[-1] == '\n');)
		e--;
	if (e == s || (size_t)(e - s) >= sizeof(out->api_key) ||
	    memchr(s, '\n', (size_t)(e - s)) || strlen(text) != len) {
		ret = fail(
			"%s does not hold an API key (one line, moat-key-...)",
			path);
	} else {
		memcpy(out->api_key, s, (size_t)(e - s));
		out->api_key[e - s] = '\0';
		snprintf(out->api_key_from, sizeof(out->api_key_from), "%s",
			 path);
		ret = 0;
	}
	explicit_bzero(text, len);
	free(text);
	return ret;
}

int cp_settings_merge(struct cp_settings *out, const struct cp_source *flags,
		      const struct cp_source *env, const struct cp_source *file,
		      const char *config)
{
	const char *server = pick(flags->server, env->server, file->server);
	const char *cacert = pick(flags->cacert, env->cacert, file->cacert);
	const char *ws =
		pick(flags->workspace, env->workspace, file->workspace);
	const char *keyfile = NULL;
	size_t n;

	memset(out, 0, sizeof(*out));
	snprintf(out->config, sizeof(out->config), "%s", config ? config : "");
	if (!server)
		return fail(
			"no control plane given: set --server URL, MOAT_SERVER, or 'server' in %s",
			CP_SYSTEM_CONFIG);
	if (strncmp(server, "https://", 8))
		return usage_error(NULL,
				   "the server is an https:// URL, not '%s'",
				   server);
	n = strlen(server);
	while (n > 8 && server[n - 1] == '/')
		n--;
	if (n >= sizeof(out->server))
		return usage_error(NULL, "server URL too long: '%s'", server);
	memcpy(out->server, server, n);
	if (!ws)
		ws = CP_DEFAULT_WORKSPACE;
	if (!cp_workspace_valid(ws))
		return usage_error(
			NULL,
			"bad workspace name '%s' (1-63 of a-z 0-9 -, not starting with -, or a workspace id)",
			ws);
	snprintf(out->workspace, sizeof(out->workspace), "%s", ws);
	if (cacert && snprintf(out->cacert, sizeof(out->cacert), "%s",
			       cacert) >= (int)sizeof(out->cacert))
		return usage_error(NULL, "CA file path too long: '%s'", cacert);

	/* the key: a flag's file, then MOAT_API_KEY, MOAT_API_KEY_FILE, file */
	if (flags->api_key_file)
		keyfile = flags->api_key_file;
	else if (env->api_key) {
		if (strlen(env->api_key) >= sizeof(out->api_key))
			return fail(
				"MOAT_API_KEY is too long to be an API key");
		strcpy(out->api_key, env->api_key);
		strcpy(out->api_key_from, "MOAT_API_KEY");
		return 0;
	} else {
		keyfile = env->api_key_file ? env->api_key_file :
					      file->api_key_file;
	}
	if (!keyfile)
		return fail(
			"no API key given: set --api-key-file FILE, MOAT_API_KEY_FILE, MOAT_API_KEY, or 'api-key-file' in %s",
			CP_SYSTEM_CONFIG);
	return read_key(out, keyfile);
}

/* An empty variable is as good as unset: "MOAT_CACERT= moatctl ..." */
static const char *env_var(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int cp_settings_load(const struct moatctl *g, struct cp_settings *out)
{
	const struct cp_source flags = { .server = g->server,
					 .api_key_file = g->api_key_file,
					 .cacert = g->cacert,
					 .workspace = g->workspace };
	const struct cp_source env = {
		.server = env_var("MOAT_SERVER"),
		.api_key = env_var("MOAT_API_KEY"),
		.api_key_file = env_var("MOAT_API_KEY_FILE"),
		.cacert = env_var("MOAT_CACERT"),
		.workspace = env_var("MOAT_WORKSPACE"),
	};
	struct cp_source file = { 0 };
	char path[4096], err[512];
	int ret;

	cp_config_path(path, sizeof(path));
	if (path[0] && cp_config_read(path, &file, err, sizeof(err)) < 0)
		return fail("%s", err);
	ret = cp_settings_merge(out, &flags, &env, &file, path);
	cp_source_free(&file);
	return ret;
}
