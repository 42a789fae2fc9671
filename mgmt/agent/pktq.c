// SPDX-License-Identifier: GPL-2.0-only
/* Packets for the other process: pktq.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pktq.h"

struct pktq_item {
	struct pktq_item *next;
	size_t len;
	char data[];
};

static void on_sent(struct loop *l, struct loop_op *op, int res);

static void flush(struct pktq *q)
{
	int ret;

	if (!q->head || loop_op_busy(&q->op) || q->fd < 0)
		return;
	ret = loop_send(q->l, &q->op, q->fd, q->head->data, q->head->len,
			on_sent);
	if (ret < 0) {
		pktq_clear(q);
		if (q->failed)
			q->failed(q, ret);
	}
}

static void on_sent(struct loop *l, struct loop_op *op, int res)
{
	struct pktq *q = op->data;
	struct pktq_item *it = q->head;

	(void)l;
	if (it) {
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		explicit_bzero(it->data, it->len);
		free(it);
	}
	if (res < 0) {
		pktq_clear(q);
		if (q->failed)
			q->failed(q, res);
		return;
	}
	flush(q);
}

void pktq_init(struct pktq *q, struct loop *l, int fd,
	       void (*failed)(struct pktq *q, int err), void *data)
{
	memset(q, 0, sizeof(*q));
	q->l = l;
	q->fd = fd;
	q->op.data = q;
	q->failed = failed;
	q->data = data;
}

int pktq_push(struct pktq *q, const void *p, size_t len)
{
	struct pktq_item *it = malloc(sizeof(*it) + len);

	if (!it)
		return -ENOMEM;
	it->next = NULL;
	it->len = len;
	memcpy(it->data, p, len);
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	flush(q);
	return 0;
}

void pktq_clear(struct pktq *q)
{
	/* the one in flight, if any, is freed when its send completes */
	struct pktq_item *it =
		loop_op_busy(&q->op) && q->head ? q->head->next : q->head;

	if (loop_op_busy(&q->op) && q->head)
		q->head->next = NULL;
	else
		q->head = NULL;
	q->tail = q->head;
	while (it) {
		struct pktq_item *next = it->next;

		explicit_bzero(it->data, it->len);
		free(it);
		it = next;
	}
}
