// SPDX-License-Identifier: GPL-2.0-only
/*
 * fp_ct.c - conntrack accounting: the packets and bytes a fast path tier
 * carried (XDP, TC or the hardware), added to the counters of their
 * conntrack entry. The fast path hides them from conntrack, and
 * "conntrack -L", nlbwmon and LuCI read those counters; nf_flowtable
 * writes its own back the same way (nf_ct_acct_add() in
 * flow_offload_work_stats()). This part serves every SoC, PPE or not.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "fp_kmod.h"

#ifdef FP_HAVE_CT
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_acct.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_zones.h>

static void fpk_ct_add(struct nf_conn *ct, u32 dir, u64 packets, u64 bytes)
{
	unsigned int p, b;

	/* nf_ct_acct_add() counts in unsigned int; callers bound the sum. */
	while (packets || bytes) {
		p = min_t(u64, packets, UINT_MAX);
		b = min_t(u64, bytes, UINT_MAX);
		nf_ct_acct_add(ct, dir, p, b);
		packets -= p;
		bytes -= b;
	}
}

/*
 * Adds @packets[0]/@bytes[0] to the direction of the entry whose tuple
 * is @k's, and @packets[1]/@bytes[1] to its other direction.
 */
int fpk_ct_acct(struct net *net, const struct fp_flow_key *k, u16 zone,
		const u64 packets[2], const u64 bytes[2],
		struct netlink_ext_ack *extack)
{
	struct nf_conntrack_tuple_hash *h;
	struct nf_conntrack_tuple t;
	struct nf_conntrack_zone z;
	enum ip_conntrack_dir dir;
	struct nf_conn *ct;
	int err = 0;

	/* Unused address bytes must be zero: tuples compare all 16. */
	memset(&t, 0, sizeof(t));
	t.src.l3num = k->family;
	memcpy(&t.src.u3, k->saddr, sizeof(t.src.u3));
	memcpy(&t.dst.u3, k->daddr, sizeof(t.dst.u3));
	t.src.u.all = k->sport;
	t.dst.u.all = k->dport;
	t.dst.protonum = k->proto;
	nf_ct_zone_init(&z, zone, NF_CT_DEFAULT_ZONE_DIR, 0);

	h = nf_conntrack_find_get(net, &z, &t);
	if (!h) {
		NL_SET_ERR_MSG(extack, "no conntrack entry has this tuple");
		return -ENOENT;
	}
	ct = nf_ct_tuplehash_to_ctrack(h);
	dir = NF_CT_DIRECTION(h);
	if (!nf_conn_acct_find(ct)) {
		NL_SET_ERR_MSG(extack,
			       "the entry has no counters: net.netfilter.nf_conntrack_acct was 0 when it was created");
		err = -EOPNOTSUPP;
		goto out;
	}
	fpk_ct_add(ct, dir, packets[0], bytes[0]);
	fpk_ct_add(ct, !dir, packets[1], bytes[1]);
out:
	nf_ct_put(ct);
	return err;
}
#else
int fpk_ct_acct(struct net *net, const struct fp_flow_key *k, u16 zone,
		const u64 packets[2], const u64 bytes[2],
		struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG(extack, "the kernel has no conntrack");
	return -EOPNOTSUPP;
}
#endif
