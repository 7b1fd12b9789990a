// SPDX-License-Identifier: GPL-2.0-only
/*
 * fp_genl.c - the generic netlink family "fastpath" (include/fastpath_genl.h).
 *
 * Every command needs CAP_NET_ADMIN. Attributes are validated strictly:
 * an unknown, reply-only or malformed attribute is refused with EINVAL and
 * an extack message naming it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "fp_kmod.h"

static struct genl_family fpk_family;

static const struct nla_policy fpk_policy[FP_A_MAX + 1] = {
	[FP_A_IFINDEX]			= { .type = NLA_U32 },
	[FP_A_DEV_PROBE]		= { .type = NLA_FLAG },
	[FP_A_KEY_IFINDEX]		= { .type = NLA_U32 },
	[FP_A_KEY_FAMILY]		= { .type = NLA_U8 },
	[FP_A_KEY_PROTO]		= { .type = NLA_U8 },
	[FP_A_KEY_PPPOE_SID]		= { .type = NLA_U16 },
	[FP_A_KEY_SPORT]		= { .type = NLA_BE16 },
	[FP_A_KEY_DPORT]		= { .type = NLA_BE16 },
	[FP_A_KEY_VLAN0]		= { .type = NLA_U16 },
	[FP_A_KEY_VLAN1]		= { .type = NLA_U16 },
	[FP_A_KEY_SADDR]		= NLA_POLICY_EXACT_LEN(16),
	[FP_A_KEY_DADDR]		= NLA_POLICY_EXACT_LEN(16),
	[FP_A_FLOW_FLAGS]		= { .type = NLA_U8 },
	[FP_A_FLOW_MTU]			= { .type = NLA_U16 },
	[FP_A_FLOW_OIF]			= { .type = NLA_U32 },
	[FP_A_FLOW_NAT_SADDR]		= NLA_POLICY_EXACT_LEN(16),
	[FP_A_FLOW_NAT_DADDR]		= NLA_POLICY_EXACT_LEN(16),
	[FP_A_FLOW_NAT_SPORT]		= { .type = NLA_BE16 },
	[FP_A_FLOW_NAT_DPORT]		= { .type = NLA_BE16 },
	[FP_A_FLOW_DMAC]		= NLA_POLICY_EXACT_LEN(ETH_ALEN),
	[FP_A_FLOW_SMAC]		= NLA_POLICY_EXACT_LEN(ETH_ALEN),
	[FP_A_FLOW_OUT_VLAN0]		= { .type = NLA_U16 },
	[FP_A_FLOW_OUT_VLAN1]		= { .type = NLA_U16 },
	[FP_A_FLOW_OUT_PPPOE_SID]	= { .type = NLA_U16 },
	[FP_A_LEASE_MS]			= { .type = NLA_U32 },
	[FP_A_IDLE_S]			= { .type = NLA_U32 },
	[FP_A_CT_ZONE]			= { .type = NLA_U16 },
	[FP_A_ACCT_PACKETS]		= { .type = NLA_U64 },
	[FP_A_ACCT_BYTES]		= { .type = NLA_U64 },
	[FP_A_ACCT_REV_PACKETS]		= { .type = NLA_U64 },
	[FP_A_ACCT_REV_BYTES]		= { .type = NLA_U64 },
};

static int fpk_require(struct genl_info *info, const int *types, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!info->attrs[types[i]]) {
			NL_SET_ERR_ATTR_MISS(info->extack, NULL, types[i]);
			NL_SET_ERR_MSG(info->extack, "a required attribute is missing");
			return -EINVAL;
		}
	}
	return 0;
}

static bool fpk_ipv4_clean(const __be32 *addr)
{
	return !addr[1] && !addr[2] && !addr[3];
}

/* The L3/L4 tuple of a key: what conntrack accounting looks an entry up by. */
static int fpk_parse_tuple(struct genl_info *info, struct fp_flow_key *k)
{
	static const int required[] = {
		FP_A_KEY_FAMILY, FP_A_KEY_PROTO, FP_A_KEY_SPORT, FP_A_KEY_DPORT,
		FP_A_KEY_SADDR, FP_A_KEY_DADDR,
	};
	struct nlattr **a = info->attrs;
	int err;

	err = fpk_require(info, required, ARRAY_SIZE(required));
	if (err)
		return err;
	memset(k, 0, sizeof(*k));
	k->family = nla_get_u8(a[FP_A_KEY_FAMILY]);
	k->proto = nla_get_u8(a[FP_A_KEY_PROTO]);
	k->sport = nla_get_be16(a[FP_A_KEY_SPORT]);
	k->dport = nla_get_be16(a[FP_A_KEY_DPORT]);
	nla_memcpy(k->saddr, a[FP_A_KEY_SADDR], sizeof(k->saddr));
	nla_memcpy(k->daddr, a[FP_A_KEY_DADDR], sizeof(k->daddr));

	if (k->family != AF_INET && k->family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[FP_A_KEY_FAMILY],
				    "family must be AF_INET or AF_INET6");
		return -EINVAL;
	}
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[FP_A_KEY_PROTO],
				    "protocol must be TCP or UDP");
		return -EINVAL;
	}
	if (k->family == AF_INET &&
	    (!fpk_ipv4_clean(k->saddr) || !fpk_ipv4_clean(k->daddr))) {
		NL_SET_ERR_MSG(info->extack, "an IPv4 address uses bytes 0-3 only");
		return -EINVAL;
	}
	return 0;
}

