/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pkt.h - packet builder and checksum verifier for the unit vectors.
 *
 * Independent of the datapath on purpose: every field is written byte by
 * byte in network order and every checksum is a full RFC 1071 sum over
 * the finished bytes, never an incremental update. A datapath bug in
 * nat.h therefore cannot be mirrored by a matching bug here.
 */
#ifndef FP_UNIT_PKT_H
#define FP_UNIT_PKT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_PSH	0x08
#define TH_ACK	0x10

#define PKT_MAX	2048

struct pkt_tag {
	uint16_t tpid;		/* 0x8100 or 0x88a8; 0 = no tag */
	uint16_t tci;
};

/*
 * One packet. Zero in any malformation field means "well formed", so a
 * case only names what it breaks.
 */
struct pkt_desc {
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* written into protocol / next header */
	const char *src, *dst;
	uint16_t sport, dport;	/* host order */
	uint8_t ttl;		/* TTL or hop limit */
	uint8_t tcp_flags;
	uint16_t payload;	/* bytes after the L4 header */
	uint8_t payload_fill;	/* 0: a position-dependent pattern */
	uint8_t smac[6], dmac[6];

	uint8_t udp_csum_zero;	/* IPv4 UDP "no checksum" */
	uint8_t csum_zero;	/* last payload word makes the L4 sum 0 */
	uint8_t has_tail;	/* last payload word given explicitly */
	uint16_t tail;

	/* Encapsulation and deliberate malformations. */
	uint16_t ethertype;	/* replaces the L3 ethertype / PPP proto */
	struct pkt_tag tag[3];	/* outer first; the datapath takes two */
	uint16_t pppoe_sid;	/* nonzero: PPPoE session frame */
	uint8_t pppoe_sid0;	/* a PPPoE header with session id 0 */
	uint16_t pppoe_type;	/* replaces the PPPoE ethertype 0x8864 */
	uint8_t pppoe_ver_type;	/* replaces 0x11 */
	uint8_t pppoe_code;	/* replaces 0 (session data) */
	int pppoe_len_delta;	/* added to the PPPoE length */
	uint8_t ip_version;	/* replaces 4 / 6 in the version nibble */
	uint8_t ihl;		/* IPv4 IHL; > 5 adds NOP options */
	uint16_t frag_off;	/* IPv4 flags + offset, host order */
	uint16_t ip_csum_delta;	/* added to the IPv4 header checksum */
	uint8_t ip_csum_zero;	/* IPv4 header checksum field 0 */
	int ip_len_delta;	/* added to tot_len / payload_len */
	uint8_t has_v6_ext;	/* 8-byte extension header before L4 */
	uint8_t v6_ext;		/* its type (hop-by-hop is 0) */
	uint8_t tcp_doff;	/* replaces data offset 5 */
	uint16_t udp_len;	/* replaces the UDP length */
	uint16_t l4_trunc;	/* keep only this many L4 bytes */
	uint16_t pad_to;	/* Ethernet padding up to this frame length */
	uint16_t trunc;		/* cut the frame to this many bytes */
};

/* Offsets of a built packet, for the runner and for diagnostics. */
struct pkt_layout {
	size_t len;		/* frame length */
	size_t l2;		/* L2 header length: MACs, tags, PPPoE */
	size_t l3;		/* offset of the IP header */
	size_t l4;		/* offset of the L4 header */
	size_t l4_len;		/* L4 bytes actually built */
	size_t l3_len;		/* what the IP header says */
};

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071: big-endian 16-bit words, an odd last byte padded with zero. */
static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static inline uint16_t csum_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline int addr_len(int family)
{
	return family == 4 ? 4 : 16;
}

static inline int pkt_addr(int family, const char *s, uint8_t *out)
{
	int af = family == 4 ? AF_INET : AF_INET6;

	memset(out, 0, 16);
	return inet_pton(af, s, out) == 1 ? 0 : -1;
}

/* The pseudo-header sum: addresses, protocol and L4 length. */
static inline uint32_t csum_pseudo(int family, const uint8_t *saddr,
				   const uint8_t *daddr, uint8_t proto,
				   uint32_t l4_len)
{
	uint8_t b[8];
	uint32_t sum;

	sum = csum_add(0, saddr, addr_len(family));
	sum = csum_add(sum, daddr, addr_len(family));
	if (family == 4) {
		b[0] = 0;
		b[1] = proto;
		put16(b + 2, l4_len);
		return csum_add(sum, b, 4);
	}
	put32(b, l4_len);
	memset(b + 4, 0, 3);
	b[7] = proto;
	return csum_add(sum, b, 8);
}

