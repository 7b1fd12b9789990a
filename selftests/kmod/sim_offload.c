// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_offload.c - the PPE's driver side: flow blocks for TC_SETUP_FT (and
 * TC_SETUP_BLOCK), and rules accepted or refused as mtk_ppe_offload.c does:
 *
 * - META, CONTROL, BASIC and PORTS keys are required;
 * - IPv4 becomes HNAPT (or a route when nothing is rewritten), IPv6 a
 *   5-tuple route; IPv6 NAT mangles are refused;
 * - the MACs come from the ETH mangles, read in nf_flowtable's offset and
 *   mask pattern only;
 * - one 802.1Q push and one PPPoE push at most; MARK, tunnels and any
 *   other action are refused;
 * - the egress must be a port of this PPE.
 *
 * The sim is stricter than the driver in one way: a match key it does not
 * model (a second VLAN, PPPoE, ...) is refused instead of ignored, since
 * ignoring it would alias flows. Every REPLACE it receives is logged in a
 * canonical text form, for the tests to compare with the rule they expect.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/list.h>
#include <linux/seq_buf.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <net/pkt_cls.h>

#include "ppe_sim.h"

#define SIM_LOG_MAX	64	/* rules kept in debugfs "rules" */
#define SIM_LOG_SIZE	2048

static DEFINE_MUTEX(sim_offload_mutex);
static LIST_HEAD(sim_block_cb_list);
static LIST_HEAD(sim_indr_cb_list);
static int sim_indr_priv;	/* tells our indirect block_cbs from others' */

struct sim_log {
	struct list_head list;
	struct seq_buf s;
	char buf[SIM_LOG_SIZE];
};
static LIST_HEAD(sim_logs);	/* under sim_offload_mutex */
static unsigned int sim_nlogs;

/* What the actions say, as mtk_flow_data gathers it. */
struct sim_flow_data {
	struct ethhdr eth;
	struct ppe_tuple t;
	struct {
		u16 id;
		__be16 proto;
		u8 num;
	} vlan;
	struct {
		u16 sid;
		u8 num;
	} pppoe;
};

static const char *const sim_htype_names[] = {
	[FLOW_ACT_MANGLE_UNSPEC] = "unspec",
	[FLOW_ACT_MANGLE_HDR_TYPE_ETH] = "eth",
	[FLOW_ACT_MANGLE_HDR_TYPE_IP4] = "ip4",
	[FLOW_ACT_MANGLE_HDR_TYPE_IP6] = "ip6",
	[FLOW_ACT_MANGLE_HDR_TYPE_TCP] = "tcp",
	[FLOW_ACT_MANGLE_HDR_TYPE_UDP] = "udp",
};

static const char *const sim_type_names[] = {
	[PPE_TYPE_IPV4_HNAPT] = "hnapt",
	[PPE_TYPE_IPV4_ROUTE] = "ipv4_route",
	[PPE_TYPE_IPV6_5T] = "ipv6_5t",
};

const char *ppe_type_name(u8 type)
{
	return type < ARRAY_SIZE(sim_type_names) ? sim_type_names[type] : "?";
}

/*
 * The canonical text of a rule: every field of every key the dissector
 * uses (value/mask), then the actions in order, mangle values and masks
 * as their four bytes in memory order.
 */
static void sim_format_rule(struct seq_buf *s, const struct net_device *dev,
			    struct flow_cls_offload *f)
{
	struct flow_rule *r = flow_cls_offload_flow_rule(f);
	const struct flow_action_entry *act;
	int i;

