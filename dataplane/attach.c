// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching moat to interfaces, one of two ways:
 *
 *   - the entry program, which hands each frame to whatever generation
 *     the instance's prog array (gens) holds, so that one update of gens
 *     publishes a ruleset on every interface at once.  Attached through
 *     libxdp, so that moat shares an interface with other XDP programs
 *     where libxdp's dispatcher loads (libxdp falls back to a plain
 *     attachment where it cannot).
 *   - the running generation's own program, directly: where there is no
 *     dispatcher to share (a plain attachment either way) and the
 *     instance protects this one interface.  A frame skips the entry's
 *     hop (docs/performance.md); a publish replaces the program on the
 *     interface (XDP_FLAGS_REPLACE), one switch still.
 *
 * A second interface puts the entry back on the first; a publish with
 * one interface left takes it off again.  An interface that already
 * carries this instance's program, either one, is adopted, not attached
 * twice.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
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

/* A generation's entry points (bpf/moat_fw.bpf.c), as the kernel names them. */
static bool is_gen_name(const char *name)
{
	return !strcmp(name, "moat_fw") || !strcmp(name, "moat_fw_ct");
}

/* Does program @prog_fd use the map of id @map_id? */
static bool uses_map(int prog_fd, uint32_t map_id)
{
	struct bpf_prog_info info = {};
	uint32_t ids[64], len = sizeof(info), i;
	const uint32_t max = sizeof(ids) / sizeof(ids[0]);

	info.nr_map_ids = max;
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (!map_id || bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return false;
	for (i = 0; i < info.nr_map_ids && i < max; i++)
		if (ids[i] == map_id)
			return true;
	return false;
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id :
								     0;
}

/*
 * Is @prog_fd this instance's?  An entry program uses our prog array, a
 * generation our counters.
 */
static bool is_ours(const struct moat_dp *dp, int prog_fd, bool gen)
{
	return uses_map(prog_fd, gen ? map_id(dp->counters_fd) : dp->gens_id);
}

/* moat's program on an interface, as libxdp sees it. */
struct moat_prog {
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	bool ours;
	bool direct; /* a generation's program, not the entry */
	bool legacy; /* a plain attachment, no dispatcher */
	enum xdp_attach_mode mode;
};

#ifdef MOAT_LIBXDP_LEAKS_FDS
/*
 * The descriptors of BPF programs this process holds: *@out, their
 * number returned, or -1.
 */
static int prog_fds(int **out)
{
	char path[PATH_MAX], target[64];
	int *v = NULL, *w, n = 0;
	struct dirent *e;
	DIR *dir;

	*out = NULL;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	while ((e = readdir(dir))) {
		ssize_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, "anon_inode:bpf-prog"))
			continue;
		w = realloc(v, (size_t)(n + 1) * sizeof(*v));
		if (!w) {
			free(v);
			closedir(dir);
			return -1;
		}
		v = w;
		v[n++] = atoi(e->d_name);
	}
	closedir(dir);
	*out = v;
	return n;
}

static bool has_fd(const int *v, int n, int fd)
{
	for (int i = 0; i < n; i++)
		if (v[i] == fd)
			return true;
	return false;
}

static bool mp_holds(const struct xdp_multiprog *mp, int fd)
{
	struct xdp_program *p = NULL;

	if (libxdp_get_error(mp) || !mp)
		return false;
	if (xdp_program__fd(xdp_multiprog__main_prog(mp)) == fd ||
	    xdp_program__fd(xdp_multiprog__hw_prog(mp)) == fd)
		return true;
	while ((p = xdp_multiprog__next_prog(p, mp)))
		if (xdp_program__fd(p) == fd)
			return true;
	return false;
}
#endif

/*
 * What runs on @ifindex, as libxdp reads it.  libxdp before 1.4.1 opens
 * each program by id (or pin), keeps a duplicate and never closes the
 * first descriptor (fixed upstream in xdp-tools 48ad94b): one more open
 * descriptor for every read, and where the program is a generation, the
 * generation and its maps kept in memory after they retire.  Here every
 * program descriptor that appeared during the read and that the result
 * does not hold is closed again.  That takes no other thread of the
 * process opening a BPF program during the read: moatd, moatctl and
 * moat-bench read interfaces from one thread, and open programs nowhere
 * else meanwhile.
 */
