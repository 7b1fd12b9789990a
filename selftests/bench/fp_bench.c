// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fp_bench - live-frame benchmark: the fast path against the kernel's slow
 * path and against XDP's own limit, on the same frames.
 *
 * Runs inside the router namespace of the lab scripts/bench.sh builds.
 * Frames are injected with BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES
 * as if they arrived on the router's client-facing veth: XDP_PASS frames
 * go up the router's stack (nft + conntrack + masquerade), XDP_REDIRECT
 * frames really leave through the server-facing veth. bench_sink on the
 * server's veth counts what arrives, so every number is checked against
 * what actually got forwarded.
 *
 * The TC tier ("tc") is measured like the slow path, which it replaces:
 * the prelude returns XDP_PASS, so each live frame becomes an skb that the
 * router's stack receives on the client-facing veth, and there the
 * fastpath_tc program on clsact ingress matches its FP_STATE_TC entry,
 * rewrites it and bpf_redirect()s it out of the server-facing veth. It is
 * attached only for its own runs, so the other paths stay as they were.
 * BPF_F_TEST_XDP_LIVE_FRAMES exists for XDP programs only; this way the
 * TC program runs on real skbs of the real receive path, and tc_ns counts
 * the skb allocation and the egress qdisc's xmit exactly as slow_ns does.
 *
 * Nothing is pinned: `ip netns exec` gives us a fresh /sys without bpffs,
 * and a benchmark must never adopt or disturb a running fastpath's maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fastpath.h"
#include "fastpath.skel.h"
#include "bench.skel.h"
#include "bench.h"
#include "lib/tc.h"

#define MAX_RUNS	31

/* A real run is expected to forward all of its frames; allow for noise. */
#define OK_FRACTION	0.99

struct opts {
	const char *in_dev, *out_dev, *peer_netns, *peer_dev, *json;
	const char *only;		/* run these paths (a,b,c), e.g. under perf */
	const char *variant;		/* another fastpath object to compare */
	struct in_addr src4, dst4, nat4;
	struct in6_addr src6, dst6, nat6;
	__u8 src_mac[ETH_ALEN];
	__u16 sport, dport;
	int runs, cpu;
	__u32 packets, warmup, batch, run_ms;
	__u32 fill_total, flows_1m;
	__u32 ft_sport;			/* --flowtable-sport, 0 = no such path */
	bool verbose;
};

/*
 * One loaded copy of the datapath: the fastpath skeleton, or with
 * --variant an object file with the same program and map names, so a
 * datapath change can be measured against the current one in one run.
 */
struct fp_inst {
	struct fastpath_bpf *skel;	/* NULL for a variant */
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *flows, *tx_ports, *stats;
};

struct bench {
	struct opts o;
	int in_ifindex, out_ifindex, peer_ifindex;
	__u8 in_mac[ETH_ALEN], out_mac[ETH_ALEN], peer_mac[ETH_ALEN];
	__u32 out_mtu;
	int self_ns, peer_ns;		/* fds, -1 when not open */
	bool in_attached, out_attached, peer_attached;
	struct bench_bpf *bb;
	struct fp_inst fp;		/* default capacity, one flow per family */
	struct fp_inst fp1m;		/* the large table */
	struct fp_inst var, var1m;	/* the same two for --variant */
	struct fp_inst fptc;		/* one IPv4 flow on the TC tier */
	struct fp_inst vartc;		/* the same for --variant */
	const char *tc_hook;		/* where it ran: tcx or clsact */
	int ncpus;
	int cpu, cpu2;			/* where we inject; the second injector */
	struct worker *w;		/* the second injector, for *_2cpu */
	double load[2];			/* load average before and after */
};

enum path_id {
	P_BARE,
	P_PRELUDE,
	P_SLOW,
	P_SLOW6,
	P_FAST,
	P_FAST6,
	P_REDIRECT,
	P_FAST1M,
	P_FASTPV,
	P_TC,
	P_TC_REDIRECT,
	P_ZIPF,
	P_FAST2,
	P_FLOWTABLE,
	P_VAR,
	P_VAR1M,
	P_VARZIPF,
	P_VAR2,
	P_VARTC,
	P_MAX,
};

enum check {
	CK_NONE = 0,
	CK_SERVER = 1 << 0,	/* frames must reach the server veth */
	CK_NAT = 1 << 1,	/* ... with the router's address as source */
	CK_FP = 1 << 2,		/* fastpath must count them as redirected */
};

struct path {
	const char *name;
	const char *what;
	int family;
	__u32 nflows;
	int checks;
	bool pppoe_vlan;		/* frames in PPPoE over VLAN BENCH_VLAN */
	bool zipf;			/* flows drawn from bench_zipf */
	bool two_cpu;			/* both CPUs inject, one flow each */
	int prog_fd;			/* tail-call target */
	struct fp_inst *fp;		/* whose fp_stats to read, for CK_FP */
	bool off;			/* not measured in this invocation */
	bool direct;			/* run prog_fd itself, without the prelude */
	int tc_fd;			/* on clsact ingress for its runs, or 0 */
	__u32 packets;			/* per run, sized from the warm-up */
	__u32 ns[MAX_RUNS];		/* kernel's average per frame */
	double wall[MAX_RUNS];		/* syscall wall time per frame */
	__u64 sent, rx, nat, redirected;
	__u64 flow_sent[2], flow_pkts[2];	/* two_cpu: per CPU and its flow */
	double med_ns, med_wall;
	bool warned;
	char verdict[128];
};

static struct path paths[P_MAX] = {
	[P_BARE]     = { "bare",     "XDP_DROP alone, no prelude: live-frame overhead", AF_INET, 1,
			 CK_NONE, .direct = true },
	[P_PRELUDE]  = { "prelude",  "prelude + tail call + XDP_DROP", AF_INET, 1, CK_NONE },
	[P_SLOW]     = { "slow",     "XDP_PASS: nft + conntrack + masquerade", AF_INET, 1,
			 CK_SERVER | CK_NAT },
	[P_SLOW6]    = { "slow_v6",  "the same for IPv6", AF_INET6, 1, CK_SERVER | CK_NAT },
	[P_FAST]     = { "fast",     "fastpath_xdp, 1 IPv4 flow, SNAT", AF_INET, 1,
			 CK_SERVER | CK_NAT | CK_FP },
	[P_FAST6]    = { "fast_v6",  "fastpath_xdp, 1 IPv6 flow, SNAT", AF_INET6, 1,
			 CK_SERVER | CK_NAT | CK_FP },
	[P_REDIRECT] = { "redirect", "MAC rewrite + devmap redirect", AF_INET, 1, CK_SERVER },
	[P_FAST1M]   = { "fast_1m",  "fastpath_xdp, large table (--fill), traffic over --flows",
			 AF_INET, 0,
			 CK_SERVER | CK_NAT | CK_FP },
	[P_FASTPV]   = { "fast_pppoe_vlan",
			 "fastpath_xdp, IPv4 in PPPoE over VLAN 7 in, untagged out, SNAT",
			 AF_INET, 1, CK_SERVER | CK_NAT | CK_FP, .pppoe_vlan = true },
	[P_TC]       = { "tc",       "XDP_PASS, then fastpath_tc at TC ingress: 1 IPv4 flow, SNAT,"
			 " bpf_redirect", AF_INET, 1, CK_SERVER | CK_NAT | CK_FP },
	[P_TC_REDIRECT] = { "tc_redirect", "XDP_PASS, then MAC rewrite + bpf_redirect at TC"
			 " ingress", AF_INET, 1, CK_SERVER },
	[P_ZIPF]     = { "fast_1m_zipf",
			 "fastpath_xdp, large table, Zipf (s=1) popularity over all its entries",
			 AF_INET, 0, CK_SERVER | CK_NAT | CK_FP, .zipf = true },
	[P_FAST2]    = { "fast_2cpu",
			 "fastpath_xdp, both CPUs injecting at once, one IPv4 flow each",
			 AF_INET, 1, CK_SERVER | CK_NAT | CK_FP, .two_cpu = true },
	[P_FLOWTABLE] = { "flowtable",
			 "XDP_PASS of a flow the kernel flowtable offloaded (--flowtable-sport)",
			 AF_INET, 1, CK_SERVER | CK_NAT },
	[P_VAR]      = { "var",      "--variant, 1 IPv4 flow", AF_INET, 1,
			 CK_SERVER | CK_NAT | CK_FP },
	[P_VAR1M]    = { "var_1m",   "--variant, large table", AF_INET, 0,
			 CK_SERVER | CK_NAT | CK_FP },
	[P_VARZIPF]  = { "var_1m_zipf", "--variant, large table, Zipf", AF_INET, 0,
			 CK_SERVER | CK_NAT | CK_FP, .zipf = true },
	[P_VAR2]     = { "var_2cpu", "--variant, both CPUs, one flow each", AF_INET, 1,
			 CK_SERVER | CK_NAT | CK_FP, .two_cpu = true },
	[P_VARTC]    = { "var_tc", "--variant: XDP_PASS, then its fastpath_tc at TC ingress",
			 AF_INET, 1, CK_SERVER | CK_NAT | CK_FP },
};

