// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the kernel offers, asked once at start so that an error can name
 * the missing feature instead of quoting a verifier log.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dp-int.h"

/*
 * libxdp's dispatcher needs the kernel to load freplace (BPF_PROG_TYPE_EXT)
 * programs; this is the check libxdp itself makes, done here so that
 * `moatctl status` can say why moat attached without a dispatcher.
 */
bool dp_probe_dispatcher(char *why, size_t n)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/bpf/xdp-dispatcher.o",
		"/usr/lib/aarch64-linux-gnu/bpf/xdp-dispatcher.o",
		"/usr/lib/bpf/xdp-dispatcher.o",
		"/usr/local/lib/bpf/xdp-dispatcher.o",
	};
	struct bpf_object *disp = NULL, *ext = NULL;
	struct bpf_program *p;
	const char *path = NULL;
	bool ok = false;
	size_t i;
	int err;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]) && !path; i++)
		if (!access(paths[i], R_OK))
			path = paths[i];
	if (!path) {
		snprintf(why, n, "libxdp's xdp-dispatcher.o not found");
		return false;
	}
	disp = bpf_object__open_file(path, NULL);
	ext = bpf_object__open_file(path, NULL);
	if (!disp || !ext) {
		snprintf(why, n, "cannot open %s", path);
		goto out;
	}
	bpf_object__for_each_program(p, disp)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), "xdp_dispatcher"));
	if ((err = bpf_object__load(disp))) {
		snprintf(why, n, "dispatcher load: %s", strerror(-err));
		goto out;
	}
	bpf_object__for_each_program(p, ext) {
		if (strcmp(bpf_program__name(p), "xdp_pass")) {
			bpf_program__set_autoload(p, false);
			continue;
		}
		bpf_program__set_type(p, BPF_PROG_TYPE_EXT);
		bpf_program__set_attach_target(
			p, bpf_program__fd(bpf_object__find_program_by_name(disp, "xdp_dispatcher")),
			"prog0");
	}
	err = bpf_object__load(ext);
	if (err)
		snprintf(why, n, "the kernel refuses freplace programs: %s",
			 strerror(-err));
	ok = !err;
out:
	bpf_object__close(ext);
	bpf_object__close(disp);
	return ok;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

bool dp_dispatcher_ok(void)
{
	static int ok = -1; /* the kernel's answer does not change */
	libbpf_print_fn_t old;
	char why[128];

	if (ok < 0) {
		old = libbpf_set_print(quiet);
		ok = dp_probe_dispatcher(why, sizeof(why));
		libbpf_set_print(old);
	}
	return ok;
}

int moat_dp_probe(struct moat_dp_features *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, mmapable, .map_flags = BPF_F_MMAPABLE);
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	int fd;

	memset(f, 0, sizeof(*f));
	f->btf = !access("/sys/kernel/btf/vmlinux", R_OK);
	f->tail_calls = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_PROG_ARRAY, NULL) > 0;
	f->bpf_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_loop, NULL) > 0;
	f->xdp_load_bytes = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP,
						    BPF_FUNC_xdp_load_bytes, NULL) > 0;
	f->xdp = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) > 0;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "moat_probe", 4, 8, 1, &mmapable);
	f->mmap_arrays = fd >= 0;
	if (fd >= 0)
		close(fd);
	f->dispatcher = dp_probe_dispatcher(f->dispatcher_error,
					    sizeof(f->dispatcher_error));
	libbpf_set_print(old);
	return 0;
}
