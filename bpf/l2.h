/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * l2.h - the L2 header: Ethernet, up to two VLAN tags and a PPPoE session,
 * parsed on ingress into the flow key and written whole on egress from
 * the flow entry.
 *
 * Ingress shapes (anything else goes to the slow path):
 *   eth [tag] [tag] [PPPoE session + PPP protocol 0x0021/0x0057] IP
 * with the outer tag 802.1Q or 802.1ad and an inner tag always 802.1Q.
 *
 * XDP sees only the bytes. A tag that a NIC's RX VLAN offload, or a veth
 * whose peer sends with tx-vlan-offload, keeps in skb metadata is not in
 * them, and such a frame reads as untagged here (reading the metadata
 * takes a kfunc, 6.8+). Whoever attaches the program must turn those
 * offloads off: such a frame misses its tagged entry, and would match an
 * untagged entry of the same tuple on the same port.
 *
 * At TC ingress the stack has always moved the outer tag into the skb's
 * metadata (__netif_receive_skb_core() untags before the clsact hook), so
 * the TC program hands it in as @hw_tag and the bytes hold at most the
 * inner one. XDP passes a constant 0 and compiles as if it did not exist.
 * The key is the same either way. On egress the TC program pops every
 * ingress tag with bpf_skb_vlan_pop() and writes the egress header into
 * the bytes, as XDP does (l2_push_skb()).
 */
#ifndef FP_L2_H
#define FP_L2_H

#include "parse.h"
#include "nat.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD	0x88A8
#endif

#define VLAN_HLEN	4
#define PPPOE_SES_HLEN	8	/* session header (6) + PPP protocol (2) */
#define PPPOE_VER_TYPE	0x11	/* version 1, type 1 (RFC 2516) */
#define PPPOE_SID_RESERVED 0xffff
#define PPP_IP		0x0021
#define PPP_IPV6	0x0057

/* The longest L2 header we write: Ethernet, two tags, PPPoE. */
#define FP_L2_MAX	(ETH_HLEN + 2 * VLAN_HLEN + PPPOE_SES_HLEN)

/* The shortest IP packet we forward: IPv4 without options, then UDP. */
#define FP_L3_MIN	28

_Static_assert(ETH_HLEN + FP_L3_MIN >= FP_L2_MAX, "l2_push() bounds");

/* 802.1Q/802.1ad tag; it sits where an ethertype would be. */
struct fp_vlan_hdr {
	__be16 tci;
	__be16 proto;		/* what follows the tag */
};

/* PPPoE session header (RFC 2516) with the PPP protocol field after it. */
struct fp_pppoe_hdr {
	__u8 ver_type;
	__u8 code;		/* 0 in the session stage */
	__be16 sid;
	__be16 len;		/* PPP protocol field + the IP packet */
	__be16 ppp_proto;
};

static __always_inline int is_vlan_tpid(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) ||
	       proto == bpf_htons(ETH_P_8021AD);
}

/*
 * One tag at the cursor: returns its key value (the VID, with @flag for an
 * outer 802.1ad tag) and sets @proto to what follows, or a negative pass
 * reason.
 */
static __always_inline int l2_parse_tag(struct hdr_cursor *c, __be16 *proto,
					__u16 flag)
{
	struct fp_vlan_hdr *vh = c->pos;
	__u16 vid;

	if ((void *)(vh + 1) > c->end)
		return -FP_R_MALFORMED;
	vid = bpf_ntohs(vh->tci) & FP_VLAN_VID_MASK;
	/* VID 0 only carries a priority and 4095 is reserved. As a key, 0
	 * would also alias the untagged frame.
	 */
	if (vid == 0 || vid == FP_VLAN_VID_MASK)
		return -FP_R_VLAN;
	*proto = vh->proto;
	c->pos = vh + 1;
	return vid | flag;
}

/*
 * Tags and PPPoE after the MACs. Two tags at most, parsed one after the
 * other rather than in a loop, so no verifier needs to bound a loop.
 */