	seq_buf_printf(s, "rule dev=%s prio=%u protocol=%#06x\n", dev->name,
		       f->common.prio, ntohs(f->common.protocol));
	seq_buf_printf(s, "keys %#llx\n",
		       (unsigned long long)r->match.dissector->used_keys);
	if (flow_rule_match_key(r, FLOW_DISSECTOR_KEY_CONTROL)) {
		struct flow_match_control m;

		flow_rule_match_control(r, &m);
		seq_buf_printf(s, "control addr_type=%u/%#x flags=%#x/%#x\n",
			       m.key->addr_type, m.mask->addr_type,
			       m.key->flags, m.mask->flags);
	}
	if (flow_rule_match_key(r, FLOW_DISSECTOR_KEY_BASIC)) {
		struct flow_match_basic m;

		flow_rule_match_basic(r, &m);
		seq_buf_printf(s, "basic n_proto=%#06x/%#06x ip_proto=%u/%#x\n",
			       ntohs(m.key->n_proto), ntohs(m.mask->n_proto),
			       m.key->ip_proto, m.mask->ip_proto);
	}
	if (flow_rule_match_key(r, FLOW_DISSECTOR_KEY_IPV4_ADDRS)) {
		struct flow_match_ipv4_addrs m;

		flow_rule_match_ipv4_addrs(r, &m);
		seq_buf_printf(s, "ipv4 src=%pI4/%pI4 dst=%pI4/%pI4\n",
			       &m.key->src, &m.mask->src,
			       &m.key->dst, &m.mask->dst);
	}
	if (flow_rule_match_key(r, FLOW_DISSECTOR_KEY_IPV6_ADDRS)) {
		struct flow_match_ipv6_addrs m;

		flow_rule_match_ipv6_addrs(r, &m);
		seq_buf_printf(s, "ipv6 src=%pI6c/%pI6c dst=%pI6c/%pI6c\n",
			       &m.key->src, &m.mask->src,
			       &m.key->dst, &m.mask->dst);
	}
	if (flow_rule_match_key(r, FLOW_DISSECTOR_KEY_PORTS)) {
		struct flow_match_ports m;

		flow_rule_match_ports(r, &m);
		seq_buf_printf(s, "ports src=%u/%#x dst=%u/%#x\n",
			       ntohs(m.key->src), ntohs(m.mask->src),
			       ntohs(m.key->dst), ntohs(m.mask->dst));
	}
	if (flow_rule_match_key(r, FLOW_DISSECTOR_KEY_VLAN)) {
		struct flow_match_vlan m;

		flow_rule_match_vlan(r, &m);
		seq_buf_printf(s, "vlan id=%u/%#x prio=%u/%#x tpid=%#06x/%#06x\n",
			       m.key->vlan_id, m.mask->vlan_id,
			       m.key->vlan_priority, m.mask->vlan_priority,
			       ntohs(m.key->vlan_tpid), ntohs(m.mask->vlan_tpid));
	}
	if (flow_rule_match_key(r, FLOW_DISSECTOR_KEY_TCP)) {
		struct flow_match_tcp m;

		flow_rule_match_tcp(r, &m);
		seq_buf_printf(s, "tcp flags=%#06x/%#06x\n",
			       ntohs(m.key->flags), ntohs(m.mask->flags));
	}
	if (flow_rule_match_key(r, FLOW_DISSECTOR_KEY_CVLAN)) {
		struct flow_match_vlan m;

		flow_rule_match_cvlan(r, &m);
		seq_buf_printf(s, "cvlan id=%u/%#x prio=%u/%#x tpid=%#06x/%#06x\n",
			       m.key->vlan_id, m.mask->vlan_id,
			       m.key->vlan_priority, m.mask->vlan_priority,
			       ntohs(m.key->vlan_tpid), ntohs(m.mask->vlan_tpid));
	}
	if (flow_rule_match_key(r, FLOW_DISSECTOR_KEY_META)) {
		struct flow_match_meta m;

		flow_rule_match_meta(r, &m);
		seq_buf_printf(s, "meta ingress_ifindex=%d/%#x ingress_iftype=%u/%#x\n",
			       m.key->ingress_ifindex, m.mask->ingress_ifindex,
			       m.key->ingress_iftype, m.mask->ingress_iftype);
	}

