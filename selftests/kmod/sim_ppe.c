// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_ppe.c - the PPE table: MediaTek's hash over 2- or 4-way buckets,
 * binding on the CPU path, and forwarding of bound flows with the rewrite
 * their rule asked for (MACs, NAT, TTL, VLAN/PPPoE push).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/if_pppox.h>
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/log2.h>
#include <linux/ppp_defs.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/vmalloc.h>
#include <net/checksum.h>
#include <net/ip.h>

#include "ppe_sim.h"

#define PPE_TCP_FIN	0x01
#define PPE_TCP_SYN	0x02
#define PPE_TCP_RST	0x04

DEFINE_SPINLOCK(ppe_lock);
struct ppe_entry *ppe_table;
struct ppe_counters ppe_cnt;
static DEFINE_HASHTABLE(ppe_cookies, 10);

int ppe_init(void)
{
	ppe_table = vzalloc(array_size(PPE_ENTRIES, sizeof(*ppe_table)));
	return ppe_table ? 0 : -ENOMEM;
}

void ppe_exit(void)
{
	vfree(ppe_table);
}

/*
 * mtk_ppe_hash_entry(): the tuple words in host order, as the FOE entry
 * stores them, with "ports" = sport << 16 | dport. The result is shifted
 * left by log2(ways), so it names the first way of its bucket.
 */
u32 ppe_hash(u8 family, const struct ppe_tuple *t)
{
	u32 ports = (u32)ntohs(t->sport) << 16 | ntohs(t->dport);
	u32 hv1, hv2, hv3, hash;

	if (family == AF_INET) {
		hv1 = ports;
		hv2 = ntohl(t->dst[0]);
		hv3 = ntohl(t->src[0]);
	} else {
		hv1 = ntohl(t->src[3]) ^ ntohl(t->dst[3]) ^ ports;
		hv2 = ntohl(t->src[2]) ^ ntohl(t->dst[2]) ^ ntohl(t->dst[0]);
		hv3 = ntohl(t->src[1]) ^ ntohl(t->dst[1]) ^ ntohl(t->src[0]);
	}
	hash = (hv1 & hv2) | (~hv1 & hv3);
	hash = (hash >> 24) | ((hash & 0xffffff) << 8);
	hash ^= hv1 ^ hv2 ^ hv3;
	hash ^= hash >> 16;
	hash <<= ilog2(ppesim_ways);
	return hash & (PPE_ENTRIES - 1);
}

/*
 * What the PPE can look up: IPv4 without options or fragmentation, or
 * IPv6 without extension headers, carrying TCP or UDP, untagged or under
 * one 802.1Q tag. Everything else goes to the CPU untouched.
 */
int ppe_parse(struct sk_buff *skb, struct ppe_pkt *pk)
{
	unsigned int off = ETH_HLEN, l4len;
	__be16 proto;

	memset(pk, 0, sizeof(*pk));
	if (!pskb_may_pull(skb, ETH_HLEN))
		return -EINVAL;
	proto = ((struct ethhdr *)skb->data)->h_proto;
	if (proto == htons(ETH_P_8021Q)) {
		const struct vlan_hdr *vh;

		if (!pskb_may_pull(skb, off + VLAN_HLEN))
			return -EINVAL;
		vh = (const struct vlan_hdr *)(skb->data + off);
		pk->vlan = (ntohs(vh->h_vlan_TCI) & VLAN_VID_MASK) | PPE_VLAN_PRESENT;
		proto = vh->h_vlan_encapsulated_proto;
		off += VLAN_HLEN;
	}

	if (proto == htons(ETH_P_IP)) {
		const struct iphdr *iph;

		if (!pskb_may_pull(skb, off + sizeof(*iph)))
			return -EINVAL;
		iph = (const struct iphdr *)(skb->data + off);
		if (iph->version != 4 || iph->ihl != 5 || ip_is_fragment(iph))
			return -EPROTONOSUPPORT;
		pk->family = AF_INET;
		pk->l4proto = iph->protocol;
		pk->ttl = iph->ttl;
		pk->l3len = ntohs(iph->tot_len);
		pk->t.src[0] = iph->saddr;
		pk->t.dst[0] = iph->daddr;
		pk->l4off = off + sizeof(*iph);
	} else if (proto == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6h;

		if (!pskb_may_pull(skb, off + sizeof(*ip6h)))
			return -EINVAL;
		ip6h = (const struct ipv6hdr *)(skb->data + off);
		pk->family = AF_INET6;
		pk->l4proto = ip6h->nexthdr;
		pk->ttl = ip6h->hop_limit;
		pk->l3len = ntohs(ip6h->payload_len) + sizeof(*ip6h);
		memcpy(pk->t.src, &ip6h->saddr, sizeof(pk->t.src));
		memcpy(pk->t.dst, &ip6h->daddr, sizeof(pk->t.dst));
		pk->l4off = off + sizeof(*ip6h);
	} else {
		return -EPROTONOSUPPORT;
	}

	if (pk->l4proto == IPPROTO_TCP)
		l4len = sizeof(struct tcphdr);
	else if (pk->l4proto == IPPROTO_UDP)
		l4len = sizeof(struct udphdr);
	else
		return -EPROTONOSUPPORT;
	if (pk->l3len < pk->l4off - off + l4len || off + pk->l3len > skb->len ||
	    !pskb_may_pull(skb, pk->l4off + l4len))
		return -EINVAL;
	pk->t.sport = *(__be16 *)(skb->data + pk->l4off);
	pk->t.dport = *(__be16 *)(skb->data + pk->l4off + 2);
	if (pk->l4proto == IPPROTO_TCP)
		pk->tcp_flags = skb->data[pk->l4off + 13];	/* FIN..CWR */
	pk->l3off = off;
	pk->hash = ppe_hash(pk->family, &pk->t);
	return 0;
}