static int fpk_parse_key(struct genl_info *info, struct fp_flow_key *k)
{
	static const int required[] = { FP_A_KEY_IFINDEX };
	struct nlattr **a = info->attrs;
	int err;

	err = fpk_require(info, required, ARRAY_SIZE(required));
	if (!err)
		err = fpk_parse_tuple(info, k);
	if (err)
		return err;
	k->ifindex = nla_get_u32(a[FP_A_KEY_IFINDEX]);
	if (a[FP_A_KEY_PPPOE_SID])
		k->pppoe_sid = nla_get_u16(a[FP_A_KEY_PPPOE_SID]);
	if (a[FP_A_KEY_VLAN0])
		k->vlan[0] = nla_get_u16(a[FP_A_KEY_VLAN0]);
	if (a[FP_A_KEY_VLAN1])
		k->vlan[1] = nla_get_u16(a[FP_A_KEY_VLAN1]);

	if ((k->vlan[0] & ~(FP_VLAN_VID_MASK | FP_VLAN_8021AD)) ||
	    (k->vlan[1] & ~FP_VLAN_VID_MASK) || (k->vlan[1] && !k->vlan[0])) {
		NL_SET_ERR_MSG(info->extack, "invalid ingress VLAN ids");
		return -EINVAL;
	}
	return 0;
}

static int fpk_parse_value(struct genl_info *info, const struct fp_flow_key *k,
			   struct fp_flow *v)
{
	static const int required[] = {
		FP_A_FLOW_OIF, FP_A_FLOW_DMAC, FP_A_FLOW_SMAC,
	};
	static const int nat_src[] = { FP_A_FLOW_NAT_SADDR, FP_A_FLOW_NAT_SPORT };
	static const int nat_dst[] = { FP_A_FLOW_NAT_DADDR, FP_A_FLOW_NAT_DPORT };
	struct nlattr **a = info->attrs;
	int err;

	err = fpk_require(info, required, ARRAY_SIZE(required));
	if (err)
		return err;
	memset(v, 0, sizeof(*v));
	v->oif = nla_get_u32(a[FP_A_FLOW_OIF]);
	nla_memcpy(v->dmac, a[FP_A_FLOW_DMAC], ETH_ALEN);
	nla_memcpy(v->smac, a[FP_A_FLOW_SMAC], ETH_ALEN);
	if (a[FP_A_FLOW_FLAGS])
		v->flags = nla_get_u8(a[FP_A_FLOW_FLAGS]);
	if (a[FP_A_FLOW_MTU])
		v->mtu = nla_get_u16(a[FP_A_FLOW_MTU]);
	if (a[FP_A_FLOW_OUT_VLAN0])
		v->out_vlan[0] = nla_get_u16(a[FP_A_FLOW_OUT_VLAN0]);
	if (a[FP_A_FLOW_OUT_VLAN1])
		v->out_vlan[1] = nla_get_u16(a[FP_A_FLOW_OUT_VLAN1]);
	if (a[FP_A_FLOW_OUT_PPPOE_SID])
		v->out_pppoe_sid = nla_get_u16(a[FP_A_FLOW_OUT_PPPOE_SID]);

