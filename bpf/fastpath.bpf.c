// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fastpath.bpf.c - the fast path: XDP and TC ingress, one code.
 *
 * A packet is forwarded only on an exact match of ingress ifindex, tuple
 * and encapsulation in the flow table, and only when no pass rule applies.
 * Everything doubtful goes to the slow path (XDP_PASS, TC_ACT_UNSPEC);
 * nothing is ever dropped here. All pass checks run before the first write to the
 * packet, so a passed packet is always the packet that arrived.
 *
 * The XDP program forwards entries in FP_STATE_XDP, the TC ingress program
 * (tcx or clsact, the skb level) those in FP_STATE_TC: the same parse, key, checks
 * and rewrite, with a constant @tc choosing the few steps that differ (the
 * L2 push, the checksum updates, the redirect). The compiler folds the
 * constant, so each program carries only its own steps.
 *
 * No CO-RE: only UAPI headers and our own maps, so the object loads on
 * kernels built without BTF (OpenWrt) down to 5.15.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "fastpath.h"
#include "maps.h"
#include "parse.h"
#include "nat.h"
#include "l2.h"
#include "learn.h"

/*
 * Set by the loader when the kernel takes multi-buffer XDP programs
 * (5.18+, user/tc.c). A constant of the frozen .rodata map, so on older
 * kernels the verifier never sees the helper it guards.
 */
const volatile __u8 fp_xdp_frags = 0;

/* The headers TC reads directly: the longest L2, IPv6, TCP with options. */
#define FP_TC_PULL	(FP_L2_MAX + 40 + 60)

