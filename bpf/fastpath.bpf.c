// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fastpath.bpf.c - the XDP fast path.
 *
 * A packet is forwarded only on an exact match of ingress ifindex, tuple
 * and encapsulation in the flow table, and only when no pass rule applies.
 * Everything doubtful goes to the slow path with XDP_PASS; nothing is ever
 * dropped here. All pass checks run before the first write to the packet,
 * so a passed packet is always the packet that arrived.
 *
 * No CO-RE: only UAPI headers and our own maps, so the object loads on
 * kernels built without BTF (OpenWrt) down to 5.15.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fastpath.h"
#include "maps.h"
#include "parse.h"
#include "nat.h"
#include "l2.h"
#include "learn.h"

static __always_inline void count(__u32 reason, __u64 bytes)
{
	struct fp_counter *c = bpf_map_lookup_elem(&fp_stats, &reason);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline int pass(__u32 reason, __u64 bytes)
{
	count(reason, bytes);
	return XDP_PASS;
}

/* A plain load: array lookups are inlined by the verifier. */
static __always_inline __u64 clock_now(void)
{
	__u32 zero = 0;
	struct fp_clock *c = bpf_map_lookup_elem(&fp_clock, &zero);

	return c ? c->now : 0;
}

static __always_inline int lease_expired(__u64 now)
{
	__u32 zero = 0;
	struct fp_config *cfg = bpf_map_lookup_elem(&fp_config, &zero);

	return cfg && cfg->lease_expires && now > cfg->lease_expires;
}

/* The checks that need the entry, in the order a reader would ask them. */
static __always_inline int flow_check(struct fp_flow *f, struct pkt *p,
				      __u64 now, const int family)
{
	switch (f->state) {
	case FP_STATE_XDP:
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
	if (l2_mtu_exceeded(p, f))
		return FP_R_MTU;
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
 * Everything after the L2 header, for one address family. @family is a
 * constant in each of the two inlined copies (see nat_rewrite()). @key
 * holds the ingress ifindex and encapsulation already.
 */
static __always_inline int forward(struct xdp_md *ctx, struct hdr_cursor *c,
				   struct pkt *p, struct fp_flow_key *key,
				   __u64 len, const int family)
{
	struct fp_flow *f;
	__u64 now;
	int ret;

	if (family == AF_INET)
		ret = parse_ipv4(c, p, key);
	else
		ret = parse_ipv6(c, p, key);
	if (ret < 0)
		return pass(-ret, len);
	if (!l2_len_ok(p, key))
		return pass(FP_R_MALFORMED, len);
	ret = parse_l4(c, p, key, ret);
	if (ret < 0)
		return pass(-ret, len);

	f = bpf_map_lookup_elem(&flows, key);
	if (!f)
		return pass(FP_R_NO_ENTRY, len);

	now = clock_now();
	ret = flow_check(f, p, now, family);
	if (ret != FP_R_REDIRECT)
		return pass(ret, len);
	/* The last check, as it may move the head: it moves it back if it
	 * has to pass the packet after all.
	 */
	ret = l2_push(ctx, p, f, key->proto, family);
	if (ret != FP_R_REDIRECT)
		return pass(ret, len);

	nat_rewrite(p, f, key->proto, family);

	/* One direction is normally steered to one RX queue, so these
	 * atomics are uncontended; they stay correct when RSS spreads it.
	 */
	__sync_fetch_and_add(&f->packets, 1);
	__sync_fetch_and_add(&f->bytes, p->l3_len);
	f->last_seen = now;
	count(FP_R_REDIRECT, len);
	return XDP_REDIRECT;
}

SEC("xdp")
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

	ret = l2_parse(&c, &p, &key);
	if (ret < 0)
		return pass(-ret, len);
	if (ret == bpf_htons(ETH_P_IP))
		return forward(ctx, &c, &p, &key, len, AF_INET);
	return forward(ctx, &c, &p, &key, len, AF_INET6);
}

/*
 * TC egress, on every attached device: sees only what the kernel itself
 * forwards (XDP redirects never pass here), after the firewall accepted it
 * and routing, NAT and neighbour resolution were done. For a candidate
 * direction it reports what the kernel did, then forgets the candidate.
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

	/* Ring full: keep the candidate and learn from a later packet. */
	ev = bpf_ringbuf_reserve(&fp_events, sizeof(*ev), 0);
	if (!ev)
		return TC_ACT_OK;
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
	bpf_map_delete_elem(&fp_learn, &key);
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