/* Libbpf warnings and our own count against the run, like a WARNING. */
static int warnings;

static bool verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !verbose))
		return 0;
	if (level == LIBBPF_WARN)
		warnings++;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: fp_bench --in-dev DEV --out-dev DEV --peer-netns PATH --peer-dev DEV\n"
"                --src4 A --dst4 A --nat4 A --src6 A --dst6 A --nat6 A\n"
"                [--src-mac MAC] [--sport N] [--dport N] [--runs N]\n"
"                [--packets MAX] [--run-ms MS] [--batch N] [--cpu N]\n"
"                [--fill N] [--flows N] [--json FILE] [--only PATH,...]\n"
"                [--variant OBJ] [--flowtable-sport N] [-v]\n"
"Run inside the router namespace; scripts/bench.sh builds the lab.\n"
"Exits 1 when a path did not forward as it should or a warning was\n"
"printed, also with --only.\n");
}

static int parse_mac(const char *s, __u8 *mac)
{
	unsigned int b[ETH_ALEN];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != ETH_ALEN)
		return -1;
	for (i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_u32(const char *s, __u32 min, __u32 max, __u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Is @name one of the comma-separated @list? */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list && *list) {
		if (!strncmp(list, name, n) && (list[n] == ',' || !list[n]))
			return true;
		list = strchr(list, ',');
		if (list)
			list++;
	}
	return false;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_IN = 256, O_OUT, O_PNS, O_PDEV, O_S4, O_D4, O_N4, O_S6, O_D6,
	       O_N6, O_SMAC, O_SPORT, O_DPORT, O_RUNS, O_PKTS, O_BATCH, O_CPU,
	       O_FILL, O_FLOWS, O_JSON, O_ONLY, O_VARIANT, O_RUNMS, O_FTSPORT };
	static const struct option lo[] = {
		{ "in-dev", required_argument, NULL, O_IN },
		{ "out-dev", required_argument, NULL, O_OUT },
		{ "peer-netns", required_argument, NULL, O_PNS },
		{ "peer-dev", required_argument, NULL, O_PDEV },
		{ "src4", required_argument, NULL, O_S4 },
		{ "dst4", required_argument, NULL, O_D4 },
		{ "nat4", required_argument, NULL, O_N4 },
		{ "src6", required_argument, NULL, O_S6 },
		{ "dst6", required_argument, NULL, O_D6 },
		{ "nat6", required_argument, NULL, O_N6 },
		{ "src-mac", required_argument, NULL, O_SMAC },
		{ "sport", required_argument, NULL, O_SPORT },
		{ "dport", required_argument, NULL, O_DPORT },
		{ "runs", required_argument, NULL, O_RUNS },
		{ "packets", required_argument, NULL, O_PKTS },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "fill", required_argument, NULL, O_FILL },
		{ "flows", required_argument, NULL, O_FLOWS },
		{ "json", required_argument, NULL, O_JSON },
		{ "only", required_argument, NULL, O_ONLY },
		{ "variant", required_argument, NULL, O_VARIANT },
		{ "run-ms", required_argument, NULL, O_RUNMS },
		{ "flowtable-sport", required_argument, NULL, O_FTSPORT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c, have = 0;
	__u32 v;

	*o = (struct opts){
		.sport = 40000, .dport = 9, .runs = 15, .cpu = -1,
		.packets = 5000000, .warmup = 100000, .batch = 64, .run_ms = 200,
		.fill_total = 1000000, .flows_1m = 65536,
		.src_mac = { 0x02, 0, 0, 0, 0, 0x01 },
	};

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		const char *a = optarg;
		int bad = 0;

		switch (c) {
		case O_IN: o->in_dev = a; break;
		case O_OUT: o->out_dev = a; break;
		case O_PNS: o->peer_netns = a; break;
		case O_PDEV: o->peer_dev = a; break;
		case O_S4: bad = inet_pton(AF_INET, a, &o->src4) != 1; have |= 1; break;
		case O_D4: bad = inet_pton(AF_INET, a, &o->dst4) != 1; have |= 2; break;
		case O_N4: bad = inet_pton(AF_INET, a, &o->nat4) != 1; have |= 4; break;
		case O_S6: bad = inet_pton(AF_INET6, a, &o->src6) != 1; have |= 8; break;
		case O_D6: bad = inet_pton(AF_INET6, a, &o->dst6) != 1; have |= 16; break;
		case O_N6: bad = inet_pton(AF_INET6, a, &o->nat6) != 1; have |= 32; break;
		case O_SMAC: bad = parse_mac(a, o->src_mac); break;
		case O_SPORT: bad = parse_u32(a, 1, 65535, &v); o->sport = v; break;
		case O_DPORT: bad = parse_u32(a, 1, 65535, &v); o->dport = v; break;
		case O_RUNS: bad = parse_u32(a, 1, MAX_RUNS, &v); o->runs = v; break;
		case O_PKTS: bad = parse_u32(a, 1000, 1U << 30, &o->packets); break;
		case O_BATCH: bad = parse_u32(a, 1, 256, &o->batch); break;
		case O_CPU: bad = parse_u32(a, 0, 4095, &v); o->cpu = v; break;
		case O_FILL: bad = parse_u32(a, 1, 1U << 26, &o->fill_total); break;
		case O_FLOWS: bad = parse_u32(a, 1, 65536, &o->flows_1m); break;
		case O_JSON: o->json = a; break;
		case O_ONLY: o->only = a; break;
		case O_VARIANT: o->variant = a; break;
		case O_RUNMS: bad = parse_u32(a, 10, 10000, &o->run_ms); break;
		case O_FTSPORT: bad = parse_u32(a, 1, 65535, &o->ft_sport); break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (bad) {
			fprintf(stderr, "fp_bench: bad value for --%s: '%s'\n",
				lo[c - O_IN].name, a);
			return -1;
		}
	}
	if (optind != argc || !o->in_dev || !o->out_dev || !o->peer_netns ||
	    !o->peer_dev || have != 63) {
		usage(stderr);
		return -1;
	}
	/* The prelude spreads flows with a mask. */
	if (o->flows_1m & (o->flows_1m - 1)) {
		fprintf(stderr, "fp_bench: --flows must be a power of two\n");
		return -1;
	}
	if (o->fill_total < o->flows_1m) {
		fprintf(stderr, "fp_bench: --fill must be at least --flows\n");
		return -1;
	}
	if (o->only) {
		int i, n = 0;

		for (i = 0; i < P_MAX; i++)
			n += listed(o->only, paths[i].name);
		if (!n) {
			fprintf(stderr, "fp_bench: --only names no known path: '%s'\n",
				o->only);
			return -1;
		}
		if (listed(o->only, "flowtable") && !o->ft_sport) {
			fprintf(stderr, "fp_bench: the flowtable path needs --flowtable-sport\n");
			return -1;
		}
	}
	if (o->warmup > o->packets)
		o->warmup = o->packets;
	return 0;
}