static __always_inline int l2_parse_encap(struct hdr_cursor *c, struct pkt *p,
					  struct fp_flow_key *k, __be16 proto,
					  __u16 hw_tag)
{
	__u16 l2_len = ETH_HLEN;
	int tag;

	if (hw_tag) {
		/* TC: the outer tag is metadata; an inner one may follow. */
		k->vlan[0] = hw_tag;
		if (proto == bpf_htons(ETH_P_8021Q)) {
			tag = l2_parse_tag(c, &proto, 0);
			if (tag < 0)
				return tag;
			k->vlan[1] = tag;
			l2_len += VLAN_HLEN;
		}
		if (is_vlan_tpid(proto))
			return -FP_R_VLAN;
	} else if (is_vlan_tpid(proto)) {
		tag = l2_parse_tag(c, &proto,
				   proto == bpf_htons(ETH_P_8021AD) ?
				   FP_VLAN_8021AD : 0);
		if (tag < 0)
			return tag;
		k->vlan[0] = tag;
		l2_len += VLAN_HLEN;
		if (proto == bpf_htons(ETH_P_8021Q)) {
			tag = l2_parse_tag(c, &proto, 0);
			if (tag < 0)
				return tag;
			k->vlan[1] = tag;
			l2_len += VLAN_HLEN;
		}
		/* A third tag, or 802.1ad inside a tag: the key has no room
		 * for it, and matching without it would alias flows.
		 */
		if (is_vlan_tpid(proto))
			return -FP_R_VLAN;
	}

	if (proto == bpf_htons(ETH_P_PPP_SES)) {
		struct fp_pppoe_hdr *ph = c->pos;

		if ((void *)(ph + 1) > c->end)
			return -FP_R_MALFORMED;
		if (ph->ver_type != PPPOE_VER_TYPE || ph->code || !ph->sid ||
		    ph->sid == bpf_htons(PPPOE_SID_RESERVED))
			return -FP_R_PPPOE;
		/* LCP echoes and the other control protocols are pppd's. */
		if (ph->ppp_proto == bpf_htons(PPP_IP))
			proto = bpf_htons(ETH_P_IP);
		else if (ph->ppp_proto == bpf_htons(PPP_IPV6))
			proto = bpf_htons(ETH_P_IPV6);
		else
			return -FP_R_PPP_PROTO;
		k->pppoe_sid = bpf_ntohs(ph->sid);
		p->pppoe_len = len16(ph->len);
		c->pos = ph + 1;
		l2_len += PPPOE_SES_HLEN;
	}

	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return -FP_R_L2_PROTO;
	p->l2_len = l2_len;
	return proto;
}

/*
 * Parse the L2 header into @k (VLAN ids, PPPoE session) and @p. Returns the
 * L3 ethertype (network order) or a negative pass reason. @hw_tag is the
 * key value of a tag the skb carries as metadata (TC), else 0.
 */
static __always_inline int l2_parse(struct hdr_cursor *c, struct pkt *p,
				    struct fp_flow_key *k, __u16 hw_tag)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > c->end)
		return -FP_R_MALFORMED;
	c->pos = eth + 1;
	p->eth = eth;

	/* Plain Ethernet first: it pays one store more than before the
	 * encapsulations existed, nothing else.
	 */
	if (eth->h_proto == bpf_htons(ETH_P_IP) ||
	    eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		p->l2_len = ETH_HLEN;
		if (hw_tag)
			k->vlan[0] = hw_tag;
		return eth->h_proto;
	}
	return l2_parse_encap(c, p, k, eth->h_proto, hw_tag);
}

/*
 * RFC 2516: the PPPoE length covers the PPP protocol field and the IP
 * packet. Where they disagree the frame is malformed; forwarding it would
 * write a fresh length and hide that from the slow path.
 */
static __always_inline int l2_len_ok(const struct pkt *p,
				     const struct fp_flow_key *k)
{
	return !k->pppoe_sid || p->pppoe_len == p->l3_len + 2;
}

/* Two MACs equal: three 16-bit loads each, as the packet is only known
 * to be 2-byte aligned (NET_IP_ALIGN) and strict-alignment targets (MIPS)
 * refuse wider loads there.
 */
static __always_inline int mac_eq(const void *a, const void *b)
{
	const __u16 *x = a, *y = b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]));
}

/*
 * The frame is addressed to the router where the entry says it arrives
 * (fp_flow.in_dmac), and a PPPoE frame comes from the concentrator
 * (fp_flow.in_smac): the stack routes nothing else. A frame for another
 * host (a bridge floods unknown unicast, a switch port mirrors) or a
 * PPPoE frame from a host that is not the session's peer goes up, and
 * there the stack drops it or bridges it. @p->pppoe_len is set only for a
 * PPPoE frame (l2_len_ok() has made it the exact length).
 */
static __always_inline int l2_addr_ok(const struct pkt *p,
				      const struct fp_flow *f)
{
	if (!mac_eq(p->eth->h_dest, f->in_dmac))
		return 0;
	return !p->pppoe_len || mac_eq(p->eth->h_source, f->in_smac);
}

/* L3 bytes the egress link leaves for the IP packet: PPPoE takes 8. */
static __always_inline int l2_mtu_exceeded(const struct pkt *p,
					   const struct fp_flow *f)
{
	return p->l3_len + (f->out_pppoe_sid ? PPPOE_SES_HLEN : 0) > f->mtu;
}

