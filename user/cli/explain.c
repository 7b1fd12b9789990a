// SPDX-License-Identifier: GPL-2.0-only
/*
 * explain.c - "fastpath explain": for each matching connection and each
 * direction, is it offloaded, on which tier, and if not, why.
 *
 * The facts come from maps alone, never from the daemon process: its
 * record of each connection ("fp_conns", struct fp_conn_info, written by
 * conn_fsm.c), the flow table and its rates for the directions in it, and
 * the datapath's pass-reason counters. Those counters are global: the
 * datapath keeps no per-flow pass reasons, so explain shows what is
 * passing right now over all flows, and says so.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "lib/args.h"
#include "lib/fmt.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/pins.h"
#include "cli/cli.h"

static const char explain_head[] =
	"Usage: fastpath explain [--json] [--no-sample] ADDR[:PORT] [ADDR[:PORT]]\n"
	"       fastpath explain [--json] [--no-sample] --id N\n"
	"\n"
	"For each connection that matches, and each of its directions, say whether\n"
	"it is offloaded, on which tier, and if not, why. One endpoint matches\n"
	"connections with that address (and port) on either side; two match\n"
	"connections between them. IPv6 endpoints with a port are [ADDR]:PORT.\n"
	"The datapath counts pass reasons for all flows together, not per flow:\n"
	"explain samples them for one second and shows those rates.\n"
	"\n";

static const struct opt_spec explain_opts[] = {
	{ 'i', "id", "N", "the connection with this conntrack id" },
	{ 'j', "json", NULL, "print a JSON object" },
	{ 'n', "no-sample", NULL, "do not sample the pass reasons (no 1 s wait)" },
	{ 'h', "help", NULL, "show this help" },
	{}
};

struct endpoint {
	__u8 family;
	__be32 addr[4];
	__be16 port;		/* 0 = any */
};

struct explain_args {
	bool json, sample, by_id;
	__u32 id;
	struct endpoint ep[2];
	int nep;
};

static const char *const tcp_state_names[] = {
	"none", "syn_sent", "syn_recv", "established", "fin_wait",
	"close_wait", "last_ack", "time_wait", "close", "syn_sent2",
};

static bool ep_match(const struct endpoint *e, __u8 family, const __be32 addr[4],
		     __be16 port)
{
	return e->family == family && !memcmp(e->addr, addr, 16) &&
	       (!e->port || e->port == port);
}

/* One tuple, either way round: one endpoint on either side; two on both. */
static bool tuple_match(const struct explain_args *a, const struct fp_conn_tuple *t)
{
	bool s0 = ep_match(&a->ep[0], t->family, t->saddr, t->sport);
	bool d0 = ep_match(&a->ep[0], t->family, t->daddr, t->dport);

	if (a->nep == 1)
		return s0 || d0;
	return (s0 && ep_match(&a->ep[1], t->family, t->daddr, t->dport)) ||
	       (d0 && ep_match(&a->ep[1], t->family, t->saddr, t->sport));
}

static bool conn_match(const struct explain_args *a, const struct fp_conn_info *ci)
{
	if (a->by_id)
		return ci->id == a->id;
	return tuple_match(a, &ci->tuple[0]) || tuple_match(a, &ci->tuple[1]);
}

/* The flow-table entry of one direction: same tuple, any ingress key. */
static bool find_entry(const struct fp_maps *m, const struct fp_conn_tuple *t,
		       __u32 iif, struct fp_flow *f, struct fp_rate *r)
{
	struct fp_flow_key k, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(m->flows, prev, &next)) {
		k = next;
		prev = &k;
		if (k.family != t->family || k.proto != t->proto || k.sport != t->sport ||
		    k.dport != t->dport || memcmp(k.saddr, t->saddr, 16) ||
		    memcmp(k.daddr, t->daddr, 16) || (iif && k.ifindex != iif))
			continue;
		if (bpf_map_lookup_elem(m->flows, &k, f))
			continue;
		if (bpf_map_lookup_elem(m->rates, &k, r))
			*r = (struct fp_rate){};
		return true;
	}
	return false;
}

/* What one direction's verdict is: a short code and a sentence. */
struct dir_verdict {
	bool offloaded;
	const char *tier;	/* "xdp", "tc", "hw", "hw_pending" or NULL */
	const char *code;	/* "offloaded", or why not */
	char why[256];
	bool have_entry;
	struct fp_flow f;
	struct fp_rate rate;
};

static const char *state_name(__u8 s)
{
	static const char *const n[FP_CS_MAX] = {
		[FP_CS_SLOW] = "slow", [FP_CS_LEARNING] = "learning",
		[FP_CS_WAITING] = "waiting", [FP_CS_XDP] = "xdp", [FP_CS_TC] = "tc",
		[FP_CS_HW_PENDING] = "hw_pending", [FP_CS_HW] = "hw",
		[FP_CS_TEARDOWN] = "teardown",
	};

	return s < FP_CS_MAX ? n[s] : "?";
}