/* MAC and MTU of a device in the current network namespace. */
static int dev_info(const char *name, int *ifindex, __u8 *mac, __u32 *mtu)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	*ifindex = if_nametoindex(name);
	if (!*ifindex) {
		fprintf(stderr, "fp_bench: device %s: %s\n", name, strerror(errno));
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "fp_bench: socket: %s\n", strerror(errno));
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		goto fail;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (mtu) {
		if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
			goto fail;
		*mtu = ifr.ifr_mtu;
	}
	goto out;
fail:
	fprintf(stderr, "fp_bench: device %s: %s\n", name, strerror(errno));
	err = -1;
out:
	close(fd);
	return err;
}

static int enter_ns(int fd, const char *what)
{
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "fp_bench: entering %s namespace: %s\n", what,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int xdp_attach(int ifindex, int prog_fd, const char *dev)
{
	int err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);

	if (err)
		fprintf(stderr, "fp_bench: attaching native XDP to %s: %s\n",
			dev, strerror(-err));
	return err;
}

/* RFC 1071 sum of @len bytes read as big-endian words, not folded. */
static __u32 csum_add(__u32 sum, const void *buf, size_t len)
{
	const __u8 *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static __u16 csum_finish(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

/*
 * The template: client MAC -> router's client-facing MAC, so the stack
 * takes it as addressed to the router, with checksums a receiver accepts
 * (conntrack verifies the UDP checksum on the slow path). A PPPoE-over-VLAN
 * frame carries the same IPv4 packet, shortened by the 12 bytes the tag
 * and the PPPoE header take, behind VLAN BENCH_VLAN and BENCH_PPPOE_SID.
 */
static void build_frame(const struct bench *b, const struct path *p,
			__u64 *frame64)
{
	const struct opts *o = &b->o;
	__u8 *f = (__u8 *)frame64;
	struct ethhdr *eth = (void *)f;
	size_t l3 = p->pppoe_vlan ? BENCH_L4_OFF_PPPOE_VLAN - 20 : sizeof(*eth);
	struct udphdr *uh;
	__u32 sum;
	__u16 ulen;

	memset(f, 0, BENCH_FRAME_LEN);
	memcpy(eth->h_dest, b->in_mac, ETH_ALEN);
	memcpy(eth->h_source, o->src_mac, ETH_ALEN);

	if (p->family == AF_INET) {
		struct iphdr *ip = (void *)(f + l3);

		eth->h_proto = htons(ETH_P_IP);
		uh = (void *)(ip + 1);
		ulen = BENCH_FRAME_LEN - l3 - sizeof(*ip);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(BENCH_FRAME_LEN - l3);
		ip->id = htons(1);
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->saddr = o->src4.s_addr;
		ip->daddr = o->dst4.s_addr;
		ip->check = csum_finish(csum_add(0, ip, sizeof(*ip)));
		sum = csum_add(0, &ip->saddr, 8);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		eth->h_proto = htons(ETH_P_IPV6);
		uh = (void *)(ip6 + 1);
		ulen = BENCH_FRAME_LEN - BENCH_L4_OFF_V6;
		ip6->version = 6;
		ip6->payload_len = htons(ulen);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		memcpy(&ip6->saddr, &o->src6, 16);
		memcpy(&ip6->daddr, &o->dst6, 16);
		sum = csum_add(0, &ip6->saddr, 32);
	}
	if (p->pppoe_vlan) {
		__u8 *tag = f + 2 * ETH_ALEN, *ppp = tag + 6;

		/* TPID, TCI, then the PPPoE ethertype and session header. */
		*(__be16 *)tag = htons(ETH_P_8021Q);
		*(__be16 *)(tag + 2) = htons(BENCH_VLAN);
		*(__be16 *)(tag + 4) = htons(ETH_P_PPP_SES);
		ppp[0] = 0x11;		/* version 1, type 1 */
		ppp[1] = 0;		/* session data */
		*(__be16 *)(ppp + 2) = htons(BENCH_PPPOE_SID);
		*(__be16 *)(ppp + 4) = htons(BENCH_FRAME_LEN - l3 + 2);
		*(__be16 *)(ppp + 6) = htons(0x0021);	/* PPP: IPv4 */
	}
	uh->source = htons(p == &paths[P_FLOWTABLE] ? o->ft_sport : o->sport);
	uh->dest = htons(o->dport);
	uh->len = htons(ulen);
	memset(uh + 1, 0xa5, ulen - sizeof(*uh));
	sum += IPPROTO_UDP + ulen;
	uh->check = csum_finish(csum_add(sum, uh, ulen));
	/* 0 means "no checksum" for IPv4 and is invalid for IPv6. */
	if (!uh->check)
		uh->check = 0xffff;
}

/* Some headroom, as a daemon would size a table it expects to fill. */
static __u32 large_capacity(const struct opts *o)
{
	return o->fill_total + o->fill_total / 10;
}

static void flow_entry(const struct bench *b, int family, __u16 sport,
		       struct fp_flow_key *k, struct fp_flow *v)
{
	const struct opts *o = &b->o;

	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->ifindex = b->in_ifindex;
	k->family = family;
	k->proto = IPPROTO_UDP;
	k->sport = htons(sport);
	k->dport = htons(o->dport);

	v->state = FP_STATE_XDP;
	v->flags = FP_F_SNAT;
	v->mtu = b->out_mtu;
	v->oif = b->out_ifindex;
	/* Masquerade keeps a free source port, so the mapping does too. */
	v->nat_sport = htons(sport);
	memcpy(v->dmac, b->peer_mac, ETH_ALEN);
	memcpy(v->smac, b->out_mac, ETH_ALEN);
	/* The frames are addressed to the router, as build_frame() says. */
	memcpy(v->in_dmac, b->in_mac, ETH_ALEN);

	if (family == AF_INET) {
		k->saddr[0] = o->src4.s_addr;
		k->daddr[0] = o->dst4.s_addr;
		v->nat_saddr[0] = o->nat4.s_addr;
	} else {
		memcpy(k->saddr, &o->src6, 16);
		memcpy(k->daddr, &o->dst6, 16);
		memcpy(v->nat_saddr, &o->nat6, 16);
	}
}

/*
 * The coarse clock, as the daemon's loader starts it (lib/pins.c): without
 * it every packet would ask bpf_ktime_get_ns(), which the deployed
 * datapath never does. An object without the program (an older
 * --variant) keeps the helper it was built with.
 */
static int fp_clock_start(struct bpf_object *obj)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "fastpath_clock");
	__u8 frame[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1);

	if (!prog)
		return 0;
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &run))
		return -1;
	if (run.retval != XDP_PASS) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int fp_load(const struct bench *b, struct fp_inst *fi, const char *file,
		   __u32 capacity)
{
	struct bpf_map *m;
	__u32 port;

	if (file) {
		fi->obj = bpf_object__open_file(file, NULL);
		if (!fi->obj)
			goto fail;
		fi->prog = bpf_object__find_program_by_name(fi->obj, "fastpath_xdp");
		fi->flows = bpf_object__find_map_by_name(fi->obj, "flows");
		fi->tx_ports = bpf_object__find_map_by_name(fi->obj, "tx_ports");
		fi->stats = bpf_object__find_map_by_name(fi->obj, "fp_stats");
		if (!fi->prog || !fi->flows || !fi->tx_ports || !fi->stats) {
			errno = ENOENT;
			goto fail;
		}
	} else {
		fi->skel = fastpath_bpf__open();
		if (!fi->skel)
			goto fail;
		fi->obj = fi->skel->obj;
		fi->prog = fi->skel->progs.fastpath_xdp;
		fi->flows = fi->skel->maps.flows;
		fi->tx_ports = fi->skel->maps.tx_ports;
		fi->stats = fi->skel->maps.fp_stats;
	}
	bpf_object__for_each_map(m, fi->obj) {
		if (bpf_map__set_pin_path(m, NULL))
			goto fail;
	}
	if (bpf_map__set_max_entries(fi->flows, capacity) ||
	    bpf_object__load(fi->obj))
		goto fail;
	if (fp_clock_start(fi->obj))
		goto fail;

	/* Both router ports, as the daemon would register them. */
	port = b->in_ifindex;
	if (bpf_map_update_elem(bpf_map__fd(fi->tx_ports), &port, &port, 0))
		goto fail;
	port = b->out_ifindex;
	if (bpf_map_update_elem(bpf_map__fd(fi->tx_ports), &port, &port, 0))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "fp_bench: loading %s (%u flows): %s\n",
		file ?: "fastpath", capacity, strerror(errno));
	return -1;
}