	flow_action_for_each(i, act, &r->action) {
		switch (act->id) {
		case FLOW_ACTION_MANGLE:
			seq_buf_printf(s, "action mangle %s offset=%u mask=%4phN val=%4phN\n",
				       act->mangle.htype < ARRAY_SIZE(sim_htype_names) ?
				       sim_htype_names[act->mangle.htype] : "?",
				       act->mangle.offset, &act->mangle.mask,
				       &act->mangle.val);
			break;
		case FLOW_ACTION_CSUM:
			seq_buf_printf(s, "action csum flags=%#x\n", act->csum_flags);
			break;
		case FLOW_ACTION_REDIRECT:
			seq_buf_printf(s, "action redirect dev=%s\n",
				       act->dev ? act->dev->name : "(null)");
			break;
		case FLOW_ACTION_VLAN_PUSH:
			seq_buf_printf(s, "action vlan_push vid=%u proto=%#06x prio=%u\n",
				       act->vlan.vid, ntohs(act->vlan.proto),
				       act->vlan.prio);
			break;
		case FLOW_ACTION_VLAN_POP:
			seq_buf_printf(s, "action vlan_pop\n");
			break;
		case FLOW_ACTION_PPPOE_PUSH:
			seq_buf_printf(s, "action pppoe_push sid=%u\n", act->pppoe.sid);
			break;
		case FLOW_ACTION_MARK:
			seq_buf_printf(s, "action mark %#x\n", act->mark);
			break;
		default:
			seq_buf_printf(s, "action id=%d\n", act->id);
			break;
		}
	}
}

static struct sim_log *sim_log_new(const struct net_device *dev,
				   struct flow_cls_offload *f)
{
	struct sim_log *log = kmalloc(sizeof(*log), GFP_KERNEL);

	if (!log)
		return NULL;
	seq_buf_init(&log->s, log->buf, sizeof(log->buf));
	sim_format_rule(&log->s, dev, f);
	return log;
}

static void sim_log_commit(struct sim_log *log)
{
	struct sim_log *old;

	lockdep_assert_held(&sim_offload_mutex);
	list_add_tail(&log->list, &sim_logs);
	if (++sim_nlogs > SIM_LOG_MAX) {
		old = list_first_entry(&sim_logs, struct sim_log, list);
		list_del(&old->list);
		kfree(old);
		sim_nlogs--;
	}
}

int ppesim_rules_show(struct seq_file *m)
{
	struct sim_log *log;

	mutex_lock(&sim_offload_mutex);
	list_for_each_entry(log, &sim_logs, list) {
		seq_write(m, log->buf, seq_buf_used(&log->s));
		seq_putc(m, '\n');
	}
	mutex_unlock(&sim_offload_mutex);
	return 0;
}

void ppesim_rules_clear(void)
{
	struct sim_log *log, *tmp;

	mutex_lock(&sim_offload_mutex);
	list_for_each_entry_safe(log, tmp, &sim_logs, list) {
		list_del(&log->list);
		kfree(log);
	}
	sim_nlogs = 0;
	mutex_unlock(&sim_offload_mutex);
}

/* nf_flowtable writes the MACs as two mangles each; read them its way. */
static void sim_mangle_eth(const struct flow_action_entry *act, void *eth)
{
	const void *src = &act->mangle.val;
	void *dest = eth + act->mangle.offset;

	if (act->mangle.offset > 8)
		return;
	if (act->mangle.mask == 0xffff) {
		src += 2;
		dest += 2;
	}
	memcpy(dest, src, act->mangle.mask ? 2 : 4);
}

static int sim_mangle_ports(const struct flow_action_entry *act,
			    struct ppe_tuple *t)
{
	u32 val = ntohl(act->mangle.val);

	switch (act->mangle.offset) {
	case 0:
		if (act->mangle.mask == ~htonl(0xffff))
			t->dport = cpu_to_be16(val);
		else
			t->sport = cpu_to_be16(val >> 16);
		return 0;
	case 2:
		t->dport = cpu_to_be16(val);
		return 0;
	default:
		return -EINVAL;
	}
}

static int sim_mangle_ipv4(const struct flow_action_entry *act,
			   struct ppe_tuple *t)
{
	switch (act->mangle.offset) {
	case offsetof(struct iphdr, saddr):
		memcpy(&t->src[0], &act->mangle.val, sizeof(u32));
		return 0;
	case offsetof(struct iphdr, daddr):
		memcpy(&t->dst[0], &act->mangle.val, sizeof(u32));
		return 0;
	default:
		return -EINVAL;
	}
}

