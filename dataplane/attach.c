// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching the entry program to interfaces, through libxdp so that moat
 * shares an interface with other XDP programs where the kernel lets
 * libxdp's dispatcher load (libxdp falls back to a plain attachment where
 * it cannot).  An interface that already carries this instance's entry
 * program is adopted, not attached twice.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include "dp-int.h"
#include "moat_entry.skel.h"

#define MOAT_ENTRY_NAME "moat_entry"

/* Is @prog an entry program of this instance (it uses our prog array)? */
static bool is_ours(const struct moat_dp *dp, int prog_fd)
{
	struct bpf_prog_info info = {};
	uint32_t ids[8], len = sizeof(info), i;

	info.nr_map_ids = 8;
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return false;
	for (i = 0; i < info.nr_map_ids && i < 8; i++)
		if (ids[i] == dp->gens_id)
			return true;
	return false;
}

/*
 * Find a moat entry program on @ifindex.  Returns 1 and fills the out
 * parameters when there is one, 0 when there is none.
 */
static int find_entry(const struct moat_dp *dp, int ifindex,
		      struct xdp_multiprog **mpp, struct xdp_program **pp,
		      bool *ours)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;

	*mpp = NULL;
	*pp = NULL;
	if (libxdp_get_error(mp) || !mp)
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && strcmp(xdp_program__name(p), MOAT_ENTRY_NAME))
			p = NULL;
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (!strcmp(xdp_program__name(p), MOAT_ENTRY_NAME))
				break;
	}
	if (!p) {
		xdp_multiprog__close(mp);
		return 0;
	}
	*mpp = mp;
	*pp = p;
	*ours = is_ours(dp, xdp_program__fd(p));
	return 1;
}

static int pin_link(struct moat_dp *dp, const char *ifname, int fd)
{
	char path[PATH_MAX];
	int err;

	err = dp_path(dp, path, sizeof(path), "links");
	if (err)
		return err;
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	dp_path(dp, path, sizeof(path), "links/%s", ifname);
	unlink(path);
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

/* An entry program of @dp, opened on the instance's prog array, not loaded. */
static int entry_open(const struct moat_dp *dp, struct moat_entry **out)
{
	struct moat_entry *skel = moat_entry__open();
	int err;

	*out = NULL;
	if (!skel)
		return -errno;
	err = bpf_map__reuse_fd(skel->maps.gens, dp->gens_fd);
	if (err) {
		moat_entry__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int moat_dp_entry_fd(struct moat_dp *dp)
{
	struct moat_entry *skel;
	int err, fd;

	err = entry_open(dp, &skel) ?: moat_entry__load(skel);
	fd = err ? err : dup(bpf_program__fd(skel->progs.moat_entry));
	if (fd < 0 && !err)
		fd = -errno;
	moat_entry__destroy(skel);
	return fd;
}

static int try_attach(struct moat_dp *dp, int ifindex,
		      enum xdp_attach_mode mode, struct xdp_program **out)
{
	struct moat_entry *skel;
	struct xdp_program *prog;
	int err;

	err = entry_open(dp, &skel);
	if (err)
		return err;
	/*
	 * Where the dispatcher cannot load, libxdp would try it on every
	 * attach (loading its object, the kernel refusing, libbpf saying so
	 * on stderr) before attaching the program alone: tell it to go
	 * straight there.  An operator's own setting is left as it is.
	 */
	if (!dp_dispatcher_ok())
		setenv("LIBXDP_SKIP_DISPATCHER", "1", 0);
	prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
	err = libxdp_get_error(prog);
	if (err) {
		moat_entry__destroy(skel);
		return err;
	}
	err = xdp_program__attach(prog, ifindex, mode, 0);
	if (err) {
		xdp_program__close(prog);
		moat_entry__destroy(skel);
		return err;
	}
	/* the attachment holds the program; the object is no longer needed */
	*out = xdp_program__from_fd(dup(xdp_program__fd(prog)));
	xdp_program__close(prog);
	moat_entry__destroy(skel);
	return libxdp_get_error(*out);
}

int moat_dp_attach(struct moat_dp *dp, const char *ifname,
		   enum moat_xdp_mode mode)
{
	struct xdp_multiprog *mp;
	struct xdp_program *prog = NULL;
	int ifindex = (int)if_nametoindex(ifname), err;
	bool ours;

	if (dp->pinned_only)
		return -EPERM;
	if (!ifindex)
		return -ENODEV;
	if (find_entry(dp, ifindex, &mp, &prog, &ours)) {
		int fd = xdp_program__fd(prog);

		err = ours ? pin_link(dp, ifname, fd) : -EBUSY;
		xdp_multiprog__close(mp);
		if (!err)
			err = dp_ct_attach(dp, ifindex);
		return err;
	}
	switch (mode) {
	case MOAT_XDP_NATIVE:
		err = try_attach(dp, ifindex, XDP_MODE_NATIVE, &prog);
		break;
	case MOAT_XDP_GENERIC:
		err = try_attach(dp, ifindex, XDP_MODE_SKB, &prog);
		break;
	default:
		err = try_attach(dp, ifindex, XDP_MODE_NATIVE, &prog);
		if (err == -EOPNOTSUPP || err == -EINVAL)
			err = try_attach(dp, ifindex, XDP_MODE_SKB, &prog);
	}
	if (err)
		return err;
	err = pin_link(dp, ifname, xdp_program__fd(prog));
	xdp_program__close(prog);
	if (!err)
		err = dp_ct_attach(dp, ifindex);
	return err;
}

int moat_dp_detach(struct moat_dp *dp, const char *ifname)
{
	struct xdp_multiprog *mp;
	struct xdp_program *prog;
	char path[PATH_MAX];
	int ifindex, err;
	bool ours;

	if (dp->pinned_only)
		return -EPERM;
	/*
	 * Interfaces are per network namespace: one that is not here may be
	 * enforcing in another.  Say so rather than forget it.
	 */
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	dp_path(dp, path, sizeof(path), "links/%s", ifname);
	if (!find_entry(dp, ifindex, &mp, &prog, &ours))
		return access(path, F_OK) ? -ENOENT : (unlink(path), 0);
	err = ours ? xdp_program__detach(prog, ifindex,
					 xdp_multiprog__attach_mode(mp), 0) :
		     -EBUSY;
	xdp_multiprog__close(mp);
	if (!err)
		unlink(path);
	if (!err)
		err = dp_ct_detach(dp, ifindex);
	return err;
}

/* Fill @i from what the kernel says about @ifindex. */
int dp_iface_state(const struct moat_dp *dp, const char *ifname,
		   struct moat_dp_iface *i);
int dp_iface_state(const struct moat_dp *dp, const char *ifname,
		   struct moat_dp_iface *i)
{
	struct xdp_multiprog *mp;
	struct xdp_program *prog;
	bool ours = false;

	memset(i, 0, sizeof(*i));
	snprintf(i->name, sizeof(i->name), "%s", ifname);
	i->ifindex = if_nametoindex(ifname);
	if (!i->ifindex || !find_entry(dp, (int)i->ifindex, &mp, &prog, &ours))
		return 0;
	i->attached = ours;
	i->generic = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB;
	i->dispatcher = !xdp_multiprog__is_legacy(mp);
	i->prog_id = xdp_program__id(prog);
	xdp_multiprog__close(mp);
	i->egress_prog_id = dp_ct_egress_id(dp, (int)i->ifindex);
	return 0;
}
