// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc_partial.c - CHECKSUM_PARTIAL skbs through the TC program, on veths.
 *
 * BPF_PROG_TEST_RUN cannot make a CHECKSUM_PARTIAL skb (it offers
 * CHECKSUM_NONE and, since 6.11, CHECKSUM_COMPLETE), and it never runs a
 * program at TC ingress proper. So these cases go through the kernel's
 * real path: a packet socket with PACKET_VNET_HDR sends a frame whose
 * virtio header asks for a partial checksum (and GSO), exactly what a
 * veth, tap or virtio device hands the stack; the frame crosses the veth
 * pair fpp0 -> fpp1, where fastpath_tc sits on TC ingress as the daemon
 * attaches it (tcx, or clsact before Linux 6.6), and must
 * leave on fpq1, the entry's egress, to be read on its peer fpq0 with
 * its virtio header. That header must still say "needs checksum" at the
 * L4 header; the test completes the checksum as the kernel would
 * (skb_checksum_help()) and then verifies every checksum of the frame by
 * full recomputation and compares it with the expected frame byte for byte.
 *
 * The ingress tags arrive as the stack delivers them at TC ingress: the
 * outer one in skb metadata, an inner one in the bytes.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fastpath.h"
#include "fastpath.skel.h"
#include "pkt.h"
#include "tc_partial.h"
#include "lib/tc.h"

/* Cases override the defaults of PP() and PO(), as in test_vectors.c. */
#pragma GCC diagnostic ignored "-Woverride-init"

#define P_C4		"192.168.1.10"
#define P_S4		"198.51.100.20"
#define P_SNAT4		"203.0.113.1"
#define P_C6		"2001:db8:1::10"
#define P_S6		"2001:db8:2::20"
#define P_DNAT6		"fd00:5::5"

#define P_MAC_CLIENT	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x10 }
#define P_MAC_RTR_IN	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 }
#define P_MAC_RTR_OUT	{ 0x02, 0x00, 0x00, 0x00, 0x02, 0x01 }
#define P_MAC_NEXTHOP	{ 0x02, 0x00, 0x00, 0x00, 0x02, 0x20 }

#define PP(fam, pr, sa, da, ...) {					\
	.family = fam, .proto = pr, .src = sa, .dst = da,		\
	.sport = 40000, .dport = 443, .ttl = 64,			\
	.tcp_flags = (pr) == IPPROTO_TCP ? TH_ACK : 0,			\
	.payload = 300, .smac = P_MAC_CLIENT, .dmac = P_MAC_RTR_IN,	\
	__VA_ARGS__ }
#define PO(fam, pr, sa, da, ...)					\
	PP(fam, pr, sa, da, .ttl = 63, .smac = P_MAC_RTR_OUT,		\
	   .dmac = P_MAC_NEXTHOP, __VA_ARGS__)
#define TAG(t, v)	{ .tpid = (t), .tci = (v) }

struct pcase {
	const char *name;
	struct pkt_desc in, out;
	uint8_t flags;			/* FP_F_SNAT / FP_F_DNAT */
	const char *nat_src, *nat_dst;
	uint16_t nat_sport, nat_dport;
	uint16_t vlan[2], pppoe_sid;	/* key */
	uint16_t out_vlan[2], out_pppoe_sid;
	uint16_t gso_size;		/* a GSO packet of this size */
};

