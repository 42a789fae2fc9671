/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packets queued for the other process on the socketpair, sent one at a
 * time through the loop (a SOCK_SEQPACKET send is whole or fails).  Each
 * is wiped once sent: start and identity carry keys and the token.
 */
#ifndef MOAT_AGENT_PKTQ_H
#define MOAT_AGENT_PKTQ_H

#include <stddef.h>

#include "loop.h"

struct pktq_item;

struct pktq {
	struct loop *l;
	int fd;
	struct loop_op op;
	struct pktq_item *head, *tail;
	/* a send failed (@err < 0); the queue is emptied after the call */
	void (*failed)(struct pktq *q, int err);
	void *data;
};

void pktq_init(struct pktq *q, struct loop *l, int fd,
	       void (*failed)(struct pktq *q, int err), void *data);
/* Copy @len bytes and send them after what is queued: 0 or -ENOMEM. */
int pktq_push(struct pktq *q, const void *p, size_t len);
/* Drop what is queued (the peer is gone); the op may still be busy. */
void pktq_clear(struct pktq *q);

#endif /* MOAT_AGENT_PKTQ_H */