static void hold_words(const struct fp_conn_info *ci, struct dir_verdict *v)
{
	const char *tcp = ci->tcp_state < sizeof(tcp_state_names) / sizeof(tcp_state_names[0]) ?
			  tcp_state_names[ci->tcp_state] : "?";

	switch (ci->hold) {
	case FP_H_NOT_READY:
		v->code = "not_established";
		/* conntrack's TCP states past ESTABLISHED, bar SYN_SENT2 (9) */
		if (ci->tuple[0].proto == IPPROTO_TCP && ci->tcp_state > 3 && ci->tcp_state < 9)
			snprintf(v->why, sizeof(v->why),
				 "closing (TCP state %s): only ESTABLISHED connections are offloaded",
				 tcp);
		else if (ci->tuple[0].proto == IPPROTO_TCP)
			snprintf(v->why, sizeof(v->why),
				 "not established yet (TCP state %s): only ESTABLISHED connections are offloaded",
				 tcp);
		else
			snprintf(v->why, sizeof(v->why),
				 "no reply seen yet: a UDP flow is offloaded once conntrack saw both ways");
		return;
	case FP_H_POLICY:
		v->code = "policy";
		snprintf(v->why, sizeof(v->why),
			 "excluded by the policy: its ct mark %#x is not selected (fastpath run --policy)",
			 ci->mark);
		return;
	case FP_H_HELPER:
		v->code = "helper";
		snprintf(v->why, sizeof(v->why),
			 "a conntrack helper (or NAT sequence adjustment) must see every packet");
		return;
	case FP_H_NOT_ATTACHED:
		v->code = "not_attached";
		snprintf(v->why, sizeof(v->why),
			 "a device it passes through is not attached (or carries no MAC the daemon knows): see 'fastpath status'");
		return;
	case FP_H_SQM:
		v->code = "sqm";
		snprintf(v->why, sizeof(v->why),
			 "a shaper: a device stacked above the egress port (PPP, VLAN, bridge) has a shaping qdisc that a redirect to the port would skip; the SQM guard keeps the whole connection with it");
		return;
	case FP_H_TABLE_FULL:
		v->code = "table_full";
		snprintf(v->why, sizeof(v->why),
			 "table full: --max-flows connections are offloaded already");
		return;
	case FP_H_NOT_LEARNED:
		v->code = "not_learned";
		snprintf(v->why, sizeof(v->why),
			 "not learned: no packet came within 10 s of it becoming a candidate (idle), or the learning map was full; tried again later");
		return;
	case FP_H_LOCAL:
		v->code = "local";
		snprintf(v->why, sizeof(v->why),
			 "local: it ends on the router itself (a local or loopback address), so there is nothing to forward");
		return;
	default:
		v->code = "learning";
		snprintf(v->why, sizeof(v->why),
			 "not learned yet: waits for its next packet through the slow path");
	}
}

static void verdict(const struct fp_maps *m, const struct fp_conn_info *ci, int dir,
		    struct dir_verdict *v)
{
	__u8 s = ci->state[dir];

	memset(v, 0, sizeof(*v));
	switch (s) {
	case FP_CS_XDP:
	case FP_CS_TC:
	case FP_CS_HW:
	case FP_CS_HW_PENDING:
		v->have_entry = find_entry(m, &ci->tuple[dir], ci->iif[dir], &v->f, &v->rate);
		/* The table is the truth for the tier; the record may lag by an event. */
		if (v->have_entry && v->f.state < FP_STATE_MAX && v->f.state != FP_STATE_TEARDOWN)
			v->tier = fp_state_names[v->f.state];
		else if (!v->have_entry)
			break;
		else
			v->tier = state_name(s);
		v->offloaded = true;
		v->code = "offloaded";
		if (!strcmp(v->tier, "hw_pending"))
			snprintf(v->why, sizeof(v->why),
				 "offloaded, waiting for the PPE to bind it (XDP passes its packets up meanwhile)");
		else
			snprintf(v->why, sizeof(v->why), "offloaded on the %s tier", v->tier);
		return;
	case FP_CS_LEARNING:
		v->code = "learning";
		snprintf(v->why, sizeof(v->why),
			 "not learned yet: waits for its next packet through the slow path");
		return;
	case FP_CS_WAITING:
		v->code = "waiting";
		snprintf(v->why, sizeof(v->why),
			 "learned; arrives on a stacked device and waits for the other direction");
		return;
	case FP_CS_TEARDOWN:
		v->code = "teardown";
		snprintf(v->why, sizeof(v->why),
			 "FIN or RST seen: back on the slow path while the connection closes (the daemon asks conntrack, and learns it again if it is still ESTABLISHED)");
		return;
	}
	if (s != FP_CS_SLOW && !v->code) {
		v->code = "missing";
		snprintf(v->why, sizeof(v->why),
			 "the daemon put it in the table, but the entry is gone (removed behind its back?)");
		return;
	}
	hold_words(ci, v);
}

