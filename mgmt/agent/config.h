/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * moatd's configuration file: "key value" lines, '#' comments.
 *
 *   instance NAME          default "default"
 *   interfaces IF[, IF...] required
 *   ruleset PATH           required; relative to the file's directory
 *   bpffs PATH             default /sys/fs/bpf
 *   socket PATH            default /run/moat/INSTANCE.sock
 *   state-dir PATH         default /var/lib/moat/INSTANCE
 *   capacity N             default 65536 rule counter slots
 *   xdp-mode auto|native|generic
 *   xdp-attach entry|auto  default entry; auto: the generation directly where it can
 *   log-level error|warning|info|debug
 *   conntrack yes|no       default yes
 *   conntrack-max N        default 1048576 flows
 *   conntrack-timeout CLASS=SECONDS[, ...]   see docs/conntrack.md
 *   log-rate N             verdict log events a second, default 1000
 *   controlplane HOST[:PORT]            join a fleet (default port 7443)
 *   controlplane-ca sha256:HEX          the control plane's CA, pinned
 *   install-token-file PATH             the token to enroll with, once
 *   user NAME              the unprivileged user of the session process
 *   counters-interval SECONDS           counters to the control plane, default 60
 *   metrics-listen ADDR:PORT            serve Prometheus metrics (off by default)
 *
 * Errors read "FILE:LINE:COL: what is wrong: 'text'"; unknown keys are
 * errors, so that a typo is never silently a default.
 */
#ifndef MOAT_AGENT_CONFIG_H
#define MOAT_AGENT_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "dataplane.h"

#define CONFIG_DEFAULT_PATH "/etc/moat/moatd.conf"
#define CONFIG_IFACES_MAX MOAT_IFACES_MAX
#define CONFIG_CAPACITY_MIN 64u
#define CONFIG_CAPACITY_MAX (16u << 20)
#define CONFIG_CT_MAX_MIN 1024u
#define CONFIG_CT_MAX_MAX (64u << 20)
#define CONFIG_CT_TIMEOUT_MAX (30u * 86400)
/* sockaddr_un.sun_path holds 108 bytes with the NUL */
#define CONFIG_SOCKET_MAX 107

#define CONFIG_DEFAULT_USER "moat"
#define CONFIG_CP_PORT 7443
#define CONFIG_CP_HOST_MAX 253
/* "sha256:" and 64 hex digits */
#define CONFIG_PIN_LEN 71
#define CONFIG_USER_MAX 32
/* seconds between the counters a host reports unasked */
#define CONFIG_COUNTERS_INTERVAL 60u
#define CONFIG_COUNTERS_INTERVAL_MAX 3600u

struct agent_config {
	char path[PATH_MAX]; /* the file it came from */
	char instance[CTL_INSTANCE_MAX + 1];
	char ifaces[CONFIG_IFACES_MAX][MOAT_IFNAME_MAX + 1];
	int nifaces;
	char ruleset[PATH_MAX];
	char bpffs[PATH_MAX];
	char socket[CONFIG_SOCKET_MAX + 1];
	char state_dir[PATH_MAX];
	uint32_t capacity;
	enum moat_xdp_mode xdp_mode;
	enum moat_attach xdp_attach;
	int log_level; /* enum log_level */
	struct moat_ct_opts ct;
	uint32_t log_rate;
	int flow_cache; /* as moat_dp_opts.flow_cache: 0 auto, -1 off, else log2 */

	/* the control plane; none when cp_host is empty */
	char cp_host[CONFIG_CP_HOST_MAX + 1]; /* a name or an address */
	uint16_t cp_port;
	char cp_pin[CONFIG_PIN_LEN + 1];
	char token_file[PATH_MAX];
	char user[CONFIG_USER_MAX + 1];
	uint32_t counters_interval; /* s */

	/* the Prometheus endpoint; none when metrics_port is 0 */
	char metrics_listen[64]; /* as written, for messages */
	char metrics_host[46]; /* the address, without brackets */
	uint16_t metrics_port;
};

#define CONFIG_MAX_ERRORS 16

struct config_errors {
	int n;
	char msg[CONFIG_MAX_ERRORS][384];
};

/*
 * Parse @len bytes of @text read from @file.  Returns 0, or -EINVAL with
 * every error (up to CONFIG_MAX_ERRORS) in @errs.  On success @c is
 * complete, defaults filled in.
 */
int config_parse(const char *text, size_t len, const char *file,
		 struct agent_config *c, struct config_errors *errs);

/* Read @path and parse it; a file that cannot be read is one error. */
int config_load(const char *path, struct agent_config *c,
		struct config_errors *errs);

/*
 * moatd's command-line options that replace keys of the file (NULL: not
 * given): --controlplane, --controlplane-ca, --install-token-file.  A
 * relative token file is taken as given (relative to moatd's directory).
 */
struct config_overrides {
	const char *controlplane;
	const char *controlplane_ca;
	const char *token_file;
};

int config_parse_ov(const char *text, size_t len, const char *file,
		    const struct config_overrides *ov, struct agent_config *c,
		    struct config_errors *errs);
int config_load_ov(const char *path, const struct config_overrides *ov,
		   struct agent_config *c, struct config_errors *errs);

const char *config_xdp_mode_name(enum moat_xdp_mode m);
const char *config_xdp_attach_name(enum moat_attach a);

#endif /* MOAT_AGENT_CONFIG_H */
