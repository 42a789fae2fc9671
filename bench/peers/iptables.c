// SPDX-License-Identifier: GPL-2.0-only
/*
 * The iptables peer: iptables-restore and ip6tables-restore into the
 * raw table (translate-ipt.c), whichever backend Debian's alternatives
 * point at (nf_tables on Debian 12).  A restore replaces the raw table
 * of the namespace as a whole, so the peer owns it; removing it deletes
 * the tables where the backend can (nf_tables), and otherwise leaves an
 * empty raw table with ACCEPT policies (legacy tables live as long as
 * the namespace).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peers.h"
#include "translate.h"

#define PEER "iptables-raw"

static const char *const restore[2] = { "iptables-restore",
					"ip6tables-restore" };
static const char *const savers[2] = { "iptables-save", "ip6tables-save" };
static int (*const translate[2])(const struct moat_ruleset *, const char *,
				 FILE *) = { tr_iptables, tr_ip6tables };

static bool nf_tables_backend(void)
{
	const char *argv[] = { "iptables-restore", "--version", NULL };
	struct peer_cmd c = { .argv = argv,
			      .timeout_ms = PEER_QUERY_TIMEOUT_MS,
			      .capture = true,
			      .quiet = true };
	bool nft = !peer_run(&c) && strstr(c.out, "nf_tables");

	peer_cmd_free(&c);
	return nft;
}

static void ipt_remove(const char *ifname)
{
	static const char empty[] = "*raw\n"
				    ":PREROUTING ACCEPT [0:0]\n"
				    ":OUTPUT ACCEPT [0:0]\n"
				    "COMMIT\n";
	bool nft = nf_tables_backend();

	for (int v = 0; v < 2; v++) {
		const char *del[] = { "nft",   "delete",
				      "table", v ? "ip6" : "ip",
				      "raw",   NULL };
		const char *res[] = { restore[v], NULL };
		struct peer_cmd c = { .argv = nft ? del : res,
				      .timeout_ms = PEER_QUERY_TIMEOUT_MS,
				      .quiet = true };

		if (!nft) {
			c.input = empty;
			c.input_len = sizeof(empty) - 1;
		}
		peer_run(&c);
	}
}

static int ipt_install(const struct moat_ruleset *rs, const char *ifname,
		       uint64_t *apply_ns)
{
	const char *why = tr_iptables_cannot(rs);
	int ret = 0;

	*apply_ns = 0;
	if (why) {
		peer_err(PEER, "%s", why);
		return -EINVAL;
	}
	for (int v = 0; !ret && v < 2; v++) {
		const char *argv[] = { restore[v], NULL };
		struct peer_cmd c = { .argv = argv,
				      .timeout_ms = PEER_LOAD_TIMEOUT_MS };
		char *text = tr_to_string(translate[v], rs, ifname);

		if (!text) {
			ret = -errno;
			peer_err(PEER, "translating for `%s': %s", ifname,
				 strerror(errno));
			break;
		}
		c.input = text;
		c.input_len = strlen(text);
		ret = peer_run(&c);
		*apply_ns += c.elapsed_ns;
		free(text);
	}
	if (ret)
		ipt_remove(ifname);
	return ret;
}

/*
 * iptables-save -c: the policy's counter on the chain line, each rule's
 * before it.  Each frame ends in one ACCEPT or DROP, or the policy;
 * jumps to the fragment chains are not endings.  The interface guard
 * (`! -i') is not counted: those frames came in on other interfaces.
 */
static int parse_counts(char *text, struct peer_counts *c)
{
	bool in_raw = false, found = false;
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		unsigned long long pk, by;
		bool drop;

		if (l[0] == '*')
			in_raw = !strcmp(l, "*raw");
		if (!in_raw)
			continue;
		if (sscanf(l, ":PREROUTING %*s [%llu:%llu]", &pk, &by) == 2) {
			drop = strstr(l, " DROP ");
			found = true;
		} else if (sscanf(l, "[%llu:%llu] -A ", &pk, &by) == 2) {
			drop = strstr(l, " -j DROP");
			if (strstr(l, " ! -i ") ||
			    (!drop && !strstr(l, " -j ACCEPT")))
				continue;
		} else {
			continue;
		}
		if (drop)
			c->dropped += pk;
		else
			c->passed += pk;
	}
	return found ? 0 : -ENOENT;
}

int peer_iptables_counts(const char *ifname, struct peer_counts *counts)
{
	int ret = 0;

	memset(counts, 0, sizeof(*counts));
	for (int v = 0; !ret && v < 2; v++) {
		const char *argv[] = { savers[v], "-c", "-t", "raw", NULL };
		struct peer_cmd c = { .argv = argv,
				      .timeout_ms = PEER_QUERY_TIMEOUT_MS,
				      .capture = true };

		ret = peer_run(&c);
		if (!ret)
			ret = parse_counts(c.out, counts);
		if (ret == -ENOENT)
			peer_err(PEER, "no raw PREROUTING chain in %s's output",
				 savers[v]);
		peer_cmd_free(&c);
	}
	return ret;
}

static int ipt_processed(const char *ifname, uint64_t *frames)
{
	struct peer_counts c;
	int ret = peer_iptables_counts(ifname, &c);

	*frames = ret ? 0 : c.passed + c.dropped;
	return ret;
}

const struct bench_peer bench_peer_iptables_raw = {
	.name = PEER,
	.describe = "iptables raw PREROUTING (iptables-restore, "
		    "ip6tables-restore), one rule per term in order",
	.cannot = tr_iptables_cannot,
	.install = ipt_install,
	.processed = ipt_processed,
	.remove = ipt_remove,
	.after_xdp = true,
};