static struct xdp_multiprog *multiprog_get(int ifindex)
{
	struct xdp_multiprog *mp;
#ifdef MOAT_LIBXDP_LEAKS_FDS
	int *before, *after, nb = prog_fds(&before), na;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	na = nb < 0 ? -1 : prog_fds(&after);
	for (int i = 0; i < na; i++)
		if (!has_fd(before, nb, after[i]) && !mp_holds(mp, after[i]))
			close(after[i]);
	free(before);
	if (na >= 0)
		free(after);
#else
	mp = xdp_multiprog__get_from_ifindex(ifindex);
#endif
	return mp;
}

static void prog_close(struct moat_prog *f)
{
	xdp_multiprog__close(f->mp);
	f->mp = NULL;
	f->p = NULL;
}

/*
 * Find moat's program on @ifindex: the entry program under or without a
 * dispatcher, or a generation's attached alone.  Returns 1 and fills @f
 * when there is one, 0 when there is none.
 */
static int find_prog(const struct moat_dp *dp, int ifindex, struct moat_prog *f)
{
	struct xdp_multiprog *mp = multiprog_get(ifindex);
	struct xdp_program *p = NULL;
	const char *name;

	memset(f, 0, sizeof(*f));
	if (libxdp_get_error(mp) || !mp)
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		name = p ? xdp_program__name(p) : "";
		if (strcmp(name, MOAT_ENTRY_NAME) && !is_gen_name(name))
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
	f->mp = mp;
	f->p = p;
	f->direct = is_gen_name(xdp_program__name(p));
	f->ours = is_ours(dp, xdp_program__fd(p), f->direct);
	f->legacy = xdp_multiprog__is_legacy(mp);
	f->mode = xdp_multiprog__attach_mode(mp);
	return 1;
}

static uint32_t xdp_flags(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

/* Put program @fd on @ifindex in place of @old_fd, or of nothing (-1). */
static int put_prog(int ifindex, int fd, int old_fd, enum xdp_attach_mode mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = old_fd);

	if (old_fd < 0)
		return bpf_xdp_attach(
			ifindex, fd,
			xdp_flags(mode) | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	return bpf_xdp_attach(ifindex, fd, xdp_flags(mode), &o);
}

/* The interfaces the instance is attached to: names pinned under links/. */
static int list_links(const struct moat_dp *dp, char (**out)[IF_NAMESIZE])
{
	char path[PATH_MAX], (*v)[IF_NAMESIZE] = NULL, (*w)[IF_NAMESIZE];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	*out = NULL;
	dp_path(dp, path, sizeof(path), "links");
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= IF_NAMESIZE)
			continue;
		w = realloc(v, (size_t)(n + 1) * sizeof(*v));
		if (!w) {
			free(v);
			closedir(dir);
			return -ENOMEM;
		}
		v = w;
		snprintf(v[n++], IF_NAMESIZE, "%s", e->d_name);
	}
	closedir(dir);
	*out = v;
	return n;
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
	/*
	 * The attachment holds the program; the object is no longer needed.
	 * (xdp_program__from_fd() takes a duplicate of the descriptor.)
	 */
	*out = xdp_program__from_fd(xdp_program__fd(prog));
	xdp_program__close(prog);
	moat_entry__destroy(skel);
	return libxdp_get_error(*out);
}

/* In @mode: the generation directly, or the entry program (into *@out). */
static int attach_as(struct moat_dp *dp, int ifindex, enum xdp_attach_mode mode,
		     bool direct, struct xdp_program **out)
{
	if (direct)
		return put_prog(ifindex, dp->gen_fd, -1, mode);
	return try_attach(dp, ifindex, mode, out);
}

/*
 * Before a second interface: put the entry program in place of the
 * generation on each interface that runs one directly.  gens holds the
 * same generation, so no frame sees a change of ruleset.
 */
