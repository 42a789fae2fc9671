// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "hostinfo.h"
#include "log.h"

/* The first line of @path, hex digits only, into @buf. */
static int read_id(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[128];
	size_t n = 0;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	for (const char *p = line; *p && n + 1 < size; p++)
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
			buf[n++] = *p;
	buf[n] = '\0';
	return n ? 0 : -ENODATA;
}

void hostinfo_refresh(struct hostinfo *h)
{
	struct sysinfo si;

	if (sysinfo(&si) == 0) {
		h->uptime_s = (uint64_t)si.uptime;
		h->boot_time = (int64_t)time(NULL) - si.uptime;
		/* sysinfo's loads are fixed point, 16 bits of fraction */
		for (int i = 0; i < 3; i++)
			h->load[i] = (uint32_t)((si.loads[i] * 100 + 32768) >> 16);
		h->mem_total = (uint64_t)si.totalram * si.mem_unit;
	}
	/* MemAvailable counts reclaimable cache; sysinfo's freeram does not */
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long long kb;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			h->mem_available = kb * 1024;
			break;
		}
	}
	fclose(f);
}

static int per_instance(struct hostinfo *h, const char *instance)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char in[sizeof(h->machine_id) + 64];
	size_t hl = strlen(h->hostname);
	unsigned mdlen;
	int n;

	n = snprintf(in, sizeof(in), "%s/%s", h->machine_id, instance);
	if (!EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL))
		return -EIO;
	for (int i = 0; i < 16; i++)
		snprintf(h->machine_id + 2 * i, 3, "%02x", md[i]);
	snprintf(h->hostname + hl, sizeof(h->hostname) - hl, "-%s", instance);
	return 0;
}

int hostinfo_read(struct hostinfo *h, const char *instance)
{
	struct utsname u;

	memset(h, 0, sizeof(*h));
	/* room for "-INSTANCE" */
	if (gethostname(h->hostname, sizeof(h->hostname) - 34) < 0)
		return -errno;
	if (uname(&u) < 0)
		return -errno;
	snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	if (read_id("/etc/machine-id", h->machine_id, sizeof(h->machine_id))) {
		if (read_id("/proc/sys/kernel/random/boot_id", h->machine_id,
			    sizeof(h->machine_id)))
			return -ENOENT;
		log_warn("no /etc/machine-id: using the boot id, so this host enrolls anew after a reboot (systemd-machine-id-setup makes one)");
	}
	hostinfo_refresh(h);
	if (strcmp(instance, "default"))
		return per_instance(h, instance);
	return 0;
}
