// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config-key.h"
#include "log.h"

/* A config file is a few lines; anything this big is the wrong file. */
#define CONFIG_FILE_MAX (1u << 20)

static void add_err(struct config_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_err(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;

	if (errs->n == CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(errs->msg[errs->n], sizeof(errs->msg[0]), fmt, ap);
	va_end(ap);
	errs->n++;
}

/* "FILE:LINE:COL: what: 'text'" for @n bytes of @text in @line. */
void config_bad(struct cursor *cur, const char *line, const char *text,
		size_t n, const char *what)
{
	int q = n > QUOTE_MAX ? QUOTE_MAX : (int)n;

	add_err(cur->errs, "%s:%u:%u: %s: '%.*s%s'", cur->file, cur->line,
		(unsigned)(text - line) + 1, what, q, text,
		n > QUOTE_MAX ? "..." : "");
}

bool config_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

/* What the kernel takes as a name (dev_valid_name()), minus ':'. */
static bool valid_ifname(const char *s, size_t n)
{
	if (n == 0 || n > MOAT_IFNAME_MAX)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '/' || s[i] == ':' || config_is_space(s[i]))
			return false;
	}
	return true;
}

void config_set_str(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void parse_instance(struct cursor *cur, const char *line, const char *v,
			   size_t n)
{
	if (!ctl_instance_valid(v, n)) {
		config_bad(cur, line, v, n,
		    "bad instance name (1-32 of A-Z a-z 0-9 _ . -, starting with a letter or digit)");
		return;
	}
	config_set_str(cur->c->instance, sizeof(cur->c->instance), v, n);
}

static void parse_one_iface(struct cursor *cur, const char *line,
			    const char *item, size_t n)
{
	struct agent_config *c = cur->c;

	for (size_t i = 0; i < n; i++) {
		if (config_is_space(item[i])) {
			while (config_is_space(item[i]))
				i++;
			config_bad(cur, line, item + i, n - i,
			    "expected ',' between interface names");
			return;
		}
	}
	if (!valid_ifname(item, n)) {
		config_bad(cur, line, item, n,
		    "bad interface name (1-15 bytes, no '/', ':' or spaces)");
		return;
	}
	for (int i = 0; i < c->nifaces; i++) {
		if (strlen(c->ifaces[i]) == n &&
		    !memcmp(c->ifaces[i], item, n)) {
			config_bad(cur, line, item, n, "interface listed twice");
			return;
		}
	}
	if (c->nifaces == CONFIG_IFACES_MAX) {
		config_bad(cur, line, item, n, "more than 15 interfaces");
		return;
	}
	config_set_str(c->ifaces[c->nifaces++], sizeof(c->ifaces[0]), item, n);
}

static void parse_ifaces(struct cursor *cur, const char *line, const char *v,
			 size_t n)
{
	size_t i = 0, j, e;
	int before;

	for (;;) {
		while (i < n && config_is_space(v[i]))
			i++;
		for (j = i; j < n && v[j] != ','; j++)
			;
		/* the item is v[i..e), the comma (if any) at v[j] */
		for (e = j; e > i && config_is_space(v[e - 1]); e--)
			;
		if (e == i) {
			config_bad(cur, line, v + (j < n ? j : n - 1), 1,
			    "empty item in the list of interfaces");
			return;
		}
		before = cur->errs->n;
		parse_one_iface(cur, line, v + i, e - i);
		if (cur->errs->n != before || j == n)
			return;
		i = j + 1;
	}
}

bool config_check_path(struct cursor *cur, const char *line, const char *v,
		       size_t n, size_t size)
{
	char what[64];

	if (v[0] != '/') {
		config_bad(cur, line, v, n, "expected an absolute path");
		return false;
	}
	if (n >= size) {
		snprintf(what, sizeof(what), "path longer than %zu bytes",
			 size - 1);
		config_bad(cur, line, v, n, what);
		return false;
	}
	return true;
}

void config_near_file(struct cursor *cur, const char *line, const char *v,
		      size_t n, char *dst, size_t size)
{
	const char *slash = strrchr(cur->file, '/');
	size_t dl = 0;

	/* a relative path is next to the config file, not in moatd's cwd */
	if (v[0] != '/' && slash)
		dl = (size_t)(slash - cur->file) + 1;
	if (dl + n >= size) {
		config_bad(cur, line, v, n, "path too long");
		return;
	}
	memcpy(dst, cur->file, dl);
	memcpy(dst + dl, v, n);
	dst[dl + n] = '\0';
}

static void parse_ruleset(struct cursor *cur, const char *line, const char *v,
			  size_t n)
{
	config_near_file(cur, line, v, n, cur->c->ruleset,
			 sizeof(cur->c->ruleset));
}

static void parse_bpffs(struct cursor *cur, const char *line, const char *v,
			size_t n)
{
	if (config_check_path(cur, line, v, n, sizeof(cur->c->bpffs)))
		config_set_str(cur->c->bpffs, sizeof(cur->c->bpffs), v, n);
}

static void parse_socket(struct cursor *cur, const char *line, const char *v,
			 size_t n)
{
	if (config_check_path(cur, line, v, n, sizeof(cur->c->socket)))
		config_set_str(cur->c->socket, sizeof(cur->c->socket), v, n);
}

static void parse_state_dir(struct cursor *cur, const char *line, const char *v,
			    size_t n)
{
	if (config_check_path(cur, line, v, n, sizeof(cur->c->state_dir)))
		config_set_str(cur->c->state_dir, sizeof(cur->c->state_dir), v, n);
}

static void parse_capacity(struct cursor *cur, const char *line, const char *v,
			   size_t n)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9' && x <= UINT32_MAX; i++)
		x = x * 10 + (uint64_t)(v[i] - '0');
	if (i != n || x < CONFIG_CAPACITY_MIN || x > CONFIG_CAPACITY_MAX) {
		config_bad(cur, line, v, n,
		    "capacity is not a number from 64 to 16777216");
		return;
	}
	cur->c->capacity = (uint32_t)x;
}

