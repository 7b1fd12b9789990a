// SPDX-License-Identifier: GPL-2.0-only
/*
 * fp_rule.c - one direction of fastpath's flow table as a flow_rule, laid
 * out the way nf_flowtable lays out its own (nf_flow_rule_match() and
 * nf_flow_rule_route_ipv4/ipv6() in nf_flow_table_offload.c), so a driver
 * written for nf_flowtable parses it unchanged:
 *
 *   keys     META (ingress ifindex), CONTROL, BASIC, IPV4 or IPV6 addresses,
 *            TCP (FIN and RST clear), PORTS; VLAN and CVLAN for ingress tags
 *   actions  source MAC (two ETH mangles), destination MAC (two more),
 *            a VLAN_POP per ingress tag, PPPOE_PUSH and VLAN_PUSH from the
 *            innermost header out, source NAT (address, port), destination
 *            NAT (address, port), CSUM for IPv4 NAT, REDIRECT
 *
 * fastpath's flags say "rewrite the source" and "rewrite the destination"
 * of this direction; nf's SNAT and DNAT blocks for its reply direction
 * are the same mangles, so the source block always comes first here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/slab.h>
#include <linux/tc_act/tc_csum.h>
#include <linux/tcp.h>

#include "fp_kmod.h"

/* IPv6 with both NATs, two tags in and three headers out: 21 actions. */
#define FPK_ACTIONS_MAX	24

/* nf_flow_key (6.1) without the tunnel keys, in the same order. */
struct fpk_key {
	struct flow_dissector_key_meta		meta;
	struct flow_dissector_key_control	control;
	struct flow_dissector_key_basic		basic;
	struct flow_dissector_key_vlan		vlan;
	struct flow_dissector_key_vlan		cvlan;
	union {
		struct flow_dissector_key_ipv4_addrs	ipv4;
		struct flow_dissector_key_ipv6_addrs	ipv6;
	};
	struct flow_dissector_key_tcp		tcp;
	struct flow_dissector_key_ports		tp;
} __aligned(BITS_PER_LONG / 8); /* drivers may compare keys as longs */

struct fpk_rule {
	struct flow_dissector dissector;
	struct fpk_key key;
	struct fpk_key mask;
	struct flow_rule *rule;
};

#define FPK_DISSECTOR(r, id, field) \
	((r)->dissector.offset[id] = offsetof(struct fpk_key, field))

static struct flow_action_entry *fpk_next(struct flow_rule *rule)
{
	return &rule->action.entries[rule->action.num_entries++];
}

static void fpk_mangle(struct flow_rule *rule,
		       enum flow_action_mangle_base htype, u32 offset,
		       const void *val, const void *mask)
{
	struct flow_action_entry *e = fpk_next(rule);

	e->id = FLOW_ACTION_MANGLE;
	e->mangle.htype = htype;
	e->mangle.offset = offset;
	memcpy(&e->mangle.mask, mask, sizeof(u32));
	memcpy(&e->mangle.val, val, sizeof(u32));
}

/*
 * The MACs go in nf_flowtable's exact pattern: the source as bytes 0-1 in
 * the upper half of the word at offset 4, then bytes 2-5 at offset 8; the
 * destination as bytes 0-3 at offset 0, then 4-5 in the lower half of the
 * word at offset 4. Masks and values are host-order words, as nf builds
 * them; mtk_ppe_offload.c recognises the halves by those masks alone.
 */
static void fpk_eth_src(struct flow_rule *rule, const u8 *addr)
{
	u32 mask, val;
	u16 val16;

	mask = ~0xffff0000;
	memcpy(&val16, addr, 2);
	val = (u32)val16 << 16;
	fpk_mangle(rule, FLOW_ACT_MANGLE_HDR_TYPE_ETH, 4, &val, &mask);

	mask = ~0xffffffff;
	memcpy(&val, addr + 2, 4);
	fpk_mangle(rule, FLOW_ACT_MANGLE_HDR_TYPE_ETH, 8, &val, &mask);
}

static void fpk_eth_dst(struct flow_rule *rule, const u8 *addr)
{
	u32 mask, val;
	u16 val16;

	mask = ~0xffffffff;
	memcpy(&val, addr, 4);
	fpk_mangle(rule, FLOW_ACT_MANGLE_HDR_TYPE_ETH, 0, &val, &mask);

	mask = ~0x0000ffff;
	memcpy(&val16, addr + 4, 2);
	val = val16;
	fpk_mangle(rule, FLOW_ACT_MANGLE_HDR_TYPE_ETH, 4, &val, &mask);
}

