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

/*
 * Connections and their offload state come from chunks and go back to a
 * free list: a burst of short flows reuses the same memory instead of
 * asking malloc for a block each. A chunk is mapped with MAP_POPULATE:
 * the kernel fills its pages in one call, where touching them one by one
 * costs a page fault each, an exit to the hypervisor in a paravirtualised
 * guest (docs/PERF.md, "Daemon"). The chunks are unmapped with the table.
 */
#define POOL_CHUNK	(256 * 1024)

struct pool_chunk {
	struct pool_chunk *next;
	/* the objects follow, from POOL_HDR on */
};
#define POOL_HDR	64		/* a cache line: objects start on one */

static void pool_init(struct pool *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	/* 8: a __u64's alignment on every target, 32-bit ones included */
	p->size = (size + 7) / 8 * 8;
	p->per_chunk = (POOL_CHUNK - POOL_HDR) / p->size;
	p->used = p->per_chunk;
}

/* A zeroed object, or NULL. */
static void *pool_get(struct pool *p)
{
	void *o = p->free_list;

	if (o) {
		memcpy(&p->free_list, o, sizeof(void *));
	} else {
		if (p->used == p->per_chunk) {
			struct pool_chunk *ch;

			ch = mmap(NULL, POOL_CHUNK, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
			if (ch == MAP_FAILED)
				return NULL;
			ch->next = p->chunks;
			p->chunks = ch;
			p->used = 0;
		}
		o = (char *)p->chunks + POOL_HDR + (size_t)p->used++ * p->size;
	}
	memset(o, 0, p->size);
	return o;
}

static void pool_put(struct pool *p, void *o)
{
	memcpy(o, &p->free_list, sizeof(void *));
	p->free_list = o;
}

static void pool_free(struct pool *p)
{
	while (p->chunks) {
		struct pool_chunk *ch = p->chunks;

		p->chunks = ch->next;
		munmap(ch, POOL_CHUNK);
	}
	p->free_list = NULL;
	p->used = p->per_chunk;
}

int conntab_init(struct conntab *t, unsigned int n, const __u64 key[2])
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = 1;
	while (t->nbuckets < n)
		t->nbuckets <<= 1;
	t->key[0] = key[0];
	t->key[1] = key[1];
	pool_init(&t->conn_pool, sizeof(struct conn));
	pool_init(&t->dir_pool, 2 * sizeof(struct conn_dir));
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

/* Which of its connection's two nodes @n is. */
static int tnode_dir(const struct tnode *n)
{
	return n == &n->conn->node[DIR_REPLY];
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
		int d = tnode_dir(n);

		if (!memcmp(&n->conn->tuple[d], tp, sizeof(*tp))) {
			if (dir)
				*dir = d;
			return n->conn;
		}
	}
	return NULL;
}

/*
 * A batch of events is looked up in two rounds of prefetches before it is
 * handled (fsm_ct_prefetch()): the bucket of a tuple, whose index this
 * returns, and then the first connection in that bucket. Each is a cache
 * and TLB miss in a table of this size; issued for a whole batch at once,
 * they overlap instead of stalling one event after the other.
 */
unsigned int conntab_prefetch_bucket(const struct conntab *t, const struct ct_tuple *tp)
{
	unsigned int b = tuple_hash(t, tp);

	__builtin_prefetch(&t->buckets[b]);
	return b;
}

void conntab_prefetch_chain(const struct conntab *t, unsigned int bucket)
{
	const char *n = (const char *)t->buckets[bucket];

	/* the node, and the tuple it is hashed by, which follows the nodes */
	if (n) {
		__builtin_prefetch(n);
		__builtin_prefetch(n + 64);
		__builtin_prefetch(n + 127);
	}
}

static void tnode_link(struct conntab *t, struct tnode *n)
{
	struct tnode **head = &t->buckets[tuple_hash(t, &n->conn->tuple[tnode_dir(n)])];

	n->next = *head;
	if (n->next)
		n->next->pprev = &n->next;
	n->pprev = head;
	*head = n;
}

static void tnode_unlink(struct tnode *n)
{
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
}

/* A new connection starts on the slow path (DS_SLOW, FP_H_NOT_READY: 0). */
struct conn *conntab_add(struct conntab *t, const struct ct_tuple *orig,
			 const struct ct_tuple *reply)
{
	struct conn *c = pool_get(&t->conn_pool);

	if (!c)
		return NULL;
	c->tuple[DIR_ORIG] = *orig;
	c->tuple[DIR_REPLY] = *reply;
	for (int d = 0; d < 2; d++) {
		c->node[d].conn = c;
		tnode_link(t, &c->node[d]);
	}
	t->n++;
	return c;
}

void conntab_del(struct conntab *t, struct conn *c)
{
	conntab_via_unlink(t, c, 0);
	conntab_via_unlink(t, c, 1);
	tnode_unlink(&c->node[0]);
	tnode_unlink(&c->node[1]);
	t->n--;
	if (c->dir)
		pool_put(&t->dir_pool, c->dir);
	pool_put(&t->conn_pool, c);
}

/* Gives @c its offload state (conn.dir), zeroed, if it has none yet. */
int conntab_dir(struct conntab *t, struct conn *c)
{
	if (!c->dir)
		c->dir = pool_get(&t->dir_pool);
	return c->dir ? 0 : -ENOMEM;
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
			if (tnode_dir(n) != DIR_ORIG)
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
	pool_free(&t->conn_pool);
	pool_free(&t->dir_pool);
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
	struct conn_dir *cd = &c->dir[dir];	/* learned: it has one */
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
	struct conn_dir *cd = conn_dir_of(c, dir);
	struct vnode **pp;

	if (!cd || !cd->via.linked)
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
