/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon.h - the conntrack-driven daemon ("fastpath run").
 *
 * The daemon mirrors conntrack in a table of connections. A connection the
 * policy selects becomes a candidate: each of its two directions waits in
 * fp_learn until the TC egress program reports the next slow-path packet,
 * which yields the entry for the flow table. Anything that may change a
 * verdict (firewall, routes, neighbours, links, qdiscs, marks) takes the
 * affected directions out of the table again and back to learning.
 */
#ifndef FP_DAEMON_H
#define FP_DAEMON_H

#include <stdbool.h>
#include <linux/types.h>

#include "fp.h"

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

struct conn;

/* A conn is hashed twice, by its original and by its reply tuple. */
struct tnode {
	struct tnode *next;
	struct conn *conn;
	int dir;
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

struct conn_dir {
	bool learning;			/* key in fp_learn */
	bool offloaded;			/* entry in the flow table */
	bool learned;			/* @iif and @out hold what was learned */
	bool pending;			/* learned, but arrives on a stacked device:
					 * waits for the other direction's @out */
	__u32 iif;			/* skb->ingress_ifindex when learned */
	struct dir_out out;
	struct fp_flow_key key;		/* flow-table key when offloaded */
	__u64 last_seen;		/* from the entry, at the last tick */
	__u64 packets, bytes;		/* from the entry, at the last tick */
	__u8 hw;			/* enum ppe_dir, the hardware tier (ppe.c) */
	bool hw_refused;		/* stays on XDP until learned again */
	__u64 hw_since;			/* handed to the kmod (mono ns) */
	__u64 hw_base_packets, hw_base_bytes;	/* the entry's counts then */
};

enum ppe_dir { PPE_DIR_NONE = 0, PPE_DIR_PENDING, PPE_DIR_ON };

struct conn {
	struct tnode node[2];
	struct ct_tuple tuple[2];	/* original, reply */
	__u32 id;			/* conntrack id */
	__u32 mark;
	__u32 status;
	__u8 tcp_state;
	enum fp_hold hold;		/* why it is slow; FP_H_MAX when offloaded */
	bool seen;			/* mark for a resync */
	__u64 candidate_ns;		/* became a candidate, for the latency */
	__u64 refreshed_ns;		/* conntrack timeout last refreshed */
	__u64 active_ns;		/* last fast-path packet, either direction */
	struct conn_dir dir[2];
};

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
};

#define LAT_SAMPLES 4096

struct daemon {
	struct options opt;
	struct fp_maps m;
	int learn_fd, rates_fd, dstats_fd;
	struct fp_daemon_stats st;
	__u32 offloaded;		/* directions in the table */
	__u32 conns_offloaded;		/* connections with a direction in it */
	bool resync_needed;
	__u64 resync_again_ns;		/* a second dump once a burst is over */
	bool flush_needed;		/* firewall or routes changed */
	bool sqm_changed;		/* a shaping qdisc went away */
	bool ports_changed;		/* a stacked device gained or lost a port */
	char **names;			/* the command line's interfaces */
	int nnames;
	__u32 ports[FP_MAX_PORTS];	/* where XDP and the learner are attached */
	int nports;
	__u64 lat[LAT_SAMPLES];		/* ring of offload latencies */
	__u32 lat_n;
};

/* conn.c */
int conns_init(unsigned int buckets);
void conns_free(void);
struct conn *conn_find(const struct ct_tuple *t, int *dir);
struct conn *conn_add(const struct ct_tuple *orig, const struct ct_tuple *reply);
void conn_del(struct conn *c);
void conn_foreach(void (*fn)(struct daemon *d, struct conn *c), struct daemon *d);
__u32 conn_count(void);
void tuple_invert(struct ct_tuple *out, const struct ct_tuple *in);

/* ct.c */
int ct_open(struct daemon *d);
void ct_close(void);
int ct_event_fd(void);
int ct_read_events(struct daemon *d);
int ct_dump(struct daemon *d);
int ct_set_liberal(const struct conn *c);
int ct_refresh(const struct conn *c, __u32 timeout_s);
__u32 ct_timeout_for(const struct conn *c);

/* learn.c */
void conn_evaluate(struct daemon *d, struct conn *c, bool mark_changed);
void conn_unoffload(struct daemon *d, struct conn *c, bool relearn);
int learn_event(struct daemon *d, const struct fp_learn_event *ev);
void conn_tick(struct daemon *d, struct conn *c);

/* events.c */
int events_open(struct daemon *d);
void events_watch(__u32 ifindex, const char *name);
void events_unwatch(__u32 ifindex);
void events_close(void);
int events_rtnl_fd(void);
int events_nft_fd(void);
int events_read_rtnl(struct daemon *d);
int events_read_nft(struct daemon *d);
bool sqm_shaped(__u32 ifindex);
__u16 events_dev_mtu(__u32 ifindex);
void teardown_oif_mac(struct daemon *d, __u32 ifindex, const __u8 *mac);
void teardown_dev(struct daemon *d, __u32 ifindex);

/* ppe.c */
int ppe_start(struct daemon *d, const __u32 *ifindex, int n);
void ppe_stop(struct daemon *d);
void ppe_poll(struct daemon *d);
void ppe_dir_start(struct daemon *d, struct conn *c, int dir);
void ppe_dir_tick(struct daemon *d, struct conn *c, int dir, struct fp_flow *f);
void ppe_dir_stop(struct daemon *d, struct conn_dir *cd);

/* daemon.c */
int cmd_run(int argc, char **argv);
void daemon_latency(struct daemon *d, __u64 ns);

#endif /* FP_DAEMON_H */
