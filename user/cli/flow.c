// SPDX-License-Identifier: GPL-2.0-only
/*
 * flow.c - "fastpath flow add" and "fastpath flow del": one static entry.
 */
#include <errno.h>
#include <stdio.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "lib/args.h"
#include "lib/flowtab.h"
#include "lib/ethtool.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/pins.h"
#include "lib/rtnl.h"
#include "cli/cli.h"

static const char flow_usage[] =
	"Usage: fastpath flow add -i IN -o OUT -p tcp|udp -s SRC:PORT -d DST:PORT\n"
	"                         [--snat ADDR[:PORT]] [--dnat ADDR[:PORT]]\n"
	"                         [--dmac MAC | --via ADDR] [--mtu N] [--tc] [--replace]\n"
	"       fastpath flow del -i IN -p tcp|udp -s SRC:PORT -d DST:PORT\n"
	"\n"
	"Add or delete one direction of a flow by hand. The tuple is the packet as\n"
	"it arrives on IN; SNAT/DNAT give the rewritten source/destination. IPv6\n"
	"endpoints with a port are written [ADDR]:PORT.\n"
	"\n"
	"  -i, --in IFACE     ingress interface\n"
	"  -o, --out IFACE    egress interface (must be attached)\n"
	"  -p, --proto P      tcp or udp\n"
	"  -s, --src A:P      source address and port\n"
	"  -d, --dst A:P      destination address and port\n"
	"      --snat A[:P]   rewrite the source to A (and port P)\n"
	"      --dnat A[:P]   rewrite the destination to A (and port P)\n"
	"      --dmac MAC     next-hop MAC; default: the neighbour entry of --via\n"
	"      --via ADDR     next hop to look up; default: the (NATed) destination\n"
	"      --mtu N        egress MTU; default: the egress device's MTU\n"
	"      --tc           forward on the TC tier (clsact ingress) instead of XDP\n"
	"      --replace      overwrite an existing entry\n"
	"  -h, --help         show this help\n";

struct flow_args {
	struct fp_flow_key key;
	struct fp_flow val;
	const char *in, *out;
	bool have_proto, have_src, have_dst, have_dmac, have_via, have_mtu;
	bool replace;
	__u8 via_family;
	__be32 via[4];
};

static int family_check(struct flow_args *a, __u8 family, const char *what)
{
	if (a->key.family && a->key.family != family)
		return usage_error("flow", "%s: address family differs from the tuple",
				   what);
	a->key.family = family;
	return 0;
}

static int parse_nat(struct flow_args *a, const char *arg, bool src)
{
	__be32 addr[4];
	__be16 port;
	__u8 family;

	if (parse_endpoint(arg, &family, addr, &port, false))
		return usage_error("flow", "invalid %s '%s'", src ? "--snat" : "--dnat",
				   arg);
	if (family_check(a, family, src ? "--snat" : "--dnat"))
		return EXIT_USAGE;
	if (src) {
		a->val.flags |= FP_F_SNAT;
		memcpy(a->val.nat_saddr, addr, 16);
		a->val.nat_sport = port;
	} else {
		a->val.flags |= FP_F_DNAT;
		memcpy(a->val.nat_daddr, addr, 16);
		a->val.nat_dport = port;
	}
	return 0;
}

