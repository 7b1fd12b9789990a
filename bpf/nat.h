/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nat.h - address/port rewrite with incremental checksum updates.
 *
 * RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'). The ~m + m' terms of every
 * changed word are summed into one 64-bit accumulator (a "diff"), which is
 * folded and applied once per checksum field. One's complement sums do not
 * depend on byte order as long as every word is read from the packet the
 * same way, so all words are used as stored (network order).
 */
#ifndef FP_NAT_H
#define FP_NAT_H

#include "parse.h"

static __always_inline __u16 csum_fold64(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

static __always_inline __u64 csum_diff16(__u64 d, __u16 from, __u16 to)
{
	return d + (__u16)~from + to;
}

static __always_inline __u64 csum_diff32(__u64 d, __u32 from, __u32 to)
{
	return d + (__u32)~from + to;
}

static __always_inline __u64 csum_diff128(__u64 d, const __u32 *from,
					  const __u32 *to)
{
#pragma unroll
	for (int i = 0; i < 4; i++)
		d = csum_diff32(d, from[i], to[i]);
	return d;
}

static __always_inline __u16 csum_apply(__u16 check, __u64 diff)
{
	return (__u16)~csum_fold64((__u16)~check + diff);
}

/*
 * TTL or hop limit minus one, written as the 16-bit word that holds it and
 * that the checksums sum: @w holds it in its first byte (IPv4: TTL,
 * protocol) or its second (IPv6: next header, hop limit). Returns the new
 * word, computed rather than read back: a 16-bit load of what a byte
 * store just wrote cannot be forwarded from the store buffer and waits for
 * the store to drain (perf on the TC tier: ~9% of the program). The value
 * is over 1 here (flow_check()), so the byte never borrows from the other.
 */
static __always_inline __u16 ttl_dec_word(__u16 *w, __u16 old, const int first)
{
	__u16 new = old - (first ? bpf_htons(0x0100) : bpf_htons(0x0001));

	*w = new;
	return new;
}

/*
 * Rewrite addresses and ports of @p as @f says, decrement TTL or hop limit,
 * and fix every checksum the changes touch. Only called after every pass
 * check: from here on the packet is committed to the fast path.
 *
 * @family is a compile-time constant at every call site. The verifier
 * cannot tell that p->ip4 and p->ip6 are mutually exclusive, so the two
 * families must stay separate code paths rather than a runtime branch.
 */
static __always_inline void nat_rewrite(struct pkt *p, const struct fp_flow *f,
					__u8 proto, const int family)
{
	__u64 l4diff = 0;	/* pseudo-header and port changes */
	__sum16 *l4check = p->l4check;
	__be16 *sport = &p->ports[0], *dport = &p->ports[1];

	if (f->flags & FP_F_SNAT) {
		l4diff = csum_diff16(l4diff, *sport, f->nat_sport);
		*sport = f->nat_sport;
	}
	if (f->flags & FP_F_DNAT) {
		l4diff = csum_diff16(l4diff, *dport, f->nat_dport);
		*dport = f->nat_dport;
	}

	if (family == AF_INET) {
		struct iphdr *ip = p->ip4;
		__u64 ipdiff = 0;
		__u16 old_ttl_word = *(__u16 *)&ip->ttl;

		if (f->flags & FP_F_SNAT) {
			ipdiff = csum_diff32(ipdiff, ip->saddr, f->nat_saddr[0]);
			ip->saddr = f->nat_saddr[0];
		}
		if (f->flags & FP_F_DNAT) {
			ipdiff = csum_diff32(ipdiff, ip->daddr, f->nat_daddr[0]);
			ip->daddr = f->nat_daddr[0];
		}
		/* The addresses are in the L4 pseudo-header too. */
		l4diff += ipdiff;
		ipdiff = csum_diff16(ipdiff, old_ttl_word,
				     ttl_dec_word((__u16 *)&ip->ttl, old_ttl_word, 1));
		ip->check = csum_apply(ip->check, ipdiff);
	} else {
		struct ipv6hdr *ip6 = p->ip6;

		if (f->flags & FP_F_SNAT) {
			l4diff = csum_diff128(l4diff, (__u32 *)&ip6->saddr,
					      f->nat_saddr);
			__builtin_memcpy(&ip6->saddr, f->nat_saddr, 16);
		}
		if (f->flags & FP_F_DNAT) {
			l4diff = csum_diff128(l4diff, (__u32 *)&ip6->daddr,
					      f->nat_daddr);
			__builtin_memcpy(&ip6->daddr, f->nat_daddr, 16);
		}
		ip6->hop_limit--;
	}

	if (!(f->flags & (FP_F_SNAT | FP_F_DNAT)))
		return;
	if (proto == IPPROTO_UDP) {
		/* An IPv4 UDP checksum of zero means "none" and stays zero.
		 * A computed zero is sent as 0xffff (RFC 768); for IPv6,
		 * where the checksum is mandatory, 0 would be invalid.
		 */
		if (family == AF_INET && *l4check == 0)
			return;
		*l4check = csum_apply(*l4check, l4diff) ?: 0xffff;
	} else {
		*l4check = csum_apply(*l4check, l4diff);
	}
}

/* Whether adding @diff changes a one's complement sum at all. */
static __always_inline int csum_changes(__u64 diff)
{
	__u16 f = csum_fold64(diff);

	return f && f != 0xffff;
}

/*
 * TC: the same rewrite on an skb, which has a checksum state XDP cannot
 * see. The L4 checksum goes through bpf_l4_csum_replace(), which knows it:
 *  - CHECKSUM_PARTIAL (veth, tun, virtio with transmit offload): the field
 *    holds only the pseudo-header sum, to be completed on transmit. The
 *    address changes (BPF_F_PSEUDO_HDR) go into it, the port changes must
 *    not, as the ports are summed with the payload later;
 *  - CHECKSUM_COMPLETE: skb->csum sums the packet from the network header.
 *    The helper updates the field and takes the pseudo-header changes out
 *    of skb->csum as the kernel's NAT does. Every other changed word that
 *    nothing compensates (IPv6 addresses and hop limit, the ports of an
 *    IPv4 UDP packet without checksum, the PPPoE header via @cdiff) goes
 *    into skb->csum with bpf_csum_update(), which does nothing otherwise;
 *  - otherwise the field is complete, and updated as in XDP.
 * The IPv4 header checksum is always complete and written directly; its
 * header keeps summing to zero, so skb->csum does not change for it.
 *
 * @data is skb->data after l2_push_skb() and pkt_reload(). All direct
 * writes come first: the helpers invalidate every packet pointer.
 */
static __always_inline void nat_rewrite_skb(struct __sk_buff *skb, void *data,
					    struct pkt *p,
					    const struct fp_flow *f, __u8 proto,
					    __u64 cdiff, const int family)
{
	__u64 pseudo = 0, ports = 0;
	__u32 off = (void *)p->l4check - data;
	__be16 *sport = &p->ports[0], *dport = &p->ports[1];
	__u64 mm0 = proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	int l4 = f->flags & (FP_F_SNAT | FP_F_DNAT);

	if (f->flags & FP_F_SNAT) {
		ports = csum_diff16(ports, *sport, f->nat_sport);
		*sport = f->nat_sport;
	}
	if (f->flags & FP_F_DNAT) {
		ports = csum_diff16(ports, *dport, f->nat_dport);
		*dport = f->nat_dport;
	}

	if (family == AF_INET) {
		struct iphdr *ip = p->ip4;
		__u16 old_ttl_word = *(__u16 *)&ip->ttl;
		__u64 ipdiff;

		if (f->flags & FP_F_SNAT) {
			pseudo = csum_diff32(pseudo, ip->saddr, f->nat_saddr[0]);
			ip->saddr = f->nat_saddr[0];
		}
		if (f->flags & FP_F_DNAT) {
			pseudo = csum_diff32(pseudo, ip->daddr, f->nat_daddr[0]);
			ip->daddr = f->nat_daddr[0];
		}
		ipdiff = csum_diff16(pseudo, old_ttl_word,
				     ttl_dec_word((__u16 *)&ip->ttl, old_ttl_word, 1));
		ip->check = csum_apply(ip->check, ipdiff);
		/* No checksum: it stays zero, and only the ports change the
		 * sum of the bytes.
		 */
		if (proto == IPPROTO_UDP && *p->l4check == 0) {
			cdiff += ports;
			l4 = 0;
		}
	} else {
		struct ipv6hdr *ip6 = p->ip6;
		__u16 *hop_word = (__u16 *)&ip6->payload_len + 1;
		__u16 old_hop_word = *hop_word;

		if (f->flags & FP_F_SNAT) {
			pseudo = csum_diff128(pseudo, (__u32 *)&ip6->saddr,
					      f->nat_saddr);
			__builtin_memcpy(&ip6->saddr, f->nat_saddr, 16);
		}
		if (f->flags & FP_F_DNAT) {
			pseudo = csum_diff128(pseudo, (__u32 *)&ip6->daddr,
					      f->nat_daddr);
			__builtin_memcpy(&ip6->daddr, f->nat_daddr, 16);
		}
		cdiff = csum_diff16(cdiff, old_hop_word,
				    ttl_dec_word(hop_word, old_hop_word, 0));
		cdiff += pseudo;
	}

	/* A helper call costs more than the check: a diff that folds to
	 * 0 or 0xffff (masquerade keeping the port) changes nothing.
	 */
	if (l4 && csum_changes(pseudo))
		bpf_l4_csum_replace(skb, off, 0, csum_fold64(pseudo),
				    BPF_F_PSEUDO_HDR | mm0);
	if (l4 && csum_changes(ports))
		bpf_l4_csum_replace(skb, off, 0, csum_fold64(ports), mm0);
	if (csum_changes(cdiff))
		bpf_csum_update(skb, csum_fold64(cdiff));
}

#endif /* FP_NAT_H */
