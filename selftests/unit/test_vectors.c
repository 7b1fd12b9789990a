// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_vectors.c - packet vectors through BPF_PROG_TEST_RUN.
 *
 *   test_vectors IN_DEV OUT_DEV
 *
 * Runs in a private network namespace (selftests/unit/run.sh makes one):
 * the kernel resolves xdp_md.ingress_ifindex and every devmap entry to a
 * real device of the current namespace, so IN_DEV and OUT_DEV are the two
 * ends of a veth pair there.
 *
 * Each case names an input packet, the flow entries and lease to install,
 * and the verdict, pass reason and output frame to expect. After the run
 * it also checks the fp_stats slot of that reason, the flow entries'
 * counters and state, and every checksum of a forwarded frame by full
 * recomputation (pkt.h). One line per case: "PASS name" or "FAIL name: why".
 * The TC learning program's cases (learn_vectors.c) run after these, on the
 * same loaded object.
 *
 * Every case then runs again through the TC ingress program (fastpath_tc,
 * names ending in "-tc"): entries in FP_STATE_TC instead of FP_STATE_XDP,
 * verdicts TC_ACT_REDIRECT / TC_ACT_UNSPEC, the fp_tc_stats counters, and the
 * redirect target, which the program leaves in cb[0]. Where the kernel has
 * BPF_F_TEST_SKB_CHECKSUM_COMPLETE (6.11+), those runs are CHECKSUM_COMPLETE
 * skbs and the kernel fails the run when skb->csum no longer matches the
 * packet. BPF_PROG_TEST_RUN cannot make a CHECKSUM_PARTIAL skb; tc_partial.c
 * sends those through a veth instead.
 */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include "fastpath.h"
#include "fastpath.skel.h"
#include "pkt.h"
#include "learn_vectors.h"
#include "tc_partial.h"
#include "recycle.h"
#include "headroom.h"

/*
 * The tables start every packet and flow from the defaults in PKT() and
 * FLOW() and override a few fields; a later designator winning is the
 * point, not a mistake.
 */
#pragma GCC diagnostic ignored "-Woverride-init"

#define C4		"192.168.1.10"
#define S4		"198.51.100.20"
#define SNAT4		"203.0.113.1"
#define DNAT4		"10.0.0.5"
#define C6		"2001:db8:1::10"
#define S6		"2001:db8:2::20"
#define SNAT6		"2001:db8:ffff::1"
#define DNAT6		"fd00:5::5"
#define CPORT		40000
#define SPORT		443
#define SNAT_PORT	61000
#define DNAT_PORT	8443

#define MAC_CLIENT	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x10 }
#define MAC_RTR_IN	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 }
#define MAC_RTR_OUT	{ 0x02, 0x00, 0x00, 0x00, 0x02, 0x01 }
#define MAC_NEXTHOP	{ 0x02, 0x00, 0x00, 0x00, 0x02, 0x20 }
#define MAC_OTHER	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x99 }	/* another host */
#define MAC_CONC	{ 0x02, 0x00, 0x00, 0x00, 0x03, 0x30 }	/* PPPoE concentrator */
#define MAC_BCAST	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }

/* Symbolic devices, resolved to ifindexes at run time. */
enum { IF_IN = 1, IF_OUT, IF_LO, IF_MAX };

enum { LEASE_OFF, LEASE_PAST, LEASE_FUTURE };

#define MAX_FLOWS	2

struct flow_desc {
	int iif;
	uint8_t family;		/* 0: no entry */
	uint8_t proto;
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t state, flags;
	uint16_t mtu;
	int oif;
	const char *nat_src, *nat_dst;
	uint16_t nat_sport, nat_dport;
	uint8_t dmac[6], smac[6];
	uint8_t in_dmac[6], in_smac[6];		/* value: ingress MACs */
	uint16_t vlan[2], pppoe_sid;		/* key: ingress encapsulation */
	uint16_t out_vlan[2], out_pppoe_sid;	/* value: egress encapsulation */
};

struct tcase {
	const char *name;
	struct pkt_desc in;
	int iif;			/* ingress device; IF_IN when 0 */
	struct flow_desc flow[MAX_FLOWS]; /* flow[0] is the one hit, if any */
	int lease;
	const struct pkt_desc *pre;	/* sent first, passes as pre_reason */
	int pre_reason;
	int verdict;
	int reason;
	struct pkt_desc out;		/* the frame XDP_REDIRECT must send */
	/*
	 * The only port in tx_ports during the run: a redirect can only go
	 * there. 0: flow[0]'s egress for XDP_REDIRECT; both test ports
	 * (IF_IN and IF_OUT) for XDP_PASS.
	 */
	int egress;
	int only;			/* ONLY_XDP or ONLY_TC; 0: both programs */
	bool as_given;			/* TC: install the states as given */
	uint16_t gso_size;		/* TC: the skb is GSO with this size */
};

enum { ONLY_XDP = 1, ONLY_TC };

#define PKT(fam, pr, sa, da, ...) {					\
	.family = fam, .proto = pr, .src = sa, .dst = da,		\
	.sport = CPORT, .dport = SPORT, .ttl = 64,			\
	.tcp_flags = (pr) == IPPROTO_TCP ? TH_ACK : 0,			\
	.payload = 100, .smac = MAC_CLIENT, .dmac = MAC_RTR_IN,		\
	__VA_ARGS__ }
#define V4_TCP(...)	PKT(4, IPPROTO_TCP, C4, S4, __VA_ARGS__)
#define V4_UDP(...)	PKT(4, IPPROTO_UDP, C4, S4, __VA_ARGS__)
#define V6_TCP(...)	PKT(6, IPPROTO_TCP, C6, S6, __VA_ARGS__)
#define V6_UDP(...)	PKT(6, IPPROTO_UDP, C6, S6, __VA_ARGS__)

/* What the fast path must send: hop count one less, the egress MACs. */
#define OUT(fam, pr, sa, da, ...)					\
	PKT(fam, pr, sa, da, .ttl = 63, .smac = MAC_RTR_OUT,		\
	    .dmac = MAC_NEXTHOP, __VA_ARGS__)
#define OUT4_TCP(...)	OUT(4, IPPROTO_TCP, C4, S4, __VA_ARGS__)
#define OUT4_UDP(...)	OUT(4, IPPROTO_UDP, C4, S4, __VA_ARGS__)
#define OUT6_TCP(...)	OUT(6, IPPROTO_TCP, C6, S6, __VA_ARGS__)
#define OUT6_UDP(...)	OUT(6, IPPROTO_UDP, C6, S6, __VA_ARGS__)

#define FLOW(fam, pr, sa, da, ...) {					\
	.iif = IF_IN, .family = fam, .proto = pr, .src = sa, .dst = da,	\
	.sport = CPORT, .dport = SPORT, .state = FP_STATE_XDP,		\
	.mtu = 1500, .oif = IF_OUT,					\
	.dmac = MAC_NEXTHOP, .smac = MAC_RTR_OUT,			\
	.in_dmac = MAC_RTR_IN, .in_smac = MAC_CLIENT, __VA_ARGS__ }
#define FLOW4_TCP(...)	FLOW(4, IPPROTO_TCP, C4, S4, __VA_ARGS__)
#define FLOW4_UDP(...)	FLOW(4, IPPROTO_UDP, C4, S4, __VA_ARGS__)
#define FLOW6_TCP(...)	FLOW(6, IPPROTO_TCP, C6, S6, __VA_ARGS__)
#define FLOW6_UDP(...)	FLOW(6, IPPROTO_UDP, C6, S6, __VA_ARGS__)

/*
 * Every NAT entry carries both rewrites; the flags alone pick which apply,
 * so a datapath that ignored a flag would show in the output bytes.
 */
#define NAT4	.nat_src = SNAT4, .nat_sport = SNAT_PORT,		\
		.nat_dst = DNAT4, .nat_dport = DNAT_PORT
#define NAT6	.nat_src = SNAT6, .nat_sport = SNAT_PORT,		\
		.nat_dst = DNAT6, .nat_dport = DNAT_PORT
#define SNATTED4	.src = SNAT4, .sport = SNAT_PORT
#define DNATTED4	.dst = DNAT4, .dport = DNAT_PORT
#define SNATTED6	.src = SNAT6, .sport = SNAT_PORT
#define DNATTED6	.dst = DNAT6, .dport = DNAT_PORT
#define BOTH		(FP_F_SNAT | FP_F_DNAT)

#define FORWARD		.verdict = XDP_REDIRECT, .reason = FP_R_REDIRECT
#define PASS_AS(r)	.verdict = XDP_PASS, .reason = (r)

/* Forwarded in all four NAT variants: out is the same packet rewritten. */
#define NAT_MATRIX(nm, IN, FL, OUTP, NAT, SN, DN)			\
	{ .name = nm "-fwd", .in = IN(), .flow = { FL(NAT) },		\
	  FORWARD, .out = OUTP() },					\
	{ .name = nm "-snat", .in = IN(),				\
	  .flow = { FL(NAT, .flags = FP_F_SNAT) },			\
	  FORWARD, .out = OUTP(SN) },					\
	{ .name = nm "-dnat", .in = IN(),				\
	  .flow = { FL(NAT, .flags = FP_F_DNAT) },			\
	  FORWARD, .out = OUTP(DN) },					\
	{ .name = nm "-snat-dnat", .in = IN(),				\
	  .flow = { FL(NAT, .flags = BOTH) },				\
	  FORWARD, .out = OUTP(SN, DN) }

/* A packet the entry would forward, but for the one thing it breaks. */
#define PUNT4(nm, r, ...)						\
	{ .name = nm, .in = V4_TCP(__VA_ARGS__), .flow = { FLOW4_TCP() }, \
	  PASS_AS(r) }
#define PUNT4_UDP(nm, r, ...)						\
	{ .name = nm, .in = V4_UDP(__VA_ARGS__), .flow = { FLOW4_UDP() }, \
	  PASS_AS(r) }
#define PUNT6(nm, r, ...)						\
	{ .name = nm, .in = V6_TCP(__VA_ARGS__), .flow = { FLOW6_TCP() }, \
	  PASS_AS(r) }
#define PUNT6_UDP(nm, r, ...)						\
	{ .name = nm, .in = V6_UDP(__VA_ARGS__), .flow = { FLOW6_UDP() }, \
	  PASS_AS(r) }

#define V6EXT(type)	.has_v6_ext = 1, .v6_ext = (type)
#define VLAN(t, tci_)	{ .tpid = (t), .tci = (tci_) }

/*
 * The encapsulation matrix. Each kind has its frame fields (IN_ on
 * ingress, EG_ on egress) and its entry fields (KEY_ in the key, VAL_ in
 * the value). Ingress and egress use different VLAN ids and sessions, so
 * a datapath that copied the ingress header would show in the bytes. The
 * untagged kind names its zero fields, as an empty macro argument would
 * leave an empty initializer.
 */