	if (v->flags & ~(FP_F_SNAT | FP_F_DNAT | FP_F_STATIC)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[FP_A_FLOW_FLAGS],
				    "unknown flow flags");
		return -EINVAL;
	}
	if (v->flags & FP_F_SNAT) {
		err = fpk_require(info, nat_src, ARRAY_SIZE(nat_src));
		if (err)
			return err;
		nla_memcpy(v->nat_saddr, a[FP_A_FLOW_NAT_SADDR], 16);
		v->nat_sport = nla_get_be16(a[FP_A_FLOW_NAT_SPORT]);
	}
	if (v->flags & FP_F_DNAT) {
		err = fpk_require(info, nat_dst, ARRAY_SIZE(nat_dst));
		if (err)
			return err;
		nla_memcpy(v->nat_daddr, a[FP_A_FLOW_NAT_DADDR], 16);
		v->nat_dport = nla_get_be16(a[FP_A_FLOW_NAT_DPORT]);
	}
	if (k->family == AF_INET &&
	    (!fpk_ipv4_clean(v->nat_saddr) || !fpk_ipv4_clean(v->nat_daddr))) {
		NL_SET_ERR_MSG(info->extack, "an IPv4 address uses bytes 0-3 only");
		return -EINVAL;
	}
	if (!is_valid_ether_addr(v->dmac) || !is_valid_ether_addr(v->smac)) {
		NL_SET_ERR_MSG(info->extack, "invalid MAC address");
		return -EINVAL;
	}
	if ((v->out_vlan[0] & ~(FP_VLAN_VID_MASK | FP_VLAN_8021AD)) ||
	    (v->out_vlan[1] & ~FP_VLAN_VID_MASK) ||
	    (v->out_vlan[1] && !v->out_vlan[0])) {
		NL_SET_ERR_MSG(info->extack, "invalid egress VLAN ids");
		return -EINVAL;
	}
	return 0;
}

