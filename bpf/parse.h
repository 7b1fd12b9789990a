/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parse.h - header cursor and the L3/L4 parsers of the datapath (the L2
 * header, tags and PPPoE included, is l2.h's).
 *
 * Every parser takes the cursor, checks bounds against data_end, advances
 * past its header and fills the flow key. A negative return is a pass
 * reason (enum fp_reason, negated): the packet goes to the slow path.
 */
#ifndef FP_PARSE_H
#define FP_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

#include "fastpath.h"

#ifndef AF_INET
#define AF_INET		2
#endif
#ifndef AF_INET6
#define AF_INET6	10
#endif

#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

/*
 * Verifier workaround: before 6.x the verifier tracks no bounds through a
 * byte swap, so a swapped length added to a packet pointer is "unbounded"
 * and rejected (seen on 6.1). Masking again restores the bound; the empty
 * asm keeps clang from deleting a mask it knows to be redundant.
 */
static __always_inline __u32 len16(__be16 v)
{
	__u32 x = bpf_ntohs(v);

	asm volatile("" : "+r"(x));
	return x & 0xffff;
}

/*
 * @end is the end of what the program can read. In XDP that is the end of
 * the frame and @len is 0. At TC the skb's linear part may end before the
 * frame does (a GSO packet, paged data), so @len holds skb->len and the
 * length checks use it. XDP initialises @len with a constant 0, so the
 * compiler drops the TC branches from its copy.
 */
struct hdr_cursor {
	void *pos;
	void *end;
	__u32 len;
};

/* What the datapath needs to know about a parsed packet, beyond the key. */
struct pkt {
	struct ethhdr *eth;
	struct iphdr *ip4;		/* exactly one of ip4/ip6 is set */
	struct ipv6hdr *ip6;
	__be16 *ports;			/* source, destination: same in TCP and UDP */
	__sum16 *l4check;		/* taken where the L4 bounds are known */
	__u32 l3_len;			/* L3 length from the IP header */
	__u32 l4_len;			/* what of it follows the IP header */
	__u16 l2_len;			/* ingress L2 header: Ethernet, tags, PPPoE */
	__u16 pppoe_len;		/* ingress PPPoE length field, 0 = none */
	__u8 tcp_flags;			/* byte 13 of the TCP header, 0 for UDP */
	__u8 l4_hlen;			/* TCP or UDP header length (TC: GSO) */
};

/* Whether @l3_len bytes of IP packet at @l3 run past the frame. */
static __always_inline int l3_beyond(const struct hdr_cursor *c,
				     const struct pkt *p, void *l3,
				     __u32 l3_len)
{
	if (c->len)
		return p->l2_len + l3_len > c->len;
	return l3 + l3_len > c->end;
}

/* Whether the frame holds more than the @l3_len bytes of IP packet. */
static __always_inline int l3_trailing(const struct hdr_cursor *c,
				       const struct pkt *p, void *l3,
				       __u32 l3_len)
{
	if (c->len)
		return p->l2_len + l3_len != c->len;
	return l3 + l3_len != c->end;
}

#define TCP_FLAG_FIN	0x01
#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_RST	0x04
#define TCP_FLAG_ACK	0x10

/*
 * The stack drops an IPv4 header whose checksum does not verify
 * (ip_rcv_core()); the incremental update in nat.h would forward it as
 * wrong as it came. Ten 16-bit loads, as the header is only known to be
 * 2-byte aligned.
 */
static __always_inline int ipv4_csum_ok(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 s = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		s += w[i];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static __always_inline int parse_ipv4(struct hdr_cursor *c, struct pkt *p,
				      struct fp_flow_key *k)
{
	struct iphdr *ip = c->pos;
	__u32 tot;

	if ((void *)(ip + 1) > c->end)
		return -FP_R_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return -FP_R_MALFORMED;
	if (ip->ihl != 5)
		return -FP_R_IP_OPTIONS;
	tot = len16(ip->tot_len);
	/* A frame shorter than the IP length is inconsistent; one longer
	 * is checked below.
	 */
	if (tot < sizeof(*ip) || l3_beyond(c, p, ip, tot))
		return -FP_R_MALFORMED;
	/*
	 * Bytes after the IP packet. The stack trims them (pskb_trim_rcsum()
	 * in ip_rcv_core()/ipv6_rcv()) before it forwards, so forwarding them
	 * would send what the slow path never sends: such a frame goes up.
	 * That includes the padding of a minimum-size Ethernet frame, which
	 * real NICs deliver (veth does not pad): an IPv4 TCP ACK without
	 * options (54 bytes, padded to 60) takes the slow path there.
	 * Trimming in place (bpf_xdp_adjust_tail()) would keep those fast;
	 * until that is measured, the rule is pass.
	 */
	if (l3_trailing(c, p, ip, tot))
		return -FP_R_TRAILING;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return -FP_R_FRAGMENT;
	if (!ipv4_csum_ok(ip))
		return -FP_R_MALFORMED;

	c->pos = ip + 1;
	p->ip4 = ip;
	p->l3_len = tot;
	p->l4_len = tot - sizeof(*ip);
	k->family = AF_INET;
	k->proto = ip->protocol;
	k->saddr[0] = ip->saddr;
	k->daddr[0] = ip->daddr;
	return ip->protocol;
}

static __always_inline int ipv6_is_ext(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case 135:	/* mobility */
	case 139:	/* HIP */
	case 140:	/* shim6 */
		return 1;
	default:
		return 0;
	}
}

static __always_inline int parse_ipv6(struct hdr_cursor *c, struct pkt *p,
				      struct fp_flow_key *k)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen;

	if ((void *)(ip6 + 1) > c->end)
		return -FP_R_MALFORMED;
	if (ip6->version != 6)
		return -FP_R_MALFORMED;
	plen = len16(ip6->payload_len);
	/* payload_len 0 is a jumbogram, which needs a hop-by-hop header. */
	if (l3_beyond(c, p, ip6, sizeof(*ip6) + plen))
		return -FP_R_MALFORMED;
	if (l3_trailing(c, p, ip6, sizeof(*ip6) + plen))	/* as in parse_ipv4() */
		return -FP_R_TRAILING;
	if (ipv6_is_ext(ip6->nexthdr))
		return -FP_R_IPV6_EXT;

	c->pos = ip6 + 1;
	p->ip6 = ip6;
	p->l3_len = plen + sizeof(*ip6);
	p->l4_len = plen;
	k->family = AF_INET6;
	k->proto = ip6->nexthdr;
	__builtin_memcpy(k->saddr, &ip6->saddr, 16);
	__builtin_memcpy(k->daddr, &ip6->daddr, 16);
	return ip6->nexthdr;
}