#define IN_untagged	.pppoe_sid = 0
#define IN_vlan		.tag = { VLAN(0x8100, 10) }
#define IN_qinq		.tag = { VLAN(0x88a8, 100), VLAN(0x8100, 10) }
#define IN_pppoe	.pppoe_sid = 0x1234
#define IN_pppoe_vlan	.tag = { VLAN(0x8100, 7) }, .pppoe_sid = 0x1234
#define KEY_untagged	.pppoe_sid = 0
#define KEY_vlan	.vlan = { 10 }
#define KEY_qinq	.vlan = { 100 | FP_VLAN_8021AD, 10 }
#define KEY_pppoe	.pppoe_sid = 0x1234
#define KEY_pppoe_vlan	.vlan = { 7 }, .pppoe_sid = 0x1234
#define EG_untagged	.pppoe_sid = 0
#define EG_vlan		.tag = { VLAN(0x8100, 20) }
#define EG_qinq		.tag = { VLAN(0x88a8, 200), VLAN(0x8100, 20) }
#define EG_pppoe	.pppoe_sid = 0xbeef
#define EG_pppoe_vlan	.tag = { VLAN(0x8100, 35) }, .pppoe_sid = 0xbeef
#define VAL_untagged	.out_pppoe_sid = 0
#define VAL_vlan	.out_vlan = { 20 }
#define VAL_qinq	.out_vlan = { 200 | FP_VLAN_8021AD, 20 }
#define VAL_pppoe	.out_pppoe_sid = 0xbeef
#define VAL_pppoe_vlan	.out_vlan = { 35 }, .out_pppoe_sid = 0xbeef

/* One ingress kind to one egress kind: v4 and v6, with and without NAT,
 * TCP and UDP spread over them.
 */