static const struct pcase pcases[] = {
	{ .name = "tc-partial-tcp4-snat",
	  .in = PP(4, IPPROTO_TCP, P_C4, P_S4),
	  .flags = FP_F_SNAT, .nat_src = P_SNAT4, .nat_sport = 61000,
	  .out = PO(4, IPPROTO_TCP, P_SNAT4, P_S4, .sport = 61000) },
	{ .name = "tc-partial-udp6-dnat-vlan-to-vlan",
	  .in = PP(6, IPPROTO_UDP, P_C6, P_S6, .tag = { TAG(0x8100, 10) }),
	  .vlan = { 10 }, .out_vlan = { 20 },
	  .flags = FP_F_DNAT, .nat_dst = P_DNAT6, .nat_dport = 8443,
	  .out = PO(6, IPPROTO_UDP, P_C6, P_DNAT6, .dport = 8443,
		    .tag = { TAG(0x8100, 20) }) },
	{ .name = "tc-partial-tcp6-qinq-to-pppoe",
	  .in = PP(6, IPPROTO_TCP, P_C6, P_S6,
		   .tag = { TAG(0x88a8, 100), TAG(0x8100, 10) }),
	  .vlan = { 100 | FP_VLAN_8021AD, 10 }, .out_pppoe_sid = 0x42,
	  .out = PO(6, IPPROTO_TCP, P_C6, P_S6, .pppoe_sid = 0x42) },
	{ .name = "tc-partial-udp4-pppoe-to-pppoe-vlan-snat",
	  .in = PP(4, IPPROTO_UDP, P_C4, P_S4, .pppoe_sid = 0x1234),
	  .pppoe_sid = 0x1234, .out_vlan = { 7 }, .out_pppoe_sid = 0x42,
	  .flags = FP_F_SNAT, .nat_src = P_SNAT4, .nat_sport = 61000,
	  .out = PO(4, IPPROTO_UDP, P_SNAT4, P_S4, .sport = 61000,
		    .tag = { TAG(0x8100, 7) }, .pppoe_sid = 0x42) },
	{ .name = "tc-partial-gso-tcp4-snat-to-qinq",
	  .in = PP(4, IPPROTO_TCP, P_C4, P_S4, .payload = 1800),
	  .gso_size = 600, .out_vlan = { 200 | FP_VLAN_8021AD, 20 },
	  .flags = FP_F_SNAT, .nat_src = P_SNAT4, .nat_sport = 61000,
	  .out = PO(4, IPPROTO_TCP, P_SNAT4, P_S4, .sport = 61000,
		    .payload = 1800,
		    .tag = { TAG(0x88a8, 200), TAG(0x8100, 20) }) },
	{ .name = "tc-partial-gso-tcp6-vlan-to-untagged",
	  .in = PP(6, IPPROTO_TCP, P_C6, P_S6, .payload = 1800,
		   .tag = { TAG(0x8100, 10) }),
	  .gso_size = 900, .vlan = { 10 },
	  .flags = FP_F_DNAT, .nat_dst = P_DNAT6, .nat_dport = 8443,
	  .out = PO(6, IPPROTO_TCP, P_C6, P_DNAT6, .dport = 8443,
		    .payload = 1800) },
};

struct penv {
	struct fastpath_bpf *skel;
	int in_if, tc_if, out_if, cap_if;	/* fpp0, fpp1, fpq1, fpq0 */
	int tx, rx;				/* packet sockets */
	int hook;				/* FP_TC_HOOK_* */
};

#define FAIL_IF(cond, ...)						\
	do {								\
		if (cond) {						\
			snprintf(why, wlen, __VA_ARGS__);		\
			return -1;					\
		}							\
	} while (0)

static int packet_socket(int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = ifindex };
	int fd, one = 1;

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int install(struct penv *pe, const struct pcase *c)
{
	struct fp_flow_key k = { .ifindex = pe->tc_if };
	struct fp_flow v = { .state = FP_STATE_TC, .mtu = 1500,
			     .oif = pe->out_if };
	static const uint8_t dmac[6] = P_MAC_NEXTHOP, smac[6] = P_MAC_RTR_OUT;
	/* The frames come to the router's MAC, PPPoE ones from the client's
	 * (which stands in for the concentrator here).
	 */
	static const uint8_t in_dmac[6] = P_MAC_RTR_IN, in_smac[6] = P_MAC_CLIENT;
	int fd = bpf_map__fd(pe->skel->maps.flows);

	k.family = c->in.family == 4 ? AF_INET : AF_INET6;
	k.proto = c->in.proto;
	k.sport = htons(c->in.sport);
	k.dport = htons(c->in.dport);
	k.vlan[0] = c->vlan[0];
	k.vlan[1] = c->vlan[1];
	k.pppoe_sid = c->pppoe_sid;
	if (pkt_addr(c->in.family, c->in.src, (uint8_t *)k.saddr) ||
	    pkt_addr(c->in.family, c->in.dst, (uint8_t *)k.daddr))
		return -1;
	v.flags = c->flags;
	if (c->nat_src && pkt_addr(c->in.family, c->nat_src,
				   (uint8_t *)v.nat_saddr))
		return -1;
	if (c->nat_dst && pkt_addr(c->in.family, c->nat_dst,
				   (uint8_t *)v.nat_daddr))
		return -1;
	v.nat_sport = htons(c->nat_sport);
	v.nat_dport = htons(c->nat_dport);
	memcpy(v.dmac, dmac, 6);
	memcpy(v.smac, smac, 6);
	memcpy(v.in_dmac, in_dmac, 6);
	if (c->pppoe_sid)
		memcpy(v.in_smac, in_smac, 6);
	v.out_vlan[0] = c->out_vlan[0];
	v.out_vlan[1] = c->out_vlan[1];
	v.out_pppoe_sid = c->out_pppoe_sid;
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY);
}