static void fpk_nat_addr(struct flow_rule *rule, u8 family, bool src,
			 const __be32 *addr)
{
	u32 mask = ~htonl(0xffffffff);
	int i;

	if (family == AF_INET) {
		fpk_mangle(rule, FLOW_ACT_MANGLE_HDR_TYPE_IP4,
			   src ? offsetof(struct iphdr, saddr) :
				 offsetof(struct iphdr, daddr),
			   &addr[0], &mask);
		return;
	}
	for (i = 0; i < 4; i++)
		fpk_mangle(rule, FLOW_ACT_MANGLE_HDR_TYPE_IP6,
			   (src ? offsetof(struct ipv6hdr, saddr) :
				  offsetof(struct ipv6hdr, daddr)) + 4 * i,
			   &addr[i], &mask);
}

/* Both ports live in the first word of the L4 header, source on top. */
static void fpk_nat_port(struct flow_rule *rule, u8 proto, bool src,
			 __be16 port)
{
	u32 mask, val;

	if (src) {
		val = htonl((u32)ntohs(port) << 16);
		mask = ~htonl(0xffff0000);
	} else {
		val = htonl(ntohs(port));
		mask = ~htonl(0xffff);
	}
	fpk_mangle(rule, proto == IPPROTO_TCP ? FLOW_ACT_MANGLE_HDR_TYPE_TCP :
						FLOW_ACT_MANGLE_HDR_TYPE_UDP,
		   0, &val, &mask);
}

static void fpk_vlan_key(struct flow_dissector_key_vlan *key,
			 struct flow_dissector_key_vlan *mask, u16 vlan)
{
	key->vlan_id = vlan & FP_VLAN_VID_MASK;
	mask->vlan_id = VLAN_VID_MASK;
	key->vlan_tpid = vlan & FP_VLAN_8021AD ? htons(ETH_P_8021AD) :
						 htons(ETH_P_8021Q);
	mask->vlan_tpid = 0xffff;
}