#define SIM_KNOWN_KEYS	(FP_KEY_BIT(FLOW_DISSECTOR_KEY_META) |		\
			 FP_KEY_BIT(FLOW_DISSECTOR_KEY_CONTROL) |	\
			 FP_KEY_BIT(FLOW_DISSECTOR_KEY_BASIC) |		\
			 FP_KEY_BIT(FLOW_DISSECTOR_KEY_IPV4_ADDRS) |	\
			 FP_KEY_BIT(FLOW_DISSECTOR_KEY_IPV6_ADDRS) |	\
			 FP_KEY_BIT(FLOW_DISSECTOR_KEY_PORTS) |		\
			 FP_KEY_BIT(FLOW_DISSECTOR_KEY_TCP) |		\
			 FP_KEY_BIT(FLOW_DISSECTOR_KEY_VLAN))

/* Claims a free way of the entry's bucket; -ENOSPC when all are taken. */
static int sim_commit(struct ppe_entry *ne, unsigned long cookie,
		      struct seq_buf *s)
{
	struct ppe_entry *e, *slot = NULL;
	unsigned int i;
	u32 hash;

	hash = ppe_hash(ne->family, &ne->orig);
	spin_lock_bh(&ppe_lock);
	if (ppe_find_cookie(cookie)) {
		spin_unlock_bh(&ppe_lock);
		return -EEXIST;
	}
	for (i = 0; i < ppesim_ways; i++) {
		e = &ppe_table[hash + i];
		if (e->state == PPE_FREE) {
			if (!slot)
				slot = e;
			continue;
		}
		if (e->idev == ne->idev && e->family == ne->family &&
		    e->l4proto == ne->l4proto && e->in_vlan == ne->in_vlan &&
		    !memcmp(&e->orig, &ne->orig, sizeof(ne->orig))) {
			spin_unlock_bh(&ppe_lock);
			return -EEXIST;
		}
	}
	if (!slot) {
		spin_unlock_bh(&ppe_lock);
		atomic64_inc(&ppe_cnt.bucket_full);
		seq_buf_printf(s, "bucket %u full\n", hash);
		return -ENOSPC;
	}
	*slot = *ne;
	INIT_HLIST_NODE(&slot->cookie_node);
	slot->hash = hash;
	slot->state = PPE_UNBIND;
	slot->created = jiffies;
	ppe_entry_insert(slot, cookie);
	spin_unlock_bh(&ppe_lock);
	seq_buf_printf(s, "entry %s hash=%u way=%u\n", ppe_type_name(ne->type),
		       hash, (unsigned int)(slot - &ppe_table[hash]));
	return 0;
}

static int sim_replace(struct net_device *dev, struct flow_cls_offload *f,
		       struct seq_buf *s)
{
	struct netlink_ext_ack *extack = f->common.extack;
	struct flow_rule *rule = flow_cls_offload_flow_rule(f);
	struct flow_action_entry *act;
	struct sim_flow_data data = {};
	struct net_device *odev = NULL, *idev;
	struct flow_match_control control;
	struct flow_match_basic basic;
	struct flow_match_meta meta;
	struct ppe_entry ne = {};
	u16 addr_type;
	int i, err;

	if (!flow_rule_match_key(rule, FLOW_DISSECTOR_KEY_META) ||
	    !flow_rule_match_key(rule, FLOW_DISSECTOR_KEY_CONTROL) ||
	    !flow_rule_match_key(rule, FLOW_DISSECTOR_KEY_BASIC)) {
		NL_SET_ERR_MSG_MOD(extack, "META, CONTROL and BASIC keys are required");
		return -EOPNOTSUPP;
	}
	flow_rule_match_meta(rule, &meta);
	flow_rule_match_control(rule, &control);
	flow_rule_match_basic(rule, &basic);
	addr_type = control.key->addr_type;
	ne.l4proto = basic.key->ip_proto;

	if (rule->match.dissector->used_keys & ~SIM_KNOWN_KEYS) {
		NL_SET_ERR_MSG_MOD(extack, "a match key the PPE cannot encode");
		return -EOPNOTSUPP;
	}
	if (flow_rule_match_key(rule, FLOW_DISSECTOR_KEY_VLAN)) {
		struct flow_match_vlan vlan;

		flow_rule_match_vlan(rule, &vlan);
		if (vlan.key->vlan_tpid != htons(ETH_P_8021Q)) {
			NL_SET_ERR_MSG_MOD(extack, "ingress VLAN must be 802.1Q");
			return -EOPNOTSUPP;
		}
		ne.in_vlan = vlan.key->vlan_id | PPE_VLAN_PRESENT;
	}
	if (ne.l4proto != IPPROTO_TCP && ne.l4proto != IPPROTO_UDP) {
		NL_SET_ERR_MSG_MOD(extack, "only TCP and UDP");
		return -EOPNOTSUPP;
	}

