// SPDX-License-Identifier: GPL-2.0-only
/*
 * conntab.c - the daemon's mirror of conntrack: connections hashed by both
 * of their tuples, so a learned egress tuple finds its connection and
 * direction in one lookup, as conntrack's own table does.
 *
 * The tuples come from the network, so the hash is keyed with a secret
 * chosen per run (SipHash-2-4), as the kernel keys conntrack's: nobody can
 * pick tuples that land in one bucket (docs/DESIGN.md, "Safety rules" 10).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/siphash.h"
#include "daemon/conn.h"

int conntab_init(struct conntab *t, unsigned int n, const __u64 key[2])
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = 1;
	while (t->nbuckets < n)
		t->nbuckets <<= 1;
	t->key[0] = key[0];
	t->key[1] = key[1];
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->via = calloc(t->nbuckets, sizeof(*t->via));
	if (t->buckets && t->via)
		return 0;
	free(t->buckets);
	free(t->via);
	t->buckets = NULL;
	t->via = NULL;
	return -ENOMEM;
}

static unsigned int tuple_hash(const struct conntab *t, const struct ct_tuple *tp)
{
	return siphash(tp, sizeof(*tp), t->key) & (t->nbuckets - 1);
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

struct conn *conntab_find(const struct conntab *t, const struct ct_tuple *tp,
			  int *dir)
{
	for (struct tnode *n = t->buckets[tuple_hash(t, tp)]; n; n = n->next) {
		if (!memcmp(&n->conn->tuple[n->dir], tp, sizeof(*tp))) {
			if (dir)
				*dir = n->dir;
			return n->conn;
		}
	}
	return NULL;
}

static void tnode_link(struct conntab *t, struct tnode *n)
{
	struct tnode **head = &t->buckets[tuple_hash(t, &n->conn->tuple[n->dir])];

	n->next = *head;
	*head = n;
}

static void tnode_unlink(struct conntab *t, struct tnode *n)
{
	struct tnode **pp = &t->buckets[tuple_hash(t, &n->conn->tuple[n->dir])];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			return;
		}
	}
}

/* A new connection starts on the slow path (DS_SLOW, FP_H_NOT_READY: 0). */
/*
 * Connections come from chunks of CONN_CHUNK and go back to a free list:
 * a burst of short flows reuses the same memory instead of asking malloc
 * for one 600-byte block each. A chunk is mapped with MAP_POPULATE: the
 * kernel fills its pages in one call, where touching them one by one costs
 * a page fault each, an exit to the hypervisor in a paravirtualised guest
 * (docs/PERF.md, "Daemon"). The chunks are unmapped with the table.
 */
#define CONN_CHUNK	2048

struct conn_chunk {
	struct conn_chunk *next;
	unsigned int used;		/* of v[], handed out once */
	struct conn v[CONN_CHUNK];
};

static struct conn *conn_alloc(struct conntab *t)
{
	struct conn_chunk *ch = t->chunks;
	struct conn *c = t->free_list;

	if (c) {
		t->free_list = c->free_next;
	} else {
		if (!ch || ch->used == CONN_CHUNK) {
			ch = mmap(NULL, sizeof(*ch), PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
			if (ch == MAP_FAILED)
				return NULL;
			ch->next = t->chunks;
			t->chunks = ch;
		}
		c = &ch->v[ch->used++];
	}
	memset(c, 0, sizeof(*c));
	return c;
}

static void conn_release(struct conntab *t, struct conn *c)
{
	c->free_next = t->free_list;
	t->free_list = c;
}

struct conn *conntab_add(struct conntab *t, const struct ct_tuple *orig,
			 const struct ct_tuple *reply)
{
	struct conn *c = conn_alloc(t);

	if (!c)
		return NULL;
	c->tuple[DIR_ORIG] = *orig;
	c->tuple[DIR_REPLY] = *reply;
	for (int d = 0; d < 2; d++) {
		c->node[d].conn = c;
		c->node[d].dir = d;
		tnode_link(t, &c->node[d]);
	}
	t->n++;
	return c;
}

void conntab_del(struct conntab *t, struct conn *c)
{
	conntab_via_unlink(t, c, 0);
	conntab_via_unlink(t, c, 1);
	tnode_unlink(t, &c->node[0]);
	tnode_unlink(t, &c->node[1]);
	t->n--;
	conn_release(t, c);
}

/* Visits each connection once (through its original-direction node); @fn
 * may delete the connection it is given.
 */
void conntab_foreach(struct conntab *t, void (*fn)(struct conn *c, void *arg),
		     void *arg)
{
	for (unsigned int b = 0; b < t->nbuckets; b++) {
		struct tnode *n = t->buckets[b], *next;

		for (; n; n = next) {
			next = n->next;
			if (n->dir != DIR_ORIG)
				continue;
			/* @fn may free the conn, and its reply node may be next. */
			while (next && next->conn == n->conn)
				next = next->next;
			fn(n->conn, arg);
		}
	}
}

static void free_one(struct conn *c, void *arg)
{
	conntab_del(arg, c);
}

void conntab_free(struct conntab *t)
{
	if (!t->buckets)
		return;
	conntab_foreach(t, free_one, t);
	while (t->chunks) {
		struct conn_chunk *ch = t->chunks;

		t->chunks = ch->next;
		munmap(ch, sizeof(*ch));
	}
	t->free_list = NULL;
	free(t->buckets);
	free(t->via);
	t->buckets = NULL;
	t->via = NULL;
}

static unsigned int via_hash(const struct conntab *t, __u32 oif, const __u8 mac[6])
{
	__u8 k[10];

	memcpy(k, &oif, 4);
	memcpy(k + 4, mac, 6);
	return siphash(k, sizeof(k), t->key) & (t->nbuckets - 1);
}

/* Indexes direction @dir by its learned egress (out.oif, out.dmac). */
void conntab_via_link(struct conntab *t, struct conn *c, int dir)
{
	struct conn_dir *cd = &c->dir[dir];
	struct vnode **head;

	conntab_via_unlink(t, c, dir);
	head = &t->via[via_hash(t, cd->out.oif, cd->out.dmac)];
	cd->via.conn = c;
	cd->via.next = *head;
	cd->via.linked = true;
	*head = &cd->via;
}

void conntab_via_unlink(struct conntab *t, struct conn *c, int dir)
{
	struct conn_dir *cd = &c->dir[dir];
	struct vnode **pp;

	if (!cd->via.linked)
		return;
	pp = &t->via[via_hash(t, cd->out.oif, cd->out.dmac)];
	for (; *pp; pp = &(*pp)->next) {
		if (*pp == &cd->via) {
			*pp = cd->via.next;
			break;
		}
	}
	cd->via.linked = false;
}

/*
 * The connections with a direction learned out of @oif to @mac, each once,
 * into @out (at most @max); returns how many there are. The caller acts on
 * them after the walk, which may unlink them.
 */
int conntab_via_find(const struct conntab *t, __u32 oif, const __u8 mac[6],
		     struct conn **out, int max)
{
	int n = 0;

	for (struct vnode *v = t->via[via_hash(t, oif, mac)]; v; v = v->next) {
		const struct conn_dir *cd = v == &v->conn->dir[0].via ? &v->conn->dir[0] :
					    &v->conn->dir[1];
		bool dup = false;

		if (cd->out.oif != oif || memcmp(cd->out.dmac, mac, 6))
			continue;
		for (int i = 0; i < n && i < max; i++)
			dup |= out[i] == v->conn;
		if (dup)
			continue;
		if (n < max)
			out[n] = v->conn;
		n++;
	}
	return n;
}