/* The pass reasons of both programs over @ms milliseconds, per second. */
static void sample_reasons(const struct fp_maps *m, int tc_fd, bool sample, double rate[FP_R_MAX])
{
	struct fp_counter a[FP_R_MAX], b[FP_R_MAX], ta[FP_R_MAX] = {}, tb[FP_R_MAX] = {};

	memset(rate, 0, sizeof(double) * FP_R_MAX);
	if (!sample)
		return;
	read_counters(m->stats, a);
	if (tc_fd >= 0)
		read_counters(tc_fd, ta);
	sleep(1);
	read_counters(m->stats, b);
	if (tc_fd >= 0)
		read_counters(tc_fd, tb);
	for (int r = 1; r < FP_R_MAX; r++)
		rate[r] = (double)(b[r].packets - a[r].packets) +
			  (double)(tb[r].packets - ta[r].packets);
}

static void json_tuple(struct json *j, const char *key, const struct fp_conn_tuple *t)
{
	char buf[64];

	json_obj_open(j, key);
	format_endpoint(t->family, t->saddr, t->sport, buf, sizeof(buf));
	json_str(j, "src", buf);
	format_endpoint(t->family, t->daddr, t->dport, buf, sizeof(buf));
	json_str(j, "dst", buf);
	json_end(j, '}');
}

static void show_conn(const struct fp_maps *m, const struct fp_conn_info *ci,
		      struct json *j)
{
	static const char *const dname[2] = { "original", "reply" };
	char src[64], dst[64], in[IF_NAMESIZE + 8], out[IF_NAMESIZE + 8];
	const struct fp_conn_tuple *t = &ci->tuple[0];
	struct dir_verdict v;

	if (j) {
		json_obj_open(j, NULL);
		json_u64(j, "id", ci->id);
		json_str(j, "proto", proto_name(t->proto));
		json_tuple(j, "original", &ci->tuple[0]);
		json_tuple(j, "reply", &ci->tuple[1]);
		json_u64(j, "mark", ci->mark);
		if (t->proto == IPPROTO_TCP)
			json_str(j, "tcp_state", ci->tcp_state < 10 ?
				 tcp_state_names[ci->tcp_state] : "?");
		if (ci->hold < FP_H_MAX)
			json_str(j, "hold", fp_hold_names[ci->hold]);
		else
			json_null(j, "hold");
		json_arr_open(j, "directions");
	} else {
		format_endpoint(t->family, t->saddr, t->sport, src, sizeof(src));
		format_endpoint(t->family, t->daddr, t->dport, dst, sizeof(dst));
		printf("conntrack %u: %s %s -> %s", ci->id, proto_name(t->proto), src, dst);
		format_endpoint(ci->tuple[1].family, ci->tuple[1].saddr, ci->tuple[1].sport,
				src, sizeof(src));
		format_endpoint(ci->tuple[1].family, ci->tuple[1].daddr, ci->tuple[1].dport,
				dst, sizeof(dst));
		printf(" (reply %s -> %s), mark %#x\n", src, dst, ci->mark);
	}
	for (int dir = 0; dir < 2; dir++) {
		verdict(m, ci, dir, &v);
		if (ci->iif[dir])
			ifname_or_index(ci->iif[dir], in);
		if (ci->oif[dir])
			ifname_or_index(ci->oif[dir], out);
		if (j) {
			json_obj_open(j, NULL);
			json_str(j, "direction", dname[dir]);
			json_bool(j, "offloaded", v.offloaded);
			if (v.tier)
				json_str(j, "tier", v.tier);
			else
				json_null(j, "tier");
			json_str(j, "state", state_name(ci->state[dir]));
			json_str(j, "reason", v.code);
			json_str(j, "explanation", v.why);
			if (ci->iif[dir])
				json_str(j, "in", in);
			if (ci->oif[dir])
				json_str(j, "out", out);
			if (v.offloaded) {
				json_u64(j, "pps", v.rate.pps);
				json_u64(j, "bps", v.rate.bps);
				json_u64(j, "packets", v.f.packets);
				json_num(j, "latency_us", ci->latency_ns[dir] / 1e3);
				json_u64(j, "learning_window_packets", ci->learn_packets[dir]);
			}
			json_end(j, '}');
			continue;
		}
		printf("  %-8s  %s", dname[dir], v.why);
		if (ci->iif[dir] && ci->oif[dir])
			printf(" (in %s, out %s)", in, out);
		if (v.offloaded)
			printf("; %llu pps, %.1f Mbit/s, %llu packets; in the table %.0f us after its first packet, %llu packets took the slow path first",
			       (unsigned long long)v.rate.pps, v.rate.bps / 1e6,
			       (unsigned long long)v.f.packets, ci->latency_ns[dir] / 1e3,
			       (unsigned long long)ci->learn_packets[dir]);
		printf("\n");
	}
	if (j) {
		json_end(j, ']');
		json_end(j, '}');
	}
}