	switch (addr_type) {
	case FLOW_DISSECTOR_KEY_IPV4_ADDRS:
		ne.type = PPE_TYPE_IPV4_HNAPT;
		ne.family = AF_INET;
		break;
	case FLOW_DISSECTOR_KEY_IPV6_ADDRS:
		ne.type = PPE_TYPE_IPV6_5T;
		ne.family = AF_INET6;
		break;
	default:
		NL_SET_ERR_MSG_MOD(extack, "neither IPv4 nor IPv6");
		return -EOPNOTSUPP;
	}

	flow_action_for_each(i, act, &rule->action) {
		switch (act->id) {
		case FLOW_ACTION_MANGLE:
			if (act->mangle.htype == FLOW_ACT_MANGLE_HDR_TYPE_ETH)
				sim_mangle_eth(act, &data.eth);
			break;
		case FLOW_ACTION_REDIRECT:
			odev = act->dev;
			break;
		case FLOW_ACTION_CSUM:
		case FLOW_ACTION_VLAN_POP:
			break;
		case FLOW_ACTION_VLAN_PUSH:
			if (data.vlan.num == 1 ||
			    act->vlan.proto != htons(ETH_P_8021Q)) {
				NL_SET_ERR_MSG_MOD(extack, "one 802.1Q push at most");
				return -EOPNOTSUPP;
			}
			data.vlan.id = act->vlan.vid;
			data.vlan.proto = act->vlan.proto;
			data.vlan.num++;
			break;
		case FLOW_ACTION_PPPOE_PUSH:
			if (data.pppoe.num == 1) {
				NL_SET_ERR_MSG_MOD(extack, "one PPPoE push at most");
				return -EOPNOTSUPP;
			}
			data.pppoe.sid = act->pppoe.sid;
			data.pppoe.num++;
			break;
		default:
			NL_SET_ERR_MSG_MOD(extack, "an action the PPE cannot do");
			return -EOPNOTSUPP;
		}
	}

	if (!is_valid_ether_addr(data.eth.h_source) ||
	    !is_valid_ether_addr(data.eth.h_dest)) {
		NL_SET_ERR_MSG_MOD(extack, "no valid MACs in the ETH mangles");
		return -EINVAL;
	}

	if (!flow_rule_match_key(rule, FLOW_DISSECTOR_KEY_PORTS)) {
		NL_SET_ERR_MSG_MOD(extack, "the PORTS key is required");
		return -EOPNOTSUPP;
	} else {
		struct flow_match_ports ports;

		flow_rule_match_ports(rule, &ports);
		ne.orig.sport = ports.key->src;
		ne.orig.dport = ports.key->dst;
	}
	if (addr_type == FLOW_DISSECTOR_KEY_IPV4_ADDRS) {
		struct flow_match_ipv4_addrs addrs;

		flow_rule_match_ipv4_addrs(rule, &addrs);
		ne.orig.src[0] = addrs.key->src;
		ne.orig.dst[0] = addrs.key->dst;
	} else {
		struct flow_match_ipv6_addrs addrs;

		flow_rule_match_ipv6_addrs(rule, &addrs);
		memcpy(ne.orig.src, &addrs.key->src, sizeof(ne.orig.src));
		memcpy(ne.orig.dst, &addrs.key->dst, sizeof(ne.orig.dst));
	}
	ne.new = ne.orig;

