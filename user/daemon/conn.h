/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conn.h - the daemon's mirror of conntrack: one struct conn per
 * connection, hashed by both of its tuples (conntab.c), and the per-direction
 * state that only conn_fsm.c writes (docs/DESIGN.md, "State machine").
 */
#ifndef FP_DAEMON_CONN_H
#define FP_DAEMON_CONN_H

#include <stdbool.h>
#include <linux/types.h>

#include "fastpath.h"

/* One conntrack tuple, in the layout of the flow key's tuple part. */
struct ct_tuple {
	__u8 family;
	__u8 proto;
	__be16 sport;
	__be16 dport;
	__be32 src[4];
	__be32 dst[4];
};

enum { DIR_ORIG = 0, DIR_REPLY = 1 };

/*
 * Where one direction of a connection is (docs/DESIGN.md, "State
 * machine"); the diagram with every transition heads conn_fsm.c.
 */
enum dir_state {
	DS_SLOW = 0,		/* slow path; why is in conn.hold */
	DS_LEARNING,		/* egress key in fp_learn: waits for the next packet */
	DS_WAITING,		/* learned; arrives on a stacked device: waits for
				 * the other direction's egress to key it */
	DS_XDP,			/* in the flow table as FP_STATE_XDP */
	DS_TC,			/* in the table as FP_STATE_TC (TC ingress program) */
	DS_HW_PENDING,		/* in the table as FP_STATE_HW_PENDING, offered to the PPE */
	DS_HW,			/* bound in the PPE (FP_STATE_HW) */
	DS_TEARDOWN,		/* FIN/RST went up: out of the table until conntrack says more */
	DS_MAX,
};

/* How a learned direction leaves the router: the lowest device, the
 * tags and PPPoE session on it (as in fp_flow), and the MACs.
 */
struct dir_out {
	__u32 oif;
	__u16 vlan[2];
	__u16 sid;
	__u8 dmac[6];
	__u8 smac[6];
};

struct conn;

/* A learned direction, indexed by (egress port, next-hop MAC), so a
 * neighbour or FDB change finds its flows without a scan.
 */
struct vnode {
	struct vnode *next;
	struct conn *conn;
	bool linked;
};

/*
 * A direction's offload state. Both directions' come in one block
 * (conn.dir), allocated the first time the learner reports one of them:
 * most connections never get that far (DNS, scans, a flood of short
 * flows), and for them the connection stays a third of its size, so a
 * burst of new connections touches a third of the fresh pages
 * (docs/PERF.md, "Daemon"). Zeroed when allocated: until then each
 * field reads as zero (conn_dir_of()).
 */
struct conn_dir {
	bool have_out;			/* @iif and @out hold what was learned */
	bool hw_refused;		/* stays off the PPE until learned again */
	enum dir_state tier;		/* DS_XDP or DS_TC: the software tier chosen
					 * when learned, where the PPE falls back to */
	bool shaped;			/* on TC because its egress shapes */
	__u32 iif;			/* skb->ingress_ifindex when learned */
	struct dir_out out;
	struct fp_flow_key key;		/* flow-table key while in the table */
	__u64 last_seen;		/* from the entry, at the last tick */
	__u64 packets, bytes;		/* from the entry, at the last tick */
	__u64 hw_since;			/* offered to the PPE (ns) */
	__u64 hw_base_packets, hw_base_bytes;	/* the entry's counts then */
	__u64 first_ns;			/* the learner's packet: the first slow-path
					 * one since it became a candidate */
	__u64 latency_ns;		/* first_ns -> entry in the table */
	__u64 learn_packets;		/* slow-path packets the learner counted */
	struct vnode via;		/* in conntab's (oif, dmac) index while have_out */
};

/*
 * A conn is hashed twice, by its original and by its reply tuple. @pprev
 * unlinks a node without hashing its tuple again or walking its chain
 * (each step of which is another connection's cache line).
 */
struct tnode {
	struct tnode *next, **pprev;
	struct conn *conn;
};

/*
 * Small on purpose: every field of a candidate that was never learned.
 * What a learned direction needs is in @dir, allocated then.
 */