static inline int pkt_has_pseudo(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_ICMPV6;
}

/* Offset of the checksum field inside the L4 header, -1 for none. */
static inline int l4_check_off(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	default:
		return -1;
	}
}

static inline uint16_t l4_csum(const struct pkt_desc *d, const uint8_t *sa,
			       const uint8_t *da, const uint8_t *l4,
			       size_t l4_len)
{
	uint32_t sum = 0;

	if (pkt_has_pseudo(d->proto))
		sum = csum_pseudo(d->family, sa, da, d->proto, l4_len);
	return csum_finish(csum_add(sum, l4, l4_len));
}

/*
 * Build @d into @buf. Returns the frame length, 0 on a bad description.
 * The checksums are those of a correct sender; a malformation changes
 * only the field it names, so the rest of the packet stays plausible.
 */
static inline size_t pkt_build(const struct pkt_desc *d, uint8_t *buf,
			       struct pkt_layout *lo)
{
	uint8_t sa[16], da[16], l4[PKT_MAX];
	size_t off = 12, l3, l4_len, l3_hdr, ext = d->has_v6_ext ? 8 : 0;
	uint16_t l3_type = d->family == 4 ? 0x0800 : 0x86dd;
	int ihl = d->ihl ? d->ihl : 5, coff, i;
	size_t tail_off = 0;

	if (pkt_addr(d->family, d->src, sa) || pkt_addr(d->family, d->dst, da))
		return 0;
	memset(buf, 0, PKT_MAX);
	memset(l4, 0, sizeof(l4));
	memcpy(buf, d->dmac, 6);
	memcpy(buf + 6, d->smac, 6);
	for (i = 0; i < 3; i++) {
		if (!d->tag[i].tpid)
			continue;
		put16(buf + off, d->tag[i].tpid);
		put16(buf + off + 2, d->tag[i].tci);
		off += 4;
	}

	/* L4 first: the L3 lengths and the pseudo-header depend on it. */
	switch (d->proto) {
	case IPPROTO_TCP:
		put16(l4, d->sport);
		put16(l4 + 2, d->dport);
		put32(l4 + 4, 0x01020304);
		put32(l4 + 8, 0x0a0b0c0d);
		l4[12] = (d->tcp_doff ? d->tcp_doff : 5) << 4;
		l4[13] = d->tcp_flags;
		put16(l4 + 14, 0xffff);
		l4_len = 20;
		break;
	case IPPROTO_UDP:
		put16(l4, d->sport);
		put16(l4 + 2, d->dport);
		l4_len = 8;
		break;
	case IPPROTO_ICMP:
		l4[0] = 8;		/* echo request */
		put32(l4 + 4, 0x00010001);
		l4_len = 8;
		break;
	case IPPROTO_ICMPV6:
		l4[0] = 128;		/* echo request */
		put32(l4 + 4, 0x00010001);
		l4_len = 8;
		break;
	default:
		put16(l4 + 2, 0x0800);	/* GRE carrying IPv4 */
		l4_len = 4;
		break;
	}
	if (l4_len + d->payload > sizeof(l4))
		return 0;
	for (i = 0; i < d->payload; i++)
		l4[l4_len + i] = d->payload_fill ? d->payload_fill :
				 (uint8_t)(0xa5 ^ (i * 13));
	l4_len += d->payload;
	if ((d->has_tail || d->csum_zero) && (d->payload < 2 || l4_len & 1))
		return 0;
	tail_off = l4_len - 2;
	if (d->has_tail)
		put16(l4 + tail_off, d->tail);
	if (d->proto == IPPROTO_UDP)
		put16(l4 + 4, d->udp_len ? d->udp_len : l4_len);

	coff = l4_check_off(d->proto);
	if (coff >= 0 && !(d->proto == IPPROTO_UDP && d->udp_csum_zero)) {
		uint16_t c;

		if (d->csum_zero) {
			/*
			 * With the tail word at zero the sum is S and the
			 * checksum ~S. That as the tail makes the sum
			 * S + ~S = 0xffff, so the recomputed checksum is 0.
			 */
			put16(l4 + tail_off, 0);
			put16(l4 + tail_off, l4_csum(d, sa, da, l4, l4_len));
		}
		c = l4_csum(d, sa, da, l4, l4_len);
		/* RFC 768: a computed zero is sent as all ones. */
		if (d->proto == IPPROTO_UDP && c == 0)
			c = 0xffff;
		put16(l4 + coff, c);
	}
	if (d->l4_trunc && d->l4_trunc < l4_len)
		l4_len = d->l4_trunc;