	flow_action_for_each(i, act, &rule->action) {
		if (act->id != FLOW_ACTION_MANGLE)
			continue;
		switch (act->mangle.htype) {
		case FLOW_ACT_MANGLE_HDR_TYPE_TCP:
		case FLOW_ACT_MANGLE_HDR_TYPE_UDP:
			err = sim_mangle_ports(act, &ne.new);
			break;
		case FLOW_ACT_MANGLE_HDR_TYPE_IP4:
			err = sim_mangle_ipv4(act, &ne.new);
			break;
		case FLOW_ACT_MANGLE_HDR_TYPE_ETH:
			err = 0;
			break;
		default:
			NL_SET_ERR_MSG_MOD(extack, "the PPE rewrites no IPv6 header");
			return -EOPNOTSUPP;
		}
		if (err) {
			NL_SET_ERR_MSG_MOD(extack, "a mangle at an offset the PPE cannot rewrite");
			return err;
		}
	}
	ne.nat_src = ne.new.src[0] != ne.orig.src[0];
	ne.nat_dst = ne.new.dst[0] != ne.orig.dst[0];
	if (ne.type == PPE_TYPE_IPV4_HNAPT && !ne.nat_src && !ne.nat_dst &&
	    ne.new.sport == ne.orig.sport && ne.new.dport == ne.orig.dport)
		ne.type = PPE_TYPE_IPV4_ROUTE;

	ether_addr_copy(ne.h_dest, data.eth.h_dest);
	ether_addr_copy(ne.h_source, data.eth.h_source);
	if (data.vlan.num)
		ne.out_vlan = data.vlan.id | PPE_VLAN_PRESENT;
	if (data.pppoe.num) {
		ne.out_pppoe = data.pppoe.sid;
		ne.out_pppoe_push = true;
	}

	if (!odev || !ppesim_is_port(odev)) {
		NL_SET_ERR_MSG_MOD(extack, "the egress is not a port of this PPE");
		return -EOPNOTSUPP;
	}
	idev = dev_get_by_index(dev_net(dev), meta.key->ingress_ifindex);
	if (!idev || !ppesim_is_port(idev)) {
		if (idev)
			dev_put(idev);
		NL_SET_ERR_MSG_MOD(extack, "the ingress is not a port of this PPE");
		return -EOPNOTSUPP;
	}
	/* Entries hold no reference: ppe_purge_dev() runs before a port goes. */
	ne.idev = idev;
	ne.odev = odev;
	dev_put(idev);

	err = sim_commit(&ne, f->cookie, s);
	if (err == -ENOSPC)
		NL_SET_ERR_MSG_MOD(extack, "hash bucket full");
	else if (err == -EEXIST)
		NL_SET_ERR_MSG_MOD(extack, "flow already offloaded");
	return err;
}

static int sim_destroy(struct flow_cls_offload *f)
{
	struct ppe_entry *e;
	int err = -ENOENT;

	spin_lock_bh(&ppe_lock);
	e = ppe_find_cookie(f->cookie);
	if (e) {
		ppe_entry_clear(e);
		err = 0;
	}
	spin_unlock_bh(&ppe_lock);
	return err;
}

/* Counters since the last query, as the MIB registers read and clear. */
static int sim_stats(struct flow_cls_offload *f)
{
	struct ppe_entry *e;
	int err = -ENOENT;

	spin_lock_bh(&ppe_lock);
	e = ppe_find_cookie(f->cookie);
	if (e) {
		flow_stats_update(&f->stats, e->mib_bytes, e->mib_packets, 0,
				  e->last_hit, FLOW_ACTION_HW_STATS_IMMEDIATE);
		e->mib_packets = 0;
		e->mib_bytes = 0;
		err = 0;
	}
	spin_unlock_bh(&ppe_lock);
	return err;
}

static int sim_block_cb(enum tc_setup_type type, void *type_data, void *cb_priv)
{
	struct flow_cls_offload *cls = type_data;
	struct net_device *dev = cb_priv;
	struct sim_log *log;
	int err;

	if (!tc_can_offload(dev))
		return -EOPNOTSUPP;
	if (type != TC_SETUP_CLSFLOWER)
		return -EOPNOTSUPP;

	mutex_lock(&sim_offload_mutex);
	switch (cls->command) {
	case FLOW_CLS_REPLACE:
		log = sim_log_new(dev, cls);
		if (!log) {
			err = -ENOMEM;
			break;
		}
		err = sim_replace(dev, cls, &log->s);
		if (err)
			atomic64_inc(&ppe_cnt.rules_rejected);
		else
			atomic64_inc(&ppe_cnt.rules_ok);
		seq_buf_printf(&log->s, "result %d\n", err);
		sim_log_commit(log);
		break;
	case FLOW_CLS_DESTROY:
		err = sim_destroy(cls);
		break;
	case FLOW_CLS_STATS:
		err = sim_stats(cls);
		break;
	default:
		err = -EOPNOTSUPP;
		break;
	}
	mutex_unlock(&sim_offload_mutex);
	return err;
}