#define ENC(I, E)							\
	{ .name = "enc-" #I "-to-" #E "-v4-tcp-nat", .in = V4_TCP(IN_##I), \
	  .flow = { FLOW4_TCP(NAT4, .flags = BOTH, KEY_##I, VAL_##E) },	\
	  FORWARD, .out = OUT4_TCP(SNATTED4, DNATTED4, EG_##E) },	\
	{ .name = "enc-" #I "-to-" #E "-v4-udp", .in = V4_UDP(IN_##I),	\
	  .flow = { FLOW4_UDP(KEY_##I, VAL_##E) },			\
	  FORWARD, .out = OUT4_UDP(EG_##E) },				\
	{ .name = "enc-" #I "-to-" #E "-v6-udp-nat", .in = V6_UDP(IN_##I), \
	  .flow = { FLOW6_UDP(NAT6, .flags = BOTH, KEY_##I, VAL_##E) },	\
	  FORWARD, .out = OUT6_UDP(SNATTED6, DNATTED6, EG_##E) },	\
	{ .name = "enc-" #I "-to-" #E "-v6-tcp", .in = V6_TCP(IN_##I),	\
	  .flow = { FLOW6_TCP(KEY_##I, VAL_##E) },			\
	  FORWARD, .out = OUT6_TCP(EG_##E) }
#define ENC_ROW(I)							\
	ENC(I, untagged), ENC(I, vlan), ENC(I, qinq), ENC(I, pppoe),	\
	ENC(I, pppoe_vlan)

static const struct tcase cases[] = {
	/* NAT for v4/v6 x TCP/UDP. */
	NAT_MATRIX("v4-tcp", V4_TCP, FLOW4_TCP, OUT4_TCP, NAT4,
		   SNATTED4, DNATTED4),
	NAT_MATRIX("v4-udp", V4_UDP, FLOW4_UDP, OUT4_UDP, NAT4,
		   SNATTED4, DNATTED4),
	NAT_MATRIX("v6-tcp", V6_TCP, FLOW6_TCP, OUT6_TCP, NAT6,
		   SNATTED6, DNATTED6),
	NAT_MATRIX("v6-udp", V6_UDP, FLOW6_UDP, OUT6_UDP, NAT6,
		   SNATTED6, DNATTED6),

	/* An IPv4 UDP checksum of zero means "none" and stays zero. */
	{ .name = "v4-udp-csum0-fwd", .in = V4_UDP(.udp_csum_zero = 1),
	  .flow = { FLOW4_UDP(NAT4) }, FORWARD,
	  .out = OUT4_UDP(.udp_csum_zero = 1) },
	{ .name = "v4-udp-csum0-snat", .in = V4_UDP(.udp_csum_zero = 1),
	  .flow = { FLOW4_UDP(NAT4, .flags = FP_F_SNAT) }, FORWARD,
	  .out = OUT4_UDP(SNATTED4, .udp_csum_zero = 1) },
	{ .name = "v4-udp-csum0-dnat", .in = V4_UDP(.udp_csum_zero = 1),
	  .flow = { FLOW4_UDP(NAT4, .flags = FP_F_DNAT) }, FORWARD,
	  .out = OUT4_UDP(DNATTED4, .udp_csum_zero = 1) },
	/* IPv6 makes the UDP checksum mandatory: zero is invalid there. */
	PUNT6_UDP("v6-udp-csum0-malformed", FP_R_MALFORMED, .udp_csum_zero = 1),
	{ .name = "v4-udp-csum0-snat-dnat", .in = V4_UDP(.udp_csum_zero = 1),
	  .flow = { FLOW4_UDP(NAT4, .flags = BOTH) }, FORWARD,
	  .out = OUT4_UDP(SNATTED4, DNATTED4, .udp_csum_zero = 1) },

	/*
	 * Checksums that come out as zero. The payload's last word is chosen
	 * so the full sum of the output is zero: UDP must then carry 0xffff,
	 * TCP a plain 0. The input carries the same payload.
	 */
	{ .name = "v4-udp-csum-result0-is-ffff-snat", .in = V4_UDP(),
	  .flow = { FLOW4_UDP(NAT4, .flags = FP_F_SNAT) }, FORWARD,
	  .out = OUT4_UDP(SNATTED4, .csum_zero = 1) },
	{ .name = "v6-udp-csum-result0-is-ffff-dnat", .in = V6_UDP(),
	  .flow = { FLOW6_UDP(NAT6, .flags = FP_F_DNAT) }, FORWARD,
	  .out = OUT6_UDP(DNATTED6, .csum_zero = 1) },
	{ .name = "v4-tcp-csum-result0-stays-0-snat-dnat", .in = V4_TCP(),
	  .flow = { FLOW4_TCP(NAT4, .flags = BOTH) }, FORWARD,
	  .out = OUT4_TCP(SNATTED4, DNATTED4, .csum_zero = 1) },
	{ .name = "v4-udp-csum-ffff-in-snat", .in = V4_UDP(.csum_zero = 1),
	  .flow = { FLOW4_UDP(NAT4, .flags = FP_F_SNAT) }, FORWARD,
	  .out = OUT4_UDP(SNATTED4) },
	{ .name = "v6-tcp-csum0-in-dnat", .in = V6_TCP(.csum_zero = 1),
	  .flow = { FLOW6_TCP(NAT6, .flags = FP_F_DNAT) }, FORWARD,
	  .out = OUT6_TCP(DNATTED6) },

	/* Partial rewrites. */
	{ .name = "v4-udp-snat-port-only", .in = V4_UDP(),
	  .flow = { FLOW4_UDP(.flags = FP_F_SNAT, .nat_src = C4,
			      .nat_sport = SNAT_PORT) },
	  FORWARD, .out = OUT4_UDP(.sport = SNAT_PORT) },
	{ .name = "v6-tcp-dnat-addr-only", .in = V6_TCP(),
	  .flow = { FLOW6_TCP(.flags = FP_F_DNAT, .nat_dst = DNAT6,
			      .nat_dport = SPORT) },
	  FORWARD, .out = OUT6_TCP(.dst = DNAT6) },

	/* Forwarded as they are, apart from the rewrite. */
	{ .name = "v4-tcp-df-forwards", .in = V4_TCP(.frag_off = 0x4000),
	  .flow = { FLOW4_TCP() }, FORWARD,
	  .out = OUT4_TCP(.frag_off = 0x4000) },
	{ .name = "v4-ttl2-forwards", .in = V4_UDP(.ttl = 2),
	  .flow = { FLOW4_UDP(NAT4, .flags = BOTH) }, FORWARD,
	  .out = OUT4_UDP(SNATTED4, DNATTED4, .ttl = 1) },
	{ .name = "v6-hoplimit2-forwards", .in = V6_TCP(.ttl = 2),
	  .flow = { FLOW6_TCP() }, FORWARD, .out = OUT6_TCP(.ttl = 1) },
	{ .name = "v4-udp-flag-bits-at-byte13-forward",
	  .in = V4_UDP(.payload_fill = TH_FIN | TH_SYN | TH_RST),
	  .flow = { FLOW4_UDP() }, FORWARD,
	  .out = OUT4_UDP(.payload_fill = TH_FIN | TH_SYN | TH_RST) },
	{ .name = "v4-tcp-psh-ece-cwr-forward",
	  .in = V4_TCP(.tcp_flags = 0xc0 | TH_PSH | TH_ACK),
	  .flow = { FLOW4_TCP() }, FORWARD,
	  .out = OUT4_TCP(.tcp_flags = 0xc0 | TH_PSH | TH_ACK) },
	{ .name = "v4-tcp-odd-payload-snat-dnat", .in = V4_TCP(.payload = 101),
	  .flow = { FLOW4_TCP(NAT4, .flags = BOTH) }, FORWARD,
	  .out = OUT4_TCP(SNATTED4, DNATTED4, .payload = 101) },
	{ .name = "v6-udp-odd-payload-snat", .in = V6_UDP(.payload = 101),
	  .flow = { FLOW6_UDP(NAT6, .flags = FP_F_SNAT) }, FORWARD,
	  .out = OUT6_UDP(SNATTED6, .payload = 101) },
	{ .name = "v4-tcp-options-doff8-forward", .in = V4_TCP(.tcp_doff = 8),
	  .flow = { FLOW4_TCP(NAT4, .flags = BOTH) }, FORWARD,
	  .out = OUT4_TCP(SNATTED4, DNATTED4, .tcp_doff = 8) },

	/* The daemon's lease. */
	{ .name = "lease-expired-passes", .in = V4_TCP(),
	  .flow = { FLOW4_TCP() }, .lease = LEASE_PAST,
	  PASS_AS(FP_R_LEASE) },
	{ .name = "lease-in-future-forwards", .in = V4_TCP(),
	  .flow = { FLOW4_TCP() }, .lease = LEASE_FUTURE, FORWARD,
	  .out = OUT4_TCP() },
	{ .name = "lease-off-forwards", .in = V6_UDP(),
	  .flow = { FLOW6_UDP() }, .lease = LEASE_OFF, FORWARD,
	  .out = OUT6_UDP() },

	/* Entry states that leave the packet to someone else. */
	{ .name = "state-teardown", .in = V4_TCP(),
	  .flow = { FLOW4_TCP(.state = FP_STATE_TEARDOWN) },
	  PASS_AS(FP_R_TEARDOWN) },
	{ .name = "state-hw-pending", .in = V4_TCP(),
	  .flow = { FLOW4_TCP(.state = FP_STATE_HW_PENDING) },
	  PASS_AS(FP_R_HW_PENDING) },
	{ .name = "state-hw", .in = V6_UDP(),
	  .flow = { FLOW6_UDP(.state = FP_STATE_HW) }, PASS_AS(FP_R_HW) },

	/* Exact match only. */
	{ .name = "no-entry-v4", .in = V4_TCP(), PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "no-entry-v6", .in = V6_UDP(), PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "wrong-ingress-ifindex", .in = V4_TCP(),
	  .flow = { FLOW4_TCP(.iif = IF_OUT) }, PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "sport-differs", .in = V4_TCP(),
	  .flow = { FLOW4_TCP(.sport = CPORT + 1) }, PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "dport-differs", .in = V6_UDP(),
	  .flow = { FLOW6_UDP(.dport = SPORT + 1) }, PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "proto-differs", .in = V4_TCP(),
	  .flow = { FLOW4_UDP() }, PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "saddr-differs-v6", .in = V6_TCP(),
	  .flow = { FLOW6_TCP(.src = "2001:db8:1::11") },
	  PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "reply-direction-only", .in = V4_UDP(),
	  .flow = { FLOW4_UDP(.src = S4, .dst = C4, .sport = SPORT,
			      .dport = CPORT) },
	  PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "both-directions-installed", .in = V4_UDP(),
	  .flow = { FLOW4_UDP(NAT4, .flags = BOTH),
		    FLOW4_UDP(.iif = IF_OUT, .oif = IF_IN, .src = DNAT4,
			      .dst = SNAT4, .sport = DNAT_PORT,
			      .dport = SNAT_PORT, .flags = BOTH,
			      .nat_src = S4, .nat_sport = SPORT,
			      .nat_dst = C4, .nat_dport = CPORT) },
	  FORWARD, .out = OUT4_UDP(SNATTED4, DNATTED4) },

	/* L2: IPv4/IPv6, plain or in tags and PPPoE; nothing else. */
	PUNT4("arp", FP_R_L2_PROTO, .ethertype = 0x0806),
	PUNT4("unknown-ethertype", FP_R_L2_PROTO, .ethertype = 0x88b5),
	PUNT4("pppoe-discovery", FP_R_L2_PROTO, .ethertype = 0x8863),
	/* Encapsulated frames forward when the key carries the encapsulation. */
	{ .name = "vlan-8021q", .in = V4_TCP(.tag = { VLAN(0x8100, 10) }),
	  .flow = { FLOW4_TCP(.vlan = { 10 }) }, FORWARD, .out = OUT4_TCP() },
	{ .name = "vlan-8021q-v6", .in = V6_UDP(.tag = { VLAN(0x8100, 4094) }),
	  .flow = { FLOW6_UDP(.vlan = { 4094 }) }, FORWARD,
	  .out = OUT6_UDP() },
	{ .name = "vlan-8021ad-qinq",
	  .in = V4_TCP(.tag = { VLAN(0x88a8, 100), VLAN(0x8100, 10) }),
	  .flow = { FLOW4_TCP(.vlan = { 100 | FP_VLAN_8021AD, 10 }) },
	  FORWARD, .out = OUT4_TCP() },
	{ .name = "vlan-8021ad-single", .in = V4_UDP(.tag = { VLAN(0x88a8, 100) }),
	  .flow = { FLOW4_UDP(.vlan = { 100 | FP_VLAN_8021AD }) }, FORWARD,
	  .out = OUT4_UDP() },
	{ .name = "pppoe-session-v4", .in = V4_TCP(.pppoe_sid = 0x1234),
	  .flow = { FLOW4_TCP(.pppoe_sid = 0x1234) }, FORWARD,
	  .out = OUT4_TCP() },
	{ .name = "pppoe-session-v6", .in = V6_UDP(.pppoe_sid = 0x0001),
	  .flow = { FLOW6_UDP(.pppoe_sid = 0x0001) }, FORWARD,
	  .out = OUT6_UDP() },

	/* Every ingress encapsulation to every egress one (ENC_ROW). */
	ENC_ROW(untagged),
	ENC_ROW(vlan),
	ENC_ROW(qinq),
	ENC_ROW(pppoe),
	ENC_ROW(pppoe_vlan),

	/*
	 * A home router: the LAN is a bridge, whose member port XDP sees as
	 * a plain untagged port, and the WAN is PPPoE over VLAN 7.
	 */
	{ .name = "bridge-port-to-pppoe-vlan-wan-snat", .in = V4_TCP(),
	  .flow = { FLOW4_TCP(NAT4, .flags = FP_F_SNAT,
			      .out_vlan = { 7 }, .out_pppoe_sid = 0x0042) },
	  FORWARD, .out = OUT4_TCP(SNATTED4, .tag = { VLAN(0x8100, 7) },
				   .pppoe_sid = 0x0042) },
	{ .name = "pppoe-vlan-wan-to-bridge-port-dnat",
	  .in = V4_UDP(.tag = { VLAN(0x8100, 7) }, .pppoe_sid = 0x0042),
	  .flow = { FLOW4_UDP(NAT4, .flags = FP_F_DNAT, .vlan = { 7 },
			      .pppoe_sid = 0x0042) },
	  FORWARD, .out = OUT4_UDP(DNATTED4) },
	{ .name = "bridge-port-to-pppoe-vlan-wan-v6",
	  .in = V6_TCP(.payload = 1300),
	  .flow = { FLOW6_TCP(.out_vlan = { 7 }, .out_pppoe_sid = 0x0042) },
	  FORWARD, .out = OUT6_TCP(.payload = 1300, .tag = { VLAN(0x8100, 7) },
				   .pppoe_sid = 0x0042) },

	/* Tag fields the key ignores and the egress writes as 0. */
	{ .name = "vlan-pcp-dei-ignored-and-cleared",
	  .in = V4_UDP(.tag = { VLAN(0x8100, 0xb000 | 10) }),
	  .flow = { FLOW4_UDP(.vlan = { 10 }, .out_vlan = { 20 }) }, FORWARD,
	  .out = OUT4_UDP(.tag = { VLAN(0x8100, 20) }) },
	{ .name = "qinq-pcp-on-both-tags-ignored",
	  .in = V6_TCP(.tag = { VLAN(0x88a8, 0xe000 | 100),
				VLAN(0x8100, 0x2000 | 10) }),
	  .flow = { FLOW6_TCP(.vlan = { 100 | FP_VLAN_8021AD, 10 }) }, FORWARD,
	  .out = OUT6_TCP() },
	{ .name = "vlan-8021q-outer-of-two",
	  .in = V4_TCP(.tag = { VLAN(0x8100, 100), VLAN(0x8100, 10) }),
	  .flow = { FLOW4_TCP(.vlan = { 100, 10 },
			      .out_vlan = { 300, 30 }) }, FORWARD,
	  .out = OUT4_TCP(.tag = { VLAN(0x8100, 300), VLAN(0x8100, 30) }) },
	/* Only an outer egress tag can be 802.1ad; an inner one needs an
	 * outer one. Entries the daemon should never write still give a
	 * well-formed frame.
	 */
	{ .name = "egress-inner-8021ad-flag-ignored", .in = V4_UDP(),
	  .flow = { FLOW4_UDP(.out_vlan = { 200, 20 | FP_VLAN_8021AD }) },
	  FORWARD, .out = OUT4_UDP(.tag = { VLAN(0x8100, 200),
					    VLAN(0x8100, 20) }) },
	{ .name = "egress-inner-tag-without-outer-ignored", .in = V4_UDP(),
	  .flow = { FLOW4_UDP(.out_vlan = { 0, 20 }) }, FORWARD,
	  .out = OUT4_UDP() },
	{ .name = "pppoe-vlan-udp-csum0-stays-0",
	  .in = V4_UDP(.udp_csum_zero = 1, .tag = { VLAN(0x8100, 7) },
		       .pppoe_sid = 0x1234),
	  .flow = { FLOW4_UDP(NAT4, .flags = BOTH, .vlan = { 7 },
			      .pppoe_sid = 0x1234, .out_vlan = { 20 }) },
	  FORWARD, .out = OUT4_UDP(SNATTED4, DNATTED4, .udp_csum_zero = 1,
				   .tag = { VLAN(0x8100, 20) }) },

	/* Encapsulations we do not take. */
	PUNT4("vlan-three-tags", FP_R_VLAN,
	      .tag = { VLAN(0x88a8, 100), VLAN(0x8100, 10), VLAN(0x8100, 5) }),
	PUNT4("vlan-inner-8021ad", FP_R_VLAN,
	      .tag = { VLAN(0x8100, 100), VLAN(0x88a8, 10) }),
	PUNT6_UDP("vlan-vid0-priority-tag", FP_R_VLAN,
		  .tag = { VLAN(0x8100, 0xa000) }),
	PUNT4("vlan-vid4095-reserved", FP_R_VLAN, .tag = { VLAN(0x8100, 4095) }),
	PUNT4("vlan-inner-vid0", FP_R_VLAN,
	      .tag = { VLAN(0x88a8, 100), VLAN(0x8100, 0) }),
	PUNT4("vlan-tag-truncated", FP_R_MALFORMED,
	      .tag = { VLAN(0x8100, 10) }, .trunc = 16),
	PUNT4("vlan-arp", FP_R_L2_PROTO, .tag = { VLAN(0x8100, 10) },
	      .ethertype = 0x0806),
	PUNT4("pppoe-discovery-padi", FP_R_L2_PROTO, .pppoe_sid0 = 1,
	      .pppoe_type = 0x8863, .pppoe_code = 0x09),
	PUNT6_UDP("pppoe-discovery-padt-over-vlan", FP_R_L2_PROTO,
		  .tag = { VLAN(0x8100, 7) }, .pppoe_sid = 0x1234,
		  .pppoe_type = 0x8863, .pppoe_code = 0xa7),
	PUNT4("pppoe-lcp", FP_R_PPP_PROTO, .pppoe_sid = 0x1234,
	      .ethertype = 0xc021),
	PUNT4_UDP("pppoe-ipcp", FP_R_PPP_PROTO, .pppoe_sid = 0x1234,
		  .ethertype = 0x8021),
	PUNT6("pppoe-ipv6cp-over-vlan", FP_R_PPP_PROTO,
	      .tag = { VLAN(0x8100, 7) }, .pppoe_sid = 0x1234,
	      .ethertype = 0x8057),
	/* Protocol-field compression would put 0x21 in the first byte. */
	PUNT4("pppoe-ppp-pfc", FP_R_PPP_PROTO, .pppoe_sid = 0x1234,
	      .ethertype = 0x2145),
	PUNT4("pppoe-bad-version", FP_R_PPPOE, .pppoe_sid = 0x1234,
	      .pppoe_ver_type = 0x21),
	PUNT4("pppoe-bad-type", FP_R_PPPOE, .pppoe_sid = 0x1234,
	      .pppoe_ver_type = 0x12),
	PUNT6_UDP("pppoe-code-not-session", FP_R_PPPOE, .pppoe_sid = 0x1234,
		  .pppoe_code = 0xa7),
	PUNT4("pppoe-sid-0", FP_R_PPPOE, .pppoe_sid0 = 1),
	PUNT4("pppoe-sid-ffff-reserved", FP_R_PPPOE, .pppoe_sid = 0xffff),
	PUNT4("pppoe-header-truncated", FP_R_MALFORMED, .pppoe_sid = 0x1234,
	      .trunc = 14 + 6),
	PUNT4("pppoe-ppp-ipv6-carries-ipv4", FP_R_MALFORMED, .pppoe_sid = 0x1234,
	      .ethertype = 0x0057),
	PUNT6("pppoe-ppp-ipv4-carries-ipv6", FP_R_MALFORMED, .pppoe_sid = 0x1234,
	      .ethertype = 0x0021),
	/* The PPPoE length must be the IP length + 2, not more, not less. */
	{ .name = "pppoe-len-over-ip", .in = V4_TCP(.pppoe_sid = 0x1234,
						    .pppoe_len_delta = 1),
	  .flow = { FLOW4_TCP(.pppoe_sid = 0x1234) }, PASS_AS(FP_R_MALFORMED) },
	{ .name = "pppoe-len-under-ip", .in = V4_UDP(.pppoe_sid = 0x1234,
						     .pppoe_len_delta = -1),
	  .flow = { FLOW4_UDP(.pppoe_sid = 0x1234) }, PASS_AS(FP_R_MALFORMED) },
	{ .name = "pppoe-len-ip-only-v6-vlan",
	  .in = V6_UDP(.tag = { VLAN(0x8100, 7) }, .pppoe_sid = 0x1234,
		       .pppoe_len_delta = -2),
	  .flow = { FLOW6_UDP(.vlan = { 7 }, .pppoe_sid = 0x1234) },
	  PASS_AS(FP_R_MALFORMED) },
	/* Padding goes up whatever the PPPoE length says (L1 below). */
	{ .name = "pppoe-len-padding-included",
	  .in = V4_UDP(.payload = 6, .pppoe_sid = 0x1234, .pad_to = 60,
		       .pppoe_len_delta = 4),
	  .flow = { FLOW4_UDP(.pppoe_sid = 0x1234) }, PASS_AS(FP_R_TRAILING) },

	/* Exact match on the encapsulation. */
	{ .name = "vlan-id-differs", .in = V4_TCP(.tag = { VLAN(0x8100, 10) }),
	  .flow = { FLOW4_TCP(.vlan = { 11 }) }, PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "vlan-tagged-frame-untagged-entry",
	  .in = V4_TCP(.tag = { VLAN(0x8100, 10) }), .flow = { FLOW4_TCP() },
	  PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "vlan-untagged-frame-tagged-entry", .in = V6_UDP(),
	  .flow = { FLOW6_UDP(.vlan = { 10 }) }, PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "vlan-8021q-frame-8021ad-entry",
	  .in = V4_UDP(.tag = { VLAN(0x8100, 100) }),
	  .flow = { FLOW4_UDP(.vlan = { 100 | FP_VLAN_8021AD }) },
	  PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "qinq-inner-id-differs",
	  .in = V4_TCP(.tag = { VLAN(0x88a8, 100), VLAN(0x8100, 10) }),
	  .flow = { FLOW4_TCP(.vlan = { 100 | FP_VLAN_8021AD, 11 }) },
	  PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "qinq-frame-single-tag-entry",
	  .in = V4_TCP(.tag = { VLAN(0x88a8, 100), VLAN(0x8100, 10) }),
	  .flow = { FLOW4_TCP(.vlan = { 100 | FP_VLAN_8021AD }) },
	  PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "pppoe-sid-differs", .in = V4_TCP(.pppoe_sid = 0x1234),
	  .flow = { FLOW4_TCP(.pppoe_sid = 0x1235) }, PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "pppoe-frame-plain-entry", .in = V6_TCP(.pppoe_sid = 0x1234),
	  .flow = { FLOW6_TCP() }, PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "plain-frame-pppoe-entry", .in = V4_UDP(),
	  .flow = { FLOW4_UDP(.pppoe_sid = 0x1234) }, PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "pppoe-vlan-id-differs",
	  .in = V4_UDP(.tag = { VLAN(0x8100, 7) }, .pppoe_sid = 0x1234),
	  .flow = { FLOW4_UDP(.vlan = { 8 }, .pppoe_sid = 0x1234) },
	  PASS_AS(FP_R_NO_ENTRY) },
	{ .name = "pppoe-vlan-frame-pppoe-entry",
	  .in = V4_UDP(.tag = { VLAN(0x8100, 7) }, .pppoe_sid = 0x1234),
	  .flow = { FLOW4_UDP(.pppoe_sid = 0x1234) }, PASS_AS(FP_R_NO_ENTRY) },

	/*
	 * The entry's MTU is the egress link's: PPPoE takes 8 bytes of it,
	 * tags take none, and the ingress encapsulation does not matter.
	 */
	{ .name = "pppoe-mtu-1493-passes",
	  .in = V4_TCP(.payload = 1453),
	  .flow = { FLOW4_TCP(.out_pppoe_sid = 0x0042) }, PASS_AS(FP_R_MTU) },
	{ .name = "pppoe-mtu-1492-forwards",
	  .in = V4_TCP(.payload = 1452),
	  .flow = { FLOW4_TCP(NAT4, .flags = FP_F_SNAT, .out_pppoe_sid = 0x0042) },
	  FORWARD, .out = OUT4_TCP(SNATTED4, .payload = 1452,
				   .pppoe_sid = 0x0042) },
	{ .name = "pppoe-vlan-mtu-v6-1493-passes",
	  .in = V6_UDP(.payload = 1445),
	  .flow = { FLOW6_UDP(.out_vlan = { 7 }, .out_pppoe_sid = 0x0042) },
	  PASS_AS(FP_R_MTU) },
	{ .name = "pppoe-vlan-mtu-v6-1492-forwards",
	  .in = V6_UDP(.payload = 1444),
	  .flow = { FLOW6_UDP(.out_vlan = { 7 }, .out_pppoe_sid = 0x0042) },
	  FORWARD, .out = OUT6_UDP(.payload = 1444, .tag = { VLAN(0x8100, 7) },
				   .pppoe_sid = 0x0042) },
	{ .name = "qinq-mtu-1500-forwards", .in = V4_UDP(.payload = 1472),
	  .flow = { FLOW4_UDP(.out_vlan = { 200 | FP_VLAN_8021AD, 20 }) },
	  FORWARD, .out = OUT4_UDP(.payload = 1472,
				   .tag = { VLAN(0x88a8, 200), VLAN(0x8100, 20) }) },
	{ .name = "qinq-mtu-1501-passes", .in = V4_UDP(.payload = 1473),
	  .flow = { FLOW4_UDP(.out_vlan = { 200 | FP_VLAN_8021AD, 20 }) },
	  PASS_AS(FP_R_MTU) },
	{ .name = "pppoe-ingress-mtu-1500-forwards",
	  .in = V4_TCP(.payload = 1460, .pppoe_sid = 0x1234),
	  .flow = { FLOW4_TCP(.pppoe_sid = 0x1234) }, FORWARD,
	  .out = OUT4_TCP(.payload = 1460) },

	/* Pass rules still hold inside an encapsulation, before any push
	 * or pop: the packet goes up as it came.
	 */
	{ .name = "pppoe-vlan-ttl1-passes-untouched",
	  .in = V4_TCP(.ttl = 1, .tag = { VLAN(0x8100, 7) }, .pppoe_sid = 0x1234),
	  .flow = { FLOW4_TCP(.vlan = { 7 }, .pppoe_sid = 0x1234) },
	  PASS_AS(FP_R_TTL) },
	{ .name = "qinq-fin-marks-teardown",
	  .in = V6_TCP(.tcp_flags = TH_FIN | TH_ACK,
		       .tag = { VLAN(0x88a8, 100), VLAN(0x8100, 10) }),
	  .flow = { FLOW6_TCP(.vlan = { 100 | FP_VLAN_8021AD, 10 },
			      .out_pppoe_sid = 0x0042) },
	  PASS_AS(FP_R_TCP_FIN_RST) },
	{ .name = "pppoe-egress-not-in-devmap-untouched", .in = V4_UDP(),
	  .flow = { FLOW4_UDP(NAT4, .flags = BOTH, .oif = IF_LO,
			      .out_vlan = { 7 }, .out_pppoe_sid = 0x0042) },
	  PASS_AS(FP_R_NO_EGRESS) },
	{ .name = "pppoe-ingress-not-in-devmap-untouched",
	  .in = V4_UDP(.pppoe_sid = 0x1234),
	  .flow = { FLOW4_UDP(NAT4, .flags = BOTH, .oif = IF_LO,
			      .pppoe_sid = 0x1234) },
	  PASS_AS(FP_R_NO_EGRESS) },
	{ .name = "pppoe-lease-expired-untouched",
	  .in = V4_UDP(.pppoe_sid = 0x1234), .lease = LEASE_PAST,
	  .flow = { FLOW4_UDP(.pppoe_sid = 0x1234) }, PASS_AS(FP_R_LEASE) },

	/* Truncated headers. */
	PUNT4("eth-truncated", FP_R_MALFORMED, .trunc = 10),
	PUNT4("eth-header-only", FP_R_MALFORMED, .trunc = 14),
	PUNT4("ipv4-truncated", FP_R_MALFORMED, .trunc = 14 + 19),
	PUNT6("ipv6-truncated", FP_R_MALFORMED, .trunc = 14 + 39),
	PUNT4("tcp-truncated-v4", FP_R_MALFORMED, .payload = 0,
	      .l4_trunc = 19),
	PUNT4_UDP("udp-truncated-v4", FP_R_MALFORMED, .payload = 0,
		  .l4_trunc = 7),
	PUNT6("tcp-truncated-v6", FP_R_MALFORMED, .payload = 0,
	      .l4_trunc = 12),
	PUNT6_UDP("udp-truncated-v6", FP_R_MALFORMED, .payload = 0,
		  .l4_trunc = 4),
	/*
	 * An L4 header that only the Ethernet padding or trailing bytes
	 * complete: the bytes after the IP packet send it up first.
	 */
	PUNT4_UDP("udp-truncated-v4-in-padding", FP_R_TRAILING, .payload = 0,
		  .l4_trunc = 4, .pad_to = 60),
	PUNT4_UDP("v4-l4-beyond-tot-len", FP_R_TRAILING, .payload = 0,
		  .ip_len_delta = -8, .pad_to = 60),
	PUNT6("v6-l4-beyond-payload-len", FP_R_TRAILING, .payload = 0,
	      .ip_len_delta = -20, .pad_to = 120),

	/* Lengths that contradict the frame or each other. */
	PUNT4("v4-tot-len-over-frame", FP_R_MALFORMED, .ip_len_delta = 1),
	PUNT4_UDP("v4-tot-len-below-header", FP_R_MALFORMED, .payload = 0,
		  .ip_len_delta = -9),
	PUNT6_UDP("v6-payload-len-over-frame", FP_R_MALFORMED,
		  .ip_len_delta = 1),
	PUNT4("tcp-doff-below-5", FP_R_MALFORMED, .tcp_doff = 4),
	PUNT4("tcp-doff-over-segment", FP_R_MALFORMED, .payload = 10,
	      .tcp_doff = 15),
	PUNT4_UDP("udp-len-over-segment", FP_R_MALFORMED, .udp_len = 200),
	PUNT6_UDP("udp-len-below-header", FP_R_MALFORMED, .udp_len = 7),

	/* Version and header length. */
	PUNT4("v4-version-6", FP_R_MALFORMED, .ip_version = 6),
	PUNT4("v4-ihl-4", FP_R_MALFORMED, .ihl = 4),
	PUNT6("v6-version-4", FP_R_MALFORMED, .ip_version = 4),
	PUNT4("v4-options-ihl6", FP_R_IP_OPTIONS, .ihl = 6),
	PUNT4_UDP("v4-options-ihl15", FP_R_IP_OPTIONS, .ihl = 15),

	/* IPv4 fragments. */
	PUNT4_UDP("v4-first-fragment-mf", FP_R_FRAGMENT, .frag_off = 0x2000),
	PUNT4_UDP("v4-last-fragment-offset", FP_R_FRAGMENT,
		  .frag_off = 0x00b9),
	PUNT4("v4-middle-fragment-df-mf-offset", FP_R_FRAGMENT,
	      .frag_off = 0x6001),

	/* IPv6 extension headers. */
	PUNT6("v6-ext-hop-by-hop", FP_R_IPV6_EXT, V6EXT(IPPROTO_HOPOPTS)),
	PUNT6("v6-ext-routing", FP_R_IPV6_EXT, V6EXT(IPPROTO_ROUTING)),
	PUNT6_UDP("v6-ext-fragment", FP_R_IPV6_EXT,
		  V6EXT(IPPROTO_FRAGMENT)),
	PUNT6("v6-ext-dest-opts", FP_R_IPV6_EXT, V6EXT(IPPROTO_DSTOPTS)),
	PUNT6_UDP("v6-ext-ah", FP_R_IPV6_EXT, V6EXT(IPPROTO_AH)),

	/* Neither TCP nor UDP. */
	PUNT4("icmp", FP_R_L4_PROTO, .proto = IPPROTO_ICMP),
	PUNT6("icmpv6", FP_R_L4_PROTO, .proto = IPPROTO_ICMPV6),
	PUNT4("gre", FP_R_L4_PROTO, .proto = IPPROTO_GRE),

	/* The stack sends the ICMP time-exceeded. */
	PUNT4("v4-ttl1", FP_R_TTL, .ttl = 1),
	PUNT4_UDP("v4-ttl0", FP_R_TTL, .ttl = 0),
	PUNT6("v6-hoplimit1", FP_R_TTL, .ttl = 1),
	PUNT6_UDP("v6-hoplimit0", FP_R_TTL, .ttl = 0),

	/* MTU counts L3 bytes: exactly the MTU goes, one more does not. */
	PUNT4("v4-mtu-exceeded", FP_R_MTU, .payload = 1461),
	{ .name = "v4-mtu-exact-forwards", .in = V4_TCP(.payload = 1460),
	  .flow = { FLOW4_TCP(NAT4, .flags = BOTH) }, FORWARD,
	  .out = OUT4_TCP(SNATTED4, DNATTED4, .payload = 1460) },
	PUNT6_UDP("v6-mtu-exceeded", FP_R_MTU, .payload = 1453),
	{ .name = "v6-mtu-exact-forwards", .in = V6_UDP(.payload = 1452),
	  .flow = { FLOW6_UDP(NAT6, .flags = BOTH) }, FORWARD,
	  .out = OUT6_UDP(SNATTED6, DNATTED6, .payload = 1452) },
	{ .name = "v4-mtu-small-entry", .in = V4_UDP(.payload = 553),
	  .flow = { FLOW4_UDP(.mtu = 580) }, PASS_AS(FP_R_MTU) },

	/* TCP control segments. */
	PUNT4("tcp-syn", FP_R_TCP_SYN, .tcp_flags = TH_SYN),
	PUNT6("tcp-syn-ack", FP_R_TCP_SYN, .tcp_flags = TH_SYN | TH_ACK),
	PUNT4("tcp-fin-marks-teardown", FP_R_TCP_FIN_RST,
	      .tcp_flags = TH_FIN | TH_ACK),
	PUNT6("tcp-fin-v6-marks-teardown", FP_R_TCP_FIN_RST,
	      .tcp_flags = TH_FIN | TH_PSH | TH_ACK),
	PUNT4("tcp-rst-marks-teardown", FP_R_TCP_FIN_RST, .tcp_flags = TH_RST),
	PUNT6("tcp-rst-ack-marks-teardown", FP_R_TCP_FIN_RST,
	      .tcp_flags = TH_RST | TH_ACK),
	{ .name = "tcp-after-fin-passes-as-teardown", .in = V4_TCP(),
	  .flow = { FLOW4_TCP(NAT4, .flags = BOTH) },
	  .pre = &(struct pkt_desc)V4_TCP(.tcp_flags = TH_FIN | TH_ACK),
	  .pre_reason = FP_R_TCP_FIN_RST, PASS_AS(FP_R_TEARDOWN) },
	{ .name = "tcp-after-rst-passes-as-teardown-v6", .in = V6_TCP(),
	  .flow = { FLOW6_TCP() },
	  .pre = &(struct pkt_desc)V6_TCP(.tcp_flags = TH_RST),
	  .pre_reason = FP_R_TCP_FIN_RST, PASS_AS(FP_R_TEARDOWN) },

	/*
	 * L1: what the stack would not route (issue 11). The frame must be
	 * addressed to the router on that link; a PPPoE frame must also come
	 * from the concentrator. A frame that fails either must not touch
	 * the entry, not even as a FIN.
	 */
	PUNT4("other-host-dmac", FP_R_OTHER_HOST, .dmac = MAC_OTHER),
	PUNT6_UDP("other-host-broadcast", FP_R_OTHER_HOST, .dmac = MAC_BCAST),
	PUNT6("other-host-router-out-mac", FP_R_OTHER_HOST, .dmac = MAC_RTR_OUT),
	PUNT4("other-host-last-byte-differs", FP_R_OTHER_HOST,
	      .dmac = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x00 }),
	PUNT4("other-host-first-byte-differs", FP_R_OTHER_HOST,
	      .dmac = { 0x03, 0x00, 0x00, 0x00, 0x01, 0x01 }),
	PUNT4("other-host-fin-keeps-entry", FP_R_OTHER_HOST, .dmac = MAC_OTHER,
	      .tcp_flags = TH_FIN | TH_ACK),
	PUNT6("other-host-rst-keeps-entry", FP_R_OTHER_HOST, .dmac = MAC_OTHER,
	      .tcp_flags = TH_RST),
	{ .name = "entry-without-ingress-mac-forwards-nothing", .in = V4_UDP(),
	  .flow = { FLOW4_UDP(.in_dmac = { 0 }) }, PASS_AS(FP_R_OTHER_HOST) },
	{ .name = "entry-ingress-mac-is-compared", .in = V4_UDP(.dmac = MAC_OTHER),
	  .flow = { FLOW4_UDP(.in_dmac = MAC_OTHER) }, FORWARD,
	  .out = OUT4_UDP() },
	{ .name = "vlan-other-host", .in = V4_TCP(.tag = { VLAN(0x8100, 10) },
						  .dmac = MAC_OTHER),
	  .flow = { FLOW4_TCP(.vlan = { 10 }) }, PASS_AS(FP_R_OTHER_HOST) },
	{ .name = "pppoe-from-concentrator-forwards",
	  .in = V4_TCP(.pppoe_sid = 0x1234, .smac = MAC_CONC),
	  .flow = { FLOW4_TCP(NAT4, .flags = FP_F_SNAT, .pppoe_sid = 0x1234,
			      .in_smac = MAC_CONC) }, FORWARD,
	  .out = OUT4_TCP(SNATTED4) },
	{ .name = "pppoe-not-from-concentrator",
	  .in = V4_TCP(.pppoe_sid = 0x1234, .smac = MAC_OTHER),
	  .flow = { FLOW4_TCP(.pppoe_sid = 0x1234, .in_smac = MAC_CONC) },
	  PASS_AS(FP_R_OTHER_HOST) },
	{ .name = "pppoe-vlan-not-from-concentrator-fin-keeps-entry",
	  .in = V6_TCP(.tag = { VLAN(0x8100, 7) }, .pppoe_sid = 0x1234,
		       .smac = MAC_CLIENT, .tcp_flags = TH_FIN | TH_ACK),
	  .flow = { FLOW6_TCP(.vlan = { 7 }, .pppoe_sid = 0x1234,
			      .in_smac = MAC_CONC) },
	  PASS_AS(FP_R_OTHER_HOST) },
	{ .name = "pppoe-concentrator-but-other-dmac",
	  .in = V4_UDP(.pppoe_sid = 0x1234, .smac = MAC_CONC, .dmac = MAC_OTHER),
	  .flow = { FLOW4_UDP(.pppoe_sid = 0x1234, .in_smac = MAC_CONC) },
	  PASS_AS(FP_R_OTHER_HOST) },
	/* Without PPPoE the source MAC is anyone's. */
	{ .name = "plain-source-mac-not-checked", .in = V4_UDP(.smac = MAC_OTHER),
	  .flow = { FLOW4_UDP(.in_smac = MAC_CONC) }, FORWARD,
	  .out = OUT4_UDP() },

	/* TCP without ACK goes up and leaves the entry alone. */
	PUNT4("tcp-no-flags", FP_R_TCP_NO_ACK, .tcp_flags = 0),
	PUNT6("tcp-psh-only", FP_R_TCP_NO_ACK, .tcp_flags = TH_PSH),
	PUNT4("tcp-urg-psh-no-ack", FP_R_TCP_NO_ACK, .tcp_flags = 0x20 | TH_PSH),
	PUNT4("tcp-fin-without-ack-keeps-entry", FP_R_TCP_NO_ACK,
	      .tcp_flags = TH_FIN),
	PUNT6("tcp-fin-psh-without-ack-keeps-entry", FP_R_TCP_NO_ACK,
	      .tcp_flags = TH_FIN | TH_PSH),
	PUNT4("tcp-ece-cwr-no-ack", FP_R_TCP_NO_ACK, .tcp_flags = 0xc0),
	PUNT4("tcp-syn-fin-keeps-entry", FP_R_TCP_SYN,
	      .tcp_flags = TH_SYN | TH_FIN),
	PUNT6("tcp-syn-rst-keeps-entry", FP_R_TCP_SYN,
	      .tcp_flags = TH_SYN | TH_RST | TH_ACK),
	{ .name = "tcp-urg-ack-forwards", .in = V4_TCP(.tcp_flags = 0x20 | TH_ACK),
	  .flow = { FLOW4_TCP(NAT4, .flags = BOTH) }, FORWARD,
	  .out = OUT4_TCP(SNATTED4, DNATTED4, .tcp_flags = 0x20 | TH_ACK) },

	/* The stack drops an IPv4 header whose checksum does not verify. */
	PUNT4("v4-header-checksum-bad", FP_R_MALFORMED, .ip_csum_delta = 1),
	PUNT4_UDP("v4-header-checksum-zero", FP_R_MALFORMED, .ip_csum_zero = 1),
	PUNT4("v4-header-checksum-bad-vlan", FP_R_MALFORMED,
	      .tag = { VLAN(0x8100, 10) }, .ip_csum_delta = 0x100),

	/* Bytes after the IP packet: the stack trims them, XDP passes. */
	PUNT4_UDP("v4-udp-eth-padding-passes", FP_R_TRAILING, .payload = 6,
		  .pad_to = 60),
	PUNT4("v4-tcp-ack-eth-padding-passes", FP_R_TRAILING, .payload = 0,
	      .pad_to = 60),
	PUNT4("v4-trailing-1-byte", FP_R_TRAILING, .pad_to = 14 + 20 + 20 + 101),
	PUNT6_UDP("v6-trailing-bytes", FP_R_TRAILING, .pad_to = 14 + 40 + 8 + 164),
	{ .name = "pppoe-eth-padding-passes",
	  .in = V4_UDP(.payload = 6, .pppoe_sid = 0x1234, .pad_to = 60),
	  .flow = { FLOW4_UDP(NAT4, .flags = BOTH, .pppoe_sid = 0x1234) },
	  PASS_AS(FP_R_TRAILING) },
	{ .name = "vlan-trailing-bytes",
	  .in = V6_TCP(.tag = { VLAN(0x8100, 10) }, .pad_to = 200),
	  .flow = { FLOW6_TCP(.vlan = { 10 }) }, PASS_AS(FP_R_TRAILING) },
	/* Exactly the IP length, with the smallest frames the builder
	 * makes: no padding, so forwarded.
	 */
	{ .name = "v4-udp-no-padding-forwards", .in = V4_UDP(.payload = 0),
	  .flow = { FLOW4_UDP(NAT4, .flags = BOTH) }, FORWARD,
	  .out = OUT4_UDP(SNATTED4, DNATTED4, .payload = 0) },

	/*
	 * The egress is the entry's port and no other: with only the
	 * ingress port in tx_ports the packet cannot be redirected.
	 */
	{ .name = "egress-only-through-entry-oif", .in = V4_TCP(),
	  .flow = { FLOW4_TCP() }, .egress = IF_IN, PASS_AS(FP_R_NO_EGRESS) },
	{ .name = "egress-hairpin-to-ingress-port", .in = V6_UDP(),
	  .flow = { FLOW6_UDP(.oif = IF_IN) }, FORWARD, .out = OUT6_UDP() },
	/* Tiers: each program leaves the other's entries to it. */
	{ .name = "tier-tc-passed-by-xdp", .in = V4_TCP(), .only = ONLY_XDP,
	  .flow = { FLOW4_TCP(.state = FP_STATE_TC) }, PASS_AS(FP_R_TIER_TC) },
	{ .name = "tier-xdp-passed-by-tc", .in = V6_UDP(), .only = ONLY_TC,
	  .as_given = true,
	  .flow = { FLOW6_UDP(.state = FP_STATE_XDP) }, PASS_AS(FP_R_TIER_XDP) },

	/*
	 * TC: a GSO packet is longer than the MTU; its segments count. The
	 * egress device cuts it into IP + TCP header + gso_size bytes each.
	 */
	{ .name = "tc-gso-segments-fit", .in = V4_TCP(.payload = 1800),
	  .only = ONLY_TC, .gso_size = 1460,
	  .flow = { FLOW4_TCP(NAT4, .flags = BOTH) }, FORWARD,
	  .out = OUT4_TCP(SNATTED4, DNATTED4, .payload = 1800) },
	{ .name = "tc-gso-segments-too-long", .in = V4_TCP(.payload = 1800),
	  .only = ONLY_TC, .gso_size = 1461,
	  .flow = { FLOW4_TCP() }, PASS_AS(FP_R_MTU) },
	{ .name = "tc-gso6-udp-segments-fit", .in = V6_UDP(.payload = 1800),
	  .only = ONLY_TC, .gso_size = 1452,
	  .flow = { FLOW6_UDP(.out_vlan = { 7 }) }, FORWARD,
	  .out = OUT6_UDP(.payload = 1800, .tag = { VLAN(0x8100, 7) }) },
	/* Every segment would carry the superpacket's PPPoE length. */
	{ .name = "tc-gso-into-pppoe", .in = V4_TCP(.payload = 1800),
	  .only = ONLY_TC, .gso_size = 500,
	  .flow = { FLOW4_TCP(.out_pppoe_sid = 0x0042) }, PASS_AS(FP_R_MTU) },
	{ .name = "tc-no-gso-too-long", .in = V4_TCP(.payload = 1800),
	  .only = ONLY_TC, .flow = { FLOW4_TCP() }, PASS_AS(FP_R_MTU) },

	/* Redirect only to attached devices. */
	{ .name = "egress-not-in-devmap", .in = V4_TCP(),
	  .flow = { FLOW4_TCP(.oif = IF_LO) }, PASS_AS(FP_R_NO_EGRESS) },
	{ .name = "egress-not-in-devmap-v6", .in = V6_UDP(),
	  .flow = { FLOW6_UDP(NAT6, .flags = BOTH, .oif = IF_LO) },
	  PASS_AS(FP_R_NO_EGRESS) },
};

/* user/names.c, as "fastpath status" prints them. */
extern const char *const fp_reason_names[FP_R_MAX];

static const char *rname(int r)
{
	return r >= 0 && r < FP_R_MAX && fp_reason_names[r] ? fp_reason_names[r] : "?";
}

static const char *vname(int v)
{
	switch (v) {
	case XDP_ABORTED: return "XDP_ABORTED";
	case XDP_DROP: return "XDP_DROP";
	case XDP_PASS: return "XDP_PASS";
	case XDP_TX: return "XDP_TX";
	case XDP_REDIRECT: return "XDP_REDIRECT";
	default: return "?";
	}
}

struct env;
static uint64_t clock_now(struct env *e);
static uint64_t mono_ns(void);

struct env {
	struct fastpath_bpf *skel;
	int prog_fd, flows_fd, stats_fd, cfg_fd, tx_fd, clock_fd;
	bool tc;			/* running the TC program now */
	int xdp_fd, xdp_stats_fd, tc_fd, tc_stats_fd;
	__u32 tc_flags;			/* BPF_F_TEST_SKB_CHECKSUM_COMPLETE or 0 */
	bool keep_state;		/* a tier case: install states as given */
	bool clock_timer;	/* fastpath_clock loaded and ticking */
	int ifindex[IF_MAX];
	int ncpus;
	struct fp_counter *percpu;	/* scratch for one per-CPU value */
};

/* The datapath's coarse clock, as the program reads it. */
static uint64_t clock_now(struct env *e)
{
	struct fp_clock c = {};
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(e->clock_fd, &zero, &c))
		return 0;
	/* No timer (see setup()): the datapath reads the helper's clock. */
	return c.now ?: mono_ns();
}

/* What went wrong, and the two frames to dump when bytes differ. */
struct result {
	char why[512];
	uint8_t got[PKT_MAX + 64], want[PKT_MAX + 64];
	size_t got_len, want_len;
	bool dump;
	bool skip;		/* the kernel cannot run this case */
};

#define CHECK(cond, r, ...)						\
	do {								\
		if (!(cond)) {						\
			snprintf((r)->why, sizeof((r)->why), __VA_ARGS__); \
			goto out;					\
		}							\
	} while (0)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int flow_key(struct env *e, const struct flow_desc *f,
		    struct fp_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = e->ifindex[f->iif];
	k->family = f->family == 4 ? AF_INET : AF_INET6;
	k->proto = f->proto;
	k->sport = htons(f->sport);
	k->dport = htons(f->dport);
	k->vlan[0] = f->vlan[0];
	k->vlan[1] = f->vlan[1];
	k->pppoe_sid = f->pppoe_sid;
	if (pkt_addr(f->family, f->src, (uint8_t *)k->saddr) ||
	    pkt_addr(f->family, f->dst, (uint8_t *)k->daddr))
		return -1;
	return 0;
}

static int flow_value(struct env *e, const struct flow_desc *f,
		      struct fp_flow *v)
{
	memset(v, 0, sizeof(*v));
	v->state = f->state;
	/* The same vectors on the TC tier, where its state forwards. */
	if (e->tc && f->state == FP_STATE_XDP && !e->keep_state)
		v->state = FP_STATE_TC;
	v->flags = f->flags;
	v->mtu = f->mtu;
	v->oif = e->ifindex[f->oif];
	if (f->nat_src && pkt_addr(f->family, f->nat_src,
				   (uint8_t *)v->nat_saddr))
		return -1;
	if (f->nat_dst && pkt_addr(f->family, f->nat_dst,
				   (uint8_t *)v->nat_daddr))
		return -1;
	v->nat_sport = htons(f->nat_sport);
	v->nat_dport = htons(f->nat_dport);
	memcpy(v->dmac, f->dmac, 6);
	memcpy(v->smac, f->smac, 6);
	memcpy(v->in_dmac, f->in_dmac, 6);
	memcpy(v->in_smac, f->in_smac, 6);
	v->out_vlan[0] = f->out_vlan[0];
	v->out_vlan[1] = f->out_vlan[1];
	v->out_pppoe_sid = f->out_pppoe_sid;
	return 0;
}

static int clear_flows(struct env *e)
{
	struct fp_flow_key k;

	while (!bpf_map_get_next_key(e->flows_fd, NULL, &k))
		if (bpf_map_delete_elem(e->flows_fd, &k))
			return -1;
	return errno == ENOENT ? 0 : -1;
}

static int set_lease(struct env *e, int lease)
{
	struct fp_config cfg = { .lease_ns = 10ull * 1000000000ull };
	uint32_t zero = 0;

	switch (lease) {
	case LEASE_OFF:
		cfg.lease_expires = 0;
		break;
	case LEASE_PAST:
		/* Just behind the datapath's own clock, however late it is. */
		cfg.lease_expires = clock_now(e) - 1;
		break;
	case LEASE_FUTURE:
		cfg.lease_expires = mono_ns() + 60ull * 1000000000ull;
		break;
	}
	return bpf_map_update_elem(e->cfg_fd, &zero, &cfg, BPF_ANY);
}

static int read_stats(struct env *e, struct fp_counter sum[FP_R_MAX])
{
	uint32_t r;
	int cpu;

	for (r = 0; r < FP_R_MAX; r++) {
		if (bpf_map_lookup_elem(e->stats_fd, &r, e->percpu))
			return -1;
		sum[r].packets = sum[r].bytes = 0;
		for (cpu = 0; cpu < e->ncpus; cpu++) {
			sum[r].packets += e->percpu[cpu].packets;
			sum[r].bytes += e->percpu[cpu].bytes;
		}
	}
	return 0;
}

/* Name the first field of a flow value that differs, for the report. */
static const char *flow_diff(const struct fp_flow *a, const struct fp_flow *b)
{
	if (a->state != b->state)
		return "state";
	if (a->packets != b->packets)
		return "packets";
	if (a->bytes != b->bytes)
		return "bytes";
	if (a->last_seen != b->last_seen)
		return "last_seen";
	if (a->last_pass != b->last_pass || a->passed != b->passed)
		return "last_pass or passed";
	return "a configuration field";
}

/*
 * The pass reasons the datapath gives after an entry matched: those leave
 * their reason in it (fp_flow.last_pass, passed). Not the tier hand-offs.
 */
static bool pass_after_match(int reason)
{
	switch (reason) {
	case FP_R_TEARDOWN: case FP_R_HW_PENDING: case FP_R_HW:
	case FP_R_OTHER_HOST: case FP_R_LEASE: case FP_R_TCP_SYN:
	case FP_R_TCP_FIN_RST: case FP_R_TTL: case FP_R_MTU:
	case FP_R_NO_EGRESS: case FP_R_HEADROOM: case FP_R_TC_L2:
		return true;
	}
	return false;
}

struct installed {
	int n;
	struct fp_flow_key key[MAX_FLOWS];
	struct fp_flow val[MAX_FLOWS];
};

/*
 * Send one frame and check everything the datapath promises about it.
 * @want is the expected frame for XDP_REDIRECT, NULL for XDP_PASS (whose
 * output must be the input unchanged). @inst holds what the flow entries
 * should contain before the run and is advanced to what they contain after.
 */
static int run_step(struct env *e, const struct tcase *tc,
		    const struct pkt_desc *in_d, const struct pkt_desc *want_d,
		    int verdict, int reason, struct installed *inst,
		    struct result *r)
{
	static uint8_t in[PKT_MAX];
	struct fp_counter before[FP_R_MAX], after[FP_R_MAX];
	struct pkt_layout lo = {}, wlo = {};
	struct xdp_md ctx = {};
	struct __sk_buff skb = {}, skb_out = {};
	int want_ret = verdict;
	char vwhy[256];
	size_t want_len = 0, i;
	uint64_t t0, t1;
	int err, k;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	memset(in, 0, sizeof(in));
	CHECK(pkt_build(in_d, in, &lo), r, "cannot build the input packet");
	if (want_d) {
		CHECK(pkt_build(want_d, r->want, &wlo), r,
		      "cannot build the expected packet");
		want_len = wlo.len;
		/* Keep the builder honest: its packets must verify. */
		CHECK(!pkt_verify(r->want, want_len, vwhy, sizeof(vwhy)),
		      r, "builder: expected packet: %s", vwhy);
		CHECK(!pkt_verify(in, lo.len, vwhy, sizeof(vwhy)), r,
		      "builder: input packet: %s", vwhy);
	} else {
		memcpy(r->want, in, lo.len);
		want_len = lo.len;
	}

	CHECK(!read_stats(e, before), r, "read fp_stats: %s", strerror(errno));

	opts.data_in = in;
	opts.data_size_in = lo.len;
	opts.data_out = r->got;
	opts.data_size_out = sizeof(r->got);
	opts.repeat = 1;
	if (e->tc) {
		/* The kernel sets skb->dev and skb_iif from these. */
		skb.ifindex = e->ifindex[tc->iif ? tc->iif : IF_IN];
		skb.ingress_ifindex = skb.ifindex;
		if (tc->gso_size) {
			skb.gso_size = tc->gso_size;
			skb.gso_segs = (lo.len + tc->gso_size - 1) / tc->gso_size;
		}
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
		opts.ctx_out = &skb_out;
		opts.ctx_size_out = sizeof(skb_out);
		/*
		 * BPF_PROG_TEST_RUN runs the program as if at TC egress
		 * (skb->tc_at_ingress is 0), where bpf_skb_vlan_pop() leaves
		 * a CHECKSUM_COMPLETE sum that starts at the MAC header, while
		 * the test run's sum starts at the network header. At real
		 * ingress the helper keeps the two consistent, and the outer
		 * tag is metadata anyway (tc_partial.c sends those); so frames
		 * with tags in their bytes run as CHECKSUM_NONE here.
		 */
		if (!in_d->tag[0].tpid)
			opts.flags = e->tc_flags;
		want_ret = verdict == XDP_REDIRECT ? TC_ACT_REDIRECT : TC_ACT_UNSPEC;
	} else {
		ctx.data_end = lo.len;
		ctx.ingress_ifindex = e->ifindex[tc->iif ? tc->iif : IF_IN];
		ctx.rx_queue_index = 0;
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	/* last_seen is the datapath's clock (fp_clock) at the time of the
	 * run, so it must lie between the clock's values around it.
	 */
	t0 = clock_now(e);
	err = bpf_prog_test_run_opts(e->prog_fd, &opts);
	t1 = clock_now(e);
	if (err && errno == EINVAL && lo.len < ETH_HLEN) {
		/* The kernel may refuse it; the datapath is not at fault. */
		r->skip = true;
		CHECK(0, r, "this kernel's BPF_PROG_TEST_RUN refuses a "
		      "%zu-byte frame (shorter than an Ethernet header)", lo.len);
	}
	/* EBADMSG: skb->csum of a CHECKSUM_COMPLETE run no longer sums the
	 * packet, the kernel's own check after the run.
	 */
	if (err && errno == EINVAL && e->tc &&
	    lo.len < ETH_HLEN + (in_d->family == 4 ? 20 : 40)) {
		/* bpf_prog_test_run_skb() wants the IP header of an IP
		 * ethertype in the frame; the datapath is not at fault.
		 */
		r->skip = true;
		CHECK(0, r, "this kernel's BPF_PROG_TEST_RUN refuses an skb "
		      "with a truncated IP header (%zu bytes)", lo.len);
	}
	CHECK(!err, r, "BPF_PROG_TEST_RUN: %s%s", strerror(errno),
	      e->tc && errno == EBADMSG ? " (CHECKSUM_COMPLETE sum stale)" : "");

	r->got_len = opts.data_size_out;
	r->want_len = want_len;
	if (e->tc)
		CHECK((int)opts.retval == want_ret, r, "verdict %d, want %s",
		      opts.retval, want_ret == TC_ACT_UNSPEC ? "TC_ACT_UNSPEC" :
		      "TC_ACT_REDIRECT");
	else
		CHECK((int)opts.retval == verdict, r, "verdict %s, want %s",
		      vname(opts.retval), vname(verdict));
	if (e->tc && verdict == XDP_REDIRECT)
		CHECK(skb_out.cb[0] == inst->val[0].oif, r,
		      "redirected to ifindex %u, want %u", skb_out.cb[0],
		      inst->val[0].oif);

	r->dump = true;
	for (i = 0; i < r->got_len && i < want_len; i++)
		if (r->got[i] != r->want[i])
			break;
	CHECK(i == r->got_len && i == want_len, r, "%s",
	      want_d ? "output" : "passed frame (must be untouched)");
	r->dump = false;

	if (want_d) {
		CHECK(!pkt_verify(r->got, r->got_len, vwhy, sizeof(vwhy)),
		      r, "output: %s", vwhy);
		if (want_d->csum_zero) {
			/* Zero-sum cases must really exercise the corner. */
			uint16_t c = get16(r->got + wlo.l4 +
					   l4_check_off(want_d->proto));
			uint16_t z = want_d->proto == IPPROTO_UDP ? 0xffff : 0;

			CHECK(c == z, r, "L4 checksum %#06x, want %#06x", c, z);
		}
	}

	CHECK(!read_stats(e, after), r, "read fp_stats: %s", strerror(errno));
	for (k = 0; k < FP_R_MAX; k++) {
		uint64_t dp = after[k].packets - before[k].packets;

		CHECK(k == reason || dp == 0, r, "fp_stats[%s] went +%llu packets; "
		      "only [%s] may move", rname(k), (unsigned long long)dp,
		      rname(reason));
	}
	for (k = 0; k < FP_R_MAX; k++) {
		uint64_t dp = after[k].packets - before[k].packets;
		uint64_t db = after[k].bytes - before[k].bytes;

		if (k == reason)
			CHECK(dp == 1 && db == lo.len, r,
			      "fp_stats[%s] went +%llu packets +%llu bytes, "
			      "want +1 and +%zu", rname(k),
			      (unsigned long long)dp, (unsigned long long)db,
			      lo.len);
		else
			CHECK(dp == 0 && db == 0, r,
			      "fp_stats[%s] went +%llu packets; only [%s] "
			      "may move", rname(k), (unsigned long long)dp,
			      rname(reason));
	}

	for (k = 0; k < inst->n; k++) {
		struct fp_flow got, exp = inst->val[k];

		CHECK(!bpf_map_lookup_elem(e->flows_fd, &inst->key[k], &got),
		      r, "flow[%d] vanished: %s", k, strerror(errno));
		if (k == 0 && verdict == XDP_REDIRECT) {
			exp.packets++;
			exp.bytes += lo.l3_len;
			CHECK(t0 && got.last_seen >= t0 && got.last_seen <= t1, r,
			      "flow[0] last_seen %llu not the datapath clock "
			      "of the run [%llu, %llu]",
			      (unsigned long long)got.last_seen,
			      (unsigned long long)t0, (unsigned long long)t1);
			exp.last_seen = got.last_seen;
		}
		if (k == 0 && reason == FP_R_TCP_FIN_RST)
			exp.state = FP_STATE_TEARDOWN;
		/* A pass after the match leaves its reason in the entry. */
		if (k == 0 && verdict != XDP_REDIRECT && pass_after_match(reason)) {
			exp.last_pass = reason;
			exp.passed++;
		}
		CHECK(!memcmp(&got, &exp, sizeof(got)), r,
		      "flow[%d] %s: state %u packets %llu bytes %llu, "
		      "want state %u packets %llu bytes %llu", k,
		      flow_diff(&got, &exp), got.state,
		      (unsigned long long)got.packets,
		      (unsigned long long)got.bytes, exp.state,
		      (unsigned long long)exp.packets,
		      (unsigned long long)exp.bytes);
		inst->val[k] = got;
	}
	return 0;
out:
	return -1;
}

/* tx_ports holds exactly the ports in @mask (bits of IF_*). */
static int set_tx_ports(struct env *e, unsigned int mask)
{
	uint32_t ifx;
	int i;

	for (i = IF_IN; i < IF_MAX; i++) {
		ifx = e->ifindex[i];
		if (mask & 1U << i) {
			if (bpf_map_update_elem(e->tx_fd, &ifx, &ifx, BPF_ANY))
				return -1;
		} else if (bpf_map_delete_elem(e->tx_fd, &ifx) && errno != ENOENT) {
			return -1;
		}
	}
	return 0;
}

/* The egress L2 length an entry asks for: Ethernet, its tags, PPPoE. */
static int out_l2_len(const struct flow_desc *f)
{
	int n = 14;

	if (f->out_vlan[0])
		n += f->out_vlan[1] ? 8 : 4;
	return n + (f->out_pppoe_sid ? 8 : 0);
}

static int run_case(struct env *e, const struct tcase *tc, struct result *r)
{
	unsigned int tx = 1U << IF_IN | 1U << IF_OUT;
	struct pkt_desc in = tc->in, want = tc->out;
	int verdict = tc->verdict, reason = tc->reason;
	struct installed inst = {};
	uint8_t scratch[PKT_MAX];
	struct pkt_layout lo;
	int i;

	e->keep_state = tc->as_given;
	/*
	 * The skb helpers cannot shorten the L2 header once its tags are
	 * popped (bpf/l2.h, l2_tc_shrinks()): the TC program leaves a flow
	 * from PPPoE to a shorter header to the slow path, untouched.
	 */
	if (e->tc && verdict == XDP_REDIRECT && tc->flow[0].pppoe_sid &&
	    out_l2_len(&tc->flow[0]) < 14 + 8) {
		verdict = XDP_PASS;
		reason = FP_R_TC_L2;
	}

	CHECK(!clear_flows(e), r, "clear flows: %s", strerror(errno));
	CHECK(!set_lease(e, tc->lease), r, "set lease: %s", strerror(errno));
	/* A redirect must go where the entry says, so that port alone is
	 * a redirect target: through any other, the run would pass.
	 */
	if (tc->egress)
		tx = 1U << tc->egress;
	else if (tc->verdict == XDP_REDIRECT)
		tx = 1U << tc->flow[0].oif;
	CHECK(!set_tx_ports(e, tx), r, "set tx_ports: %s", strerror(errno));
	for (i = 0; i < MAX_FLOWS && tc->flow[i].family; i++) {
		CHECK(!flow_key(e, &tc->flow[i], &inst.key[i]) &&
		      !flow_value(e, &tc->flow[i], &inst.val[i]), r,
		      "bad flow[%d] in the table", i);
		CHECK(!bpf_map_update_elem(e->flows_fd, &inst.key[i],
					   &inst.val[i], BPF_NOEXIST), r,
		      "install flow[%d]: %s", i, strerror(errno));
		inst.n++;
	}

	/*
	 * A zero-sum case fixes the payload on one side; the other side
	 * must carry the same payload bytes.
	 */
	if (verdict == XDP_REDIRECT && (want.csum_zero || in.csum_zero)) {
		struct pkt_desc *fixed = want.csum_zero ? &want : &in;
		struct pkt_desc *other = want.csum_zero ? &in : &want;

		CHECK(pkt_build(fixed, scratch, &lo), r, "cannot build");
		other->has_tail = 1;
		other->tail = get16(scratch + lo.l4 + lo.l4_len - 2);
	}

	if (tc->pre && run_step(e, tc, tc->pre, NULL, XDP_PASS,
				tc->pre_reason, &inst, r)) {
		char tmp[sizeof(r->why)];

		snprintf(tmp, sizeof(tmp), "first packet: %.480s", r->why);
		memcpy(r->why, tmp, sizeof(tmp));
		return -1;
	}
	return run_step(e, tc, &in, verdict == XDP_REDIRECT ? &want : NULL,
			verdict, reason, &inst, r);
out:
	return -1;
}

/* RFC 1071's IPv4 header example: a known answer for the builder's sum. */
static int builder_self_test(struct result *r)
{
	static const uint8_t hdr[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};
	uint16_t c = csum_finish(csum_add(0, hdr, sizeof(hdr)));

	CHECK(c == 0xb861, r, "IPv4 header checksum %#06x, want 0xb861", c);
	return 0;
out:
	return -1;
}

static void report_fail(const char *name, struct result *r)
{
	size_t i = 0;

	if (r->dump) {
		while (i < r->got_len && i < r->want_len &&
		       r->got[i] == r->want[i])
			i++;
		printf("FAIL %s: %s differs at offset %zu: got ", name,
		       r->why, i);
		if (i < r->got_len)
			printf("0x%02x", r->got[i]);
		else
			printf("end of frame (%zu bytes)", r->got_len);
		printf(", want ");
		if (i < r->want_len)
			printf("0x%02x\n", r->want[i]);
		else
			printf("end of frame (%zu bytes)\n", r->want_len);
		pkt_hexdump("got", r->got, r->got_len);
		pkt_hexdump("want", r->want, r->want_len);
		return;
	}
	printf("FAIL %s: %s\n", name, r->why);
}

static int setup(struct env *e, const char *in_dev, const char *out_dev)
{
	struct bpf_map *m;
	uint32_t ifx;
	int i;

	e->ifindex[IF_IN] = if_nametoindex(in_dev);
	e->ifindex[IF_OUT] = if_nametoindex(out_dev);
	e->ifindex[IF_LO] = if_nametoindex("lo");
	for (i = IF_IN; i < IF_MAX; i++) {
		if (!e->ifindex[i]) {
			fprintf(stderr, "no such device (index %d)\n", i);
			return -1;
		}
	}
	e->ncpus = libbpf_num_possible_cpus();
	if (e->ncpus <= 0)
		return -1;
	e->percpu = calloc(e->ncpus, sizeof(*e->percpu));
	if (!e->percpu)
		return -1;

	/*
	 * A kernel that cannot run the clock's timer callback refuses
	 * fastpath_clock (EINVAL: no JIT takes callbacks there): the vectors
	 * then run without it, on the datapath's helper clock.
	 */
	for (i = 0; i < 2; i++) {
		e->skel = fastpath_bpf__open();
		if (!e->skel) {
			fprintf(stderr, "open skeleton: %s\n", strerror(errno));
			return -1;
		}
		/* Private maps: the test must never adopt or leave pins. */
		bpf_object__for_each_map(m, e->skel->obj)
			if (bpf_map__set_pin_path(m, NULL))
				return -1;
		if (i && bpf_program__set_autoload(e->skel->progs.fastpath_clock, false))
			return -1;
		if (!fastpath_bpf__load(e->skel))
			break;
		fprintf(stderr, "load: %s\n", strerror(errno));
		fastpath_bpf__destroy(e->skel);
		e->skel = NULL;
		if (i || errno != EINVAL)
			return -1;
	}
	e->clock_timer = i == 0;
	if (!e->clock_timer)
		printf("SKIP clock-timer: this kernel refuses fastpath_clock's timer callback; "
		       "vectors on the per-packet clock\n");
	e->prog_fd = e->xdp_fd = bpf_program__fd(e->skel->progs.fastpath_xdp);
	e->tc_fd = bpf_program__fd(e->skel->progs.fastpath_tc);
	{
		/* Whether the vectors run on native code (vm/vectors_inner.sh). */
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(e->prog_fd, &info, &len))
			printf("jit: fastpath_xdp %s (%u bytes native, %u BPF)\n",
			       info.jited_prog_len ? "native" : "interpreted",
			       info.jited_prog_len, info.xlated_prog_len);
	}
	e->flows_fd = bpf_map__fd(e->skel->maps.flows);
	e->stats_fd = e->xdp_stats_fd = bpf_map__fd(e->skel->maps.fp_stats);
	e->tc_stats_fd = bpf_map__fd(e->skel->maps.fp_tc_stats);
	e->cfg_fd = bpf_map__fd(e->skel->maps.fp_config);
	e->clock_fd = bpf_map__fd(e->skel->maps.fp_clock);
	e->tx_fd = bpf_map__fd(e->skel->maps.tx_ports);

	/* Start the datapath's clock, as the loader does. */
	if (e->clock_timer) {
		__u8 frame[64] = {};
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = 1);

		if (bpf_prog_test_run_opts(bpf_program__fd(e->skel->progs.fastpath_clock),
					   &run) || run.retval != XDP_PASS) {
			fprintf(stderr, "cannot start the datapath clock\n");
			return -1;
		}
	}

	/* Does this kernel make CHECKSUM_COMPLETE test skbs (6.11+)? */
	{
		__u8 frame[64] = { [12] = 0x08, [13] = 0x06 };
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = 1,
			    .flags = BPF_F_TEST_SKB_CHECKSUM_COMPLETE);

		if (!bpf_prog_test_run_opts(e->tc_fd, &run))
			e->tc_flags = BPF_F_TEST_SKB_CHECKSUM_COMPLETE;
	}

	for (i = IF_IN; i <= IF_OUT; i++) {
		ifx = e->ifindex[i];
		if (bpf_map_update_elem(e->tx_fd, &ifx, &ifx, BPF_ANY)) {
			fprintf(stderr, "tx_ports add %u: %s\n", ifx,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct result r;
	struct env e = {};
	int failed = 0, ret = 1;
	size_t i;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IN_DEV OUT_DEV\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup(&e, argv[1], argv[2])) {
		printf("FAIL test_vectors-setup: cannot load the datapath "
		       "or find %s/%s\n", argv[1], argv[2]);
		goto cleanup;
	}

	memset(&r, 0, sizeof(r));
	if (builder_self_test(&r)) {
		report_fail("builder-rfc1071-known-answer", &r);
		failed++;
	} else {
		printf("PASS builder-rfc1071-known-answer\n");
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].only == ONLY_TC)
			continue;
		memset(&r, 0, sizeof(r));
		if (run_case(&e, &cases[i], &r)) {
			if (r.skip) {
				printf("SKIP %s: %s\n", cases[i].name, r.why);
				continue;
			}
			report_fail(cases[i].name, &r);
			failed++;
		} else {
			printf("PASS %s\n", cases[i].name);
		}
	}

	/* The same vectors through the TC ingress program. */
	e.tc = true;
	e.prog_fd = e.tc_fd;
	e.stats_fd = e.tc_stats_fd;
	if (!e.tc_flags)
		printf("SKIP tc-checksum-complete: this kernel's BPF_PROG_TEST_RUN "
		       "has no BPF_F_TEST_SKB_CHECKSUM_COMPLETE (6.11+); the TC "
		       "vectors run as CHECKSUM_NONE skbs\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[96];

		if (cases[i].only == ONLY_XDP)
			continue;
		snprintf(name, sizeof(name), "%s%s", cases[i].name,
			 cases[i].only ? "" : "-tc");
		memset(&r, 0, sizeof(r));
		if (run_case(&e, &cases[i], &r)) {
			if (r.skip) {
				printf("SKIP %s: %s\n", name, r.why);
				continue;
			}
			report_fail(name, &r);
			failed++;
		} else {
			printf("PASS %s\n", name);
		}
	}
	e.tc = false;
	e.prog_fd = e.xdp_fd;
	e.stats_fd = e.xdp_stats_fd;
	failed += learn_vectors_run(e.skel, e.ifindex[IF_IN], e.ifindex[IF_OUT]);
	failed += tc_partial_run(e.skel);
	failed += recycle_run(e.skel, e.ifindex[IF_IN], e.ifindex[IF_OUT]);
	failed += headroom_run();
	ret = failed ? 1 : 0;
cleanup:
	fastpath_bpf__destroy(e.skel);
	free(e.percpu);
	return ret;
}