static __always_inline void count(__u32 reason, __u64 bytes, const int tc)
{
	struct fp_counter *c = tc ? bpf_map_lookup_elem(&fp_tc_stats, &reason) :
				    bpf_map_lookup_elem(&fp_stats, &reason);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/*
 * TC passes with TC_ACT_UNSPEC, not TC_ACT_OK: on tcx, TC_ACT_OK would
 * skip the clsact filters after it (sqm-scripts' mirred redirect to an
 * ifb), and as a clsact filter UNSPEC goes on to the next filter too.
 * Either way the packet then goes up the stack as it came.
 */
static __always_inline int pass(__u32 reason, __u64 bytes, const int tc)
{
	count(reason, bytes, tc);
	return tc ? TC_ACT_UNSPEC : XDP_PASS;
}

/*
 * A pass after the entry matched: the entry keeps the reason and a count,
 * for "fastpath explain". Not the tier hand-offs: TC ingress sees every
 * packet XDP passed, and would write "another tier's" over the MTU or TTL
 * that sent it up. Plain stores: the pass path is the slow path's, and a
 * count lost to a race on two CPUs only blurs a rate.
 */
static __always_inline int pass_flow(struct fp_flow *f, __u32 reason,
				     __u64 bytes, const int tc)
{
	if (reason != FP_R_TIER_TC && reason != FP_R_TIER_XDP) {
		f->last_pass = reason;
		f->passed++;
	}
	return pass(reason, bytes, tc);
}

/*
 * A plain load: array lookups are inlined by the verifier. A kernel that
 * cannot run the clock's timer callback (the mips32 JIT has no BPF-to-BPF
 * calls, s390x and 32-bit ARM kernels may have no JIT that takes it, and
 * the interpreter refuses callbacks) never sets @now: then every packet
 * asks the helper instead.
 */
static __always_inline __u64 clock_now(void)
{
	__u32 zero = 0;
	struct fp_clock *c = bpf_map_lookup_elem(&fp_clock, &zero);

	return c && c->now ? c->now : bpf_ktime_get_ns();
}

static __always_inline int lease_expired(__u64 now)
{
	__u32 zero = 0;
	struct fp_config *cfg = bpf_map_lookup_elem(&fp_config, &zero);

	return cfg && cfg->lease_expires && now > cfg->lease_expires;
}

/*
 * TC: a GSO packet is cut into segments of gso_size on the egress device,
 * so each segment's length counts. They would all carry the superpacket's
 * PPPoE length field, so a GSO packet into PPPoE goes up.
 */
static __always_inline int tc_mtu_exceeded(struct __sk_buff *skb,
					   const struct pkt *p,
					   const struct fp_flow *f)
{
	__u32 gso = skb->gso_size;

	if (!gso)
		return l2_mtu_exceeded(p, f);
	if (f->out_pppoe_sid)
		return 1;
	return p->l3_len - p->l4_len + p->l4_hlen + gso > f->mtu;
}

/*
 * TC: a flow hash for the skb, from the key (fold, then one multiply to
 * spread it). An skb without one (veth, XDP-built skbs, NICs without RSS)
 * would otherwise get it at transmit, where a device with several queues
 * picks one by it: the flow dissector and siphash, which cost more than
 * this whole program. It is the flow's own, so the flow keeps one queue
 * and a flow-queueing qdisc (fq_codel) still tells flows apart.
 */
static __always_inline __u32 tc_flow_hash(const struct fp_flow_key *k)
{
	__u32 h = k->saddr[0] ^ k->saddr[1] ^ k->saddr[2] ^ k->saddr[3];

	h ^= (k->daddr[0] ^ k->daddr[1] ^ k->daddr[2] ^ k->daddr[3]) * 0x85ebca6bU;
	h ^= ((__u32)k->sport << 16 | k->dport) * 0xc2b2ae35U;
	h ^= k->proto;
	h *= 0x9e3779b1U;
	return h ? h : 1;
}

/* The checks that need the entry, in the order a reader would ask them. */
static __always_inline int flow_check(void *ctx, struct fp_flow *f,
				      struct pkt *p, __u64 now,
				      const int family, const int tc)
{
	switch (f->state) {
	case FP_STATE_XDP:
		if (tc)
			return FP_R_TIER_XDP;
		break;
	case FP_STATE_TC:
		if (!tc)
			return FP_R_TIER_TC;
		break;
	case FP_STATE_HW_PENDING:
		return FP_R_HW_PENDING;
	case FP_STATE_HW:
		return FP_R_HW;
	default:
		return FP_R_TEARDOWN;
	}
	/* Before anything that writes the entry: a frame the router would
	 * not take must not end the flow either.
	 */
	if (!l2_addr_ok(p, f))
		return FP_R_OTHER_HOST;
	if (lease_expired(now))
		return FP_R_LEASE;
	/* SYN first: SYN+FIN and SYN+RST are invalid to conntrack, and
	 * must not end the flow. parse_l4() passed a FIN without ACK.
	 */
	if (p->tcp_flags & TCP_FLAG_SYN)
		return FP_R_TCP_SYN;
	if (p->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)) {
		/* conntrack must see the close; every later packet of this
		 * direction follows it up until the daemon removes the entry.
		 */
		f->state = FP_STATE_TEARDOWN;
		return FP_R_TCP_FIN_RST;
	}
	if (family == AF_INET ? p->ip4->ttl <= 1 : p->ip6->hop_limit <= 1)
		return FP_R_TTL;
	if (tc ? tc_mtu_exceeded(ctx, p, f) : l2_mtu_exceeded(p, f))
		return FP_R_MTU;
	if (tc) {
		/* Redirects go to attached devices only, as in XDP. */
		if (!bpf_map_lookup_elem(&tx_ports, &f->oif))
			return FP_R_NO_EGRESS;
		return FP_R_REDIRECT;
	}
	/* Chooses the egress now, before the first write to the packet: an
	 * egress missing from tx_ports returns XDP_PASS and the packet goes
	 * up as it came. The packet is rewritten after, which the redirect
	 * does not mind: it only happens when the program returns.
	 */
	if (bpf_redirect_map(&tx_ports, f->oif, XDP_PASS) != XDP_REDIRECT)
		return FP_R_NO_EGRESS;
	return FP_R_REDIRECT;
}

/*
 * TC: the rewrite. Returns FP_R_REDIRECT, or FP_R_HEADROOM when a helper
 * could not allocate: the packet may be half rewritten then and is
 * dropped, the one drop of the fast path (the kernel is out of memory).
 */
static __always_inline int tc_rewrite(struct __sk_buff *skb, struct pkt *p,
				      const struct fp_flow *f,
				      const struct fp_flow_key *key,
				      const int family)
{
	__u64 cdiff = 0;
	void *data;
	int l2;

	l2 = l2_push_skb(skb, f, key, p->l3_len, &cdiff, family);
	if (l2 < 0)
		return FP_R_HEADROOM;
	data = (void *)(long)skb->data;
	if (pkt_reload(p, data, (void *)(long)skb->data_end, l2, key->proto,
		       family))
		return FP_R_HEADROOM;
	nat_rewrite_skb(skb, data, p, f, key->proto, cdiff, family);
	return FP_R_REDIRECT;
}

/*
 * XDP passes a frame it cannot judge as malformed; a multi-buffer frame
 * (longer than the first buffer: jumbo frames on a frags-aware driver)
 * gets its own reason. Only on that pass path, so forwarding pays nothing.
 */
