// SPDX-License-Identifier: GPL-2.0-only
/*
 * conn.c - the daemon's mirror of conntrack: connections hashed by both
 * of their tuples, so a learned egress tuple finds its connection and
 * direction in one lookup, as conntrack's own table does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static struct tnode **buckets;
static unsigned int nbuckets;
static __u32 nconns;

int conns_init(unsigned int n)
{
	nbuckets = 1;
	while (nbuckets < n)
		nbuckets <<= 1;
	buckets = calloc(nbuckets, sizeof(*buckets));
	return buckets ? 0 : -ENOMEM;
}

/* FNV-1a over the tuple; it is compared in full on lookup anyway. */
static unsigned int tuple_hash(const struct ct_tuple *t)
{
	const __u8 *p = (const __u8 *)t;
	__u32 h = 2166136261u;

	for (size_t i = 0; i < sizeof(*t); i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (nbuckets - 1);
}

void tuple_invert(struct ct_tuple *out, const struct ct_tuple *in)
{
	memset(out, 0, sizeof(*out));
	out->family = in->family;
	out->proto = in->proto;
	out->sport = in->dport;
	out->dport = in->sport;
	memcpy(out->src, in->dst, 16);
	memcpy(out->dst, in->src, 16);
}

struct conn *conn_find(const struct ct_tuple *t, int *dir)
{
	for (struct tnode *n = buckets[tuple_hash(t)]; n; n = n->next) {
		if (!memcmp(&n->conn->tuple[n->dir], t, sizeof(*t))) {
			if (dir)
				*dir = n->dir;
			return n->conn;
		}
	}
	return NULL;
}

static void tnode_link(struct tnode *n)
{
	struct tnode **head = &buckets[tuple_hash(&n->conn->tuple[n->dir])];

	n->next = *head;
	*head = n;
}

static void tnode_unlink(struct tnode *n)
{
	struct tnode **pp = &buckets[tuple_hash(&n->conn->tuple[n->dir])];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			return;
		}
	}
}

struct conn *conn_add(const struct ct_tuple *orig, const struct ct_tuple *reply)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->tuple[DIR_ORIG] = *orig;
	c->tuple[DIR_REPLY] = *reply;
	c->hold = FP_H_NOT_READY;
	for (int d = 0; d < 2; d++) {
		c->node[d].conn = c;
		c->node[d].dir = d;
		tnode_link(&c->node[d]);
	}
	nconns++;
	return c;
}

void conn_del(struct conn *c)
{
	tnode_unlink(&c->node[0]);
	tnode_unlink(&c->node[1]);
	nconns--;
	free(c);
}

__u32 conn_count(void)
{
	return nconns;
}

/* Visits each connection once (through its original-direction node); @fn
 * may delete the connection it is given.
 */
void conn_foreach(void (*fn)(struct daemon *d, struct conn *c), struct daemon *d)
{
	for (unsigned int b = 0; b < nbuckets; b++) {
		struct tnode *n = buckets[b], *next;

		for (; n; n = next) {
			next = n->next;
			if (n->dir != DIR_ORIG)
				continue;
			/* @fn may free the conn, and its reply node may be next. */
			while (next && next->conn == n->conn)
				next = next->next;
			fn(d, n->conn);
		}
	}
}

static void free_one(struct daemon *d, struct conn *c)
{
	(void)d;
	conn_del(c);
}

void conns_free(void)
{
	if (!buckets)
		return;
	conn_foreach(free_one, NULL);
	free(buckets);
	buckets = NULL;
}
