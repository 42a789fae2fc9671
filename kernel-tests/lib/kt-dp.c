// SPDX-License-Identifier: GPL-2.0-only
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kt-dp.h"
#include "kt.h"

const char *kt_dp_begin(const char *base)
{
	const char *name = kt_name(base);

	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_require_kernel();
	kt_cleanup_instance(name);
	if (kt_netns(name) || kt_enter(name))
		kt_skip("cannot create a network namespace");
	return name;
}

int kt_xdp_run(int prog, const uint8_t *buf, size_t len, uint32_t ifindex,
	       uint32_t *retval)
{
	struct xdp_md ctx = { .data_end = (uint32_t)len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (uint32_t)len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o))
		return -errno;
	*retval = o.retval;
	return 0;
}

int kt_apply_text(struct moat_dp *dp, const char *text, const char *label)
{
	struct moat_ruleset rs = { 0 };
	struct moat_diags d = { 0 };
	int err;

	err = moat_ruleset_parse(text, strlen(text), &rs, &d);
	if (!err)
		err = moat_dp_apply(dp, &rs, &d, NULL);
	if (err)
		moat_diags_print(&d, label, stderr);
	moat_diags_free(&d);
	moat_ruleset_free(&rs);
	return err;
}

uint64_t kt_row_packets(struct moat_dp *dp, const char *rule)
{
	struct moat_dp_row *rows = NULL;
	uint64_t pk = ~0ull;
	int n = 0;

	if (moat_dp_rows(dp, &rows, &n))
		return pk;
	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i].name, rule))
			pk = rows[i].packets;
	free(rows);
	return pk;
}

void *kt_map_pinned(const char *path, size_t *len, bool write)
{
	struct bpf_map_info mi = { 0 };
	uint32_t ml = sizeof(mi);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int fd = bpf_obj_get(path);
	void *p = MAP_FAILED;

	if (fd < 0)
		return NULL;
	if (!bpf_obj_get_info_by_fd(fd, &mi, &ml)) {
		*len = ((size_t)mi.max_entries * mi.value_size + page - 1) /
		       page * page;
		p = mmap(NULL, *len, write ? PROT_READ | PROT_WRITE : PROT_READ,
			 MAP_SHARED, fd, 0);
	}
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}
