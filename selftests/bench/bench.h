/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench.h - what fp_bench (userspace) and bench.bpf.c share.
 */
#ifndef FP_BENCH_H
#define FP_BENCH_H

#include <linux/types.h>

/*
 * 64-byte frames without FCS: 14 + 20 + 8 + 22 for IPv4, 14 + 40 + 8 + 2
 * for IPv6, and 14 + 4 + 8 + 20 + 8 + 10 for IPv4 in PPPoE over a VLAN
 * (Ethernet, tag, PPPoE session header with the PPP protocol, IP, UDP).
 */
#define BENCH_FRAME_LEN		64
#define BENCH_L4_OFF_V4		34
#define BENCH_L4_OFF_V6		54
#define BENCH_L4_OFF_PPPOE_VLAN	46

/* The encapsulation of the fast_pppoe_vlan frames: an ISP's WAN. */
#define BENCH_VLAN		7
#define BENCH_PPPOE_SID		0x1234

/*
 * Zipf popularity (fast_1m_zipf): "bench_zipf" holds BENCH_ZIPF_SAMPLES
 * flow indices drawn by fp_bench; the prelude takes them in turn.
 */
#define BENCH_ZIPF_SAMPLES	(1U << 20)

/*
 * One slot of "bench_cfg", rewritten by fp_bench before every run. The
 * template carries valid checksums for the flow in it. The prelude picks
 * a flow index i per frame: (seq mod nflows), or the next Zipf sample
 * when zipf_mask is set, plus this CPU's own base when per_cpu is set.
 * Flow i has source port template + (i mod 65536) and, for plain IPv4,
 * source address template + i / 65536; the prelude patches both and the
 * checksums incrementally.
 */
struct bench_cfg {
	/* Template restored over every frame; 8-byte words, so the copy is
	 * eight loads and stores rather than 64 byte moves.
	 */
	__u64 frame[BENCH_FRAME_LEN / 8];
	__u32 flow_mask;		/* nflows - 1; nflows is a power of two */
	__u32 zipf_mask;		/* samples - 1, or 0: no Zipf samples */
	__u32 per_cpu;			/* add bench_seq's per-CPU base */
	__u32 l4_off;			/* BENCH_L4_OFF_* */
	__u32 oif;			/* egress of bench_redirect */
	__u8 dmac[6];			/* MACs bench_redirect writes */
	__u8 smac[6];
};

/* Per-CPU state of the prelude: its frame counter and its flow base. */
struct bench_seq {
	__u32 seq;
	__u32 base;			/* first flow of this CPU, with per_cpu */
};

/*
 * The sink on the server's veth counts what arrives, and how much of it
 * carries the source address the router's masquerade would give it.
 */
struct bench_sink_cfg {
	__be32 nat4;
	__be32 nat6[4];
};

enum bench_sink_ctr {
	SINK_RX = 0,		/* every frame that reached the server veth */
	SINK_NAT,		/* ... with the router's address as source */
	SINK_MAX,
};

#endif /* FP_BENCH_H */
