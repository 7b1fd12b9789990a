/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * learn.h - read the egress tuple of a slow-path skb for learning.
 *
 * The skb at TC egress may be non-linear (GSO, paged data), so this uses
 * bpf_skb_load_bytes() rather than the XDP cursor: it copies the few header
 * bytes it needs whatever the layout. Only plain Ethernet is learned for
 * now, like the XDP side.
 */
#ifndef FP_LEARN_H
#define FP_LEARN_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"

/* Fills @k (ifindex 0) and the MACs; returns 0 when the skb is learnable. */
static __always_inline int learn_parse(struct __sk_buff *skb,
				       struct fp_flow_key *k, __u8 *dmac,
				       __u8 *smac)
{
	struct ethhdr eth;
	__u32 l4off;
	__u8 flags;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)))
		return -1;
	if (eth.h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, sizeof(eth), &ip, sizeof(ip)))
			return -1;
		if (ip.version != 4 || ip.ihl != 5 ||
		    (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return -1;
		k->family = AF_INET;
		k->proto = ip.protocol;
		k->saddr[0] = ip.saddr;
		k->daddr[0] = ip.daddr;
		l4off = sizeof(eth) + sizeof(ip);
	} else if (eth.h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, sizeof(eth), &ip6, sizeof(ip6)))
			return -1;
		k->family = AF_INET6;
		k->proto = ip6.nexthdr;
		__builtin_memcpy(k->saddr, &ip6.saddr, 16);
		__builtin_memcpy(k->daddr, &ip6.daddr, 16);
		l4off = sizeof(eth) + sizeof(ip6);
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
	__builtin_memcpy(dmac, eth.h_dest, ETH_ALEN);
	__builtin_memcpy(smac, eth.h_source, ETH_ALEN);
	return 0;
}

#endif /* FP_LEARN_H */