static int fpk_rule_match(struct fpk_rule *r, const struct fp_flow_key *k)
{
	struct fpk_key *key = &r->key, *mask = &r->mask;
	u64 used = 0;

	FPK_DISSECTOR(r, FLOW_DISSECTOR_KEY_META, meta);
	FPK_DISSECTOR(r, FLOW_DISSECTOR_KEY_CONTROL, control);
	FPK_DISSECTOR(r, FLOW_DISSECTOR_KEY_BASIC, basic);
	FPK_DISSECTOR(r, FLOW_DISSECTOR_KEY_IPV4_ADDRS, ipv4);
	FPK_DISSECTOR(r, FLOW_DISSECTOR_KEY_IPV6_ADDRS, ipv6);
	FPK_DISSECTOR(r, FLOW_DISSECTOR_KEY_TCP, tcp);
	FPK_DISSECTOR(r, FLOW_DISSECTOR_KEY_PORTS, tp);

	key->meta.ingress_ifindex = k->ifindex;
	mask->meta.ingress_ifindex = 0xffffffff;

	/* The outer tag is the VLAN key, the inner one CVLAN, as in tc flower. */
	if (k->vlan[0]) {
		FPK_DISSECTOR(r, FLOW_DISSECTOR_KEY_VLAN, vlan);
		fpk_vlan_key(&key->vlan, &mask->vlan, k->vlan[0]);
		used |= FP_KEY_BIT(FLOW_DISSECTOR_KEY_VLAN);
	}
	if (k->vlan[1]) {
		FPK_DISSECTOR(r, FLOW_DISSECTOR_KEY_CVLAN, cvlan);
		fpk_vlan_key(&key->cvlan, &mask->cvlan, k->vlan[1]);
		used |= FP_KEY_BIT(FLOW_DISSECTOR_KEY_CVLAN);
	}

	switch (k->family) {
	case AF_INET:
		key->control.addr_type = FLOW_DISSECTOR_KEY_IPV4_ADDRS;
		key->basic.n_proto = htons(ETH_P_IP);
		key->ipv4.src = k->saddr[0];
		mask->ipv4.src = 0xffffffff;
		key->ipv4.dst = k->daddr[0];
		mask->ipv4.dst = 0xffffffff;
		break;
	case AF_INET6:
		key->control.addr_type = FLOW_DISSECTOR_KEY_IPV6_ADDRS;
		key->basic.n_proto = htons(ETH_P_IPV6);
		memcpy(&key->ipv6.src, k->saddr, sizeof(key->ipv6.src));
		memset(&mask->ipv6.src, 0xff, sizeof(mask->ipv6.src));
		memcpy(&key->ipv6.dst, k->daddr, sizeof(key->ipv6.dst));
		memset(&mask->ipv6.dst, 0xff, sizeof(mask->ipv6.dst));
		break;
	default:
		return -EAFNOSUPPORT;
	}
	mask->control.addr_type = 0xffff;
	used |= FP_KEY_BIT(key->control.addr_type);
	mask->basic.n_proto = 0xffff;

	switch (k->proto) {
	case IPPROTO_TCP:
		/* FIN and RST must leave through the stack (DESIGN.md, "End"). */
		key->tcp.flags = 0;
		mask->tcp.flags = cpu_to_be16(be32_to_cpu(TCP_FLAG_RST | TCP_FLAG_FIN) >> 16);
		used |= FP_KEY_BIT(FLOW_DISSECTOR_KEY_TCP);
		break;
	case IPPROTO_UDP:
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	key->basic.ip_proto = k->proto;
	mask->basic.ip_proto = 0xff;

	key->tp.src = k->sport;
	mask->tp.src = 0xffff;
	key->tp.dst = k->dport;
	mask->tp.dst = 0xffff;

	used |= FP_KEY_BIT(FLOW_DISSECTOR_KEY_META) |
		FP_KEY_BIT(FLOW_DISSECTOR_KEY_CONTROL) |
		FP_KEY_BIT(FLOW_DISSECTOR_KEY_BASIC) |
		FP_KEY_BIT(FLOW_DISSECTOR_KEY_PORTS);
	r->dissector.used_keys = used;
	return 0;
}

static int fpk_rule_actions(struct net *net, struct flow_rule *rule,
			    const struct fp_flow_key *k, const struct fp_flow *v)
{
	struct flow_action_entry *e;
	struct net_device *odev;
	int i;

	fpk_eth_src(rule, v->smac);
	fpk_eth_dst(rule, v->dmac);

	for (i = 0; i < 2; i++) {
		if (k->vlan[i]) {
			e = fpk_next(rule);
			e->id = FLOW_ACTION_VLAN_POP;
		}
	}
	if (v->out_pppoe_sid) {
		e = fpk_next(rule);
		e->id = FLOW_ACTION_PPPOE_PUSH;
		e->pppoe.sid = v->out_pppoe_sid;
	}
	for (i = 1; i >= 0; i--) {
		if (!v->out_vlan[i])
			continue;
		e = fpk_next(rule);
		e->id = FLOW_ACTION_VLAN_PUSH;
		e->vlan.vid = v->out_vlan[i] & FP_VLAN_VID_MASK;
		e->vlan.proto = v->out_vlan[i] & FP_VLAN_8021AD ?
				htons(ETH_P_8021AD) : htons(ETH_P_8021Q);
	}

	if (v->flags & FP_F_SNAT) {
		fpk_nat_addr(rule, k->family, true, v->nat_saddr);
		fpk_nat_port(rule, k->proto, true, v->nat_sport);
	}
	if (v->flags & FP_F_DNAT) {
		fpk_nat_addr(rule, k->family, false, v->nat_daddr);
		fpk_nat_port(rule, k->proto, false, v->nat_dport);
	}
	if (k->family == AF_INET && (v->flags & (FP_F_SNAT | FP_F_DNAT))) {
		e = fpk_next(rule);
		e->id = FLOW_ACTION_CSUM;
		e->csum_flags = TCA_CSUM_UPDATE_FLAG_IPV4HDR |
				(k->proto == IPPROTO_TCP ? TCA_CSUM_UPDATE_FLAG_TCP :
							   TCA_CSUM_UPDATE_FLAG_UDP);
	}

	/* Held until fpk_rule_free(), as nf_flowtable holds its own. */
	odev = dev_get_by_index(net, v->oif);
	if (!odev)
		return -ENODEV;
	e = fpk_next(rule);
	e->id = FLOW_ACTION_REDIRECT;
	e->dev = odev;
	return 0;
}

struct fpk_rule *fpk_rule_build(struct net *net, const struct fpk_flow *fl,
				int *err)
{
	struct fpk_rule *r;

	r = fpk_zalloc(sizeof(*r), FPK_OBJ_RULE);
	if (!r)
		goto err_nomem;
	r->rule = flow_rule_alloc(FPK_ACTIONS_MAX);
	if (!r->rule)
		goto err_rule;
	r->rule->match.dissector = &r->dissector;
	r->rule->match.key = &r->key;
	r->rule->match.mask = &r->mask;
	r->rule->action.num_entries = 0;

	*err = fpk_rule_match(r, &fl->key);
	if (!*err)
		*err = fpk_rule_actions(net, r->rule, &fl->key, &fl->val);
	if (*err) {
		fpk_rule_free(r);
		return NULL;
	}
	return r;

err_rule:
	fpk_free(r, FPK_OBJ_RULE);
err_nomem:
	*err = -ENOMEM;
	return NULL;
}

struct flow_rule *fpk_rule_get(struct fpk_rule *r)
{
	return r->rule;
}

void fpk_rule_free(struct fpk_rule *r)
{
	struct flow_action_entry *e;
	int i;

	flow_action_for_each(i, e, &r->rule->action)
		if (e->id == FLOW_ACTION_REDIRECT)
			dev_put(e->dev);
	kfree(r->rule);
	fpk_free(r, FPK_OBJ_RULE);
}