static int fpk_fill_dev(struct sk_buff *msg, const struct fpk_dev *fd,
			u32 portid, u32 seq, int flags)
{
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &fpk_family, flags, FP_CMD_DEV_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(msg, FP_A_IFINDEX, fd->ifindex) ||
	    nla_put_string(msg, FP_A_DEV_NAME, fd->dev ? fd->dev->name : fd->name) ||
	    nla_put_u8(msg, FP_A_DEV_BIND, fd->bind) ||
	    nla_put_s32(msg, FP_A_DEV_ERR, fd->err) ||
	    nla_put_u32(msg, FP_A_DEV_FLOWS, fd->flows) ||
	    nla_put_string(msg, FP_A_DEV_DRIVER, fd->driver)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

static int fpk_fill_flow(struct sk_buff *msg, const struct fpk_flow *fl,
			 u32 portid, u32 seq, int flags)
{
	const struct fp_flow_key *k = &fl->key;
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &fpk_family, flags, FP_CMD_FLOW_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(msg, FP_A_KEY_IFINDEX, k->ifindex) ||
	    nla_put_u8(msg, FP_A_KEY_FAMILY, k->family) ||
	    nla_put_u8(msg, FP_A_KEY_PROTO, k->proto) ||
	    nla_put_be16(msg, FP_A_KEY_SPORT, k->sport) ||
	    nla_put_be16(msg, FP_A_KEY_DPORT, k->dport) ||
	    nla_put(msg, FP_A_KEY_SADDR, sizeof(k->saddr), k->saddr) ||
	    nla_put(msg, FP_A_KEY_DADDR, sizeof(k->daddr), k->daddr) ||
	    (k->vlan[0] && nla_put_u16(msg, FP_A_KEY_VLAN0, k->vlan[0])) ||
	    (k->vlan[1] && nla_put_u16(msg, FP_A_KEY_VLAN1, k->vlan[1])) ||
	    (k->pppoe_sid && nla_put_u16(msg, FP_A_KEY_PPPOE_SID, k->pppoe_sid)) ||
	    nla_put_u32(msg, FP_A_FLOW_OIF, fl->val.oif) ||
	    nla_put_u8(msg, FP_A_FLOW_FLAGS, fl->val.flags) ||
	    nla_put_u8(msg, FP_A_HW_STATE, fl->state) ||
	    (fl->state == FP_HW_FAILED &&
	     nla_put_s32(msg, FP_A_HW_ERR, fl->err)) ||
	    (fl->msg[0] && nla_put_string(msg, FP_A_HW_MSG, fl->msg)) ||
	    nla_put_u64_64bit(msg, FP_A_HW_PACKETS, fl->packets, FP_A_PAD) ||
	    nla_put_u64_64bit(msg, FP_A_HW_BYTES, fl->bytes, FP_A_PAD) ||
	    (fl->lastused &&
	     nla_put_u64_64bit(msg, FP_A_HW_IDLE_MS,
			       jiffies_to_msecs(jiffies - fl->lastused),
			       FP_A_PAD))) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

static int fpk_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	static const int required[] = { FP_A_IFINDEX };
	struct net *net = genl_info_net(info);
	struct sk_buff *msg;
	struct fpk_dev *fd;
	int err;

	err = fpk_require(info, required, ARRAY_SIZE(required));
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&fpk_lock);
	fd = fpk_dev_probe(net, nla_get_u32(info->attrs[FP_A_IFINDEX]),
			   info->attrs[FP_A_DEV_PROBE], NULL);
	err = fd ? fpk_fill_dev(msg, fd, info->snd_portid, info->snd_seq, 0) :
		   -ENODEV;
	mutex_unlock(&fpk_lock);
	if (err) {
		if (err == -ENODEV)
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FP_A_IFINDEX],
					    "no such device");
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int fpk_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	long idx = cb->args[0];
	struct fpk_dev *fd;

	mutex_lock(&fpk_lock);
	while ((fd = fpk_dev_at(net, idx))) {
		if (fpk_fill_dev(skb, fd, NETLINK_CB(cb->skb).portid,
				 cb->nlh->nlmsg_seq, NLM_F_MULTI))
			break;
		idx++;
	}
	mutex_unlock(&fpk_lock);
	cb->args[0] = idx;
	return skb->len;
}

static int fpk_flow_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct fp_flow_key k;
	struct fp_flow v;
	int err;

	err = fpk_parse_key(info, &k);
	if (!err)
		err = fpk_parse_value(info, &k, &v);
	if (!err)
		err = fpk_flow_add(genl_info_net(info), &k, &v, info->extack);
	return err;
}

static int fpk_flow_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct fp_flow_key k;
	int err;

	err = fpk_parse_key(info, &k);
	if (err)
		return err;
	err = fpk_flow_del(genl_info_net(info), &k);
	if (err == -ENOENT)
		NL_SET_ERR_MSG(info->extack, "no such direction offloaded");
	return err;
}

static int fpk_flow_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	long bkt = cb->args[0], idx = cb->args[1];
	struct fpk_flow *fl;

	mutex_lock(&fpk_lock);
	while ((fl = fpk_flow_at(net, &bkt, &idx))) {
		if (fpk_fill_flow(skb, fl, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, NLM_F_MULTI)) {
			idx--;	/* did not fit: first in the next message */
			break;
		}
	}
	mutex_unlock(&fpk_lock);
	cb->args[0] = bkt;
	cb->args[1] = idx;
	return skb->len;
}

static int fpk_flush_doit(struct sk_buff *skb, struct genl_info *info)
{
	fpk_flush(genl_info_net(info));
	return 0;
}

