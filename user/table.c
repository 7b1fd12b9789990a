// SPDX-License-Identifier: GPL-2.0-only
/*
 * table.c - the flow-table commands: "flow add", "flow del" and "flows".
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "fp.h"

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

/* Returns 0, or an exit status after printing the error. */
static int parse_flow_args(int argc, char **argv, struct flow_args *a, bool add)
{
	static const struct option opts[] = {
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
	__u8 family;
	__u32 v;
	int c;

	memset(a, 0, sizeof(*a));
	optind = 0;
	while ((c = getopt_long(argc, argv, "i:o:p:s:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			a->in = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'p':
			if (parse_proto(optarg, &a->key.proto))
				return usage_error("flow", "protocol must be tcp or udp, not '%s'",
						   optarg);
			a->have_proto = true;
			break;
		case 's':
		case 'd':
			if (parse_endpoint(optarg, &family,
					   c == 's' ? a->key.saddr : a->key.daddr,
					   c == 's' ? &a->key.sport : &a->key.dport, true))
				return usage_error("flow", "invalid endpoint '%s' (want ADDR:PORT or [ADDR6]:PORT)",
						   optarg);
			if (family_check(a, family, c == 's' ? "--src" : "--dst"))
				return EXIT_USAGE;
			*(c == 's' ? &a->have_src : &a->have_dst) = true;
			break;
		case 'S':
		case 'D':
			if (!add)
				return usage_error("flow", "--%s is only for 'flow add'",
						   c == 'S' ? "snat" : "dnat");
			if (parse_nat(a, optarg, c == 'S'))
				return EXIT_USAGE;
			break;
		case 'm':
			if (parse_mac(optarg, a->val.dmac))
				return usage_error("flow", "invalid MAC '%s'", optarg);
			a->have_dmac = true;
			break;
		case 'v':
			if (parse_addr(optarg, &a->via_family, a->via))
				return usage_error("flow", "invalid --via address '%s'", optarg);
			a->have_via = true;
			break;
		case 'M':
			if (parse_u32(optarg, 65535, &v) || v < 68)
				return usage_error("flow", "invalid MTU '%s'", optarg);
			a->val.mtu = v;
			a->have_mtu = true;
			break;
		case 'r':
			a->replace = true;
			break;
		case 'T':
			a->val.state = FP_STATE_TC;
			break;
		case 'h':
			fputs(flow_usage, stdout);
			exit(EXIT_OK);
		default:
			return bad_option("flow", argv);
		}
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
	int ret;

	ret = parse_flow_args(argc, argv, &a, true);
	if (ret)
		return ret;
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
	if (fp_open_pinned(&m)) {
		pr_warn("fastpath is not attached; run 'fastpath attach IFACE...' first");
		return EXIT_FAIL;
	}
	ret = EXIT_FAIL;
	if (bpf_map_lookup_elem(m.tx_ports, &a.val.oif, &(__u32){ 0 })) {
		pr_warn("%s: not attached; run 'fastpath attach %s' first", a.out, a.out);
		goto out;
	}
	if (bpf_map_update_elem(m.flows, &a.key, &a.val,
				a.replace ? BPF_ANY : BPF_NOEXIST)) {
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
	int ret;

	ret = parse_flow_args(argc, argv, &a, false);
	if (ret)
		return ret;
	if (fp_open_pinned(&m)) {
		pr_warn("fastpath is not attached");
		return EXIT_FAIL;
	}
	ret = EXIT_OK;
	if (bpf_map_delete_elem(m.flows, &a.key)) {
		pr_warn("%s", errno == ENOENT ? "no such flow" : strerror(errno));
		ret = EXIT_FAIL;
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

int flow_count(int flows_fd)
{
	struct fp_flow_key k, next;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(flows_fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

static const char flows_usage[] =
	"Usage: fastpath flows [--json]\n"
	"\n"
	"List the flow table, one line per direction: ingress device and tuple,\n"
	"the NAT rewrite, egress device, state, packets, bytes, idle time and,\n"
	"for flows the daemon manages, the rate over the last second.\n"
	"\n"
	"  -j, --json    print a JSON array\n"
	"  -h, --help    show this help\n";

/* "vlan 7", "vlan 100.7", "vlan 802.1ad:100.7", "pppoe 0x1234", or "". */
static void format_encap(const __u16 vlan[2], __u16 sid, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (vlan[0])
		n = snprintf(buf, len, "vlan %s%u", vlan[0] & FP_VLAN_8021AD ? "802.1ad:" : "",
			     vlan[0] & FP_VLAN_VID_MASK);
	if (vlan[0] && vlan[1] && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, ".%u", vlan[1] & FP_VLAN_VID_MASK);
	if (sid && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, "%spppoe %#06x", n ? " " : "", sid);
}

static void print_flow(const struct fp_flow_key *k, const struct fp_flow *f,
		       const struct fp_rate *rate, __u64 now, struct json *j)
{
	char in[IF_NAMESIZE + 8], out[IF_NAMESIZE + 8], src[64], dst[64];
	char nsrc[64], ndst[64], mac[18], in_encap[48], out_encap[48];
	double idle = f->last_seen ? (now - f->last_seen) / 1e9 : -1;
	const char *state = f->state < FP_STATE_MAX ? fp_state_names[f->state] : "?";

	ifname_or_index(k->ifindex, in);
	ifname_or_index(f->oif, out);
	format_endpoint(k->family, k->saddr, k->sport, src, sizeof(src));
	format_endpoint(k->family, k->daddr, k->dport, dst, sizeof(dst));
	format_endpoint(k->family, f->nat_saddr, f->nat_sport, nsrc, sizeof(nsrc));
	format_endpoint(k->family, f->nat_daddr, f->nat_dport, ndst, sizeof(ndst));
	format_encap(k->vlan, k->pppoe_sid, in_encap, sizeof(in_encap));
	format_encap(f->out_vlan, f->out_pppoe_sid, out_encap, sizeof(out_encap));

	if (j) {
		json_obj_open(j, NULL);
		json_str(j, "in", in);
		if (in_encap[0])
			json_str(j, "in_encap", in_encap);
		json_str(j, "proto", proto_name(k->proto));
		json_str(j, "src", src);
		json_str(j, "dst", dst);
		if (f->flags & FP_F_SNAT)
			json_str(j, "snat", nsrc);
		if (f->flags & FP_F_DNAT)
			json_str(j, "dnat", ndst);
		json_str(j, "out", out);
		if (out_encap[0])
			json_str(j, "out_encap", out_encap);
		format_mac(f->dmac, mac);
		json_str(j, "dmac", mac);
		json_u64(j, "mtu", f->mtu);
		json_str(j, "state", state);
		json_bool(j, "static", f->flags & FP_F_STATIC);
		json_u64(j, "packets", f->packets);
		json_u64(j, "bytes", f->bytes);
		json_u64(j, "pps", rate->pps);
		json_u64(j, "bps", rate->bps);
		if (idle < 0)
			json_null(j, "idle_s");
		else
			json_num(j, "idle_s", idle);
		json_end(j, '}');
		return;
	}

	printf("%-10s%s%s %s %s -> %s", in, in_encap[0] ? " " : "", in_encap,
	       proto_name(k->proto), src, dst);
	if (f->flags & FP_F_SNAT)
		printf(" snat %s", nsrc);
	if (f->flags & FP_F_DNAT)
		printf(" dnat %s", ndst);
	printf(" => %s%s%s %s pkts %llu bytes %llu", out, out_encap[0] ? " " : "",
	       out_encap, state,
	       (unsigned long long)f->packets, (unsigned long long)f->bytes);
	if (!(f->flags & FP_F_STATIC))
		printf(" rate %llu pps %.1f Mbit/s", (unsigned long long)rate->pps,
		       rate->bps / 1e6);
	if (idle < 0)
		printf(" idle -\n");
	else
		printf(" idle %.1fs\n", idle);
}

int cmd_flows(int argc, char **argv)
{
	struct fp_flow_key k, next;
	struct fp_flow f;
	struct fp_rate rate;
	struct json j;
	struct fp_maps m;
	bool json = false;
	void *prev = NULL;
	__u64 now;
	int ret, n = 0;

	ret = listing_args(argc, argv, "flows", flows_usage, &json);
	if (ret >= 0)
		return ret;
	if (fp_open_pinned(&m)) {
		pr_warn("fastpath is not attached");
		return EXIT_FAIL;
	}

	now = mono_ns();
	if (json)
		json_begin(&j, stdout, '[');
	while (!bpf_map_get_next_key(m.flows, prev, &next)) {
		k = next;
		prev = &k;
		/* An entry deleted since get_next_key is simply skipped. */
		if (bpf_map_lookup_elem(m.flows, &k, &f))
			continue;
		if (bpf_map_lookup_elem(m.rates, &k, &rate))
			rate = (struct fp_rate){};
		print_flow(&k, &f, &rate, now, json ? &j : NULL);
		n++;
	}
	if (json)
		json_end(&j, ']');
	else if (!n)
		printf("no flows\n");
	fp_close(&m);
	return EXIT_OK;
}
