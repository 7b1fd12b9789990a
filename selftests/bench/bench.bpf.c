// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench.bpf.c - the benchmark's own XDP programs.
 *
 * fp_bench injects frames with BPF_F_TEST_XDP_LIVE_FRAMES into
 * bench_prelude, which restores the template and tail-calls the program
 * under test from slot 0 of bench_progs. In live-frame mode the pages of
 * redirected and dropped frames come back without their content being
 * rewritten, so without the restore a NAT program would see its own output
 * (post-NAT addresses, decremented TTL) and stop matching after one round.
 * Every measured program runs behind the same prelude, so the comparison
 * stays fair; bench_drop behind it measures what the prelude costs.
 *
 * All of them are frags-aware (xdp.frags), as fastpath_xdp is: a tail
 * call only reaches a program of the same kind as the prog array's first.
 *
 * bench_sink sits on the server's veth: it lets that veth accept XDP
 * frames, counts what arrives for both paths, and drops it there, so the
 * receive side costs the same whichever path delivered the frame.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_cfg);
} bench_cfg SEC(".maps");

/* Per-CPU, so that two CPUs injecting at once never share its line. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_seq);
} bench_seq SEC(".maps");

/* Flow indices with Zipf popularity, read in turn (fast_1m_zipf). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BENCH_ZIPF_SAMPLES);
	__type(key, __u32);
	__type(value, __u32);
} bench_zipf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_progs SEC(".maps");

/* Own devmap, so the minimal redirect does not depend on fastpath's. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} bench_tx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_sink_cfg);
} sink_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SINK_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sink_ctr SEC(".maps");

static __always_inline __u16 csum_fold32(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* RFC 1624 terms ~m + m' of a 32-bit word, as two 16-bit words. */
static __always_inline __u32 csum_diff32(__u32 from, __u32 to)
{
	return (__u16)~from + (__u16)~(from >> 16) + (__u16)to + (to >> 16);
}

SEC("xdp.frags")
int bench_prelude(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct bench_seq *seq;
	struct bench_cfg *cfg;
	struct udphdr *uh;
	__u32 zero = 0, idx, sum, *z;
	__u16 old, new;

	cfg = bpf_map_lookup_elem(&bench_cfg, &zero);
	seq = bpf_map_lookup_elem(&bench_seq, &zero);
	if (!cfg || !seq || data + BENCH_FRAME_LEN > end)
		return XDP_ABORTED;
#pragma unroll
	for (int i = 0; i < BENCH_FRAME_LEN / 8; i++)
		((__u64 *)data)[i] = cfg->frame[i];

	/* Constant offsets in each branch keep the verifier's bounds simple. */
	if (cfg->l4_off == BENCH_L4_OFF_V6)
		uh = data + BENCH_L4_OFF_V6;
	else if (cfg->l4_off == BENCH_L4_OFF_PPPOE_VLAN)
		uh = data + BENCH_L4_OFF_PPPOE_VLAN;
	else
		uh = data + BENCH_L4_OFF_V4;

	/* Always taken, also for one flow (mask 0) and without Zipf (slot
	 * 0), so that every program measured behind the prelude pays for
	 * the same work.
	 */
	idx = seq->seq & cfg->zipf_mask;
	z = bpf_map_lookup_elem(&bench_zipf, &idx);
	idx = cfg->zipf_mask && z ? *z : seq->seq & cfg->flow_mask;
	if (cfg->per_cpu)
		idx += seq->base;
	seq->seq++;

	old = uh->source;
	new = bpf_htons(bpf_ntohs(old) + (idx & 0xffff));
	uh->source = new;
	sum = (__u16)~old + new;

	/* Flows beyond 65536 differ in the IPv4 source address too. */
	if (idx >> 16 && cfg->l4_off == BENCH_L4_OFF_V4) {
		struct iphdr *ip = data + sizeof(struct ethhdr);
		__u32 from = ip->saddr;
		__u32 to = bpf_htonl(bpf_ntohl(from) + (idx >> 16));
		__u32 d = csum_diff32(from, to);

		ip->saddr = to;
		ip->check = ~csum_fold32((__u16)~ip->check + d);
		sum += d;
	}
	if (uh->check) {	/* IPv4 "no checksum" stays that way */
		/* A computed 0 is sent as 0xffff (RFC 768). */
		uh->check = (__u16)~csum_fold32((__u16)~uh->check + sum) ?: 0xffff;
	}

	bpf_tail_call(ctx, &bench_progs, 0);
	return XDP_ABORTED;
}

/* Slow path: hand every frame to the kernel stack. */
SEC("xdp.frags")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The prelude's own cost: restore, tail call, and recycle the page. */
SEC("xdp.frags")
int bench_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/* XDP's limit here: the least a forwarder must do, MACs and redirect. */
SEC("xdp.frags")
int bench_redirect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bench_cfg *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&bench_cfg, &zero);
	if (!cfg || (void *)(eth + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(eth->h_dest, cfg->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, cfg->smac, ETH_ALEN);
	return bpf_redirect_map(&bench_tx, cfg->oif, 0);
}

/*
 * The TC tier's limit: the same least work at clsact ingress, on the skb
 * an XDP_PASS made; bpf_redirect() to the egress device.
 */
SEC("tc")
int bench_tc_redirect(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct bench_cfg *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&bench_cfg, &zero);
	if (!cfg || (void *)(eth + 1) > end)
		return TC_ACT_OK;
	__builtin_memcpy(eth->h_dest, cfg->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, cfg->smac, ETH_ALEN);
	return bpf_redirect(cfg->oif, 0);
}

static __always_inline void sink_count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&sink_ctr, &idx);

	if (c)
		(*c)++;
}

SEC("xdp.frags")
int bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bench_sink_cfg *cfg;
	__u32 zero = 0;

	sink_count(SINK_RX);
	cfg = bpf_map_lookup_elem(&sink_cfg, &zero);
	if (!cfg || (void *)(eth + 1) > end)
		return XDP_DROP;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= end && ip->saddr == cfg->nat4)
			sink_count(SINK_NAT);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u32 *a;

		if ((void *)(ip6 + 1) > end)
			return XDP_DROP;
		a = ip6->saddr.in6_u.u6_addr32;
		if (a[0] == cfg->nat6[0] && a[1] == cfg->nat6[1] &&
		    a[2] == cfg->nat6[2] && a[3] == cfg->nat6[3])
			sink_count(SINK_NAT);
	}
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
