/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ppe_sim.h - a simulated PPE-equipped NIC, shared by the sim_*.c files.
 *
 * Ports come in pairs, like veth: what one transmits the other receives,
 * through a NAPI queue. Between the wire and the CPU sits the PPE, one
 * table for every port, modelled on MediaTek's (mtk_ppe.c): 8192 entries,
 * MediaTek's hash, buckets of 2 or 4 ways. A rule (flow_cls_offload, as
 * nf_flowtable sends it) fills a way as UNBIND; the first packet of the
 * flow that reaches the CPU path binds it; later packets are rewritten and
 * sent out of the egress port by the PPE itself, never reaching the stack.
 */
#ifndef PPE_SIM_H
#define PPE_SIM_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/flow_offload.h>

#include "compat.h"

#define PPE_ENTRIES		8192	/* MTK_PPE_ENTRIES */
#define PPE_VLAN_PRESENT	0x8000	/* in ppe_entry.in_vlan/out_vlan */

enum ppe_state {
	PPE_FREE = 0,
	PPE_UNBIND,	/* committed by a rule; waits for its first packet */
	PPE_BIND,	/* forwarded by the PPE */
};

/* MTK_PPE_PKT_TYPE_* that the sim implements */
enum ppe_type {
	PPE_TYPE_IPV4_HNAPT,
	PPE_TYPE_IPV4_ROUTE,
	PPE_TYPE_IPV6_5T,
};

/* Addresses in network order; IPv4 uses word 0 and leaves 1-3 zero. */
struct ppe_tuple {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
};

struct ppe_entry {
	struct hlist_node cookie_node;
	unsigned long cookie;		/* the rule's flow_cls_offload.cookie */
	u8 state;			/* enum ppe_state */
	u8 type;			/* enum ppe_type */
	u8 family;
	u8 l4proto;
	u16 in_vlan;			/* VID | PPE_VLAN_PRESENT, or 0 */
	u16 out_vlan;			/* VID | PPE_VLAN_PRESENT, or 0 */
	u16 out_pppoe;			/* session id */
	bool out_pppoe_push;
	bool nat_src, nat_dst;
	u16 hash;
	struct ppe_tuple orig;		/* as the packet arrives */
	struct ppe_tuple new;		/* as it leaves */
	u8 h_dest[ETH_ALEN];
	u8 h_source[ETH_ALEN];
	struct net_device *idev;	/* ppesim ports; purged when unregistered */
	struct net_device *odev;
	u32 hits;			/* CPU-path packets seen while UNBIND */
	u64 packets, bytes;		/* forwarded by the PPE (L3 bytes) */
	u64 mib_packets, mib_bytes;	/* since the last FLOW_CLS_STATS */
	unsigned long created;		/* jiffies */
	unsigned long last_hit;		/* jiffies of the last PPE forward, 0 = none */
};

/* A received frame as the PPE parses it; data starts at the MAC header. */
struct ppe_pkt {
	u8 family;
	u8 l4proto;
	u8 tcp_flags;
	u8 ttl;
	u16 vlan;			/* VID | PPE_VLAN_PRESENT, or 0 */
	u16 l3off;
	u16 l4off;
	u16 l3len;			/* what conntrack counts */
	u32 hash;
	bool unbound_hit;		/* an UNBIND entry matched */
	struct ppe_tuple t;
};

/* sim_dev.c */
extern unsigned int ppesim_ways;
extern unsigned int ppesim_bind_hits;
bool ppesim_is_port(const struct net_device *dev);
int ppesim_wire_xmit(struct net_device *dev, struct sk_buff *skb);

/* sim_ppe.c */
extern spinlock_t ppe_lock;
extern struct ppe_entry *ppe_table;
int ppe_init(void);
void ppe_exit(void);
u32 ppe_hash(u8 family, const struct ppe_tuple *t);
int ppe_parse(struct sk_buff *skb, struct ppe_pkt *pk);
bool ppe_forward(struct net_device *dev, struct sk_buff *skb, struct ppe_pkt *pk);
void ppe_cpu_path(struct net_device *dev, const struct ppe_pkt *pk);
void ppe_purge_dev(struct net_device *dev);
struct ppe_entry *ppe_find_cookie(unsigned long cookie);
void ppe_entry_clear(struct ppe_entry *e);
void ppe_entry_insert(struct ppe_entry *e, unsigned long cookie);

/* Counters shown in debugfs "stats". */
struct ppe_counters {
	atomic64_t forwarded;		/* packets the PPE sent out itself */
	atomic64_t to_cpu;		/* candidates that went to the stack */
	atomic64_t binds;
	atomic64_t rules_ok;
	atomic64_t rules_rejected;
	atomic64_t bucket_full;
};
extern struct ppe_counters ppe_cnt;

/* sim_offload.c */
const char *ppe_type_name(u8 type);
int ppesim_setup_tc(struct net_device *dev, enum tc_setup_type type,
		    void *type_data);
int ppesim_offload_init(bool indirect);
void ppesim_offload_exit(bool indirect);
void ppesim_offload_leak_check(void);
int ppesim_rules_show(struct seq_file *m);
void ppesim_rules_clear(void);

/* sim_debugfs.c */
int ppesim_debugfs_init(void);
void ppesim_debugfs_exit(void);

#endif /* PPE_SIM_H */
