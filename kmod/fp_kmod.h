/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fp_kmod.h - fastpath_ppe.ko internals, shared by fp_main.c (devices,
 * flows, workqueue), fp_rule.c (flow_rule building) and fp_genl.c.
 *
 * Locking: fpk_lock (a mutex) guards the device list, the flow table and
 * the pending operations, and is held across driver callbacks, which may
 * sleep. It nests inside RTNL (the netdev notifier takes it with RTNL
 * held), so nothing under fpk_lock may take RTNL. It also guards each
 * namespace's struct fpk_net. Conntrack accounting takes no lock of ours.
 */
#ifndef FP_KMOD_H
#define FP_KMOD_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <net/flow_offload.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "fastpath.h"
#include "fastpath_genl.h"

#define FPK_MSG_LEN	80

/* A device the module has probed: bound to our flow block, or not and why. */
struct fpk_dev {
	struct list_head list;
	possible_net_t net;
	int ifindex;
	char name[IFNAMSIZ];
	char driver[32];
	struct net_device *dev;		/* held while bound */
	fp_tracker_t tracker;
	struct flow_block block;	/* the drivers' callbacks */
	u8 bind;			/* enum fp_dev_bind */
	int err;			/* why not bound */
	u32 flows;			/* linked flows with this ingress */
};

/* One direction of a connection, as the daemon handed it over. */
struct fpk_flow {
	struct hlist_node node;
	struct kref ref;		/* the table's, and one per queued op */
	possible_net_t net;
	struct fp_flow_key key;
	struct fp_flow val;
	struct fpk_dev *idev;		/* valid while linked or in_hw */
	bool linked;			/* in the flow table */
	bool in_hw;			/* a driver took REPLACE: DESTROY is owed */
	u8 state;			/* enum fp_hw_state */
	int err;
	char msg[FPK_MSG_LEN];		/* the driver's extack message */
	u64 packets, bytes;		/* hardware counters, accumulated */
	unsigned long lastused;		/* jiffies, 0 = never */
	unsigned long moved;		/* jiffies: offloaded, or counters grew */
};

/*
 * Per namespace (net_generic): the daemon's lease and the idle expiry.
 * A daemon runs per namespace, and its directions live in it.
 */
struct fpk_net {
	struct net *net;		/* ours: the work is cancelled at exit */
	struct delayed_work lease_work;	/* withdraws all when the lease lapses */
	unsigned long lease_expires;	/* jiffies, valid when lease_ms */
	u32 lease_ms;			/* 0: no lease, nothing is withdrawn */
	bool lapsed;			/* withdrawn; FLOW_ADD waits for a renewal */
	u32 lapses;
	bool idle_set;			/* idle_s overrides the module parameter */
	u32 idle_s;
};

/* What FP_CMD_LEASE answers. */
struct fpk_lease_info {
	u32 lease_ms, left_ms, lapses, idle_s;
};

/* Live objects by kind, checked at unload, where a leak is reported. */
enum {
	FPK_OBJ_DEV, FPK_OBJ_FLOW, FPK_OBJ_OP, FPK_OBJ_RULE, FPK_OBJ_MSG,
	FPK_OBJ_MAX
};
extern atomic_t fpk_live[FPK_OBJ_MAX];

static inline void *fpk_zalloc(size_t size, int kind)
{
	void *p = kzalloc(size, GFP_KERNEL);

	if (p)
		atomic_inc(&fpk_live[kind]);
	return p;
}

static inline void fpk_free(void *p, int kind)
{
	if (p) {
		atomic_dec(&fpk_live[kind]);
		kfree(p);
	}
}

/* fp_main.c */
extern struct mutex fpk_lock;
struct fpk_dev *fpk_dev_probe(struct net *net, int ifindex, bool bind,
			      struct netlink_ext_ack *extack);
int fpk_flow_add(struct net *net, const struct fp_flow_key *k,
		 const struct fp_flow *v, struct netlink_ext_ack *extack);
int fpk_flow_del(struct net *net, const struct fp_flow_key *k);
void fpk_flush(struct net *net);
int fpk_lease_set(struct net *net, const u32 *lease_ms, const u32 *idle_s,
		  struct fpk_lease_info *info, struct netlink_ext_ack *extack);
struct fpk_flow *fpk_flow_at(struct net *net, long *bkt, long *idx);
struct fpk_dev *fpk_dev_at(struct net *net, long idx);

/* fp_rule.c */
struct fpk_rule;
struct fpk_rule *fpk_rule_build(struct net *net, const struct fpk_flow *fl,
				int *err);
struct flow_rule *fpk_rule_get(struct fpk_rule *r);
void fpk_rule_free(struct fpk_rule *r);

/* fp_ct.c */
int fpk_ct_acct(struct net *net, const struct fp_flow_key *k, u16 zone,
		const u64 packets[2], const u64 bytes[2],
		struct netlink_ext_ack *extack);

/* fp_genl.c */
int fpk_genl_init(void);
void fpk_genl_exit(void);

#endif /* FP_KMOD_H */
