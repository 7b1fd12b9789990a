/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon.h - the conntrack-driven daemon ("fastpath run"), docs/DESIGN.md
 * "Architecture" and "A connection's life".
 *
 * struct daemon holds everything the daemon knows; no file of daemon/ has
 * mutable state of its own. The daemon mirrors conntrack in a table of
 * connections (conntab.c). A connection the policy selects becomes a
 * candidate: each of its two directions waits in fp_learn until the TC
 * egress program reports the next slow-path packet, which yields the entry
 * for the flow table (conn_fsm.c). Anything that may change a verdict
 * (firewall, routes, neighbours, links, qdiscs, marks) takes the affected
 * directions out of the table again and back to learning: the adapters
 * (ct.c, netmon.c, hwtier.c, the learn ring in loop.c) turn what they read
 * into events for conn_fsm().
 *
 * Layers, each calling only the ones before it (scripts/check_layers.sh):
 * lib/ <- conntab, links <- conn_fsm (conn_fsm.h, daemon.h)
 * <- ct, netmon, hwtier, ops (adapters.h) <- loop, main (run.h) <- cli/.
 */
#ifndef FP_DAEMON_H
#define FP_DAEMON_H

#include <stdbool.h>
#include <linux/types.h>

#include "fastpath.h"
#include "lib/genl.h"
#include "lib/pins.h"
#include "daemon/addrs.h"
#include "daemon/conn.h"
#include "daemon/conn_fsm.h"
#include "daemon/links.h"
#include "daemon/neightab.h"

struct options {
	bool policy_all;
	__u32 mark_value, mark_mask;
	__u32 idle_timeout_s;
	__u32 lease_s;
	__u32 max_flows;
	bool sqm_guard;
	bool keep_attached;
	enum fp_mode mode;
	__u32 capacity;
	bool no_hw;			/* never use the hardware tier */
	__u32 hw_deadline_s;		/* hw_pending longer: back to XDP */
	enum tier_opt tier;		/* --tier: auto, or forced xdp/tc */
};

/* ct.c: the event subscription and the query handle. */
#define CT_MSGS		64		/* event datagrams per recvmmsg() */
#define CT_MSG_BUF	8192		/* one event: a few hundred bytes */
#define CT_PASS_MAX	256		/* datagrams ct_read_events() reads at most */
struct ct_handles {
	struct nfct_handle *ev;		/* NEW/UPDATE/DESTROY events */
	struct nfct_handle *q;		/* dumps and rechecks (GET) */
	struct nfct_handle *upd;	/* updates: BE_LIBERAL, timeouts. Not q:
					 * they run inside q's callbacks, and a
					 * nested query on one socket would read
					 * the outer one's replies */
	bool dumping;
	unsigned char rx[CT_MSGS][CT_MSG_BUF];	/* one batch of events */
	__u32 tcp_timeout, udp_timeout, udp_stream_timeout;	/* the sysctls, */
	__u64 timeouts_ns;		/* read then (ct_timeout_for()) */
};

/* netmon.c: the multicast sockets and the cache events are compared with. */
struct netmon {
	struct mnl_socket *rtnl, *nft;
	struct neightab neighs;		/* (ifindex, address) -> MAC */
	__u64 full_ns;			/* the cache was full: last relearn */
	bool route_mtu;			/* a route with an MTU metric was seen:
					 * each learned direction asks its own
					 * route (op_route_mtu()); sticky */
};

/* hwtier.c: what the daemon knows of fastpath.ko. */
#define HW_DEV_CACHE	64
struct hw_dev_cap {
	__u32 ifindex;
	bool capable;
	__u64 probed_ns;
};
struct hwtier {
	struct hw_dev_cap caps[HW_DEV_CACHE];
	bool kmod;			/* the family answers */
	__u64 reopen_ns;
	struct ppe_flow_stat *polled;	/* the module's flows, sorted by key */
	size_t npolled, polled_cap;
	bool polled_ok;
};

/*
 * ops.c: fp_learn, mapped into the daemon (fastpath.h, struct fp_learn),
 * and a tag per slot kept beside it: 0 for a free slot, else 8 bits of the
 * hash of the key in it. Only the daemon sets or clears a cookie, so the
 * tags follow the slots exactly; a bucket's 8 tags are one load, where its
 * 8 slots are 9 cache lines, each a miss.
 */
struct learn_tab {
	struct fp_learn *slots;		/* NULL: not mapped */
	__u8 *tags;			/* one per slot */
	size_t len;			/* of the mapping */
	__u32 buckets;			/* of FP_LEARN_WAYS slots */
	__u64 key[2];			/* fp_learn_hash()'s, per run */
};

/* ops.c: fp_conns writes and deletes queued for one batch system call
 * each (a run of one kind, in order), flushed at the end of every loop
 * pass: a system call is the costly part of a write in a PVM guest.
 */
#define EXPORT_BATCH 512
struct export_q {
	bool del;			/* the queued run: deletes, or writes */
	bool nobatch;			/* the kernel has no batch calls */
	__u32 n;
	__u32 ids[EXPORT_BATCH];
	struct fp_conn_info info[EXPORT_BATCH];
};

#define LAT_SAMPLES 4096
/* Connections torn down by a FIN/RST whose conntrack entry is asked
 * about per tick; more wait for the next one.
 */
#define RECHECK_MAX 256

struct daemon {
	struct options opt;
	const struct fsm_ops *ops;
	void *priv;			/* the ops' own state (the tests' fakes) */
	struct conntab conns;
	struct links links;
	struct fp_maps m;
	struct ct_handles ct;
	struct netmon nm;
	struct hwtier hw;
	struct addrs addrs;		/* the router's own addresses */
	struct fp_daemon_stats st;
	struct learn_tab learn;		/* ops.c */
	struct export_q exq;		/* ops.c */
	__u32 offloaded;		/* directions in the table */
	__u32 conns_offloaded;		/* connections with a direction in it */
	__u32 ticks;			/* fsm_tick() calls, for the explain records */
	bool counted;			/* fsm_tick() counted the holds just now */
	__u64 lease_renewed_ns;		/* fsm_tick() or fsm_lease_keep() */
	bool resync_needed;
	__u64 resync_again_ns;		/* a second dump once a burst is over */
	bool flush_needed;		/* firewall or routes changed */
	bool sqm_changed;		/* a shaping qdisc went away */
	bool ports_changed;		/* a stacked device gained or lost a port */
	bool stop;			/* a signal, or a fatal read */
	bool attach_tried;		/* teardown detaches the ports */
	char **names;			/* the command line's interfaces */
	int nnames;
	__u32 ports[FP_MAX_PORTS];	/* where XDP and the learner are attached */
	int nports;
	__u64 lat[LAT_SAMPLES];		/* ring of offload latencies */
	__u32 lat_n;
	__u64 lat_sorted[LAT_SAMPLES];	/* publish()'s scratch */
	struct ct_tuple recheck[RECHECK_MAX];	/* this tick's teardowns to ask about */
	__u32 nrecheck;
	__u64 learn_full_logged_ns;	/* the full learning map was last logged */
};

#endif /* FP_DAEMON_H */