/*
 * After bpf_xdp_adjust_head() the verifier has forgotten every packet
 * pointer, so find the IP and L4 headers again at their known offsets
 * (no IPv4 options, no IPv6 extension headers got this far). @l2_len is
 * bounded first: the verifier needs a bounded offset to add to data.
 */
static __always_inline int pkt_reload(struct pkt *p, void *data, void *end,
				      __u32 l2_len, __u8 proto, const int family)
{
	void *l3, *l4;

	if (l2_len > FP_L2_MAX)
		return -1;
	l3 = data + l2_len;
	l4 = l3 + (family == AF_INET ? sizeof(struct iphdr) :
				       sizeof(struct ipv6hdr));
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end)
			return -1;
		p->l4check = &th->check;
	} else {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end)
			return -1;
		p->l4check = &uh->check;
	}
	if (family == AF_INET)
		p->ip4 = l3;
	else
		p->ip6 = l3;
	p->ports = l4;
	p->eth = data;
	return 0;
}

/*
 * Write the egress L2 header in front of the IP packet. @data has room for
 * FP_L2_MAX bytes and @tail, where the ethertype or the PPPoE header goes,
 * for those 10 bytes: l2_push() checked both.
 */
static __always_inline void l2_write(void *data, __be16 *tail,
				     const struct fp_flow *f, __u16 v0,
				     __u16 v1, __u16 sid, __u32 l3_len,
				     const int family)
{
	struct ethhdr *eth = data;
	__be16 *tag = data + 2 * ETH_ALEN;	/* TPID, TCI, TPID, TCI */

	__builtin_memcpy(eth->h_dest, f->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f->smac, ETH_ALEN);
	if (v0) {
		tag[0] = v0 & FP_VLAN_8021AD ? bpf_htons(ETH_P_8021AD) :
					       bpf_htons(ETH_P_8021Q);
		tag[1] = bpf_htons(v0 & FP_VLAN_VID_MASK);
		if (v1) {
			tag[2] = bpf_htons(ETH_P_8021Q);
			tag[3] = bpf_htons(v1 & FP_VLAN_VID_MASK);
		}
	}
	if (sid) {
		struct fp_pppoe_hdr *ph = (void *)(tail + 1);

		tail[0] = bpf_htons(ETH_P_PPP_SES);
		ph->ver_type = PPPOE_VER_TYPE;
		ph->code = 0;
		ph->sid = bpf_htons(sid);
		ph->len = bpf_htons(l3_len + 2);
		ph->ppp_proto = family == AF_INET ? bpf_htons(PPP_IP) :
						    bpf_htons(PPP_IPV6);
	} else {
		tail[0] = family == AF_INET ? bpf_htons(ETH_P_IP) :
					      bpf_htons(ETH_P_IPV6);
	}
}

/*
 * The egress L2 header of @f: its length, the tags to write (a second tag
 * only counts under a first one) and where the ethertype goes.
 */
static __always_inline __u32 l2_out_len(const struct fp_flow *f, __u16 *v0,
					__u16 *v1, __u32 *tail_off)
{
	__u32 out_len = ETH_HLEN;

	*v0 = f->out_vlan[0];
	*v1 = 0;
	if (*v0) {
		*v1 = f->out_vlan[1];
		out_len += *v1 ? 2 * VLAN_HLEN : VLAN_HLEN;
	}
	*tail_off = out_len - 2;
	if (f->out_pppoe_sid)
		out_len += PPPOE_SES_HLEN;
	return out_len;
}

/*
 * Give the packet the entry's L2 header. The IP packet stays where it is
 * in memory; the head moves by the difference of the two L2 headers.
 * Returns FP_R_REDIRECT, or a pass reason with the packet as it arrived:
 * every check here runs before the first write.
 */
static __always_inline int l2_push(struct xdp_md *ctx, struct pkt *p,
				   const struct fp_flow *f, __u8 proto,
				   const int family)
{
	__u16 v0, v1, sid = f->out_pppoe_sid;
	__u32 out_len, tail_off;
	void *data, *end;
	__be16 *tail;
	int delta;

	out_len = l2_out_len(f, &v0, &v1, &tail_off);

	delta = (int)p->l2_len - (int)out_len;
	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return FP_R_HEADROOM;

	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	/*
	 * None of these checks can fail: the frame still holds its IP
	 * packet (at least FP_L3_MIN bytes) after at least ETH_HLEN bytes
	 * of L2, which is more than FP_L2_MAX. They are for the verifier,
	 * which has forgotten every bound if the head moved: one for the
	 * fixed offsets of the MACs and tags, one for the tail at its
	 * variable offset (the mask gives the verifier that offset's
	 * bound), and pkt_reload() for the headers NAT rewrites. Should one
	 * fail after all, the head goes back and the packet up as it came.
	 */
	tail = data + (tail_off & 0x1f);
	if (data + FP_L2_MAX > end || (void *)tail + 2 + PPPOE_SES_HLEN > end ||
	    (delta && pkt_reload(p, data, end, out_len, proto, family))) {
		if (delta)
			bpf_xdp_adjust_head(ctx, -delta);
		return FP_R_MALFORMED;
	}
	l2_write(data, tail, f, v0, v1, sid, p->l3_len, family);
	return FP_R_REDIRECT;
}