static int sim_setup_block(struct net_device *dev, struct flow_block_offload *f)
{
	struct flow_block_cb *block_cb;

	if (f->binder_type != FLOW_BLOCK_BINDER_TYPE_CLSACT_INGRESS)
		return -EOPNOTSUPP;

	f->driver_block_list = &sim_block_cb_list;
	switch (f->command) {
	case FLOW_BLOCK_BIND:
		block_cb = flow_block_cb_lookup(f->block, sim_block_cb, dev);
		if (block_cb) {
			flow_block_cb_incref(block_cb);
			return 0;
		}
		block_cb = flow_block_cb_alloc(sim_block_cb, dev, dev, NULL);
		if (IS_ERR(block_cb))
			return PTR_ERR(block_cb);
		flow_block_cb_incref(block_cb);
		flow_block_cb_add(block_cb, f);
		list_add_tail(&block_cb->driver_list, &sim_block_cb_list);
		return 0;
	case FLOW_BLOCK_UNBIND:
		block_cb = flow_block_cb_lookup(f->block, sim_block_cb, dev);
		if (!block_cb)
			return -ENOENT;
		if (!flow_block_cb_decref(block_cb)) {
			flow_block_cb_remove(block_cb, f);
			list_del(&block_cb->driver_list);
		}
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

int ppesim_setup_tc(struct net_device *dev, enum tc_setup_type type,
		    void *type_data)
{
	switch (type) {
	case TC_SETUP_BLOCK:
	case TC_SETUP_FT:
		return sim_setup_block(dev, type_data);
	default:
		return -EOPNOTSUPP;
	}
}

/* The same blocks for ports without ndo_setup_tc ("indirect=1"). */
static int sim_indr_setup(struct net_device *dev, struct Qdisc *sch,
			  void *cb_priv, enum tc_setup_type type,
			  void *type_data, void *data,
			  void (*cleanup)(struct flow_block_cb *block_cb))
{
	struct flow_block_offload *f = type_data;
	struct flow_block_cb *block_cb;

	if (!ppesim_is_port(dev) || type != TC_SETUP_FT || !f ||
	    f->binder_type != FLOW_BLOCK_BINDER_TYPE_CLSACT_INGRESS)
		return -EOPNOTSUPP;

	switch (f->command) {
	case FLOW_BLOCK_BIND:
		if (flow_block_cb_lookup(f->block, sim_block_cb, dev))
			return -EEXIST;
		block_cb = flow_indr_block_cb_alloc(sim_block_cb, dev, dev, NULL,
						    f, dev, sch, data, cb_priv,
						    cleanup);
		if (IS_ERR(block_cb))
			return PTR_ERR(block_cb);
		flow_block_cb_add(block_cb, f);
		list_add_tail(&block_cb->driver_list, &sim_indr_cb_list);
		return 0;
	case FLOW_BLOCK_UNBIND:
		block_cb = flow_block_cb_lookup(f->block, sim_block_cb, dev);
		if (!block_cb)
			return -ENOENT;
		flow_indr_block_cb_remove(block_cb, f);
		list_del(&block_cb->driver_list);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

int ppesim_offload_init(bool indirect)
{
	if (!indirect)
		return 0;
	return flow_indr_dev_register(sim_indr_setup, &sim_indr_priv);
}

void ppesim_offload_exit(bool indirect)
{
	if (indirect)
		flow_indr_dev_unregister(sim_indr_setup, &sim_indr_priv, NULL);
	ppesim_rules_clear();
}

/* After the last port is gone: whoever bound a port freed its block_cb. */
void ppesim_offload_leak_check(void)
{
	if (!list_empty(&sim_block_cb_list) || !list_empty(&sim_indr_cb_list))
		pr_err("leaked flow block callbacks\n");
}