static void fp_unload(struct fp_inst *fi)
{
	if (fi->skel)
		fastpath_bpf__destroy(fi->skel);
	else
		bpf_object__close(fi->obj);
	memset(fi, 0, sizeof(*fi));
}

/*
 * Flow @idx of the large table, as the prelude derives it from the
 * template: source port + idx mod 65536, source address + idx / 65536.
 */
static void flow_entry_idx(const struct bench *b, __u32 idx,
			   struct fp_flow_key *k, struct fp_flow *v)
{
	flow_entry(b, AF_INET, b->o.sport + (idx & 0xffff), k, v);
	k->saddr[0] = htonl(ntohl(b->o.src4.s_addr) + (idx >> 16));
}

/*
 * A --variant may pad struct fp_flow (to study the element layout): the
 * values written to and read from its table take the map's value size,
 * with struct fp_flow at their start.
 */
static size_t vsize(const struct fp_inst *fi)
{
	size_t n = bpf_map__value_size(fi->flows);

	return n > sizeof(struct fp_flow) ? n : sizeof(struct fp_flow);
}

static int flow_add(struct fp_inst *fi, const struct fp_flow_key *k,
		    const struct fp_flow *v)
{
	__u8 buf[1024] = {};

	if (vsize(fi) > sizeof(buf)) {
		fprintf(stderr, "fp_bench: flow value of %zu bytes is too big\n",
			vsize(fi));
		return -1;
	}
	memcpy(buf, v, sizeof(*v));
	if (bpf_map_update_elem(bpf_map__fd(fi->flows), k, buf, BPF_NOEXIST)) {
		fprintf(stderr, "fp_bench: adding flow: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static __u64 xorshift(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * The large table: flows 0 .. @total - 1 (flow_entry_idx()). fast_1m
 * cycles through the first --flows of them; fast_1m_zipf draws from all.
 * Source port and address vary together, so the keys spread over the
 * hash buckets as real connections would (the hash is seeded).
 */
static int fill_table(const struct bench *b, struct fp_inst *fi)
{
	const __u32 chunk = 65536;
	__u32 total = b->o.fill_total, done = 0;
	struct fp_flow_key *keys;
	size_t vsz = vsize(fi);
	__u8 *vals;
	int fd = bpf_map__fd(fi->flows), err = 0;

	/* Batch updates take no BPF_NOEXIST; the keys are unique anyway. */
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	keys = calloc(chunk, sizeof(*keys));
	vals = calloc(chunk, vsz);
	if (!keys || !vals) {
		fprintf(stderr, "fp_bench: out of memory for the table fill\n");
		err = -1;
		goto out;
	}
	while (done < total) {
		__u32 n = total - done < chunk ? total - done : chunk, i, cnt;

		for (i = 0; i < n; i++)
			flow_entry_idx(b, done + i, &keys[i],
				       (struct fp_flow *)(vals + i * vsz));
		cnt = n;
		err = bpf_map_update_batch(fd, keys, vals, &cnt, &bo);
		if (err || cnt != n) {
			fprintf(stderr, "fp_bench: filling the flow table at %u of %u entries: %s\n",
				done, total, err ? strerror(errno) : "short batch");
			err = -1;
			goto out;
		}
		done += n;
	}
out:
	free(keys);
	free(vals);
	return err;
}

/*
 * Zipf (s = 1) popularity over the @n flows of the large table: the flow
 * of rank r carries a share proportional to 1/r. Ranks go to flows in a
 * random order, and BENCH_ZIPF_SAMPLES independent draws (inverse CDF)
 * fill bench_zipf, which the prelude reads in turn.
 */
static int zipf_fill(const struct bench *b)
{
	__u32 n = b->o.fill_total, i, top = 0, distinct = 0;
	__u32 *perm = NULL, *keys = NULL, *vals = NULL, *seen = NULL, cnt;
	double *cdf = NULL, h = 0;
	__u64 rnd = 0x2545f4914f6cdd1dULL;
	int err = -1;

	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	perm = malloc(n * sizeof(*perm));
	cdf = malloc(n * sizeof(*cdf));
	seen = calloc(n, sizeof(*seen));
	keys = malloc(BENCH_ZIPF_SAMPLES * sizeof(*keys));
	vals = malloc(BENCH_ZIPF_SAMPLES * sizeof(*vals));
	if (!perm || !cdf || !seen || !keys || !vals) {
		fprintf(stderr, "fp_bench: out of memory for the Zipf samples\n");
		goto out;
	}
	for (i = 0; i < n; i++) {
		h += 1.0 / (i + 1);
		cdf[i] = h;
		perm[i] = i;
	}
	for (i = n - 1; i > 0; i--) {	/* Fisher-Yates */
		__u32 j = xorshift(&rnd) % (i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (i = 0; i < BENCH_ZIPF_SAMPLES; i++) {
		double u = (xorshift(&rnd) >> 11) * 0x1.0p-53 * h;
		__u32 lo = 0, hi = n - 1;

		while (lo < hi) {
			__u32 mid = lo + (hi - lo) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		keys[i] = i;
		vals[i] = perm[lo];
		top += lo < b->o.flows_1m;
		distinct += !seen[lo]++;
	}
	cnt = BENCH_ZIPF_SAMPLES;
	if (bpf_map_update_batch(bpf_map__fd(b->bb->maps.bench_zipf), keys, vals,
				 &cnt, &bo) || cnt != BENCH_ZIPF_SAMPLES) {
		fprintf(stderr, "fp_bench: writing the Zipf samples: %s\n",
			strerror(errno));
		goto out;
	}
	printf("zipf: %u draws over %u flows: %u distinct flows, the %u most popular carry %.1f%%\n",
	       BENCH_ZIPF_SAMPLES, n, distinct, b->o.flows_1m,
	       100.0 * top / BENCH_ZIPF_SAMPLES);
	err = 0;
out:
	free(perm);
	free(cdf);
	free(seen);
	free(keys);
	free(vals);
	return err;
}

/* Sum the first __u64 of every CPU's copy of a per-CPU array slot. */
static __u64 percpu_sum(const struct bench *b, const struct bpf_map *map,
			__u32 key)
{
	size_t vsz = (bpf_map__value_size(map) + 7) & ~7UL;
	__u8 buf[64 * 256];
	__u64 sum = 0, v;
	int i;

	if ((size_t)b->ncpus * vsz > sizeof(buf) ||
	    bpf_map_lookup_elem(bpf_map__fd(map), &key, buf))
		return 0;
	for (i = 0; i < b->ncpus; i++) {
		memcpy(&v, buf + i * vsz, sizeof(v));
		sum += v;
	}
	return sum;
}

struct snap {
	__u64 rx, nat, redirected;
	__u64 flow[2];		/* two_cpu: packets of each CPU's flow */
};

/* The packets counter of the small table's IPv4 flow @n (0 or 1). */
static __u64 flow_packets(const struct bench *b, const struct fp_inst *fi, int n)
{
	struct fp_flow_key k;
	struct fp_flow v;
	__u8 buf[1024];

	flow_entry(b, AF_INET, b->o.sport + n, &k, &v);
	if (vsize(fi) > sizeof(buf) ||
	    bpf_map_lookup_elem(bpf_map__fd(fi->flows), &k, buf))
		return 0;
	memcpy(&v, buf, sizeof(v));
	return v.packets;
}

static void snapshot(const struct bench *b, const struct path *p, struct snap *s)
{
	s->rx = percpu_sum(b, b->bb->maps.sink_ctr, SINK_RX);
	s->nat = percpu_sum(b, b->bb->maps.sink_ctr, SINK_NAT);
	s->redirected = p->fp ? percpu_sum(b, p->fp->stats, FP_R_REDIRECT) : 0;
	if (p->two_cpu && p->fp) {
		s->flow[0] = flow_packets(b, p->fp, 0);
		s->flow[1] = flow_packets(b, p->fp, 1);
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * The TC program on the client-facing veth's ingress, or off it, where the
 * daemon would put it (lib/tc.c): tcx, or clsact before Linux 6.6.
 */
static int tc_ingress(struct bench *b, int prog_fd, bool on)
{
	int hook;

	if (!on) {
		fp_tc_ingress_detach_fd(b->in_ifindex, prog_fd);
		return 0;
	}
	hook = fp_tc_ingress_attach_fd(b->in_ifindex, b->o.in_dev, prog_fd);
	if (hook < 0)
		return -1;
	b->tc_hook = hook == FP_TC_HOOK_TCX ? "tcx" : "clsact";
	return 0;
}

/*
 * The second injector of the *_2cpu paths: a thread pinned to another
 * CPU that runs the same live-frame run as the main thread, at the same
 * time. bench_seq's per-CPU base gives it the second flow.
 */
struct worker {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned int asked, done;	/* runs asked for and finished */
	bool quit;
	int cpu, prog_fd, err;
	struct bpf_test_run_opts *topts;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		w->err = -1;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->asked == w->done && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		pthread_mutex_unlock(&w->mu);
		if (!w->err && bpf_prog_test_run_opts(w->prog_fd, w->topts))
			w->err = -errno;
		pthread_mutex_lock(&w->mu);
		w->done = w->asked;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int worker_start(struct bench *b)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->cpu = b->cpu2;
	if (pthread_create(&w->th, NULL, worker_main, w)) {
		free(w);
		fprintf(stderr, "fp_bench: starting the second injector failed\n");
		return -1;
	}
	b->w = w;
	return 0;
}

static void worker_stop(struct bench *b)
{
	struct worker *w = b->w;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	free(w);
	b->w = NULL;
}

/* One live-frame run of @p; @run < 0 is a warm-up and is not recorded. */
static int run_once(struct bench *b, struct path *p, int run)
{
	__u32 packets = run < 0 ? b->o.warmup : p->packets, zero = 0;
	struct bench_cfg cfg = {};
	struct xdp_md ctx = {
		.data_end = BENCH_FRAME_LEN,
		.ingress_ifindex = b->in_ifindex,
		.rx_queue_index = 0,
	};
	struct snap before, after;
	struct worker *w = b->w;
	double t0, t1;
	int err, prog_fd;

	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = cfg.frame,
		.data_size_in = BENCH_FRAME_LEN,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = packets,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		.batch_size = b->o.batch,
	);
	/* The worker's own copy: the kernel writes duration into it. */
	struct bpf_test_run_opts wopts = topts;

	build_frame(b, p, cfg.frame);
	cfg.flow_mask = p->nflows - 1;
	cfg.zipf_mask = p->zipf ? BENCH_ZIPF_SAMPLES - 1 : 0;
	cfg.per_cpu = p->two_cpu;
	cfg.l4_off = p->pppoe_vlan ? BENCH_L4_OFF_PPPOE_VLAN :
		     p->family == AF_INET ? BENCH_L4_OFF_V4 : BENCH_L4_OFF_V6;
	cfg.oif = b->out_ifindex;
	memcpy(cfg.dmac, b->peer_mac, ETH_ALEN);
	memcpy(cfg.smac, b->out_mac, ETH_ALEN);

	if (bpf_map_update_elem(bpf_map__fd(b->bb->maps.bench_cfg), &zero, &cfg, 0) ||
	    bpf_map_update_elem(bpf_map__fd(b->bb->maps.bench_progs), &zero,
				&p->prog_fd, 0)) {
		fprintf(stderr, "fp_bench: setting up run %s: %s\n", p->name,
			strerror(errno));
		return -1;
	}
	prog_fd = p->direct ? p->prog_fd : bpf_program__fd(b->bb->progs.bench_prelude);

	if (p->tc_fd && tc_ingress(b, p->tc_fd, true))
		return -1;
	snapshot(b, p, &before);
	if (p->two_cpu) {
		pthread_mutex_lock(&w->mu);
		w->prog_fd = prog_fd;
		w->topts = &wopts;
		w->asked++;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
	t0 = now_ns();
	err = bpf_prog_test_run_opts(prog_fd, &topts);
	t1 = now_ns();
	if (p->tc_fd)
		tc_ingress(b, p->tc_fd, false);
	if (err)
		err = -errno;
	if (p->two_cpu) {
		pthread_mutex_lock(&w->mu);
		while (w->done != w->asked)
			pthread_cond_wait(&w->cv, &w->mu);
		pthread_mutex_unlock(&w->mu);
		if (!err && w->err)
			err = w->err;
	}
	if (err) {
		fprintf(stderr, "fp_bench: live-frame run of %s: %s\n", p->name,
			strerror(-err));
		return -1;
	}
	snapshot(b, p, &after);

	if (run < 0) {
		/* Time-bounded runs: the slow path would otherwise dominate
		 * the total and the fast ones would be too short to time.
		 */
		double n = b->o.run_ms * 1e6 / (topts.duration ?: 1);

		p->packets = n > b->o.packets ? b->o.packets :
			     n < b->o.warmup ? b->o.warmup : (__u32)n;
		return 0;
	}
	/* Two CPUs: the cost per frame on each, averaged over both. */
	p->ns[run] = p->two_cpu ? (topts.duration + wopts.duration + 1) / 2 :
		     topts.duration;
	p->wall[run] = (t1 - t0) / packets;
	p->sent += p->two_cpu ? 2ULL * packets : packets;
	p->rx += after.rx - before.rx;
	p->nat += after.nat - before.nat;
	p->redirected += after.redirected - before.redirected;
	if (p->two_cpu) {
		p->flow_sent[0] += packets;
		p->flow_sent[1] += packets;
		p->flow_pkts[0] += after.flow[0] - before.flow[0];
		p->flow_pkts[1] += after.flow[1] - before.flow[1];
	}
	return 0;
}

static double median(const double *v, int n);

/*
 * Median over rounds of a/b within each round: runs of one round are
 * seconds apart at most, so this cancels the machine's slow drift that a
 * ratio of two medians keeps.
 */
static double paired_ratio(const struct path *a, const struct path *b, int runs)
{
	double q[MAX_RUNS];
	int r;

	for (r = 0; r < runs; r++)
		q[r] = (double)a->ns[r] / (b->ns[r] ?: 1);
	return median(q, runs);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * One line of verdict on whether the path did what it claims to measure;
 * sets p->warned when it did not.
 */
static void check_path(struct path *p)
{
	double sent = p->sent;
	char *buf = p->verdict;
	size_t len = sizeof(p->verdict);
	int i;

	p->warned = true;
	if (!sent) {
		snprintf(buf, len, "WARNING: no frame was sent");
		return;
	}
	if ((p->checks & CK_FP) && p->redirected < OK_FRACTION * sent) {
		snprintf(buf, len, "WARNING: fastpath redirected only %.1f%%",
			 100.0 * p->redirected / sent);
		return;
	}
	if ((p->checks & CK_SERVER) && p->rx < OK_FRACTION * sent) {
		snprintf(buf, len, "WARNING: only %.1f%% reached the server",
			 100.0 * p->rx / sent);
		return;
	}
	if ((p->checks & CK_NAT) && p->nat < OK_FRACTION * sent) {
		snprintf(buf, len, "WARNING: only %.1f%% arrived masqueraded",
			 100.0 * p->nat / sent);
		return;
	}
	/* Each CPU must have forwarded its own flow, and only that one. */
	for (i = 0; p->two_cpu && i < 2; i++) {
		if (p->flow_pkts[i] < OK_FRACTION * p->flow_sent[i] ||
		    p->flow_pkts[i] > p->flow_sent[i]) {
			snprintf(buf, len, "WARNING: CPU %d's flow counted %llu of %llu frames",
				 i, (unsigned long long)p->flow_pkts[i],
				 (unsigned long long)p->flow_sent[i]);
			return;
		}
	}
	p->warned = false;
	if (p->checks & CK_FP)
		snprintf(buf, len, "ok: %.1f%% redirected, %.1f%% at server NATed%s",
			 100.0 * p->redirected / sent, 100.0 * p->nat / sent,
			 p->two_cpu ? ", each CPU its flow" : "");
	else if (p->checks & CK_NAT)
		snprintf(buf, len, "ok: %.1f%% at server NATed by the kernel",
			 100.0 * p->nat / sent);
	else if (p->checks & CK_SERVER)
		snprintf(buf, len, "ok: %.1f%% at server", 100.0 * p->rx / sent);
	else
		snprintf(buf, len, "-");
}

/* The ratios bench.json and the report carry: num / den, with a target. */
struct ratio {
	const char *name;
	enum path_id num, den;
	double target;		/* 0: none */
	bool upper;		/* target is an upper bound */
};

static const struct ratio ratios[] = {
	{ "ratio_fast_over_redirect", P_FAST, P_REDIRECT, 1.25, true },
	{ "ratio_slow_over_fast", P_SLOW, P_FAST, 6, false },
	{ "ratio_1m_over_1", P_FAST1M, P_FAST, 1.5, true },
	{ "ratio_1m_zipf_over_1", P_ZIPF, P_FAST, 1.2, true },
	{ "ratio_2cpu_over_1", P_FAST2, P_FAST, 1.1, true },
	{ "ratio_pppoe_vlan_over_fast", P_FASTPV, P_FAST, 1.2, true },
	{ "ratio_tc_over_slow", P_TC, P_SLOW, 0.5, true },
	{ "ratio_tc_over_fast", P_TC, P_FAST, 0, false },
	{ "ratio_tc_over_tc_redirect", P_TC, P_TC_REDIRECT, 0, false },
	{ "ratio_tc_redirect_over_slow", P_TC_REDIRECT, P_SLOW, 0, false },
	{ "ratio_slow_v6_over_fast_v6", P_SLOW6, P_FAST6, 0, false },
	{ "ratio_flowtable_over_fast", P_FLOWTABLE, P_FAST, 0, false },
	{ "ratio_slow_over_flowtable", P_SLOW, P_FLOWTABLE, 0, false },
	{ "ratio_var_over_fast", P_VAR, P_FAST, 0, false },
	{ "ratio_var_1m_over_fast_1m", P_VAR1M, P_FAST1M, 0, false },
	{ "ratio_var_1m_zipf_over_fast_1m_zipf", P_VARZIPF, P_ZIPF, 0, false },
	{ "ratio_var_2cpu_over_fast_2cpu", P_VAR2, P_FAST2, 0, false },
	{ "ratio_var_over_redirect", P_VAR, P_REDIRECT, 1.25, true },
	{ "ratio_var_1m_over_var", P_VAR1M, P_VAR, 1.5, true },
	{ "ratio_var_1m_zipf_over_var", P_VARZIPF, P_VAR, 1.2, true },
	{ "ratio_var_2cpu_over_var", P_VAR2, P_VAR, 1.1, true },
	{ "ratio_var_tc_over_tc", P_VARTC, P_TC, 0, false },
	{ "ratio_var_tc_over_slow", P_VARTC, P_SLOW, 0.5, true },
};

static bool ratio_on(const struct ratio *q)
{
	return !paths[q->num].off && !paths[q->den].off;
}

static double ratio_median(const struct ratio *q)
{
	return paths[q->num].med_ns / (paths[q->den].med_ns ?: 1);
}

static bool ratio_met(const struct ratio *q, double v)
{
	return q->upper ? v <= q->target : v >= q->target;
}

/*
 * bench.json: per path and per ratio, for scripts/perf_md.py (which
 * writes the tables of docs/PERF.md), plus the flat keys older readers
 * use ("fast_ns", "ratio_1m_over_1", ...).
 */
static int write_json(const struct bench *b, int nwarn)
{
	const struct path *P = paths;
	FILE *f = fopen(b->o.json, "w");
	size_t i;
	int n;

	if (!f) {
		fprintf(stderr, "fp_bench: %s: %s\n", b->o.json, strerror(errno));
		return -1;
	}
	fprintf(f, "{\n");
	for (i = 0; i < P_MAX; i++) {
		if (!P[i].off)
			fprintf(f, "  \"%s_ns\": %.1f,\n  \"%s_wall_ns\": %.2f,\n",
				P[i].name, P[i].med_ns, P[i].name, P[i].med_wall);
	}
	if (!P[P_BARE].off)
		fprintf(f, "  \"bare_drop_ns\": %.1f,\n", P[P_BARE].med_ns);
	for (i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		const struct ratio *q = &ratios[i];

		if (!ratio_on(q))
			continue;
		fprintf(f, "  \"%s\": %.3f,\n", q->name, ratio_median(q));
		/* "paired_<rest>" after the "ratio_" prefix */
		fprintf(f, "  \"paired_%s\": %.3f,\n", q->name + 6,
			paired_ratio(&P[q->num], &P[q->den], b->o.runs));
	}

	fprintf(f, "  \"paths\": [\n");
	for (i = 0, n = 0; i < P_MAX; i++) {
		const struct path *p = &P[i];

		if (p->off)
			continue;
		fprintf(f, "%s    {\"name\": \"%s\", \"what\": \"%s\", \"ns\": %.1f, "
			"\"wall_ns\": %.2f, \"frames\": %llu, \"ok\": %s, \"check\": \"%s\"}",
			n++ ? ",\n" : "", p->name, p->what, p->med_ns, p->med_wall,
			(unsigned long long)p->sent, p->warned ? "false" : "true",
			p->verdict);
	}
	fprintf(f, "\n  ],\n  \"ratios\": [\n");
	for (i = 0, n = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		const struct ratio *q = &ratios[i];
		double v;

		if (!ratio_on(q))
			continue;
		/* Goals are judged on the paired ratio. */
		v = paired_ratio(&P[q->num], &P[q->den], b->o.runs);
		fprintf(f, "%s    {\"name\": \"%s\", \"num\": \"%s\", \"den\": \"%s\", "
			"\"median\": %.3f, \"paired\": %.3f",
			n++ ? ",\n" : "", q->name, P[q->num].name, P[q->den].name,
			ratio_median(q), v);
		if (q->target)
			fprintf(f, ", \"target\": \"%s %g\", \"met\": %s",
				q->upper ? "<=" : ">=", q->target,
				ratio_met(q, v) ? "true" : "false");
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n");
	{
		char date[32];
		time_t t = time(NULL);

		strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&t));
		fprintf(f, "  \"date\": \"%s\",\n", date);
	}
	fprintf(f, "  \"runs\": %d,\n", b->o.runs);
	fprintf(f, "  \"run_ms\": %u,\n", b->o.run_ms);
	fprintf(f, "  \"frame_bytes\": %d,\n", BENCH_FRAME_LEN);
	fprintf(f, "  \"fast_1m_entries\": %u,\n", b->o.fill_total);
	fprintf(f, "  \"fast_1m_capacity\": %u,\n", large_capacity(&b->o));
	fprintf(f, "  \"fast_1m_active_flows\": %u,\n", b->o.flows_1m);
	fprintf(f, "  \"zipf_samples\": %u,\n", BENCH_ZIPF_SAMPLES);
	fprintf(f, "  \"cpus\": [%d, %d],\n", b->cpu, b->cpu2);
	if (b->tc_hook)
		fprintf(f, "  \"tc_hook\": \"%s\",\n", b->tc_hook);
	fprintf(f, "  \"loadavg_1m\": %.2f,\n", b->load[0]);
	fprintf(f, "  \"loadavg_1m_after\": %.2f,\n", b->load[1]);
	fprintf(f, "  \"warnings\": %d\n", nwarn);
	fprintf(f, "}\n");
	if (fclose(f)) {
		fprintf(stderr, "fp_bench: %s: %s\n", b->o.json, strerror(errno));
		return -1;
	}
	printf("\nwrote %s\n", b->o.json);
	return 0;
}

/* The table, the ratios and the verdicts; returns the number of warnings. */
static int report(const struct bench *b)
{
	struct path *P = paths;
	int nwarn = 0;
	size_t i;

	printf("\n%-15s %9s %7s %9s %8s  %s\n", "path", "ns/pkt", "Mpps",
	       "wall ns", "vs fast", "check");
	for (i = 0; i < P_MAX; i++) {
		struct path *p = &P[i];

		if (p->off)
			continue;
		check_path(p);
		nwarn += p->warned;
		printf("%-15s %9.1f %7.2f %9.2f %7.2fx  %s\n", p->name, p->med_ns,
		       p->med_ns > 0 ? 1e3 / p->med_ns : 0, p->med_wall,
		       P[P_FAST].off ? 0 : p->med_ns / P[P_FAST].med_ns, p->verdict);
	}
	printf("\nmedian of %d alternating runs of ~%u ms per path, %d-byte UDP frames,\n"
	       "every path but bare behind the same prelude; load average %.2f -> %.2f:\n",
	       b->o.runs, b->o.run_ms, BENCH_FRAME_LEN, b->load[0], b->load[1]);
	for (i = 0; i < P_MAX; i++) {
		if (!P[i].off)
			printf("  %-15s %s\n", P[i].name, P[i].what);
	}
	if (b->tc_hook)
		printf("TC ingress programs on %s\n", b->tc_hook);
	printf("\n%-36s %6s %8s   %s\n", "ratios", "median", "paired", "target");
	for (i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		const struct ratio *q = &ratios[i];
		double v;

		if (!ratio_on(q))
			continue;
		v = paired_ratio(&P[q->num], &P[q->den], b->o.runs);
		printf("  %-34s %6.2f %8.2f", q->name, ratio_median(q), v);
		if (q->target)
			printf("   %s %-5g %s", q->upper ? "<=" : ">=", q->target,
			       ratio_met(q, v) ? "met" : "MISSED");
		printf("\n");
	}
	printf("(median: ratio of the medians; paired: median of the per-round\n"
	       " ratios, which cancels the machine's drift; targets judged on it)\n");
	if (nwarn)
		printf("\n%d path(s) did not forward as intended; see WARNING above\n",
		       nwarn);
	if (warnings)
		printf("\n%d warning(s) were printed while setting up\n", warnings);
	return nwarn + warnings;
}

/*
 * A datapath twice: with one flow per family in the default-size table
 * (and the IPv4 one again behind PPPoE over a VLAN), and with the large
 * table.
 */
static int fp_pair_load(const struct bench *b, struct fp_inst *small,
			struct fp_inst *large, const char *file)
{
	struct fp_flow_key k;
	struct fp_flow v;

	if (fp_load(b, small, file, FP_DEFAULT_CAPACITY))
		return -1;
	flow_entry(b, AF_INET, b->o.sport, &k, &v);
	if (flow_add(small, &k, &v))
		return -1;
	flow_entry(b, AF_INET6, b->o.sport, &k, &v);
	if (flow_add(small, &k, &v))
		return -1;
	/* The second CPU's flow of the *_2cpu paths, added right after the
	 * first as the daemon adds the two directions of a connection: their
	 * elements are likely neighbours in memory.
	 */
	flow_entry(b, AF_INET, b->o.sport + 1, &k, &v);
	if (flow_add(small, &k, &v))
		return -1;
	/* The same connection seen on a PPPoE-over-VLAN WAN: the key adds
	 * the ingress encapsulation, and the entry sends it out untagged.
	 */
	flow_entry(b, AF_INET, b->o.sport, &k, &v);
	k.vlan[0] = BENCH_VLAN;
	k.pppoe_sid = BENCH_PPPOE_SID;
	memcpy(v.in_smac, b->o.src_mac, ETH_ALEN);	/* the concentrator */
	if (flow_add(small, &k, &v))
		return -1;

	if (fp_load(b, large, file, large_capacity(&b->o)) ||
	    fill_table(b, large))
		return -1;
	return 0;
}

static void path_fp(struct path *p, struct fp_inst *fi, __u32 nflows)
{
	p->prog_fd = fi->prog ? bpf_program__fd(fi->prog) : -1;
	p->fp = fi;
	p->nflows = nflows;
}

static int setup(struct bench *b)
{
	struct bench_sink_cfg sc = {};
	__u32 zero = 0, port;
	int err;

	if (dev_info(b->o.in_dev, &b->in_ifindex, b->in_mac, NULL) ||
	    dev_info(b->o.out_dev, &b->out_ifindex, b->out_mac, &b->out_mtu))
		return -1;

	b->bb = bench_bpf__open_and_load();
	if (!b->bb) {
		fprintf(stderr, "fp_bench: loading bench object: %s\n",
			strerror(errno));
		return -1;
	}
	sc.nat4 = b->o.nat4.s_addr;
	memcpy(sc.nat6, &b->o.nat6, 16);
	port = b->out_ifindex;
	if (bpf_map_update_elem(bpf_map__fd(b->bb->maps.sink_cfg), &zero, &sc, 0) ||
	    bpf_map_update_elem(bpf_map__fd(b->bb->maps.bench_tx), &port, &port, 0)) {
		fprintf(stderr, "fp_bench: setting up bench maps: %s\n",
			strerror(errno));
		return -1;
	}

	/* The sink goes on the server's veth, in the server's namespace. */
	b->self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	b->peer_ns = open(b->o.peer_netns, O_RDONLY | O_CLOEXEC);
	if (b->self_ns < 0 || b->peer_ns < 0) {
		fprintf(stderr, "fp_bench: opening network namespace %s: %s\n",
			b->self_ns < 0 ? "/proc/self/ns/net" : b->o.peer_netns,
			strerror(errno));
		return -1;
	}
	if (enter_ns(b->peer_ns, "server"))
		return -1;
	err = dev_info(b->o.peer_dev, &b->peer_ifindex, b->peer_mac, NULL);
	if (!err)
		err = xdp_attach(b->peer_ifindex,
				 bpf_program__fd(b->bb->progs.bench_sink),
				 b->o.peer_dev);
	b->peer_attached = !err;
	if (enter_ns(b->self_ns, "router") || err)
		return -1;

	/* Attached to both router ports as in production; the redirect to
	 * the server itself only needs the sink on the peer.
	 */
	if (fp_pair_load(b, &b->fp, &b->fp1m, NULL))
		return -1;
	err = xdp_attach(b->in_ifindex, bpf_program__fd(b->fp.prog), b->o.in_dev);
	b->in_attached = !err;
	if (err)
		return -1;
	err = xdp_attach(b->out_ifindex, bpf_program__fd(b->fp.prog), b->o.out_dev);
	b->out_attached = !err;
	if (err)
		return -1;
	if (b->o.variant &&
	    fp_pair_load(b, &b->var, &b->var1m, b->o.variant))
		return -1;

	/* The TC tier: its own copy, whose one entry is in FP_STATE_TC. */
	{
		struct fp_flow_key k;
		struct fp_flow v;

		if (fp_load(b, &b->fptc, NULL, FP_DEFAULT_CAPACITY))
			return -1;
		b->fptc.stats = b->fptc.skel->maps.fp_tc_stats;
		flow_entry(b, AF_INET, b->o.sport, &k, &v);
		v.state = FP_STATE_TC;
		if (flow_add(&b->fptc, &k, &v))
			return -1;
		if (b->o.variant) {
			if (fp_load(b, &b->vartc, b->o.variant, FP_DEFAULT_CAPACITY))
				return -1;
			b->vartc.stats = bpf_object__find_map_by_name(b->vartc.obj,
								      "fp_tc_stats");
			b->vartc.prog = bpf_object__find_program_by_name(b->vartc.obj,
									 "fastpath_tc");
			if (!b->vartc.stats || !b->vartc.prog) {
				fprintf(stderr, "fp_bench: %s has no TC program\n",
					b->o.variant);
				return -1;
			}
			if (flow_add(&b->vartc, &k, &v))
				return -1;
		}
	}
	paths[P_BARE].prog_fd = bpf_program__fd(b->bb->progs.bench_drop);
	paths[P_PRELUDE].prog_fd = paths[P_BARE].prog_fd;
	paths[P_SLOW].prog_fd = bpf_program__fd(b->bb->progs.bench_pass);
	paths[P_SLOW6].prog_fd = paths[P_SLOW].prog_fd;
	paths[P_REDIRECT].prog_fd = bpf_program__fd(b->bb->progs.bench_redirect);
	path_fp(&paths[P_FAST], &b->fp, 1);
	path_fp(&paths[P_FAST6], &b->fp, 1);
	path_fp(&paths[P_FAST1M], &b->fp1m, b->o.flows_1m);
	path_fp(&paths[P_FASTPV], &b->fp, 1);
	paths[P_TC].prog_fd = paths[P_SLOW].prog_fd;
	paths[P_TC].fp = &b->fptc;
	paths[P_TC].tc_fd = bpf_program__fd(b->fptc.skel->progs.fastpath_tc);
	paths[P_TC_REDIRECT].prog_fd = paths[P_SLOW].prog_fd;
	paths[P_TC_REDIRECT].tc_fd = bpf_program__fd(b->bb->progs.bench_tc_redirect);
	path_fp(&paths[P_ZIPF], &b->fp1m, 1);
	path_fp(&paths[P_FAST2], &b->fp, 1);
	path_fp(&paths[P_VAR], &b->var, 1);
	path_fp(&paths[P_VAR1M], &b->var1m, b->o.flows_1m);
	path_fp(&paths[P_VARZIPF], &b->var1m, 1);
	path_fp(&paths[P_VAR2], &b->var, 1);
	paths[P_VARTC].prog_fd = paths[P_SLOW].prog_fd;
	paths[P_VARTC].fp = &b->vartc;
	paths[P_VARTC].tc_fd = b->o.variant ? bpf_program__fd(b->vartc.prog) : 0;
	paths[P_VAR].off = paths[P_VAR1M].off = paths[P_VARTC].off = !b->o.variant;
	paths[P_VARZIPF].off = paths[P_VAR2].off = !b->o.variant;
	paths[P_FLOWTABLE].prog_fd = paths[P_SLOW].prog_fd;
	paths[P_FLOWTABLE].off = !b->o.ft_sport;
	return 0;
}

/*
 * bench_seq's per-CPU base: 0 everywhere but on the second injector's
 * CPU, whose frames then carry the second flow (source port + 1).
 */
static int two_cpu_setup(struct bench *b)
{
	struct bench_seq *v = calloc(b->ncpus, sizeof(*v));
	__u32 zero = 0;
	int err;

	if (!v)
		return -1;
	if (b->cpu2 < b->ncpus)
		v[b->cpu2].base = 1;
	err = bpf_map_update_elem(bpf_map__fd(b->bb->maps.bench_seq), &zero, v, 0);
	free(v);
	if (err) {
		fprintf(stderr, "fp_bench: setting the per-CPU flows: %s\n",
			strerror(errno));
		return -1;
	}
	return worker_start(b);
}

static void teardown(struct bench *b)
{
	worker_stop(b);
	if (b->in_attached)
		bpf_xdp_detach(b->in_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (b->out_attached)
		bpf_xdp_detach(b->out_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (b->peer_attached && !enter_ns(b->peer_ns, "server")) {
		bpf_xdp_detach(b->peer_ifindex, XDP_FLAGS_DRV_MODE, NULL);
		enter_ns(b->self_ns, "router");
	}
	fp_unload(&b->vartc);
	fp_unload(&b->fptc);
	fp_unload(&b->var1m);
	fp_unload(&b->var);
	fp_unload(&b->fp1m);
	fp_unload(&b->fp);
	bench_bpf__destroy(b->bb);
	if (b->peer_ns >= 0)
		close(b->peer_ns);
	if (b->self_ns >= 0)
		close(b->self_ns);
}

static int pin_cpu(struct bench *b)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	int cpu = b->o.cpu;

	/* The last CPU by default: CPU 0 tends to take more of the noise. */
	if (cpu < 0)
		cpu = n - 1;
	b->cpu = cpu;
	/* The second injector takes the next CPU, or none on one CPU. */
	b->cpu2 = n > 1 ? (cpu + 1) % n : -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "fp_bench: pinning to CPU %d: %s\n", cpu,
			strerror(errno));
		return -1;
	}
	return 0;
}

static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

int main(int argc, char **argv)
{
	struct bench b = { .self_ns = -1, .peer_ns = -1 };
	int i, r, err = 1, nwarn;

	if (parse_opts(argc, argv, &b.o))
		return 2;
	verbose = b.o.verbose;
	libbpf_set_print(libbpf_log);
	b.ncpus = libbpf_num_possible_cpus();
	if (b.ncpus <= 0) {
		fprintf(stderr, "fp_bench: cannot count possible CPUs\n");
		return 1;
	}
	if (pin_cpu(&b) || setup(&b))
		goto out;
	for (i = 0; i < P_MAX && b.o.only; i++)
		paths[i].off |= !listed(b.o.only, paths[i].name);
	if (b.cpu2 < 0 && (!paths[P_FAST2].off || !paths[P_VAR2].off)) {
		printf("SKIP fast_2cpu: only one CPU is online\n");
		paths[P_FAST2].off = paths[P_VAR2].off = true;
	}
	if ((!paths[P_FAST2].off || !paths[P_VAR2].off) && two_cpu_setup(&b))
		goto out;
	if ((!paths[P_ZIPF].off || !paths[P_VARZIPF].off) && zipf_fill(&b))
		goto out;
	b.load[0] = loadavg();

	/* Warm-up (r = -1) settles conntrack, the page pools and the caches.
	 * Each round then starts one path further on, so no path always
	 * follows the same neighbour.
	 */
	for (r = -1; r < b.o.runs; r++) {
		for (i = 0; i < P_MAX; i++) {
			struct path *p = &paths[(i + (r < 0 ? 0 : r)) % P_MAX];

			if (p->off)
				continue;
			if (run_once(&b, p, r))
				goto out;
		}
		if (b.o.verbose && r >= 0)
			fprintf(stderr, "fp_bench: round %d of %d done\n", r + 1,
				b.o.runs);
	}
	b.load[1] = loadavg();

	for (i = 0; i < P_MAX; i++) {
		struct path *p = &paths[i];
		double ns[MAX_RUNS];

		if (p->off)
			continue;
		for (r = 0; r < b.o.runs; r++)
			ns[r] = p->ns[r];
		p->med_ns = median(ns, b.o.runs);
		p->med_wall = median(p->wall, b.o.runs);
		if (b.o.verbose) {
			fprintf(stderr, "fp_bench: %-15s ns/pkt:", p->name);
			for (r = 0; r < b.o.runs; r++)
				fprintf(stderr, " %u", p->ns[r]);
			fprintf(stderr, "\n");
		}
	}
	/* Every run, --only ones too, checks that each path forwarded. */
	nwarn = report(&b);
	/* bench.sh passes --json for a full run, or when BENCH_JSON asks. */
	err = 0;
	if (b.o.json && write_json(&b, nwarn))
		err = 1;
	if (nwarn)
		err = 1;
out:
	teardown(&b);
	return err;
}
