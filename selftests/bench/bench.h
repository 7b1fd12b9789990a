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
 * One slot of "bench_cfg", rewritten by fp_bench before every run. The
 * template carries a valid UDP checksum for the source port in it; the
 * prelude adds (seq mod nflows) to that port and patches the checksum.
 */
struct bench_cfg {
	/* Template restored over every frame; 8-byte words, so the copy is
	 * eight loads and stores rather than 64 byte moves.
	 */
	__u64 frame[BENCH_FRAME_LEN / 8];
	__u32 flow_mask;		/* nflows - 1; nflows is a power of two */
	__u32 l4_off;			/* BENCH_L4_OFF_* */
	__u32 oif;			/* egress of bench_redirect */
	__u8 dmac[6];			/* MACs bench_redirect writes */
	__u8 smac[6];
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