/* Read frames on the capture side until ours (its next-hop MAC) comes. */
static ssize_t capture(struct penv *pe, uint8_t *buf, size_t len,
		       struct virtio_net_hdr *vh)
{
	static const uint8_t nexthop[6] = P_MAC_NEXTHOP;
	uint8_t frame[PKT_MAX + 2048];
	struct pollfd pfd = { .fd = pe->rx, .events = POLLIN };
	char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];

	while (poll(&pfd, 1, 2000) == 1) {
		struct iovec iov[2] = { { vh, sizeof(*vh) },
					{ frame, sizeof(frame) } };
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2,
				      .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		struct tpacket_auxdata *aux = NULL;
		struct cmsghdr *cm;
		ssize_t n = recvmsg(pe->rx, &msg, 0);
		size_t fl, off = 0;

		if (n < (ssize_t)sizeof(*vh) + 14)
			continue;
		fl = n - sizeof(*vh);
		if (memcmp(frame, nexthop, 6))
			continue;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_PACKET &&
			    cm->cmsg_type == PACKET_AUXDATA)
				aux = (void *)CMSG_DATA(cm);
		if (fl + 4 > len)
			return -1;
		/* The receiving stack moved the outer tag into metadata;
		 * put it back where the wire had it.
		 */
		memcpy(buf, frame, 12);
		if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID)) {
			put16(buf + 12, aux->tp_status & TP_STATUS_VLAN_TPID_VALID ?
				       aux->tp_vlan_tpid : 0x8100);
			put16(buf + 14, aux->tp_vlan_tci);
			off = 4;
			if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
				vh->csum_start += 4;
		}
		memcpy(buf + 12 + off, frame + 12, fl - 12);
		return fl + off;
	}
	return 0;
}

static int run_pcase(struct penv *pe, const struct pcase *c, char *why,
		     size_t wlen)
{
	static uint8_t in[PKT_MAX + 16], want[PKT_MAX + 16], got[PKT_MAX + 2048];
	struct pkt_layout lo, wlo;
	struct virtio_net_hdr vh = {}, rvh = {};
	int coff = l4_check_off(c->in.proto);
	uint8_t sa[16], da[16];
	uint32_t sum;
	char vwhy[256];
	ssize_t n;

	FAIL_IF(!pkt_build(&c->in, in, &lo) || !pkt_build(&c->out, want, &wlo),
		"cannot build the packets");
	FAIL_IF(pkt_verify(want, wlo.len, vwhy, sizeof(vwhy)),
		"builder: expected packet: %s", vwhy);
	FAIL_IF(install(pe, c), "install the entry: %s", strerror(errno));

	/*
	 * As a sender with checksum offload leaves it: the field holds the
	 * pseudo-header sum only (not complemented), to be completed from
	 * csum_start on transmit.
	 */
	pkt_addr(c->in.family, c->in.src, sa);
	pkt_addr(c->in.family, c->in.dst, da);
	sum = csum_pseudo(c->in.family, sa, da, c->in.proto, lo.l4_len);
	put16(in + lo.l4 + coff, (uint16_t)sum);
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = lo.l4;
	vh.csum_offset = coff;
	if (c->gso_size) {
		vh.gso_type = c->in.family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
						  VIRTIO_NET_HDR_GSO_TCPV6;
		vh.gso_size = c->gso_size;
		vh.hdr_len = lo.l4 + 20;
	}

	{
		struct iovec iov[2] = { { &vh, sizeof(vh) },
					{ in, lo.len } };
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

		FAIL_IF(sendmsg(pe->tx, &msg, 0) < 0, "send on fpp0: %s",
			strerror(errno));
	}
	n = capture(pe, got, sizeof(got), &rvh);
	FAIL_IF(n < 0, "capture: frame too long");
	FAIL_IF(n == 0, "nothing left on the egress fpq1 (read on fpq0)");

	FAIL_IF(!(rvh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM),
		"the skb lost CHECKSUM_PARTIAL (virtio flags %#x)", rvh.flags);
	FAIL_IF(rvh.csum_start != wlo.l4 || rvh.csum_offset != coff,
		"partial checksum at %u+%u, want %zu+%d", rvh.csum_start,
		rvh.csum_offset, wlo.l4, coff);
	FAIL_IF(c->gso_size && (rvh.gso_size != c->gso_size ||
				(rvh.gso_type & 0x7f) != vh.gso_type),
		"GSO %u/%u, want %u/%u", rvh.gso_type, rvh.gso_size,
		vh.gso_type, c->gso_size);
	/* What the egress device (or skb_checksum_help()) does. */
	{
		uint16_t v = csum_finish(csum_add(0, got + rvh.csum_start,
						  n - rvh.csum_start));

		if (c->out.proto == IPPROTO_UDP && v == 0)
			v = 0xffff;
		put16(got + rvh.csum_start + rvh.csum_offset, v);
	}
	FAIL_IF(pkt_verify(got, n, vwhy, sizeof(vwhy)),
		"after completing the partial checksum: %s", vwhy);
	FAIL_IF((size_t)n != wlo.len || memcmp(got, want, n),
		"output differs from the expected frame (%zd bytes, want %zu)",
		n, wlo.len);
	return 0;
}