/*
 * The IP parsers made c->end the end of the IP packet (nothing follows
 * it); the L4 header must fit in it, and its own length must agree, or
 * conntrack would call the packet invalid and the slow path would drop it.
 */
static __always_inline int parse_l4(struct hdr_cursor *c, struct pkt *p,
				    struct fp_flow_key *k, int proto)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = c->pos;

		if ((void *)(th + 1) > c->end || th->doff < 5 ||
		    th->doff * 4 > p->l4_len)
			return -FP_R_MALFORMED;
		p->tcp_flags = ((__u8 *)th)[13];
		/* Every segment of an established connection carries ACK but
		 * a RST answering one without (RFC 9293 3.10.7.1) and the
		 * handshake's SYN, which the entry's checks take. A segment
		 * with none of them, no flags at all included, is conntrack's
		 * to judge (it calls most of them invalid), and it must not
		 * end the flow as a FIN would.
		 */
		if (!(p->tcp_flags & (TCP_FLAG_ACK | TCP_FLAG_SYN | TCP_FLAG_RST)))
			return -FP_R_TCP_NO_ACK;
		p->l4check = &th->check;
		p->l4_hlen = th->doff * 4;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = c->pos;
		__u32 ulen;

		if ((void *)(uh + 1) > c->end)
			return -FP_R_MALFORMED;
		ulen = len16(uh->len);
		if (ulen < sizeof(*uh) || ulen > p->l4_len)
			return -FP_R_MALFORMED;
		/* Zero means "no checksum" only in IPv4; the stack drops it
		 * in IPv6, and NAT must not turn it into a valid-looking one.
		 */
		if (k->family == AF_INET6 && !uh->check)
			return -FP_R_MALFORMED;
		p->l4check = &uh->check;
		p->l4_hlen = sizeof(*uh);
	} else {
		return -FP_R_L4_PROTO;
	}
	p->ports = c->pos;
	k->sport = p->ports[0];
	k->dport = p->ports[1];
	return 0;
}

#endif /* FP_PARSE_H */