	if (d->pppoe_sid || d->pppoe_sid0) {
		put16(buf + off, d->pppoe_type ? d->pppoe_type : 0x8864);
		/* version 1, type 1; session data */
		buf[off + 2] = d->pppoe_ver_type ? d->pppoe_ver_type : 0x11;
		buf[off + 3] = d->pppoe_code;
		put16(buf + off + 4, d->pppoe_sid);
		l3_hdr = d->family == 4 ? (ihl < 5 ? 20 : (size_t)ihl * 4) :
					  40 + ext;
		/* The PPP protocol field and the IP packet as its header
		 * says, so an IP length malformation shows here as well.
		 */
		put16(buf + off + 6, 2 + l3_hdr + l4_len + d->ip_len_delta +
				     d->pppoe_len_delta);
		put16(buf + off + 8, d->ethertype ? d->ethertype :
				     d->family == 4 ? 0x0021 : 0x0057);
		off += 10;
	} else {
		put16(buf + off, d->ethertype ? d->ethertype : l3_type);
		off += 2;
	}
	l3 = off;

	if (d->family == 4) {
		uint8_t *ip = buf + l3;
		size_t hlen = ihl < 5 ? 20 : ihl * 4;

		ip[0] = (d->ip_version ? d->ip_version : 4) << 4 | ihl;
		put16(ip + 2, hlen + l4_len + d->ip_len_delta);
		put16(ip + 4, 0x1234);
		put16(ip + 6, d->frag_off);
		ip[8] = d->ttl;
		ip[9] = d->proto;
		memcpy(ip + 12, sa, 4);
		memcpy(ip + 16, da, 4);
		for (i = 20; i < (int)hlen; i++)
			ip[i] = i + 1 == (int)hlen ? 0 : 1; /* NOPs, EOL */
		put16(ip + 10, d->ip_csum_zero ? 0 :
			       csum_finish(csum_add(0, ip, hlen)) + d->ip_csum_delta);
		off += hlen;
	} else {
		uint8_t *ip6 = buf + l3;

		put32(ip6, (uint32_t)(d->ip_version ? d->ip_version : 6) << 28);
		put16(ip6 + 4, ext + l4_len + d->ip_len_delta);
		ip6[6] = ext ? d->v6_ext : d->proto;
		ip6[7] = d->ttl;
		memcpy(ip6 + 8, sa, 16);
		memcpy(ip6 + 24, da, 16);
		off += 40;
		if (ext) {
			buf[off] = d->proto;	/* next header; length 0 */
			off += 8;
		}
	}
	if (off + l4_len > PKT_MAX)
		return 0;
	memcpy(buf + off, l4, l4_len);
	if (lo) {
		lo->l2 = l3;
		lo->l3 = l3;
		lo->l4 = off;
		lo->l4_len = l4_len;
		lo->l3_len = d->family == 4 ? get16(buf + l3 + 2) :
			     40 + get16(buf + l3 + 4);
	}
	off += l4_len;
	if (d->pad_to > off)
		off = d->pad_to;
	if (d->trunc && d->trunc < off)
		off = d->trunc;
	if (lo)
		lo->len = off;
	return off;
}

/*
 * Walk the L2 header of a frame the datapath may send: MACs, up to two
 * VLAN tags, then IPv4/IPv6 directly or in a PPPoE session. Returns the
 * offset of the IP header and sets @type to 0x0800 or 0x86dd and @ppp_len
 * to the PPPoE length field (-1 without PPPoE); -1 with @why set when the
 * header is not one of those shapes.
 */
static inline long pkt_l2_walk(const uint8_t *p, size_t len, uint16_t *type,
			       long *ppp_len, char *why, size_t whylen)
{
	size_t off = 12;
	int tags = 0;
	uint16_t t;

	*ppp_len = -1;
	for (;;) {
		if (off + 2 > len) {
			snprintf(why, whylen, "verify: frame ends in the L2 header");
			return -1;
		}
		t = get16(p + off);
		if (t != 0x8100 && t != 0x88a8)
			break;
		/* An inner tag is always 802.1Q. */
		if (++tags > 2 || (tags == 2 && t != 0x8100) || off + 4 > len) {
			snprintf(why, whylen, "verify: bad VLAN tag %d (%#06x)",
				 tags, t);
			return -1;
		}
		off += 4;
	}
	off += 2;
	if (t == 0x8864) {
		uint16_t proto;

		if (off + 8 > len || p[off] != 0x11 || p[off + 1] ||
		    !get16(p + off + 2) || get16(p + off + 2) == 0xffff) {
			snprintf(why, whylen, "verify: bad PPPoE session header");
			return -1;
		}
		*ppp_len = get16(p + off + 4);
		proto = get16(p + off + 6);
		t = proto == 0x0021 ? 0x0800 : proto == 0x0057 ? 0x86dd : 0;
		if (!t) {
			snprintf(why, whylen, "verify: PPP protocol %#06x", proto);
			return -1;
		}
		off += 8;
	}
	if (t != 0x0800 && t != 0x86dd) {
		snprintf(why, whylen, "verify: ethertype %#06x", t);
		return -1;
	}
	*type = t;
	return off;
}