static struct ppe_entry *ppe_lookup(const struct net_device *dev,
				    const struct ppe_pkt *pk)
{
	unsigned int i;

	lockdep_assert_held(&ppe_lock);
	for (i = 0; i < ppesim_ways; i++) {
		struct ppe_entry *e = &ppe_table[pk->hash + i];

		if (e->state != PPE_FREE && e->idev == dev &&
		    e->family == pk->family && e->l4proto == pk->l4proto &&
		    e->in_vlan == pk->vlan &&
		    !memcmp(&e->orig, &pk->t, sizeof(pk->t)))
			return e;
	}
	return NULL;
}

/* The part of an entry the rewrite needs, copied out of the lock. */
struct ppe_action {
	struct ppe_tuple orig, new;
	bool nat_src, nat_dst;
	u8 h_dest[ETH_ALEN];
	u8 h_source[ETH_ALEN];
	u16 out_vlan;
	u16 out_pppoe;
	bool out_pppoe_push;
	struct net_device *odev;
};

/* Address rewrite with both checksums updated incrementally (RFC 1624). */
static void ppe_nat4(struct sk_buff *skb, struct iphdr *iph, __be32 *field,
		     __be32 to, __sum16 *l4sum)
{
	csum_replace4(&iph->check, *field, to);
	if (l4sum)
		inet_proto_csum_replace4(l4sum, skb, *field, to, true);
	*field = to;
}

static void ppe_port(struct sk_buff *skb, __be16 *field, __be16 to,
		     __sum16 *l4sum)
{
	if (l4sum)
		inet_proto_csum_replace2(l4sum, skb, *field, to, false);
	*field = to;
}

static int ppe_rewrite(struct sk_buff *skb, const struct ppe_pkt *pk,
		       const struct ppe_action *a)
{
	unsigned int csum_off = pk->l4proto == IPPROTO_TCP ?
				offsetof(struct tcphdr, check) :
				offsetof(struct udphdr, check);
	unsigned int l2len = ETH_HLEN;
	__be16 *ports;
	__sum16 *l4sum;
	bool udp_zero;
	u8 *p;

	/* Frames shorter than the minimum carry padding the PPE drops. */
	if (pskb_trim(skb, pk->l3off + pk->l3len) ||
	    skb_ensure_writable(skb, pk->l4off + csum_off + sizeof(__sum16)))
		return -ENOMEM;
	skb->ip_summed = CHECKSUM_NONE;

	l4sum = (__sum16 *)(skb->data + pk->l4off + csum_off);
	ports = (__be16 *)(skb->data + pk->l4off);
	/* An IPv4 UDP checksum of zero means "none" and stays zero. */
	udp_zero = pk->l4proto == IPPROTO_UDP && !*l4sum;
	if (udp_zero)
		l4sum = NULL;

	if (pk->family == AF_INET) {
		struct iphdr *iph = (struct iphdr *)(skb->data + pk->l3off);

		if (a->nat_src)
			ppe_nat4(skb, iph, &iph->saddr, a->new.src[0], l4sum);
		if (a->nat_dst)
			ppe_nat4(skb, iph, &iph->daddr, a->new.dst[0], l4sum);
		ip_decrease_ttl(iph);
	} else {
		struct ipv6hdr *ip6h = (struct ipv6hdr *)(skb->data + pk->l3off);

		ip6h->hop_limit--;
	}
	if (a->new.sport != a->orig.sport)
		ppe_port(skb, &ports[0], a->new.sport, l4sum);
	if (a->new.dport != a->orig.dport)
		ppe_port(skb, &ports[1], a->new.dport, l4sum);
	if (l4sum && pk->l4proto == IPPROTO_UDP && !*l4sum)
		*l4sum = CSUM_MANGLED_0;

	if (a->out_vlan)
		l2len += VLAN_HLEN;
	if (a->out_pppoe_push)
		l2len += PPPOE_SES_HLEN;
	if (l2len > pk->l3off) {
		if (skb_cow_head(skb, l2len - pk->l3off))
			return -ENOMEM;
		__skb_push(skb, l2len - pk->l3off);
	} else {
		__skb_pull(skb, pk->l3off - l2len);
	}

	p = skb->data;
	ether_addr_copy(p, a->h_dest);
	ether_addr_copy(p + ETH_ALEN, a->h_source);
	p += 2 * ETH_ALEN;
	if (a->out_vlan) {
		put_unaligned_be16(ETH_P_8021Q, p);
		put_unaligned_be16(a->out_vlan & VLAN_VID_MASK, p + 2);
		p += VLAN_HLEN;
	}
	if (a->out_pppoe_push) {
		struct pppoe_hdr *ph;

		put_unaligned_be16(ETH_P_PPP_SES, p);
		ph = (struct pppoe_hdr *)(p + 2);
		ph->ver = 1;
		ph->type = 1;
		ph->code = 0;
		ph->sid = htons(a->out_pppoe);
		ph->length = htons(pk->l3len + 2);
		put_unaligned_be16(pk->family == AF_INET ? PPP_IP : PPP_IPV6,
				   p + 2 + sizeof(*ph));
	} else {
		put_unaligned_be16(pk->family == AF_INET ? ETH_P_IP : ETH_P_IPV6, p);
	}
	skb_reset_mac_header(skb);
	return 0;
}