static int links_to_entry(struct moat_dp *dp, const char *except)
{
	char(*names)[IF_NAMESIZE];
	int n = list_links(dp, &names), entry = -1, err = 0;

	for (int i = 0; i < n && !err; i++) {
		int ifindex = (int)if_nametoindex(names[i]);
		struct moat_prog f;

		if (!strcmp(names[i], except) || !ifindex ||
		    !find_prog(dp, ifindex, &f))
			continue;
		if (f.ours && f.direct) {
			if (entry < 0)
				entry = moat_dp_entry_fd(dp);
			err = entry < 0 ?
				      entry :
				      put_prog(ifindex, entry,
					       xdp_program__fd(f.p), f.mode);
			if (!err)
				err = pin_link(dp, names[i], entry);
		}
		prog_close(&f);
	}
	if (entry >= 0)
		close(entry);
	free(names);
	return n < 0 ? n : err;
}

int moat_dp_attach(struct moat_dp *dp, const char *ifname,
		   enum moat_xdp_mode mode)
{
	char(*names)[IF_NAMESIZE];
	struct xdp_program *prog = NULL;
	int ifindex = (int)if_nametoindex(ifname), err, n, others;
	struct moat_prog f;
	bool direct;

	if (dp->pinned_only)
		return -EPERM;
	if (!ifindex)
		return -ENODEV;
	if (find_prog(dp, ifindex, &f)) {
		err = f.ours ? pin_link(dp, ifname, xdp_program__fd(f.p)) :
			       -EBUSY;
		prog_close(&f);
		return err ?: dp_ct_attach(dp, ifindex);
	}
	n = list_links(dp, &names);
	if (n < 0)
		return n;
	others = 0;
	for (int i = 0; i < n; i++)
		others += !!strcmp(names[i], ifname);
	free(names);
	direct = dp->attach == MOAT_ATTACH_AUTO && !others && dp->gen_fd >= 0 &&
		 !dp_dispatcher_ok();
	if (!direct && (err = links_to_entry(dp, ifname)))
		return err;
	switch (mode) {
	case MOAT_XDP_NATIVE:
		err = attach_as(dp, ifindex, XDP_MODE_NATIVE, direct, &prog);
		break;
	case MOAT_XDP_GENERIC:
		err = attach_as(dp, ifindex, XDP_MODE_SKB, direct, &prog);
		break;
	default:
		err = attach_as(dp, ifindex, XDP_MODE_NATIVE, direct, &prog);
		if (err == -EOPNOTSUPP || err == -EINVAL)
			err = attach_as(dp, ifindex, XDP_MODE_SKB, direct,
					&prog);
	}
	if (err)
		return err;
	if (direct)
		return pin_link(dp, ifname, dp->gen_fd) ?:
			       dp_ct_attach(dp, ifindex);
	err = pin_link(dp, ifname, xdp_program__fd(prog));
	xdp_program__close(prog);
	return err ?: dp_ct_attach(dp, ifindex);
}

/* Is what is pinned at links/@ifname a generation's program? */
static bool link_is_gen(const struct moat_dp *dp, const char *ifname)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	bool gen = false;
	int fd;

	dp_path(dp, path, sizeof(path), "links/%s", ifname);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		gen = is_gen_name(info.name);
	close(fd);
	return gen;
}

void moat_dp_set_attach(struct moat_dp *dp, enum moat_attach a)
{
	dp->attach = a;
}