static __always_inline int xdp_pass_malformed(struct xdp_md *ctx, int reason,
					      __u64 len)
{
	if (fp_xdp_frags && reason == FP_R_MALFORMED) {
		__u64 full = bpf_xdp_get_buff_len(ctx);

		if (full > len)
			return pass(FP_R_MULTIBUF, full, 0);
	}
	return pass(reason, len, 0);
}

/*
 * Everything after the L2 header, for one address family. @family and @tc
 * are constants in each inlined copy (see nat_rewrite()). @key holds the
 * ingress ifindex and encapsulation already.
 */
static __always_inline int forward(void *ctx, struct hdr_cursor *c,
				   struct pkt *p, struct fp_flow_key *key,
				   __u64 len, const int family, const int tc)
{
	struct fp_flow *f;
	__u64 now;
	int ret;

	if (family == AF_INET)
		ret = parse_ipv4(c, p, key);
	else
		ret = parse_ipv6(c, p, key);
	if (ret < 0)
		return tc ? pass(-ret, len, tc) :
			    xdp_pass_malformed(ctx, -ret, len);
	if (!l2_len_ok(p, key))
		return pass(FP_R_MALFORMED, len, tc);
	ret = parse_l4(c, p, key, ret);
	if (ret < 0)
		return pass(-ret, len, tc);

	f = bpf_map_lookup_elem(&flows, key);
	if (!f)
		return pass(FP_R_NO_ENTRY, len, tc);

	now = clock_now();
	ret = flow_check(ctx, f, p, now, family, tc);
	if (ret != FP_R_REDIRECT)
		return pass_flow(f, ret, len, tc);
	if (tc) {
		if (l2_tc_shrinks(f, key))
			return pass_flow(f, FP_R_TC_L2, len, tc);
		ret = tc_rewrite(ctx, p, f, key, family);
		if (ret != FP_R_REDIRECT) {
			count(ret, len, tc);
			return TC_ACT_SHOT;
		}
	} else {
		/* The last check, as it may move the head: it moves it back
		 * if it has to pass the packet after all.
		 */
		ret = l2_push(ctx, p, f, key->proto, family);
		if (ret != FP_R_REDIRECT)
			return pass_flow(f, ret, len, tc);

		nat_rewrite(p, f, key->proto, family);
	}

	/* One direction is normally steered to one RX queue, so these
	 * atomics are uncontended; they stay correct when RSS spreads it.
	 */
	__sync_fetch_and_add(&f->packets, 1);
	__sync_fetch_and_add(&f->bytes, p->l3_len);
	f->last_seen = now;
	count(FP_R_REDIRECT, len, tc);
	if (tc) {
		/* The target, for BPF_PROG_TEST_RUN, which hands cb[] back.
		 * A qdisc on the egress writes its own state over this area
		 * at enqueue, before anything reads it.
		 */
		((struct __sk_buff *)ctx)->cb[0] = f->oif;
		if (!((struct __sk_buff *)ctx)->hash)
			bpf_set_hash(ctx, tc_flow_hash(key));
		return bpf_redirect(f->oif, 0);
	}
	return XDP_REDIRECT;
}

/*
 * Loaded frags-aware (xdp.frags): native XDP then attaches to devices
 * whose MTU is over a page (veth with jumbo frames), and a frame longer
 * than its first buffer arrives in several. The parsers see only the first
 * buffer, so such a frame fails the IP length check and goes up.
 */
SEC("xdp.frags")
int fastpath_xdp(struct xdp_md *ctx)
{
	struct hdr_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct fp_flow_key key = { .ifindex = ctx->ingress_ifindex };
	__u64 len = c.end - c.pos;
	struct pkt p = {};
	int ret;

	ret = l2_parse(&c, &p, &key, 0);
	if (ret < 0)
		return pass(-ret, len, 0);
	if (ret == bpf_htons(ETH_P_IP))
		return forward(ctx, &c, &p, &key, len, AF_INET, 0);
	return forward(ctx, &c, &p, &key, len, AF_INET6, 0);
}

/*
 * TC ingress (tcx, or clsact before Linux 6.6), on every attached device:
 * forwards the entries of the TC tier at the skb level. bpf_redirect() to
 * the egress device goes through its qdisc (SQM), and the skb keeps its
 * checksum state, which XDP cannot see. The key is the same as XDP's: the ingress device
 * (skb->ingress_ifindex), the tuple and the encapsulation, the outer tag
 * read from the skb's metadata.
 */