/*
 * TC: the ingress L2 header once its tags are popped is Ethernet plus the
 * PPPoE header, if any. The skb helpers can grow it (bpf_skb_change_head)
 * but not shrink it: bpf_skb_adjust_room() refuses an skb whose protocol
 * is not IP, which a PPPoE session frame's is not.
 */
static __always_inline int l2_tc_shrinks(const struct fp_flow *f,
					 const struct fp_flow_key *k)
{
	__u16 v0, v1;
	__u32 tail_off;

	return l2_out_len(f, &v0, &v1, &tail_off) <
	       ETH_HLEN + (k->pppoe_sid ? PPPOE_SES_HLEN : 0);
}

/*
 * TC: give the skb the entry's L2 header. bpf_skb_vlan_pop() takes every
 * ingress tag off (the metadata one first; it moves the next tag of the
 * bytes into the metadata, which the next pop clears), so the bytes hold
 * Ethernet and perhaps PPPoE. bpf_skb_change_head() then grows the head
 * to the egress length and l2_write() fills it, tags in the bytes like XDP.
 *
 * Checksums: at TC ingress a CHECKSUM_COMPLETE sum starts at the network
 * header, which after the pops is right behind the Ethernet header, and
 * bpf_redirect() extends it over the MAC header. The bytes pushed here lie
 * before it; an ingress PPPoE header lies inside it, so the words that
 * change there go into *@cdiff for the caller's bpf_csum_update().
 *
 * Returns the egress L2 length, or -1 when a helper failed (ENOMEM), after
 * which the packet may be half changed. l2_tc_shrinks() was checked.
 */
static __always_inline int l2_push_skb(struct __sk_buff *skb,
				       const struct fp_flow *f,
				       const struct fp_flow_key *k,
				       __u32 l3_len, __u64 *cdiff,
				       const int family)
{
	__u16 v0, v1, sid = f->out_pppoe_sid;
	__u32 out_len, tail_off, in_len = ETH_HLEN;
	void *data, *end;
	__be16 *tail;
	int delta;

	/* Never more than two: l2_parse() passes a third. */
	if (k->vlan[0] && bpf_skb_vlan_pop(skb))
		return -1;
	if (k->vlan[1] && bpf_skb_vlan_pop(skb))
		return -1;

	out_len = l2_out_len(f, &v0, &v1, &tail_off);
	if (k->pppoe_sid) {
		__u16 *w;

		in_len += PPPOE_SES_HLEN;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		w = data + ETH_HLEN;
		if ((void *)(w + 4) > end)
			return -1;
		/* The ingress PPPoE header leaves the sum... */
		*cdiff = csum_diff16(*cdiff, w[0], 0);
		*cdiff = csum_diff16(*cdiff, w[1], 0);
		*cdiff = csum_diff16(*cdiff, w[2], 0);
		*cdiff = csum_diff16(*cdiff, w[3], 0);
	}
	delta = (int)out_len - (int)in_len;
	if (delta > 0 && bpf_skb_change_head(skb, delta, 0))
		return -1;

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	tail = data + (tail_off & 0x1f);
	if (data + FP_L2_MAX > end || (void *)tail + 2 + PPPOE_SES_HLEN > end)
		return -1;
	l2_write(data, tail, f, v0, v1, sid, l3_len, family);
	if (k->pppoe_sid) {
		/* ... and what now fills its 8 bytes, right before the IP
		 * header (a PPPoE header, or tags), enters it.
		 */
		__u16 *w = data + ((out_len - PPPOE_SES_HLEN) & 0x1f);

		if ((void *)(w + 4) > end)
			return -1;
		*cdiff = csum_diff16(*cdiff, 0, w[0]);
		*cdiff = csum_diff16(*cdiff, 0, w[1]);
		*cdiff = csum_diff16(*cdiff, 0, w[2]);
		*cdiff = csum_diff16(*cdiff, 0, w[3]);
	}
	return out_len;
}

#endif /* FP_L2_H */
