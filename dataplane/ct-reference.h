/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The conntrack reference model: docs/conntrack.md stated again, naively,
 * so that the BPF code (bpf/moat_ct.h) can be held to it
 * (kernel-tests/kt-ct-diff.c).  Flows are rows of a plain array, found by
 * a linear search that compares both endpoints each way; a TCP flow steps
 * through the document's table.  Nothing is shared with bpf/moat_ct.h.
 *
 * A packet is looked at first (ct_ref_packet()), which says its state
 * and what it would do to the table; the caller commits that step only
 * when the packet passes (ct_ref_commit()): the host's packets always,
 * arriving ones when the rules let them through.
 */
#ifndef MOAT_CT_REFERENCE_H
#define MOAT_CT_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat_kern_user.h"

/* One end of a flow.  ICMP echo: the identifier stands as the port. */
struct ct_ref_end {
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t port;
};

struct ct_ref_flow {
	int family; /* AF_INET or AF_INET6 */
	uint8_t proto;
	struct ct_ref_end opener, answer;
	uint8_t state; /* enum moat_ct_state: the document's names */
	bool replied; /* a packet went from the answer to the opener */
	bool fin_opener, fin_answer; /* TCP: who has sent a FIN */
	bool egress; /* the host opened it */
	bool pickup; /* the host's TCP flow, picked up mid-stream */
	uint64_t packets_orig, packets_reply;
	uint64_t last_ns; /* the clock at its last packet */
};

enum ct_ref_effect {
	CT_REF_NOTHING = 0, /* the table stays as it is */
	CT_REF_MAKE, /* a flow is added */
	CT_REF_REMAKE, /* a new flow in the row of an expired or finished one */
	CT_REF_MOVE, /* a known flow takes a step */
};

/* What one packet is, and what it would do. */
struct ct_ref_step {
	/*
	 * MOAT_CT_* as the rules see it; 0 when the frame is no IP packet
	 * the rules read (ARP, neighbour discovery, not IP, malformed).
	 */
	uint8_t ct;
	enum ct_ref_effect effect;
	size_t row; /* REMAKE, MOVE: the row it replaces */
	struct ct_ref_flow flow; /* MAKE, REMAKE, MOVE: the row afterwards */
};

struct ct_ref {
	struct ct_ref_flow *flows;
	size_t nflows, cap;
	uint64_t timeout_ns[MOAT_CTT_MAX];
	/* what `moatctl status` counts */
	uint64_t made, remade, invalid;
	/*
	 * A test that runs against a real clock sets margin_ns: every time
	 * a flow's age comes within it of its timeout, near is counted, so
	 * that the test can tell it stayed clear of the boundary.
	 */
	uint64_t margin_ns;
	uint64_t near;
};

/* An empty table with these timeouts (ns, by enum moat_ct_timeout). */
void ct_ref_init(struct ct_ref *m, const uint64_t timeout_ns[MOAT_CTT_MAX]);
void ct_ref_free(struct ct_ref *m);

/*
 * The packet in @frame at @now_ns: sent by the host (@egress) or
 * arriving.  Counts invalid packets (and near misses); changes no flow.
 */
struct ct_ref_step ct_ref_packet(struct ct_ref *m, const uint8_t *frame,
				 size_t len, bool egress, uint64_t now_ns);

/* The packet passed: make its step real.  0, or -ENOMEM. */
int ct_ref_commit(struct ct_ref *m, const struct ct_ref_step *s);

/* Is @f past its timeout at @now_ns?  (It stays a row until remade.) */
bool ct_ref_expired(const struct ct_ref *m, const struct ct_ref_flow *f,
		    uint64_t now_ns);

/* The timeout class of @f, by the document's table. */
enum moat_ct_timeout ct_ref_class(const struct ct_ref_flow *f);

#endif /* MOAT_CT_REFERENCE_H */