SEC("tc")
int fastpath_tc(struct __sk_buff *skb)
{
	struct fp_flow_key key = { .ifindex = skb->ingress_ifindex };
	__u32 len = skb->len, lin;
	struct hdr_cursor c;
	struct pkt p = {};
	__u16 hw_tag = 0;
	int ret;

	/* Direct access reads the linear part: pull the headers into it. */
	lin = skb->data_end - skb->data;
	if (lin < FP_TC_PULL && len > lin)
		bpf_skb_pull_data(skb, len < FP_TC_PULL ? len : FP_TC_PULL);
	c.pos = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	c.len = len;

	if (skb->vlan_present) {
		__u16 vid = skb->vlan_tci & FP_VLAN_VID_MASK;

		if (vid == 0 || vid == FP_VLAN_VID_MASK)
			return pass(FP_R_VLAN, len, 1);
		hw_tag = vid;
		if (skb->vlan_proto == bpf_htons(ETH_P_8021AD))
			hw_tag |= FP_VLAN_8021AD;
	}
	ret = l2_parse(&c, &p, &key, hw_tag);
	if (ret < 0)
		return pass(-ret, len, 1);
	if (ret == bpf_htons(ETH_P_IP))
		return forward(skb, &c, &p, &key, len, AF_INET, 1);
	return forward(skb, &c, &p, &key, len, AF_INET6, 1);
}

/*
 * TC egress, on every attached device: sees only what the kernel itself
 * forwards (XDP redirects never pass here), after the firewall accepted it
 * and routing, NAT and neighbour resolution were done. For a candidate
 * direction it reports what the kernel did once, then counts its packets
 * until the daemon takes the candidate out.
 * It never changes or drops the packet.
 */
SEC("tc")
int fastpath_learn(struct __sk_buff *skb)
{
	struct fp_flow_key key = {};
	struct fp_learn_event *ev;
	struct learn_l2 l2 = {};
	struct fp_learn *cand;

	/* No ingress_ifindex means the router's own packet, or one that went
	 * through a PPP device: ppp_start_xmit() scrubs the skb, which clears
	 * it. Both are reported; the daemon tells them apart (it learns the
	 * ingress from the other direction, which a local connection lacks).
	 */
	if (learn_parse(skb, &key, &l2))
		return TC_ACT_OK;
	cand = bpf_map_lookup_elem(&fp_learn, &key);
	if (!cand)
		return TC_ACT_OK;
	/* The candidate stays until the daemon takes it out as it offloads:
	 * every packet until then went the slow way, which it reports.
	 */
	__sync_fetch_and_add(&cand->packets, 1);
	if (cand->reported)
		return TC_ACT_OK;

	/* Ring full: keep the candidate and learn from a later packet. */
	ev = bpf_ringbuf_reserve(&fp_events, sizeof(*ev), 0);
	if (!ev)
		return TC_ACT_OK;
	/* Before the event can reach the daemon, which may take the entry
	 * out at once. Another CPU may report the same direction meanwhile:
	 * the daemon takes the first and finds the second stale.
	 */
	cand->reported = 1;
	ev->key = key;
	ev->cookie = cand->cookie;
	ev->iif = skb->ingress_ifindex;
	ev->oif = skb->ifindex;
	__builtin_memcpy(ev->dmac, l2.dmac, ETH_ALEN);
	__builtin_memcpy(ev->smac, l2.smac, ETH_ALEN);
	ev->out_vlan[0] = l2.vlan[0];
	ev->out_vlan[1] = l2.vlan[1];
	ev->out_pppoe_sid = l2.pppoe_sid;
	__builtin_memset(ev->pad, 0, sizeof(ev->pad));
	ev->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(ev, 0);
	return TC_ACT_OK;
}

#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC 1
#endif

static int clock_tick(void *map, __u32 *key, struct fp_clock *c)
{
	c->now = bpf_ktime_get_ns();
	bpf_timer_start(&c->timer, FP_CLOCK_PERIOD_NS, 0);
	return 0;
}

/*
 * Starts the coarse clock. The loader runs it once with BPF_PROG_TEST_RUN;
 * the timer then re-arms itself for as long as the pinned map lives.
 * Running it again restarts a stopped clock and is harmless otherwise.
 */
SEC("xdp")
int fastpath_clock(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct fp_clock *c = bpf_map_lookup_elem(&fp_clock, &zero);

	if (!c)
		return XDP_ABORTED;
	bpf_timer_init(&c->timer, &fp_clock, CLOCK_MONOTONIC);	/* -EBUSY: done */
	if (bpf_timer_set_callback(&c->timer, clock_tick))
		return XDP_ABORTED;
	c->now = bpf_ktime_get_ns();
	if (bpf_timer_start(&c->timer, FP_CLOCK_PERIOD_NS, 0))
		return XDP_ABORTED;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