struct conn {
	struct tnode node[2];		/* by tuple[0], tuple[1] */
	struct ct_tuple tuple[2];	/* original, reply */
	__u32 id;			/* conntrack id */
	__u32 mark;
	__u32 status;
	enum dir_state state[2];	/* of each direction; written by
					 * conn_fsm.c only */
	enum fp_hold hold;		/* why it is slow; FP_H_MAX when offloaded;
					 * written by conn_fsm.c only */
	__u8 tcp_state;
	__u8 learn_tries;		/* candidacies in a row that were not
					 * learned: the retry delay doubles */
	bool seen;			/* mark for a resync */
	bool recheck_due;		/* torn down by a FIN/RST: conntrack is to
					 * be asked whether it still is ESTABLISHED */
	bool recheck_asked;		/* ... and was asked; its answer pending */
	bool udp_stream;		/* UDP judged a stream on the fast path's
					 * behalf: the stream timeout (ASSURED) */
	bool exported;			/* its record is in fp_conns */
	__u32 born_tick;		/* daemon.ticks when it was added */
	__u32 refreshed_s;		/* the timeout the last refresh set */
	__u64 candidate_ns;		/* became a candidate: the latency, and
					 * not_learned 10 s later */
	__u64 retry_ns;			/* hold not_learned: armed again then */
	__u64 refreshed_ns;		/* conntrack timeout last refreshed */
	__u64 created_ns;		/* first reported: conntrack made it then
					 * or before */
	__u64 active_ns;		/* last fast-path packet, either direction */
	struct conn_dir *dir;		/* [2]; NULL until a direction is learned
					 * (conntab_dir()), freed with the conn */
};

/* Direction @dir's offload state, or NULL: never learned, all zero. */
static inline struct conn_dir *conn_dir_of(const struct conn *c, int dir)
{
	return c->dir ? &c->dir[dir] : NULL;
}

/* What conntrack said about one connection (an event or a dump line). */
struct ct_info {
	bool destroy;			/* NFCT_T_DESTROY */
	bool is_new;			/* NFCT_T_NEW (for the debug line) */
	struct ct_tuple orig, reply;
	__u32 id;
	bool has_status, has_tcp_state, has_mark;
	__u32 status;
	__u8 tcp_state;
	__u32 mark;
	bool helper;			/* a conntrack helper is attached */
	__u32 pf[4];			/* fsm_ct_prefetch()'s between its stages */
};

/* conntab.c: fixed-size objects out of mmap()ed chunks, with a free list. */
struct pool {
	size_t size;			/* of one object */
	unsigned int per_chunk;
	unsigned int used;		/* of the newest chunk, handed out once */
	struct pool_chunk *chunks;
	void *free_list;		/* freed ones, linked through their
					 * first bytes */
};

/* conntab.c: the table, hashed with a per-run secret key, and the index
 * of learned directions by (egress port, next-hop MAC).
 */
struct conntab {
	struct tnode **buckets;
	unsigned int nbuckets;
	__u32 n;
	__u64 key[2];			/* SipHash key */
	struct vnode **via;		/* nbuckets too */
	struct pool conn_pool;		/* struct conn */
	struct pool dir_pool;		/* struct conn_dir[2] */
};

int conntab_init(struct conntab *t, unsigned int buckets, const __u64 key[2]);
void conntab_free(struct conntab *t);
struct conn *conntab_find(const struct conntab *t, const struct ct_tuple *tp,
			  int *dir);
struct conn *conntab_add(struct conntab *t, const struct ct_tuple *orig,
			 const struct ct_tuple *reply);
void conntab_del(struct conntab *t, struct conn *c);
unsigned int conntab_prefetch_bucket(const struct conntab *t, const struct ct_tuple *tp);
void conntab_prefetch_chain(const struct conntab *t, unsigned int bucket);
int conntab_dir(struct conntab *t, struct conn *c);
void conntab_foreach(struct conntab *t, void (*fn)(struct conn *c, void *arg),
		     void *arg);
void tuple_invert(struct ct_tuple *out, const struct ct_tuple *in);

void conntab_via_link(struct conntab *t, struct conn *c, int dir);
void conntab_via_unlink(struct conntab *t, struct conn *c, int dir);
int conntab_via_find(const struct conntab *t, __u32 oif, const __u8 mac[6],
		     struct conn **out, int max);

#endif /* FP_DAEMON_CONN_H */
