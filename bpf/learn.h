/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * learn.h - read the egress tuple and L2 header of a slow-path skb for
 * learning.
 *
 * The skb at TC egress may be non-linear (GSO, paged data), so this uses
 * bpf_skb_load_bytes() rather than the XDP cursor: it copies the few header
 * bytes it needs whatever the layout.
 *
 * It runs on the lowest device, where the frame leaves, so it sees the
 * whole encapsulation the stacked devices (eth0.7, ppp0) put around the IP
 * packet. It learns exactly the shapes the XDP side parses (l2.h), so
 * every learned header is one the other direction's datapath could match:
 * up to two tags (outer 802.1Q or 802.1ad, inner 802.1Q), then optionally
 * a PPPoE session carrying IPv4 or IPv6.
 */
#ifndef FP_LEARN_H
#define FP_LEARN_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"
#include "l2.h"

/* The L2 header the kernel wrote, in fp_flow's terms. */
struct learn_l2 {
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
	__u16 vlan[2];
	__u16 pppoe_sid;
};

/* A tag's value as fp_flow.out_vlan holds it; 0 when it cannot be one. */
static __always_inline __u16 learn_tag(__be16 tpid, __u16 tci, int outer)
{
	__u16 vid = tci & FP_VLAN_VID_MASK;

	if (vid == 0 || vid == FP_VLAN_VID_MASK)
		return 0;
	if (tpid == bpf_htons(ETH_P_8021Q))
		return vid;
	/* 802.1ad only outside: XDP passes an inner one, so must we. */
	if (tpid == bpf_htons(ETH_P_8021AD) && outer)
		return vid | FP_VLAN_8021AD;
	return 0;
}

/*
 * A tag in the bytes at @off, whose TPID was the previous ethertype
 * @*proto: records it in the first free slot of @l2, then moves @off and
 * @proto past it. -1 when it is a third tag or not one we could write.
 */
static __always_inline int learn_byte_tag(struct __sk_buff *skb, __u32 *off,
					  __be16 *proto, struct learn_l2 *l2)
{
	struct fp_vlan_hdr vh;
	__u16 v;

	if (l2->vlan[1])
		return -1;
	if (bpf_skb_load_bytes(skb, *off, &vh, sizeof(vh)))
		return -1;
	v = learn_tag(*proto, bpf_ntohs(vh.tci), !l2->vlan[0]);
	if (!v)
		return -1;
	if (l2->vlan[0])
		l2->vlan[1] = v;
	else
		l2->vlan[0] = v;
	*proto = vh.proto;
	*off += sizeof(vh);
	return 0;
}

/*
 * Fills @k (ifindex 0, no encapsulation: the learn-map key) and @l2;
 * returns 0 when the skb is learnable.
 */
static __always_inline int learn_parse(struct __sk_buff *skb,
				       struct fp_flow_key *k,
				       struct learn_l2 *l2)
{
	struct ethhdr eth;
	__u32 off = ETH_HLEN, l4off;
	__be16 proto;
	__u8 flags;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)))
		return -1;
	proto = eth.h_proto;

	/*
	 * A tag the stack kept in metadata (vlan_present) is the outermost:
	 * the device or validate_xmit_vlan() inserts it right after the
	 * MACs. Tags still in the bytes follow it. Two in all, unrolled by
	 * hand so that no verifier has to bound a loop.
	 */
	if (skb->vlan_present) {
		l2->vlan[0] = learn_tag(skb->vlan_proto, skb->vlan_tci, 1);
		if (!l2->vlan[0])
			return -1;
	}
	if (is_vlan_tpid(proto) && learn_byte_tag(skb, &off, &proto, l2))
		return -1;
	if (is_vlan_tpid(proto) && learn_byte_tag(skb, &off, &proto, l2))
		return -1;
	if (is_vlan_tpid(proto))
		return -1;

	if (proto == bpf_htons(ETH_P_PPP_SES)) {
		struct fp_pppoe_hdr ph;

		if (bpf_skb_load_bytes(skb, off, &ph, sizeof(ph)))
			return -1;
		if (ph.ver_type != PPPOE_VER_TYPE || ph.code || !ph.sid ||
		    ph.sid == bpf_htons(PPPOE_SID_RESERVED))
			return -1;
		if (ph.ppp_proto == bpf_htons(PPP_IP))
			proto = bpf_htons(ETH_P_IP);
		else if (ph.ppp_proto == bpf_htons(PPP_IPV6))
			proto = bpf_htons(ETH_P_IPV6);
		else
			return -1;
		l2->pppoe_sid = bpf_ntohs(ph.sid);
		off += sizeof(ph);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
			return -1;
		if (ip.version != 4 || ip.ihl != 5 ||
		    (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return -1;
		k->family = AF_INET;
		k->proto = ip.protocol;
		k->saddr[0] = ip.saddr;
		k->daddr[0] = ip.daddr;
		l4off = off + sizeof(ip);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
			return -1;
		k->family = AF_INET6;
		k->proto = ip6.nexthdr;
		__builtin_memcpy(k->saddr, &ip6.saddr, 16);
		__builtin_memcpy(k->daddr, &ip6.daddr, 16);
		l4off = off + sizeof(ip6);
	} else {
		return -1;
	}
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return -1;
	if (bpf_skb_load_bytes(skb, l4off, &k->sport, 4))
		return -1;
	/* A closing packet must not bring the flow (back) to the fast path. */
	if (k->proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, l4off + 13, &flags, 1))
			return -1;
		if (flags & (TCP_FLAG_FIN | TCP_FLAG_RST | TCP_FLAG_SYN))
			return -1;
	}
	__builtin_memcpy(l2->dmac, eth.h_dest, ETH_ALEN);
	__builtin_memcpy(l2->smac, eth.h_source, ETH_ALEN);
	return 0;
}

#endif /* FP_LEARN_H */
