// SPDX-License-Identifier: GPL-2.0-only
/*
 * flows.c - "fastpath flows": the flow table, as text or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "lib/args.h"
#include "lib/fmt.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/pins.h"
#include "cli/cli.h"

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
	ret = fp_open_pinned(&m);
	if (ret) {
		if (ret == -ENOENT)
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