/* A decimal number from @lo to @hi, all of v[0..n) */
bool config_number_in(const char *v, size_t n, uint64_t lo, uint64_t hi,
		      uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9' && x <= UINT32_MAX; i++)
		x = x * 10 + (uint64_t)(v[i] - '0');
	*out = x;
	return n && i == n && x >= lo && x <= hi;
}

static void parse_conntrack(struct cursor *cur, const char *line,
			    const char *v, size_t n)
{
	if (n == 3 && !memcmp(v, "yes", 3))
		cur->c->ct.enabled = true;
	else if (n == 2 && !memcmp(v, "no", 2))
		cur->c->ct.enabled = false, cur->c->ct.off = true;
	else
		config_bad(cur, line, v, n, "expected yes or no");
}

static void parse_ct_max(struct cursor *cur, const char *line, const char *v,
			 size_t n)
{
	uint64_t x;

	if (!config_number_in(v, n, CONFIG_CT_MAX_MIN, CONFIG_CT_MAX_MAX, &x)) {
		config_bad(cur, line, v, n,
		    "conntrack-max is not a number from 1024 to 67108864");
		return;
	}
	cur->c->ct.max = (uint32_t)x;
}

/* "tcp-established=3600, udp=30": comma-separated CLASS=SECONDS */
static void parse_ct_timeout(struct cursor *cur, const char *line,
			     const char *v, size_t n)
{
	const char *p = v, *end = v + n;

	while (p < end) {
		const char *item = p, *eq, *ie;
		uint64_t x;
		int i;

		while (p < end && *p != ',')
			p++;
		ie = p;
		while (ie > item && config_is_space(ie[-1]))
			ie--;
		eq = memchr(item, '=', (size_t)(ie - item));
		if (!eq) {
			config_bad(cur, line, item, (size_t)(ie - item),
			    "expected CLASS=SECONDS");
			return;
		}
		for (i = 0; i < MOAT_CTT_MAX; i++)
			if (strlen(moat_ct_timeout_name[i]) == (size_t)(eq - item) &&
			    !memcmp(moat_ct_timeout_name[i], item, (size_t)(eq - item)))
				break;
		if (i == MOAT_CTT_MAX) {
			config_bad(cur, line, item, (size_t)(eq - item),
			    "unknown timeout, expected tcp-syn, tcp-established, tcp-fin, tcp-close, udp, udp-replied, icmp or other");
			return;
		}
		if (!config_number_in(eq + 1, (size_t)(ie - eq - 1), 1,
			       CONFIG_CT_TIMEOUT_MAX, &x)) {
			config_bad(cur, line, eq + 1, (size_t)(ie - eq - 1),
			    "timeout is not a number of seconds from 1 to 2592000");
			return;
		}
		cur->c->ct.timeout_s[i] = (uint32_t)x;
		if (p < end)
			p++;
		while (p < end && config_is_space(*p))
			p++;
	}
}

