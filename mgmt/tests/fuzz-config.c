// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for moatd's config parser (mgmt/agent/config.c).  The input
 * is the file's text.  It is parsed as if read from two places, a bare
 * file name and a path with a directory, because a relative ruleset path
 * is taken next to the file.
 *
 * What must hold:
 *   - every error names the file, and a refusal has at least one;
 *   - an accepted config is in range: a valid instance name, 1-15
 *     distinct valid interface names, absolute paths that fit, a capacity
 *     within bounds, known modes and levels;
 *   - printed back as "key value" lines it parses to the same config;
 *   - the same text with CRLF line ends parses to the same result, since
 *     the parser takes '\r' as a space.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *file, const char *what)
{
	fprintf(stderr, "%s: %s\n", file, what);
	abort();
}

static bool absolute(const char *p)
{
	return p[0] == '/';
}

static void check_config(const struct agent_config *c, const char *file)
{
	if (!ctl_instance_valid(c->instance, strlen(c->instance)))
		fail(file, "accepted a bad instance name");
	if (c->nifaces < 1 || c->nifaces > CONFIG_IFACES_MAX)
		fail(file, "accepted a wrong number of interfaces");
	for (int i = 0; i < c->nifaces; i++) {
		size_t n = strlen(c->ifaces[i]);

		if (!n || n > MOAT_IFNAME_MAX ||
		    strpbrk(c->ifaces[i], "/:, \t\r\v\f"))
			fail(file, "accepted a bad interface name");
		for (int j = 0; j < i; j++)
			if (!strcmp(c->ifaces[i], c->ifaces[j]))
				fail(file, "accepted an interface twice");
	}
	if (!c->ruleset[0] || !absolute(c->bpffs) || !absolute(c->socket) ||
	    !absolute(c->state_dir))
		fail(file, "accepted a path that is not absolute");
	if (c->capacity < CONFIG_CAPACITY_MIN ||
	    c->capacity > CONFIG_CAPACITY_MAX)
		fail(file, "accepted a capacity out of range");
	if (c->flow_cache && c->flow_cache != -1 &&
	    (c->flow_cache < MOAT_FC_LOG_MIN || c->flow_cache > MOAT_FC_LOG_MAX))
		fail(file, "accepted a flow-cache out of range");
	if (c->counters_interval < 1 ||
	    c->counters_interval > CONFIG_COUNTERS_INTERVAL_MAX)
		fail(file, "accepted a counters-interval out of range");
	if (c->xdp_mode != MOAT_XDP_AUTO && c->xdp_mode != MOAT_XDP_NATIVE &&
	    c->xdp_mode != MOAT_XDP_GENERIC)
		fail(file, "accepted an unknown xdp mode");
	if (!log_level_name(c->log_level) ||
	    log_level_parse(log_level_name(c->log_level)) != c->log_level)
		fail(file, "accepted an unknown log level");
}

static void check_errors(const struct config_errors *errs, const char *file)
{
	size_t fl = strlen(file);

	if (errs->n < 1 || errs->n > CONFIG_MAX_ERRORS)
		fail(file, "refused with no error, or with too many");
	for (int i = 0; i < errs->n; i++)
		if (strncmp(errs->msg[i], file, fl) || errs->msg[i][fl] != ':')
			fail(file, "an error does not name the file");
}

/* The config as a file; interfaces without spaces: "a,#b" is no comment. */
static char *print_config(const struct agent_config *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();
	fprintf(f, "instance %s\ninterfaces ", c->instance);
	for (int i = 0; i < c->nifaces; i++)
		fprintf(f, "%s%s", i ? "," : "", c->ifaces[i]);
	fprintf(f,
		"\nruleset %s\nbpffs %s\nsocket %s\nstate-dir %s\n"
		"capacity %u\nxdp-mode %s\nxdp-attach %s\nlog-level %s\n",
		c->ruleset, c->bpffs, c->socket, c->state_dir, c->capacity,
		config_xdp_mode_name(c->xdp_mode),
		config_xdp_attach_name(c->xdp_attach),
		log_level_name(c->log_level));
	fprintf(f, "conntrack %s\nconntrack-max %u\nlog-rate %u\n",
		c->ct.off ? "no" : "yes", c->ct.max, c->log_rate);
	for (int i = 0, first = 1; i < MOAT_CTT_MAX; i++) {
		if (!c->ct.timeout_s[i])
			continue;
		fprintf(f, "%s%s=%u", first ? "conntrack-timeout " : ", ",
			moat_ct_timeout_name[i], c->ct.timeout_s[i]);
		first = 0;
	}
	fprintf(f, "\nuser %s\ncounters-interval %u\n", c->user,
		c->counters_interval);
	if (c->flow_cache)
		fprintf(f, c->flow_cache < 0 ? "flow-cache off\n" : "flow-cache %d\n",
			c->flow_cache);
	if (c->cp_host[0])
		fprintf(f, strchr(c->cp_host, ':') ? "controlplane [%s]:%u\n" :
						     "controlplane %s:%u\n",
			c->cp_host, c->cp_port);
	if (c->cp_pin[0])
		fprintf(f, "controlplane-ca %s\n", c->cp_pin);
	if (c->token_file[0])
		fprintf(f, "install-token-file %s\n", c->token_file);
	if (c->metrics_port)
		fprintf(f, "metrics-listen %s\n", c->metrics_listen);
	if (fclose(f))
		abort();
	return text;
}

static char *with_crlf(const uint8_t *data, size_t size, size_t *len)
{
	char *t = malloc(2 * size + 1);
	size_t n = 0;

	if (!t)
		abort();
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n')
			t[n++] = '\r';
		t[n++] = (char)data[i];
	}
	*len = n;
	return t;
}

static void parse_as(const uint8_t *data, size_t size, const char *file)
{
	static struct agent_config c, again; /* PATH_MAX several times */
	static struct config_errors errs, errs2;
	size_t len;
	char *text;
	int ret, ret2;

	ret = config_parse((const char *)data, size, file, &c, &errs);
	if (ret) {
		check_errors(&errs, file);
	} else {
		if (errs.n)
			fail(file, "accepted with errors");
		check_config(&c, file);

		text = print_config(&c, &len);
		if (config_parse(text, len, file, &again, &errs2)) {
			fprintf(stderr, "%s\n%s", errs2.msg[0], text);
			fail(file, "printed config does not parse");
		}
		if (memcmp(&c, &again, sizeof(c))) {
			fprintf(stderr, "%s", text);
			fail(file, "printed config parses to another");
		}
		free(text);
	}

	text = with_crlf(data, size, &len);
	ret2 = config_parse(text, len, file, &again, &errs2);
	if (ret2 != ret || errs2.n != errs.n ||
	    (!ret && memcmp(&c, &again, sizeof(c))))
		fail(file, "CRLF line ends change the result");
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_as(data, size, "moatd.conf");
	parse_as(data, size, "/etc/moat/moatd.conf");
	return 0;
}