static int parse_explain(int argc, char **argv, struct explain_args *a)
{
	struct opts go;
	int c;

	memset(a, 0, sizeof(*a));
	a->sample = true;
	if (opts_build(explain_opts, &go))
		return EXIT_FAIL;
	optind = 0;
	while ((c = getopt_long(argc, argv, go.shorts, go.lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_u32(optarg, 0xffffffffU, &a->id))
				return usage_error("explain", "invalid conntrack id '%s'", optarg);
			a->by_id = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'n':
			a->sample = false;
			break;
		case 'h':
			opts_help(stdout, explain_head, explain_opts);
			return EXIT_OK;
		default:
			return bad_option("explain", argv);
		}
	}
	a->nep = argc - optind;
	if (a->by_id && a->nep)
		return usage_error("explain", "give --id or endpoints, not both");
	if (!a->by_id && (a->nep < 1 || a->nep > 2))
		return usage_error("explain", "give ADDR[:PORT], two of them, or --id N");
	for (int i = 0; i < a->nep; i++) {
		struct endpoint *e = &a->ep[i];
		const char *s = argv[optind + i];

		/* ADDR:PORT or [ADDR6]:PORT first, then a bare address. */
		if (parse_endpoint(s, &e->family, e->addr, &e->port, true) &&
		    parse_addr(s, &e->family, e->addr))
			return usage_error("explain", "invalid endpoint '%s' (want ADDR, ADDR:PORT or [ADDR6]:PORT)",
					   s);
	}
	return -1;
}

int cmd_explain(int argc, char **argv)
{
	struct fp_daemon_stats ds = {};
	struct fp_conn_info ci;
	double rate[FP_R_MAX];
	__u32 key, next, zero = 0;
	struct explain_args a;
	struct fp_maps m;
	void *prev = NULL;
	int ret, n = 0, tc_fd;
	struct json j;

	ret = parse_explain(argc, argv, &a);
	if (ret >= 0)
		return ret;
	if (fp_open_pinned(&m)) {
		pr_warn("fastpath is not attached");
		return EXIT_FAIL;
	}
	if (m.conns < 0) {
		pr_warn("the pinned datapath predates explain: run 'fastpath detach' and attach again");
		fp_close(&m);
		return EXIT_FAIL;
	}
	bpf_map_lookup_elem(m.daemon, &zero, &ds);
	/* A daemon killed with -9 cannot clear its pid, nor its records. */
	if (ds.pid && kill(ds.pid, 0) && errno == ESRCH)
		ds.pid = 0;
	tc_fd = fp_map_by_pin("fp_tc_stats");
	sample_reasons(&m, tc_fd, a.sample, rate);

	if (a.json) {
		json_begin(&j, stdout, '{');
		json_bool(&j, "daemon_running", ds.pid);
		json_arr_open(&j, "connections");
	} else if (!ds.pid) {
		printf("the daemon is not running: nothing is offloaded for conntrack (what follows may be stale)\n");
	}
	while (!bpf_map_get_next_key(m.conns, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m.conns, &key, &ci) || !conn_match(&a, &ci))
			continue;
		show_conn(&m, &ci, a.json ? &j : NULL);
		n++;
	}
	if (a.json) {
		json_end(&j, ']');
		if (a.sample) {
			json_obj_open(&j, "pass_reasons_per_s");
			for (int r = 1; r < FP_R_MAX; r++)
				if (rate[r] > 0)
					json_num(&j, fp_reason_names[r], rate[r]);
			json_end(&j, '}');
		} else {
			json_null(&j, "pass_reasons_per_s");
		}
		json_end(&j, '}');
	} else {
		if (!n)
			printf("no connection matches (the daemon tracks %u)\n", ds.conns);
		if (a.sample) {
			int any = 0;

			printf("pass reasons now, all flows together (the datapath keeps none per flow):");
			for (int r = 1; r < FP_R_MAX; r++)
				if (rate[r] > 0)
					any = printf(" %s %.0f/s", fp_reason_names[r], rate[r]);
			printf(any ? "\n" : " none\n");
		}
	}
	if (tc_fd >= 0)
		close(tc_fd);
	fp_close(&m);
	return n ? EXIT_OK : EXIT_FAIL;
}