static void parse_log_rate(struct cursor *cur, const char *line,
			   const char *v, size_t n)
{
	uint64_t x;

	if (!config_number_in(v, n, 1, 1000000, &x)) {
		config_bad(cur, line, v, n, "log-rate is not a number from 1 to 1000000");
		return;
	}
	cur->c->log_rate = (uint32_t)x;
}

static void parse_flow_cache(struct cursor *cur, const char *line,
			     const char *v, size_t n)
{
	uint64_t x;

	if (n == 4 && !memcmp(v, "auto", 4)) {
		cur->c->flow_cache = 0;
	} else if (n == 3 && !memcmp(v, "off", 3)) {
		cur->c->flow_cache = -1;
	} else if (config_number_in(v, n, MOAT_FC_LOG_MIN, MOAT_FC_LOG_MAX, &x)) {
		cur->c->flow_cache = (int)x;
	} else {
		config_bad(cur, line, v, n,
			   "flow-cache is not auto, off or a number from 4 to 20");
	}
}

static void parse_xdp_mode(struct cursor *cur, const char *line, const char *v,
			   size_t n)
{
	static const enum moat_xdp_mode modes[] = { MOAT_XDP_AUTO,
						    MOAT_XDP_NATIVE,
						    MOAT_XDP_GENERIC };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *name = config_xdp_mode_name(modes[i]);

		if (strlen(name) == n && !memcmp(name, v, n)) {
			cur->c->xdp_mode = modes[i];
			return;
		}
	}
	config_bad(cur, line, v, n, "expected auto, native or generic");
}

static void parse_xdp_attach(struct cursor *cur, const char *line,
			     const char *v, size_t n)
{
	if (n == 4 && !memcmp(v, "auto", 4))
		cur->c->xdp_attach = MOAT_ATTACH_AUTO;
	else if (n == 5 && !memcmp(v, "entry", 5))
		cur->c->xdp_attach = MOAT_ATTACH_ENTRY;
	else
		config_bad(cur, line, v, n, "expected auto or entry");
}

static void parse_log_level(struct cursor *cur, const char *line, const char *v,
			    size_t n)
{
	char s[16];
	int l = -1;

	if (n < sizeof(s)) {
		config_set_str(s, sizeof(s), v, n);
		l = log_level_parse(s);
	}
	if (l < 0) {
		config_bad(cur, line, v, n, "expected error, warning, info or debug");
		return;
	}
	cur->c->log_level = l;
}

