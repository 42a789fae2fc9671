// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "kt.h"

#define KT_MAX_CLEANUP 16

static int nchecks, nfailed;
static char netns_names[KT_MAX_CLEANUP][64];
static int nnetns;
static char instances[KT_MAX_CLEANUP][64];
static int ninstances;
static int home_fd = -1;

void kt_skip(const char *fmt, ...)
{
	const char *ci = getenv("CI");
	va_list ap;

	fprintf(stderr, "SKIP: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ci && !strcmp(ci, "true")) {
		fprintf(stderr, "CI=true: a skipped kernel test is a failure\n");
		exit(1);
	}
	exit(77);
}

void kt_require_kernel(void)
{
	struct statfs st;

	if (geteuid() != 0)
		kt_skip("needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		kt_skip("the kernel has no BTF (/sys/kernel/btf/vmlinux)");
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC) {
		mkdir("/sys/fs/bpf", 0700);
		if (kt_sh("mount -t bpf bpf /sys/fs/bpf"))
			kt_skip("cannot mount bpffs at /sys/fs/bpf");
	}
	if (access("/proc/self/ns/net", R_OK))
		kt_skip("no network namespaces");
}

bool kt_check(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	nchecks++;
	if (ok) {
		printf("ok %d - %s\n", nchecks, name);
		return true;
	}
	nfailed++;
	printf("not ok %d - %s: ", nchecks, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return false;
}

int kt_done(void)
{
	printf("# %d checks, %d failed\n", nchecks, nfailed);
	return nfailed || !nchecks ? 1 : 0;
}

int kt_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (getenv("KT_VERBOSE"))
		fprintf(stderr, "+ %s\n", cmd);
	st = system(cmd);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

const char *kt_name(const char *base)
{
	static char bufs[8][64];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, 64, "%s%d", base, (int)getpid() % 100000);
	return b;
}

static void cleanup(void)
{
	int i;

	kt_leave();
	for (i = 0; i < ninstances; i++)
		kt_sh("rm -rf /sys/fs/bpf/moat/%s", instances[i]);
	for (i = 0; i < nnetns; i++)
		kt_sh("ip netns del %s 2>/dev/null", netns_names[i]);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm_cleanup(void)
{
	static bool armed;

	if (armed)
		return;
	armed = true;
	home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

int kt_netns(const char *name)
{
	arm_cleanup();
	if (nnetns < KT_MAX_CLEANUP)
		snprintf(netns_names[nnetns++], 64, "%s", name);
	kt_sh("ip netns del %s 2>/dev/null", name);
	return kt_sh("ip netns add %s", name);
}

int kt_enter(const char *name)
{
	char path[128];
	int fd, err;

	arm_cleanup();
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return err;
}

int kt_leave(void)
{
	if (home_fd < 0)
		return 0;
	return setns(home_fd, CLONE_NEWNET) ? -errno : 0;
}

void kt_cleanup_instance(const char *instance)
{
	arm_cleanup();
	if (ninstances < KT_MAX_CLEANUP)
		snprintf(instances[ninstances++], 64, "%s", instance);
}

uint64_t kt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