/*
 * The PPE on receive: a bound entry's frame is rewritten and sent out of
 * the egress port here, and never reaches XDP or the stack. Returns false
 * when the frame goes on to the CPU; pk->unbound_hit then says whether a
 * committed entry matched, for ppe_cpu_path().
 */
bool ppe_forward(struct net_device *dev, struct sk_buff *skb,
		 struct ppe_pkt *pk)
{
	struct ppe_action act;
	struct ppe_entry *e;

	spin_lock_bh(&ppe_lock);
	e = ppe_lookup(dev, pk);
	if (!e)
		goto cpu;
	if (e->state != PPE_BIND) {
		pk->unbound_hit = true;
		goto cpu;
	}
	/* What the hardware hands to the CPU even for a bound flow. */
	if ((pk->l4proto == IPPROTO_TCP &&
	     (pk->tcp_flags & (PPE_TCP_SYN | PPE_TCP_FIN | PPE_TCP_RST))) ||
	    pk->ttl <= 1 || pk->l3len > e->odev->mtu ||
	    !netif_running(e->odev) || skb->ip_summed == CHECKSUM_PARTIAL)
		goto cpu;

	e->packets++;
	e->bytes += pk->l3len;
	e->mib_packets++;
	e->mib_bytes += pk->l3len;
	e->last_hit = jiffies;
	act.orig = e->orig;
	act.new = e->new;
	act.nat_src = e->nat_src;
	act.nat_dst = e->nat_dst;
	ether_addr_copy(act.h_dest, e->h_dest);
	ether_addr_copy(act.h_source, e->h_source);
	act.out_vlan = e->out_vlan;
	act.out_pppoe = e->out_pppoe;
	act.out_pppoe_push = e->out_pppoe_push;
	act.odev = e->odev;
	dev_hold(act.odev);
	spin_unlock_bh(&ppe_lock);

	if (ppe_rewrite(skb, pk, &act)) {
		fp_rx_dropped_inc(dev);
		kfree_skb(skb);
	} else {
		atomic64_inc(&ppe_cnt.forwarded);
		ppesim_wire_xmit(act.odev, skb);
	}
	dev_put(act.odev);
	return true;

cpu:
	spin_unlock_bh(&ppe_lock);
	return false;
}

/* A frame of a committed flow went up the CPU path: bind the flow. */
void ppe_cpu_path(struct net_device *dev, const struct ppe_pkt *pk)
{
	struct ppe_entry *e;

	spin_lock_bh(&ppe_lock);
	e = ppe_lookup(dev, pk);
	if (e && e->state == PPE_UNBIND && ++e->hits >= ppesim_bind_hits) {
		e->state = PPE_BIND;
		atomic64_inc(&ppe_cnt.binds);
	}
	spin_unlock_bh(&ppe_lock);
}

void ppe_entry_insert(struct ppe_entry *e, unsigned long cookie)
{
	lockdep_assert_held(&ppe_lock);
	e->cookie = cookie;
	hash_add(ppe_cookies, &e->cookie_node, cookie);
}

void ppe_entry_clear(struct ppe_entry *e)
{
	lockdep_assert_held(&ppe_lock);
	hash_del(&e->cookie_node);
	memset(e, 0, sizeof(*e));
}

struct ppe_entry *ppe_find_cookie(unsigned long cookie)
{
	struct ppe_entry *e;

	lockdep_assert_held(&ppe_lock);
	hash_for_each_possible(ppe_cookies, e, cookie_node, cookie)
		if (e->cookie == cookie)
			return e;
	return NULL;
}

/* A port is going away: no entry may point at it any more. */
void ppe_purge_dev(struct net_device *dev)
{
	unsigned int i;

	spin_lock_bh(&ppe_lock);
	for (i = 0; i < PPE_ENTRIES; i++) {
		struct ppe_entry *e = &ppe_table[i];

		if (e->state != PPE_FREE && (e->idev == dev || e->odev == dev))
			ppe_entry_clear(e);
	}
	spin_unlock_bh(&ppe_lock);
}
