/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conn_fsm.h - the connection state machine (docs/DESIGN.md, "State
 * machine"). conn_fsm() is the only writer of a direction's state and of a
 * connection's hold reason. It reaches the world only through struct
 * fsm_ops: the daemon's ops (ops.c, hwtier.c) call libbpf,
 * libnetfilter_conntrack and genetlink; the unit tests
 * (selftests/unit-user) pass fakes.
 */
#ifndef FP_DAEMON_CONN_FSM_H
#define FP_DAEMON_CONN_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "fastpath.h"
#include "daemon/conn.h"
#include "lib/devtier.h"

struct daemon;

enum conn_event {
	CE_CT = 0,	/* conntrack NEW/UPDATE or a dump line */
	CE_CT_MARK,	/* ... whose mark changed: a new verdict is due */
	CE_DESTROY,	/* conntrack DESTROY, replaced, or gone from a resync */
	CE_LEARNED,	/* the TC learner reported direction @dir (@learn) */
	CE_TICK,	/* once a second: counters, keep-alive, idle, PPE */
	CE_RELEARN,	/* its route, neighbour, link, port or ruleset changed */
	CE_SQM_GONE,	/* a shaping qdisc or an ifb redirect went away */
	CE_STOP,	/* the daemon stops: out of the table, nothing armed */
	CE_MAX,
};

struct conn_ev {
	enum conn_event type;
	int dir;				/* CE_LEARNED */
	const struct fp_learn_event *learn;	/* CE_LEARNED */
};

/* What the module says of one direction (fsm_ops.hw_state). */
enum hw_answer_kind {
	HWA_UNKNOWN = 0,	/* no poll this tick: keep the state */
	HWA_GONE,		/* the module went away */
	HWA_MISSING,		/* the module withdrew it (device down or gone) */
	HWA_PENDING,		/* offered, not bound yet */
	HWA_BOUND,		/* the PPE forwards it; counters below */
	HWA_FAILED,		/* the driver refused it */
};

struct hw_answer {
	enum hw_answer_kind kind;
	int err;		/* HWA_FAILED */
	char msg[80];		/* HWA_FAILED: the driver's extack */
	__u64 packets, bytes;	/* HWA_BOUND, HWA_PENDING: since offered */
	__u64 idle_ms;
	bool has_idle;
};

/* --tier */
enum tier_opt { TIER_AUTO = 0, TIER_XDP, TIER_TC };

/* fsm_ops.hw_offer: the devices are not on the hardware tier. */
#define HW_NOT_ELIGIBLE	1

struct fsm_ops {
	__u64 (*now)(struct daemon *d);
	/* The flow table; delete takes the direction's rate entry too. */
	int (*entry_write)(struct daemon *d, const struct fp_flow_key *k,
			   const struct fp_flow *f, bool must_exist);
	int (*entry_read)(struct daemon *d, const struct fp_flow_key *k,
			  struct fp_flow *f);
	void (*entry_delete)(struct daemon *d, const struct fp_flow_key *k);
	void (*rate_write)(struct daemon *d, const struct fp_flow_key *k,
			   const struct fp_rate *r);
	/* The learner (fp_learn), keyed by the egress tuple. */
	int (*learn_arm)(struct daemon *d, const struct fp_flow_key *egress,
			 __u64 cookie);
	void (*learn_disarm)(struct daemon *d, const struct fp_flow_key *egress);
	/* Optional: fetch what arming or disarming @egress will read, in
	 * @stage 0 then 1, with *@h kept between the two.
	 */
	void (*learn_prefetch)(struct daemon *d, const struct fp_flow_key *egress,
			       __u32 *h, int stage);
	/* A reported candidate out of fp_learn: the packets it counted. */
	__u64 (*learn_take)(struct daemon *d, const struct fp_flow_key *egress);
	/* conntrack */
	int (*set_liberal)(struct daemon *d, const struct conn *c);
	int (*refresh)(struct daemon *d, const struct conn *c, __u32 timeout_s);
	/* Refreshes the timeout and sets IPS_ASSURED, as conntrack does
	 * for a UDP stream (conn.udp_stream).
	 */
	int (*assure)(struct daemon *d, const struct conn *c, __u32 timeout_s);
	__u32 (*ct_timeout)(struct daemon *d, const struct conn *c);
	/* Asks conntrack for the entry with original tuple @orig; the answer
	 * comes back as an event (fsm_ct_event()), before it returns or later.
	 */
	int (*ct_recheck)(struct daemon *d, const struct ct_tuple *orig);
	/* @addr (16 bytes, IPv4 in the first 4) is the router's own:
	 * an address of one of its interfaces, or loopback.
	 */
	bool (*is_local)(struct daemon *d, __u8 family, const __be32 *addr);
	/* Devices (links.c and the devmap) */
	bool (*attached)(struct daemon *d, __u32 ifindex);
	bool (*stacked)(struct daemon *d, __u32 ifindex);
	bool (*carries)(struct daemon *d, __u32 dev, const struct dir_out *via);
	__u16 (*egress_mtu)(struct daemon *d, const struct dir_out *o);
	/* The MTU metric of the route direction @dir of @c takes, or 0. */
	__u32 (*route_mtu)(struct daemon *d, const struct conn *c, int dir);
	enum egress_shaper (*egress_shaped)(struct daemon *d, const struct dir_out *o);
	enum ingress_need (*ingress_need)(struct daemon *d, __u32 ifindex);
	int (*dev_mac)(struct daemon *d, __u32 ifindex, __u8 mac[6]);
	/* The datapath's lease (and the module's, where it has one). */
	void (*renew_lease)(struct daemon *d, __u64 lease_ns, __u64 expires_ns);
	/* The hardware tier (hwtier.c) */
	void (*hw_poll)(struct daemon *d);
	int (*hw_offer)(struct daemon *d, const struct fp_flow_key *k,
			const struct fp_flow *f, char *msg, size_t msglen);
	void (*hw_withdraw)(struct daemon *d, const struct fp_flow_key *k);
	void (*hw_state)(struct daemon *d, const struct fp_flow_key *k,
			 struct hw_answer *a);
	/* conntrack's counters: what a direction carried since last told */
	void (*ct_acct)(struct daemon *d, const struct fp_flow_key *k,
			__u64 packets, __u64 bytes);
	/* "fp_conns", for "fastpath explain": @ci NULL removes conntrack @id */
	void (*conn_export)(struct daemon *d, __u32 id, const struct fp_conn_info *ci);
};

int conn_fsm(struct daemon *d, struct conn *c, const struct conn_ev *ev);

/* Adapters' entry points: each turns what it read into events. */
void fsm_ct_prefetch(struct daemon *d, struct ct_info *ci, int stage);
void fsm_ct_event(struct daemon *d, const struct ct_info *ci);
int fsm_learn_event(struct daemon *d, const struct fp_learn_event *ev);
void fsm_tick(struct daemon *d);
void fsm_lease_keep(struct daemon *d);
void fsm_relearn_via(struct daemon *d, __u32 ifindex, const __u8 *mac);
void fsm_relearn_all(struct daemon *d);
void fsm_sqm_gone(struct daemon *d);
void fsm_stop(struct daemon *d);
void fsm_resync_begin(struct daemon *d);
void fsm_resync_end(struct daemon *d);
void fsm_count(struct daemon *d);

bool dir_in_table(enum dir_state s);
void conn_info(const struct conn *c, struct fp_conn_info *ci);
extern const char *const dir_state_names[DS_MAX];
extern const char *const conn_event_names[CE_MAX];

#endif /* FP_DAEMON_CONN_FSM_H */