static const struct key {
	const char *name;
	bool required;
	void (*parse)(struct cursor *cur, const char *line, const char *v,
		      size_t n);
} keys[] = {
	{ "instance", false, parse_instance },
	{ "interfaces", true, parse_ifaces },
	{ "ruleset", true, parse_ruleset },
	{ "bpffs", false, parse_bpffs },
	{ "socket", false, parse_socket },
	{ "state-dir", false, parse_state_dir },
	{ "capacity", false, parse_capacity },
	{ "xdp-mode", false, parse_xdp_mode },
	{ "xdp-attach", false, parse_xdp_attach },
	{ "log-level", false, parse_log_level },
	{ "conntrack", false, parse_conntrack },
	{ "conntrack-max", false, parse_ct_max },
	{ "conntrack-timeout", false, parse_ct_timeout },
	{ "log-rate", false, parse_log_rate },
	{ "flow-cache", false, parse_flow_cache },
	{ "controlplane", false, config_parse_controlplane },
	{ "controlplane-ca", false, config_parse_controlplane_ca },
	{ "install-token-file", false, config_parse_token_file },
	{ "user", false, config_parse_user },
	{ "counters-interval", false, config_parse_counters_interval },
	{ "metrics-listen", false, config_parse_metrics_listen },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

_Static_assert(NKEYS <= sizeof(((struct cursor *)0)->seen) /
				sizeof(((struct cursor *)0)->seen[0]),
	       "cursor.seen too small");

static const struct key *find_key(const char *s, size_t n, bool dashes)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const char *k = keys[i].name;
		size_t j;

		if (strlen(k) != n)
			continue;
		for (j = 0; j < n; j++) {
			char ch = s[j];

			/* "state_dir" for "state-dir": a hint, not a match */
			if (dashes && ch == '_')
				ch = '-';
			if (ch != k[j])
				break;
		}
		if (j == n)
			return &keys[i];
	}
	return NULL;
}

static void parse_line(struct cursor *cur, const char *line, size_t len)
{
	const char *end = line + len, *p = line, *k, *v, *ve;
	const struct key *key;
	char what[64];
	size_t kn;

	while (p < end && config_is_space(*p))
		p++;
	if (p == end || *p == '#')
		return;
	k = p;
	while (p < end && !config_is_space(*p))
		p++;
	kn = (size_t)(p - k);
	while (p < end && config_is_space(*p))
		p++;

	/* the value runs to a comment ('#' after a space) or the end */
	v = p;
	for (ve = v; ve < end; ve++) {
		if (*ve == '#' && config_is_space(ve[-1]))
			break;
	}
	while (ve > v && config_is_space(ve[-1]))
		ve--;

	key = find_key(k, kn, false);
	if (!key) {
		const struct key *hint = find_key(k, kn, true);

		if (hint) {
			snprintf(what, sizeof(what),
				 "unknown key (did you mean '%s'?)",
				 hint->name);
			config_bad(cur, line, k, kn, what);
		} else {
			config_bad(cur, line, k, kn, "unknown key");
		}
		return;
	}
	if (cur->seen[key - keys]) {
		snprintf(what, sizeof(what),
			 "key given twice (first on line %u)",
			 cur->seen[key - keys]);
		config_bad(cur, line, k, kn, what);
		return;
	}
	cur->seen[key - keys] = cur->line;
	if (ve == v) {
		config_bad(cur, line, k, kn, "key needs a value");
		return;
	}
	key->parse(cur, line, v, (size_t)(ve - v));
}

static void set_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->instance, "default");
	strcpy(c->bpffs, "/sys/fs/bpf");
	c->capacity = MOAT_DEFAULT_CAPACITY;
	c->xdp_mode = MOAT_XDP_AUTO;
	/* the grace period of a replace costs every apply; see moatd.md */
	c->xdp_attach = MOAT_ATTACH_ENTRY;
	c->log_level = LOG_LEVEL_INFO;
	c->ct.enabled = true;
	c->ct.max = MOAT_CT_DEFAULT_MAX;
	c->log_rate = MOAT_LOG_RATE_DEFAULT;
	strcpy(c->user, CONFIG_DEFAULT_USER);
	c->counters_interval = CONFIG_COUNTERS_INTERVAL;
}

static void nul_error(const char *text, const char *nul, const char *file,
		      struct config_errors *errs)
{
	const char *ls = text;
	unsigned line = 1;

	for (const char *q = text; q < nul; q++) {
		if (*q == '\n') {
			line++;
			ls = q + 1;
		}
	}
	add_err(errs, "%s:%u:%u: not a text file: '\\0'", file, line,
		(unsigned)(nul - ls) + 1);
}