static const struct option flow_opts[] = {
	{ "in", required_argument, NULL, 'i' },
	{ "out", required_argument, NULL, 'o' },
	{ "proto", required_argument, NULL, 'p' },
	{ "src", required_argument, NULL, 's' },
	{ "dst", required_argument, NULL, 'd' },
	{ "snat", required_argument, NULL, 'S' },
	{ "dnat", required_argument, NULL, 'D' },
	{ "dmac", required_argument, NULL, 'm' },
	{ "via", required_argument, NULL, 'v' },
	{ "mtu", required_argument, NULL, 'M' },
	{ "replace", no_argument, NULL, 'r' },
	{ "tc", no_argument, NULL, 'T' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static int parse_tuple_end(struct flow_args *a, int c, const char *arg)
{
	__u8 family;

	if (parse_endpoint(arg, &family, c == 's' ? a->key.saddr : a->key.daddr,
			   c == 's' ? &a->key.sport : &a->key.dport, true))
		return usage_error("flow", "invalid endpoint '%s' (want ADDR:PORT or [ADDR6]:PORT)",
				   arg);
	if (family_check(a, family, c == 's' ? "--src" : "--dst"))
		return EXIT_USAGE;
	*(c == 's' ? &a->have_src : &a->have_dst) = true;
	return 0;
}

/* One option into @a: 0, -1 after --help, or the exit status of an error. */
static int flow_option(struct flow_args *a, int c, bool add, char **argv)
{
	__u32 v;

	switch (c) {
	case 'i':
		a->in = optarg;
		return 0;
	case 'o':
		a->out = optarg;
		return 0;
	case 'p':
		if (parse_proto(optarg, &a->key.proto))
			return usage_error("flow", "protocol must be tcp or udp, not '%s'", optarg);
		a->have_proto = true;
		return 0;
	case 's':
	case 'd':
		return parse_tuple_end(a, c, optarg);
	case 'S':
	case 'D':
		if (!add)
			return usage_error("flow", "--%s is only for 'flow add'",
					   c == 'S' ? "snat" : "dnat");
		return parse_nat(a, optarg, c == 'S') ? EXIT_USAGE : 0;
	case 'm':
		if (parse_mac(optarg, a->val.dmac))
			return usage_error("flow", "invalid MAC '%s'", optarg);
		a->have_dmac = true;
		return 0;
	case 'v':
		if (parse_addr(optarg, &a->via_family, a->via))
			return usage_error("flow", "invalid --via address '%s'", optarg);
		a->have_via = true;
		return 0;
	case 'M':
		if (parse_u32(optarg, 65535, &v) || v < 68)
			return usage_error("flow", "invalid MTU '%s'", optarg);
		a->val.mtu = v;
		a->have_mtu = true;
		return 0;
	case 'r':
		a->replace = true;
		return 0;
	case 'T':
		a->val.state = FP_STATE_TC;
		return 0;
	case 'h':
		fputs(flow_usage, stdout);
		return -1;
	}
	return bad_option("flow", argv);
}

/* Returns 0, -1 after --help, or an exit status after printing the error. */
static int parse_flow_args(int argc, char **argv, struct flow_args *a, bool add)
{
	int c, ret;

	memset(a, 0, sizeof(*a));
	optind = 0;
	while ((c = getopt_long(argc, argv, "i:o:p:s:d:h", flow_opts, NULL)) != -1) {
		ret = flow_option(a, c, add, argv);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return usage_error("flow", "unexpected argument '%s'", argv[optind]);
	if (!a->in || !a->have_proto || !a->have_src || !a->have_dst)
		return usage_error("flow", "-i, -p, -s and -d are required");
	if (add && !a->out)
		return usage_error("flow", "-o is required for 'flow add'");
	if (a->have_via && a->via_family != a->key.family)
		return usage_error("flow", "--via: address family differs from the tuple");
	if (a->have_via && a->have_dmac)
		return usage_error("flow", "give --dmac or --via, not both");

	if (parse_ifname(a->in, &a->key.ifindex)) {
		pr_warn("%s: no such interface", a->in);
		return EXIT_FAIL;
	}
	if (add && parse_ifname(a->out, &a->val.oif)) {
		pr_warn("%s: no such interface", a->out);
		return EXIT_FAIL;
	}
	return 0;
}

/* The egress half of the entry: MACs and MTU from the devices. */
static int resolve_egress(struct flow_args *a)
{
	const __be32 *nh = a->have_via ? a->via :
			   (a->val.flags & FP_F_DNAT) ? a->val.nat_daddr : a->key.daddr;
	char addr[INET6_ADDRSTRLEN];
	__u32 mtu;
	int err;

	err = link_info(a->out, a->val.smac, &mtu);
	if (err) {
		pr_warn("%s: cannot read MAC and MTU: %s", a->out, strerror(-err));
		return EXIT_FAIL;
	}
	/* Frames of the flow are addressed to the ingress device. */
	err = link_info(a->in, a->val.in_dmac, &(__u32){ 0 });
	if (err) {
		pr_warn("%s: cannot read MAC: %s", a->in, strerror(-err));
		return EXIT_FAIL;
	}
	if (!a->have_mtu)
		a->val.mtu = mtu > 65535 ? 65535 : mtu;
	if (a->have_dmac)
		return 0;
	err = nl_neigh_lookup(a->val.oif, a->key.family, nh, a->val.dmac);
	if (err) {
		format_addr(a->key.family, nh, addr, sizeof(addr));
		pr_warn("no usable neighbour entry for %s on %s; reach it once or give --dmac",
			addr, a->out);
		return EXIT_FAIL;
	}
	return 0;
}

static int flow_add(int argc, char **argv)
{
	struct fp_maps m;
	struct flow_args a;
	int ret, err;

	ret = parse_flow_args(argc, argv, &a, true);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	/* An omitted NAT port keeps the packet's port. */
	if ((a.val.flags & FP_F_SNAT) && !a.val.nat_sport)
		a.val.nat_sport = a.key.sport;
	if ((a.val.flags & FP_F_DNAT) && !a.val.nat_dport)
		a.val.nat_dport = a.key.dport;
	if (a.val.state != FP_STATE_TC)
		a.val.state = FP_STATE_XDP;
	a.val.flags |= FP_F_STATIC;

	ret = resolve_egress(&a);
	if (ret)
		return ret;
	ret = fp_open_pinned(&m);
	if (ret) {
		if (ret == -ENOENT)
			pr_warn("fastpath is not attached; run 'fastpath attach IFACE...' first");
		return EXIT_FAIL;
	}
	ret = EXIT_FAIL;
	if (bpf_map_lookup_elem(m.tx_ports, &a.val.oif, &(__u32){ 0 })) {
		pr_warn("%s: not attached; run 'fastpath attach %s' first", a.out, a.out);
		goto out;
	}
	err = fp_flow_write(m.flows, &a.key, &a.val, a.replace ? BPF_ANY : BPF_NOEXIST);
	if (err) {
		errno = -err;
		if (errno == EEXIST)
			pr_warn("flow already exists (use --replace)");
		else if (errno == E2BIG || errno == ENOMEM)
			pr_warn("flow table full (%u entries)", fp_map_capacity(m.flows));
		else
			pr_warn("cannot add flow: %s", strerror(errno));
		goto out;
	}
	ret = EXIT_OK;
out:
	fp_close(&m);
	return ret;
}

static int flow_del(int argc, char **argv)
{
	struct fp_maps m;
	struct flow_args a;
	int ret, err;

	ret = parse_flow_args(argc, argv, &a, false);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	ret = fp_open_pinned(&m);
	if (ret) {
		if (ret == -ENOENT)
			pr_warn("fastpath is not attached");
		return EXIT_FAIL;
	}
	ret = EXIT_OK;
	err = fp_flow_delete(m.flows, &a.key);
	if (err) {
		pr_warn("%s", err == -ENOENT ? "no such flow" : strerror(-err));
		ret = EXIT_FAIL;
	} else if (fp_flows_quiesce()) {
		/* The next writer may be another process, which cannot know
		 * it must wait: leave the table with nothing to wait for.
		 */
		pr_warn("cannot wait for the datapath's readers");
	}
	fp_close(&m);
	return ret;
}

int cmd_flow(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(flow_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "add"))
		return flow_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "del") || !strcmp(argv[1], "delete"))
		return flow_del(argc - 1, argv + 1);
	return usage_error("flow", "unknown command '%s' (add or del)", argv[1]);
}
