// SPDX-License-Identifier: GPL-2.0-only
/*
 * --controlplane BINARY: a control plane of our own, so that one command
 * runs it all.  A fresh state directory under /tmp, loopback ports the
 * kernel picked, its log in that directory; we wait until the first
 * start has written the admin key and both ports answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fleet.h"

#define START_TIMEOUT_S 30

/*
 * The bottom of the kernel's ephemeral port range: connect() takes its
 * source ports from there, so a port below it that is free now stays
 * free until the child binds it, unless another listener takes it.
 */
static unsigned ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned low = 32768;

	if (f) {
		if (fscanf(f, "%u", &low) != 1)
			low = 32768;
		fclose(f);
	}
	return low;
}

/*
 * A loopback port nobody uses now, below the ephemeral range (a port
 * from bind(0) is an ephemeral one, which another program's connect()
 * may take before the child binds it; the child then fails and says so).
 */
static int free_port(unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static unsigned seed;
	unsigned low = ephemeral_low();
	socklen_t len = sizeof(sa);
	int ret = -EADDRINUSE;

	/* different in every process, so that two fleets pick apart */
	if (!seed)
		seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
	for (int i = 0; i < 1000 && ret == -EADDRINUSE; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		seed = seed * 1103515245u + 12345u;
		sa.sin_port = low > 10100 ?
				      htons((uint16_t)(10000 + (seed >> 8) % (low - 10000))) :
				      0;
		ret = 0;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
			ret = -errno;
		else
			*port = ntohs(sa.sin_port);
		close(fd);
	}
	return ret;
}

static bool port_answers(unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static bool file_nonempty(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_size > 0;
}

static void child(struct fleet *f, struct fleet_cp *cp, unsigned agent,
		  unsigned api)
{
	char listen[32], api_listen[32], hb[16];
	int fd = open(cp->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", agent);
	snprintf(api_listen, sizeof(api_listen), "127.0.0.1:%u", api);
	/* the interval the hosts use, rounded up: the server's timeouts */
	snprintf(hb, sizeof(hb), "%u", (unsigned)(f->o.interval + 0.999));
	execl(f->o.controlplane, f->o.controlplane, "--state", cp->dir,
	      "--listen", listen, "--api-listen", api_listen,
	      "--admin-key-file", f->o.admin_key_file, "--heartbeat-interval",
	      hb,
	      /* as root, it would become moat-cp; the cost is the same */
	      "--user", "root", (char *)NULL);
	fprintf(stderr, "moat-fleet: cannot run %s: %s\n", f->o.controlplane,
		strerror(errno));
	_exit(127);
}

int fleet_cp_start(struct fleet *f, struct fleet_cp *cp)
{
	unsigned agent, api;
	int ret, status;

	snprintf(cp->dir, sizeof(cp->dir), "/tmp/moat-fleet-XXXXXX");
	if (!mkdtemp(cp->dir))
		return -errno;
	snprintf(cp->log, sizeof(cp->log), "%s/controlplane.log", cp->dir);
	snprintf(f->o.admin_key_file, sizeof(f->o.admin_key_file),
		 "%s/admin.key", cp->dir);
	snprintf(f->o.ca_file, sizeof(f->o.ca_file), "%s/ca.crt", cp->dir);
	ret = free_port(&agent) ?: free_port(&api);
	if (ret)
		return ret;
	snprintf(f->o.server, sizeof(f->o.server), "127.0.0.1:%u", agent);
	snprintf(f->o.api, sizeof(f->o.api), "127.0.0.1:%u", api);
	cp->pid = fork();
	if (cp->pid < 0)
		return -errno;
	if (cp->pid == 0)
		child(f, cp, agent, api);
	f->o.cp_pid = cp->pid;
	for (int i = 0; i < START_TIMEOUT_S * 10; i++) {
		if (waitpid(cp->pid, &status, WNOHANG) == cp->pid) {
			cp->pid = 0;
			fleet_error(
				f,
				"the control plane exited (status %d): see %s",
				WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				cp->log);
			return -ECHILD;
		}
		if (file_nonempty(f->o.admin_key_file) &&
		    file_nonempty(f->o.ca_file) && port_answers(agent) &&
		    port_answers(api))
			return 0;
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
	fleet_error(f, "the control plane did not come up in %d s: see %s",
		    START_TIMEOUT_S, cp->log);
	return -ETIMEDOUT;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

void fleet_cp_stop(struct fleet_cp *cp, bool keep)
{
	int status;

	if (cp->pid > 0) {
		kill(cp->pid, SIGTERM);
		waitpid(cp->pid, &status, 0);
		cp->pid = 0;
	}
	if (cp->dir[0] && !keep)
		nftw(cp->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else if (cp->dir[0])
		fleet_progress("kept the control plane's state in %s", cp->dir);
}