/*
 * Check every checksum and length of an IPv4/IPv6 TCP/UDP frame by
 * summing and counting it again from the bytes alone: the IP header
 * checksum, the L4 checksum over the pseudo-header, and a PPPoE length
 * that must be the IP length + 2. Returns 0 or -1 with @why set.
 */
static inline int pkt_verify(const uint8_t *p, size_t len, char *why,
			     size_t whylen)
{
	const uint8_t *ip, *l4, *sa, *da;
	size_t l3_len, l4_len;
	long l3, ppp_len;
	uint16_t type;
	int family;
	uint8_t proto;
	uint16_t c;

	l3 = pkt_l2_walk(p, len, &type, &ppp_len, why, whylen);
	if (l3 < 0)
		return -1;
	if ((size_t)l3 + 20 > len) {
		snprintf(why, whylen, "frame too short to verify (%zu)", len);
		return -1;
	}
	ip = p + l3;
	switch (type) {
	case 0x0800:
		family = 4;
		if ((ip[0] & 0x0f) != 5) {
			snprintf(why, whylen, "verify: unexpected IHL");
			return -1;
		}
		c = csum_finish(csum_add(0, ip, 20));
		if (c) {
			snprintf(why, whylen,
				 "IPv4 header checksum %#06x does not verify "
				 "(sum off by %#06x)", get16(ip + 10), c);
			return -1;
		}
		l3_len = get16(ip + 2);
		l4 = ip + 20;
		l4_len = l3_len - 20;
		proto = ip[9];
		sa = ip + 12;
		da = ip + 16;
		break;
	default:
		family = 6;
		if ((size_t)l3 + 40 > len) {
			snprintf(why, whylen, "frame too short to verify (%zu)", len);
			return -1;
		}
		l3_len = 40 + get16(ip + 4);
		l4 = ip + 40;
		l4_len = l3_len - 40;
		proto = ip[6];
		sa = ip + 8;
		da = ip + 24;
		break;
	}
	if ((ip[0] >> 4) != family) {
		snprintf(why, whylen, "verify: IP version %u behind %#06x",
			 ip[0] >> 4, type);
		return -1;
	}
	if (l3 + l3_len > len || l4_len < 8) {
		snprintf(why, whylen, "verify: L3 length %zu, frame %zu",
			 l3_len, len);
		return -1;
	}
	if (ppp_len >= 0 && (size_t)ppp_len != l3_len + 2) {
		snprintf(why, whylen, "PPPoE length %ld, want the IP length "
			 "%zu + 2", ppp_len, l3_len);
		return -1;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
		snprintf(why, whylen, "verify: L4 protocol %u", proto);
		return -1;
	}
	if (proto == IPPROTO_UDP && get16(l4 + 6) == 0) {
		if (family == 4)
			return 0;	/* "no checksum": nothing to verify */
		snprintf(why, whylen, "IPv6 UDP checksum is zero");
		return -1;
	}
	c = csum_finish(csum_add(csum_pseudo(family, sa, da, proto, l4_len),
				 l4, l4_len));
	if (c) {
		snprintf(why, whylen,
			 "%s checksum %#06x does not verify (sum off by %#06x)",
			 proto == IPPROTO_TCP ? "TCP" : "UDP",
			 get16(l4 + l4_check_off(proto)), c);
		return -1;
	}
	return 0;
}

static inline void pkt_hexdump(const char *title, const uint8_t *p, size_t len)
{
	size_t i;

	printf("  %s (%zu bytes):\n", title, len);
	for (i = 0; i < len; i++) {
		if (i % 16 == 0)
			printf("    %04zx:", i);
		printf(" %02x", p[i]);
		if (i % 16 == 15 || i + 1 == len)
			printf("\n");
	}
}

#endif /* FP_UNIT_PKT_H */