/* Command-line values replace the file's: "--controlplane:0:1: ..." */
static void apply_overrides(struct cursor *cur,
			    const struct config_overrides *ov)
{
	static const struct {
		const char *opt;
		size_t off;
		void (*parse)(struct cursor *cur, const char *line,
			      const char *v, size_t n);
	} map[] = {
		{ "--controlplane", offsetof(struct config_overrides, controlplane),
		  config_parse_controlplane },
		{ "--controlplane-ca",
		  offsetof(struct config_overrides, controlplane_ca),
		  config_parse_controlplane_ca },
		{ "--install-token-file",
		  offsetof(struct config_overrides, token_file),
		  config_parse_token_file },
	};
	const char *file = cur->file;

	for (size_t i = 0; ov && i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = *(const char *const *)((const char *)ov +
						       map[i].off);

		if (!v)
			continue;
		cur->file = map[i].opt;
		cur->line = 0;
		if (!*v)
			config_bad(cur, v, v, 0, "needs a value");
		else
			map[i].parse(cur, v, v, strlen(v));
	}
	cur->file = file;
}

int config_parse(const char *text, size_t len, const char *file,
		 struct agent_config *c, struct config_errors *errs)
{
	return config_parse_ov(text, len, file, NULL, c, errs);
}

int config_parse_ov(const char *text, size_t len, const char *file,
		    const struct config_overrides *ov, struct agent_config *c,
		    struct config_errors *errs)
{
	struct cursor cur = { .file = file, .c = c, .errs = errs };
	const char *p = text, *end = text + len, *nul;

	set_defaults(c);
	errs->n = 0;
	snprintf(c->path, sizeof(c->path), "%s", file);

	nul = memchr(text, '\0', len);
	if (nul)
		end = nul;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		cur.line++;
		parse_line(&cur, p, (size_t)(eol - p));
		p = eol + 1;
	}
	if (nul)
		nul_error(text, nul, file, errs);
	apply_overrides(&cur, ov);

	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].required && !cur.seen[i])
			add_err(errs, "%s: missing required key: '%s'", file,
				keys[i].name);
	}
	/* only on an otherwise good file: a bad value is not also "missing" */
	if (!errs->n && c->cp_host[0] && !c->cp_pin[0])
		add_err(errs,
			"%s: 'controlplane' needs 'controlplane-ca' (the control plane's CA fingerprint, sha256:...; moat-controlplane prints it)",
			file);
	if (!errs->n && !c->cp_host[0] && (c->cp_pin[0] || c->token_file[0]))
		add_err(errs,
			"%s: 'controlplane-ca' and 'install-token-file' need 'controlplane' (HOST[:PORT])",
			file);
	if (errs->n)
		return -EINVAL;

	/* defaults that follow from the instance; both fit: instance <= 32 */
	if (!c->socket[0])
		snprintf(c->socket, sizeof(c->socket), "/run/moat/%s.sock",
			 c->instance);
	if (!c->state_dir[0])
		snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/moat/%s",
			 c->instance);
	return 0;
}

int config_load(const char *path, struct agent_config *c,
		struct config_errors *errs)
{
	return config_load_ov(path, NULL, c, errs);
}

int config_load_ov(const char *path, const struct config_overrides *ov,
		   struct agent_config *c, struct config_errors *errs)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len;
	int ret;

	errs->n = 0;
	if (!f) {
		ret = -errno;
		add_err(errs, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (!text) {
		ret = -ENOMEM;
		goto out;
	}
	len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		ret = -EIO;
		add_err(errs, "cannot read %s: %s", path, strerror(EIO));
		goto out;
	}
	if (len > CONFIG_FILE_MAX) {
		ret = -EFBIG;
		add_err(errs, "%s: larger than 1 MiB: not a moatd config",
			path);
		goto out;
	}
	ret = config_parse_ov(text, len, path, ov, c, errs);
out:
	free(text);
	fclose(f);
	return ret;
}

const char *config_xdp_attach_name(enum moat_attach a)
{
	return a == MOAT_ATTACH_ENTRY ? "entry" : "auto";
}

const char *config_xdp_mode_name(enum moat_xdp_mode m)
{
	switch (m) {
	case MOAT_XDP_NATIVE:
		return "native";
	case MOAT_XDP_GENERIC:
		return "generic";
	default:
		return "auto";
	}
}