int dp_links_publish(struct moat_dp *dp, int fd, struct moat_diags *d)
{
	struct switched {
		int at, ifindex, old_fd, to_fd;
		enum xdp_attach_mode mode;
	} *done = NULL;
	const char *fault = getenv("MOAT_FAULT");
	bool entry_only = dp->attach == MOAT_ATTACH_ENTRY;
	char(*names)[IF_NAMESIZE];
	int n = list_links(dp, &names), ndone = 0, err = 0, entry = -1;

	if (n <= 0)
		return n;
	done = calloc((size_t)n, sizeof(*done));
	if (!done) {
		free(names);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		int ifindex = (int)if_nametoindex(names[i]), old, to = fd;
		struct moat_prog f;

		if (!ifindex) {
			if (!link_is_gen(dp, names[i]))
				continue; /* an entry program follows gens */
			/*
			 * Gone, or in another network namespace, where only
			 * a publish from there reaches it.  The pin moves on,
			 * so that it does not keep an old generation alive.
			 */
			moat_diag_add(
				d, MOAT_WARNING, 0, 0,
				"no interface %s here: if it is in another network namespace, it runs the old generation until an apply from there",
				names[i]);
			pin_link(dp, names[i], fd);
			continue;
		}
		if (!find_prog(dp, ifindex, &f))
			continue;
		/*
		 * What runs a generation directly takes the new one (or the
		 * entry, when told to attach that way only); the one
		 * interface left takes the generation directly.
		 */
		if (!f.ours ||
		    !(f.direct || (n == 1 && f.legacy && !entry_only &&
				   !dp_dispatcher_ok()))) {
			prog_close(&f);
			continue;
		}
		if (entry_only) {
			if (entry < 0)
				entry = moat_dp_entry_fd(dp);
			to = entry;
		}
		old = dup(xdp_program__fd(f.p));
		done[ndone] = (struct switched){ i, ifindex, old, to, f.mode };
		prog_close(&f);
		/*
		 * For tests: MOAT_FAULT=switch names the wrong program as
		 * the one to replace, and the kernel refuses the switch.
		 */
		err = old < 0 ? -errno :
		      to < 0  ? to :
				put_prog(ifindex, to,
					 fault && !strcmp(fault, "switch") ? to :
									     old,
					 done[ndone].mode);
		if (err) {
			moat_diag_add(
				d, MOAT_ERROR, 0, 0,
				"cannot switch %s to the new generation: %s",
				names[i], strerror(-err));
			if (old >= 0)
				close(old);
			break;
		}
		ndone++;
	}
	/* all or nothing: on an error, the interfaces switched go back */
	while (ndone--) {
		struct switched *s = &done[ndone];

		if (err && put_prog(s->ifindex, s->old_fd, s->to_fd, s->mode))
			moat_diag_add(
				d, MOAT_ERROR, 0, 0,
				"cannot put %s back on the running generation",
				names[s->at]);
		if (!err && pin_link(dp, names[s->at], s->to_fd))
			moat_diag_add(d, MOAT_WARNING, 0, 0,
				      "cannot pin what %s runs at links/%s",
				      names[s->at], names[s->at]);
		close(s->old_fd);
	}
	if (entry >= 0)
		close(entry);
	free(done);
	free(names);
	return err;
}

int moat_dp_detach(struct moat_dp *dp, const char *ifname)
{
	char path[PATH_MAX];
	struct moat_prog f;
	int ifindex, err;

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
	if (!find_prog(dp, ifindex, &f))
		return access(path, F_OK) ? -ENOENT : (unlink(path), 0);
	if (!f.ours) {
		err = -EBUSY;
	} else if (f.direct) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o,
			    .old_prog_fd = xdp_program__fd(f.p));

		err = bpf_xdp_detach(ifindex, xdp_flags(f.mode), &o);
	} else {
		err = xdp_program__detach(f.p, ifindex, f.mode, 0);
	}
	prog_close(&f);
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
	struct moat_prog f;

	memset(i, 0, sizeof(*i));
	snprintf(i->name, sizeof(i->name), "%s", ifname);
	i->ifindex = if_nametoindex(ifname);
	if (!i->ifindex || !find_prog(dp, (int)i->ifindex, &f))
		return 0;
	i->attached = f.ours;
	i->generic = f.mode == XDP_MODE_SKB;
	i->dispatcher = !f.legacy;
	i->direct = f.direct;
	i->prog_id = xdp_program__id(f.p);
	prog_close(&f);
	i->egress_prog_id = dp_ct_egress_id(dp, (int)i->ifindex);
	return 0;
}
