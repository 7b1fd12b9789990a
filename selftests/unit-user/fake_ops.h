/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fake_ops.h - struct fsm_ops for the state-machine tests: a flow table,
 * a learning map, conntrack, devices, the lease and the PPE, all in
 * memory, with a clock the test moves (docs/DESIGN.md, "Tests").
 */
#ifndef FP_FAKE_OPS_H
#define FP_FAKE_OPS_H

#include "daemon/daemon.h"

#define FAKE_SLOTS	512

struct fake_entry {
	bool used;
	struct fp_flow_key k;
	struct fp_flow f;
};

struct fake_learn {
	bool used;
	struct fp_flow_key k;
	__u64 cookie;
	__u64 packets;			/* what the learner counted */
};

struct fake_hw {
	bool used;
	struct fp_flow_key k;
	enum hw_answer_kind kind;
	__u64 packets, bytes;
	int err;
};

struct fake {
	__u64 now;
	struct fake_entry ent[FAKE_SLOTS];
	int table_cap;			/* entries before E2BIG */
	struct fake_learn learn[FAKE_SLOTS];
	int learn_cap;			/* learning entries before E2BIG */
	int rate_writes;
	struct fp_rate last_rate;
	/* conntrack */
	int liberal, refreshes;
	__u32 refresh_timeout, ct_timeout;
	__u32 stream_timeout;		/* a UDP stream's, when nonzero */
	int assures, assure_err;	/* ASSURED set; what setting it returns */
	/* devices */
	__u32 attached[8], stacked[8];
	int nattached, nstacked;
	bool carries;
	__u16 mtu;
	__u32 route_mtu;		/* the route's MTU metric, 0: none */
	__u32 shaped_oif;		/* egress through it is shaped */
	__u32 shaped_upper_oif;		/* a device stacked on it shapes */
	enum ingress_need need[16];	/* per ifindex (< 16): what it asks */
	/* lease */
	int renewals;
	__u64 lease_ns, lease_expires;
	/* PPE */
	bool hw_capable;
	int hw_offer_err;
	bool hw_gone;
	bool hw_unknown;		/* the poll failed this tick */
	int hw_offers, hw_withdraws, hw_polls;
	struct fake_hw hw[FAKE_SLOTS];
	/* conntrack accounting: what the daemon added, all directions */
	int accts;
	__u64 acct_packets, acct_bytes;
	/* "fp_conns": the records explain reads, by conntrack id */
	struct fake_export {
		bool used;
		struct fp_conn_info ci;
	} exp[FAKE_SLOTS];
	int export_writes, export_deletes;
	/* conntrack asked about torn-down connections (ct_recheck) */
	int rechecks;
	struct ct_tuple recheck_last;
	/* the router's own addresses (is_local), IPv4 */
	__be32 local[4];
	int nlocal;
	__u64 learn_ts;			/* the learner's packet time, 0 = unset */
	__u64 learn_packets;		/* packets the learner counts per report */
};

extern const struct fsm_ops fake_ops;

struct fake_entry *fake_entry(struct fake *fk, const struct fp_flow_key *k);
int fake_entries(const struct fake *fk);
int fake_learning(const struct fake *fk);
struct fake_hw *fake_hw(struct fake *fk, const struct fp_flow_key *k);
struct fp_conn_info *fake_export(struct fake *fk, __u32 id);

#endif /* FP_FAKE_OPS_H */