static int fpk_lease_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct fpk_lease_info li;
	u32 lease_ms, idle_s;
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (a[FP_A_LEASE_MS])
		lease_ms = nla_get_u32(a[FP_A_LEASE_MS]);
	if (a[FP_A_IDLE_S])
		idle_s = nla_get_u32(a[FP_A_IDLE_S]);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = fpk_lease_set(genl_info_net(info),
			    a[FP_A_LEASE_MS] ? &lease_ms : NULL,
			    a[FP_A_IDLE_S] ? &idle_s : NULL, &li, info->extack);
	if (err)
		goto err_free;
	err = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &fpk_family, 0, FP_CMD_LEASE);
	if (!hdr)
		goto err_free;
	if (nla_put_u32(msg, FP_A_LEASE_MS, li.lease_ms) ||
	    nla_put_u32(msg, FP_A_LEASE_LEFT_MS, li.left_ms) ||
	    nla_put_u32(msg, FP_A_LEASE_LAPSES, li.lapses) ||
	    nla_put_u32(msg, FP_A_IDLE_S, li.idle_s))
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

static int fpk_ct_acct_doit(struct sk_buff *skb, struct genl_info *info)
{
	static const int counts[] = {
		FP_A_ACCT_PACKETS, FP_A_ACCT_BYTES,
		FP_A_ACCT_REV_PACKETS, FP_A_ACCT_REV_BYTES,
	};
	struct nlattr **a = info->attrs;
	u64 v[ARRAY_SIZE(counts)] = {};
	struct fp_flow_key k;
	u16 zone = 0;
	int i, err;

	err = fpk_parse_tuple(info, &k);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		if (!a[counts[i]])
			continue;
		v[i] = nla_get_u64(a[counts[i]]);
		if (v[i] > FP_ACCT_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[counts[i]],
					    "at most 2^40 per request");
			return -ERANGE;
		}
	}
	if (a[FP_A_CT_ZONE])
		zone = nla_get_u16(a[FP_A_CT_ZONE]);
	return fpk_ct_acct(genl_info_net(info), &k, zone,
			   (const u64[2]){ v[0], v[2] },
			   (const u64[2]){ v[1], v[3] }, info->extack);
}

static const struct genl_small_ops fpk_ops[] = {
	{
		.cmd	= FP_CMD_DEV_GET,
		.flags	= GENL_ADMIN_PERM,
		.doit	= fpk_dev_get_doit,
		.dumpit	= fpk_dev_get_dumpit,
	},
	{
		.cmd	= FP_CMD_FLOW_ADD,
		.flags	= GENL_ADMIN_PERM,
		.doit	= fpk_flow_add_doit,
	},
	{
		.cmd	= FP_CMD_FLOW_DEL,
		.flags	= GENL_ADMIN_PERM,
		.doit	= fpk_flow_del_doit,
	},
	{
		.cmd	= FP_CMD_FLOW_GET,
		.flags	= GENL_ADMIN_PERM,
		.dumpit	= fpk_flow_get_dumpit,
	},
	{
		.cmd	= FP_CMD_FLUSH,
		.flags	= GENL_ADMIN_PERM,
		.doit	= fpk_flush_doit,
	},
	{
		.cmd	= FP_CMD_LEASE,
		.flags	= GENL_ADMIN_PERM,
		.doit	= fpk_lease_doit,
	},
	{
		.cmd	= FP_CMD_CT_ACCT,
		.flags	= GENL_ADMIN_PERM,
		.doit	= fpk_ct_acct_doit,
	},
};

static struct genl_family fpk_family __ro_after_init = {
	.name		= FP_GENL_NAME,
	.version	= FP_GENL_VERSION,
	.maxattr	= FP_A_MAX,
	.policy		= fpk_policy,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.small_ops	= fpk_ops,
	.n_small_ops	= ARRAY_SIZE(fpk_ops),
};

int fpk_genl_init(void)
{
	return genl_register_family(&fpk_family);
}

void fpk_genl_exit(void)
{
	genl_unregister_family(&fpk_family);
}