/* tcx came in Linux 6.6; the release alone tells, independently of lib/tc.c. */
static bool kernel_has_tcx(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 6);
}

static int setup(struct penv *pe, char *why, size_t wlen)
{
	int hook;

	pe->in_if = if_nametoindex("fpp0");
	pe->tc_if = if_nametoindex("fpp1");
	pe->out_if = if_nametoindex("fpq1");
	pe->cap_if = if_nametoindex("fpq0");
	FAIL_IF(!pe->in_if || !pe->tc_if || !pe->out_if || !pe->cap_if,
		"the veths fpp0/fpp1 and fpq0/fpq1 are missing (run.sh makes them)");
	FAIL_IF(bpf_map_update_elem(bpf_map__fd(pe->skel->maps.tx_ports),
				    &pe->out_if, &pe->out_if, BPF_ANY),
		"tx_ports: %s", strerror(errno));
	hook = fp_tc_ingress_attach_fd(pe->tc_if, "fpp1",
				       bpf_program__fd(pe->skel->progs.fastpath_tc));
	FAIL_IF(hook < 0, "attach fastpath_tc to fpp1: %s", strerror(-hook));
	pe->hook = hook;
	pe->tx = packet_socket(pe->in_if);
	pe->rx = packet_socket(pe->cap_if);
	FAIL_IF(pe->tx < 0 || pe->rx < 0, "packet sockets: %s", strerror(errno));
	return 0;
}

int tc_partial_run(struct fastpath_bpf *skel)
{
	struct penv pe = { .skel = skel, .tx = -1, .rx = -1 };
	int failed = 0;
	char why[512];
	size_t i;

	if (setup(&pe, why, sizeof(why))) {
		printf("FAIL tc-partial-setup: %s\n", why);
		failed++;
		goto out;
	}
	/* The hook the kernel offers: tcx from 6.6, clsact before. */
	{
		const char *want = kernel_has_tcx() ? "tcx" : "clsact";
		const char *got = pe.hook == FP_TC_HOOK_TCX ? "tcx" : "clsact";

		if (strcmp(want, got)) {
			printf("FAIL tc-partial-hook: attached on %s, want %s on this kernel\n",
			       got, want);
			failed++;
		} else {
			printf("PASS tc-partial-hook (%s)\n", got);
		}
	}
	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		if (run_pcase(&pe, &pcases[i], why, sizeof(why))) {
			printf("FAIL %s: %s\n", pcases[i].name, why);
			failed++;
		} else {
			printf("PASS %s\n", pcases[i].name);
		}
	}
out:
	if (pe.tx >= 0)
		close(pe.tx);
	if (pe.rx >= 0)
		close(pe.rx);
	return failed;
}
