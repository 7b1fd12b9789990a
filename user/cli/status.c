// SPDX-License-Identifier: GPL-2.0-only
/*
 * status.c - "fastpath status": gathers one struct, then prints it as text
 * or as JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/devtier.h"
#include "lib/args.h"
#include "lib/fmt.h"
#include "lib/genl.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/pins.h"
#include "lib/tc.h"
#include "cli/cli.h"

static const char status_usage[] =
	"Usage: fastpath status [--json | --prometheus]\n"
	"\n"
	"Show the attached interfaces and their XDP mode, the flow table's\n"
	"entries and capacity, flows per tier, packets per verdict and per pass\n"
	"reason, the daemon's counters and offload latency, and the lease.\n"
	"\n"
	"  -j, --json        print a JSON object\n"
	"  -p, --prometheus  print the Prometheus text exposition format (for\n"
	"                    node-exporter's textfile collector)\n"
	"  -h, --help        show this help\n";

int read_counters(int fd, struct fp_counter *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fp_counter *percpu;

	if (ncpu <= 0)
		return -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (__u32 r = 0; r < FP_R_MAX; r++) {
		out[r] = (struct fp_counter){};
		if (bpf_map_lookup_elem(fd, &r, percpu))
			continue;
		for (int c = 0; c < ncpu; c++) {
			out[r].packets += percpu[c].packets;
			out[r].bytes += percpu[c].bytes;
		}
	}
	free(percpu);
	return 0;
}

static const char *lease_state(const struct fp_config *cfg, __u64 now,
			       double *left)
{
	*left = 0;
	if (!cfg->lease_expires)
		return "off";
	*left = ((double)cfg->lease_expires - (double)now) / 1e9;
	return cfg->lease_expires >= now ? "valid" : "expired";
}

static const char *const hw_mode_names[] = {
	[FP_HWM_OFF] = "off", [FP_HWM_NO_KMOD] = "no_kmod", [FP_HWM_ON] = "on",
};

/* The daemon writes conntrack's counters through the module it uses. */
static const char *ct_acct_state(__u8 hw_mode)
{
	if (hw_mode == FP_HWM_ON)
		return "on";
	return hw_mode == FP_HWM_OFF ? "off (--no-hw)" : "off (module not loaded)";
}

/*
 * The software tier of a device (docs/DESIGN.md, "Tiers"): "slow" when
 * its input goes to an ifb, "tc" when its input needs the skb or its
 * egress shapes, else NULL (XDP). The daemon decides the same per
 * direction; --tier and --no-sqm-guard are not known here.
 */
static const char *sw_tier(__u32 ifindex, char *why, size_t len)
{
	char need_why[96], qdisc[16];
	enum ingress_need n = dev_ingress_need(ifindex, need_why, sizeof(need_why));

	if (n == IN_IFB) {
		snprintf(why, len, "%s (hold sqm_ingress)", need_why);
		return "slow";
	}
	/* Both reasons when both hold: flows leaving through a shaped egress
	 * stay on TC whatever the input of their ingress device.
	 */
	if (!dev_root_qdisc(ifindex, qdisc, sizeof(qdisc)) && qdisc_kind_shapes(qdisc)) {
		if (n != IN_ANY)
			snprintf(why, len, "input: %s; egress shaped by %s (flows leaving here)",
				 need_why, qdisc);
		else
			snprintf(why, len, "egress shaped by %s (flows leaving here)", qdisc);
		return "tc";
	}
	if (n != IN_ANY) {
		snprintf(why, len, "input: %s", need_why);
		return "tc";
	}
	return NULL;
}

/*
 * A device's tier: "hw" when the daemon offloads to the PPE behind it,
 * else "slow" or "tc" (sw_tier()), else "xdp", with the reason in @why.
 */
static const char *device_tier(__u32 ifindex, int ppe_err,
			       const struct fp_daemon_stats *ds, char *why,
			       size_t len)
{
	struct ppe_dev pd = {};
	int err = ppe_err;
	const char *sw;
	char swhy[160];

	sw = sw_tier(ifindex, swhy, sizeof(swhy));
	if (!err)
		err = ppe_dev_get(ifindex, true, &pd);
	ppe_dev_reason(err, &pd, why, len);
	if (sw && (err || pd.bind == FP_BIND_NONE || sw[0] == 's' || strstr(swhy, "shaped"))) {
		snprintf(why, len, "%s", swhy);
		return sw;
	}
	if (err || pd.bind == FP_BIND_NONE)
		return "xdp";
	if (!ds->pid) {
		snprintf(why, len, "PPE-capable (%s), but only \"fastpath run\" offloads to it",
			 pd.driver);
		return "xdp";
	}
	if (ds->hw_mode == FP_HWM_OFF) {
		snprintf(why, len, "PPE-capable (%s), but the daemon runs with --no-hw",
			 pd.driver);
		return "xdp";
	}
	return "hw";
}

/* Everything "status" shows, gathered once; text and JSON render it. */
struct status_iface {
	char name[IF_NAMESIZE + 8];
	__u32 ifindex;
	const char *mode;	/* the XDP attachment */
	const char *tc_hook;	/* the TC program's: tcx, clsact or none */
	const char *tier;
	char why[160];
};

struct status {
	__u32 prog_id;
	__u32 tc_prog_id;
	struct status_iface ifs[FP_MAX_PORTS];
	int nifs;
	int entries;
	__u32 capacity;
	struct fp_counter cnt[FP_R_MAX];
	struct fp_counter tc_cnt[FP_R_MAX];
	bool have_tc;
	__u64 tier[FP_STATE_MAX];	/* flow-table entries per fp_flow_state */
	__u64 pass_pkts;
	__u64 tc_pass_pkts;
	struct fp_config cfg;
	const char *lease;
	double left;
	struct fp_daemon_stats ds;
};

static void gather_ifaces(struct status *st, const struct fp_maps *m, int ppe_err)
{
	__u32 key, next, *prev = NULL;

	while (!bpf_map_get_next_key(m->tx_ports, prev, &next) && st->nifs < FP_MAX_PORTS) {
		struct status_iface *si = &st->ifs[st->nifs++];
		const char *mode = fp_attach_mode(next, st->prog_id);

		key = next;
		prev = &key;
		si->ifindex = key;
		ifname_or_index(key, si->name);
		if (!mode)
			mode = "detached";
		else if (!strcmp(mode, "other"))
			mode = "replaced";
		si->mode = mode;
		si->tc_hook = fp_tc_ingress_hook(key, st->tc_prog_id) ?: "none";
		si->tier = device_tier(key, ppe_err, &st->ds, si->why, sizeof(si->why));
	}
}

static void count_tiers(struct status *st, int flows)
{
	struct fp_flow_key k, next;
	void *prev = NULL;
	struct fp_flow f;

	while (!bpf_map_get_next_key(flows, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(flows, &k, &f) && f.state < FP_STATE_MAX)
			st->tier[f.state]++;
	}
}

static void gather(struct status *st, const struct fp_maps *m)
{
	__u32 zero = 0;
	int ppe_err, tc_fd;

	memset(st, 0, sizeof(*st));
	st->prog_id = fp_prog_id(m->prog);
	st->tc_prog_id = fp_tc_pinned_id(fp_pin_dir());
	st->entries = fp_flow_count(m->flows);
	st->capacity = fp_map_capacity(m->flows);
	read_counters(m->stats, st->cnt);
	tc_fd = fp_map_by_pin("fp_tc_stats");
	if (tc_fd >= 0) {
		st->have_tc = !read_counters(tc_fd, st->tc_cnt);
		close(tc_fd);
		for (int r = 1; r < FP_R_MAX; r++)
			st->tc_pass_pkts += st->tc_cnt[r].packets;
	}
	count_tiers(st, m->flows);
	bpf_map_lookup_elem(m->config, &zero, &st->cfg);
	bpf_map_lookup_elem(m->daemon, &zero, &st->ds);
	/* A daemon killed with -9 cannot clear its pid. */
	if (st->ds.pid && kill(st->ds.pid, 0) && errno == ESRCH)
		st->ds.pid = 0;
	st->lease = lease_state(&st->cfg, mono_ns(), &st->left);
	for (int r = 1; r < FP_R_MAX; r++)
		st->pass_pkts += st->cnt[r].packets;
	ppe_err = ppe_open();
	gather_ifaces(st, m, ppe_err);
	ppe_close();
}

static const char *hw_mode_name(__u32 mode)
{
	return mode < sizeof(hw_mode_names) / sizeof(hw_mode_names[0]) ?
	       hw_mode_names[mode] : "?";
}

static void json_daemon(struct json *j, const struct fp_daemon_stats *ds)
{
	json_obj_open(j, "daemon");
	json_bool(j, "running", ds->pid);
	json_u64(j, "pid", ds->pid);
	json_u64(j, "connections", ds->conns);
	json_u64(j, "candidates", ds->hold[FP_H_LEARNING]);
	json_u64(j, "offloaded", ds->offloaded);
	json_u64(j, "learned", ds->learned);
	json_u64(j, "torn_down", ds->torn_down);
	json_u64(j, "ct_events", ds->ct_events);
	json_u64(j, "events_lost", ds->events_lost);
	json_u64(j, "resyncs", ds->resyncs);
	json_u64(j, "refreshes", ds->refreshes);
	json_u64(j, "table_full", ds->table_full);
	json_u64(j, "learn_full", ds->learn_full);
	json_u64(j, "not_learned", ds->not_learned);
	json_u64(j, "teardown_rechecks", ds->rechecks);
	json_u64(j, "teardown_relearned", ds->recheck_relearned);
	json_num(j, "latency_p50_us", ds->latency_p50_ns / 1e3);
	json_num(j, "latency_p99_us", ds->latency_p99_ns / 1e3);
	json_u64(j, "learning_window_packets", ds->learn_packets);
	json_num(j, "learning_window_packets_avg",
		 ds->learned ? (double)ds->learn_packets / ds->learned : 0);
	json_obj_open(j, "hw");
	json_str(j, "mode", hw_mode_name(ds->hw_mode));
	json_u64(j, "bound", ds->hw_dirs);
	json_u64(j, "pending", ds->hw_pending);
	json_u64(j, "offered", ds->hw_offered);
	json_u64(j, "fallbacks", ds->hw_fallbacks);
	json_end(j, '}');
	json_u64(j, "tc_directions", ds->tc_dirs);
	json_str(j, "ct_accounting", ct_acct_state(ds->hw_mode));
	json_obj_open(j, "slow_path");
	for (int h = 0; h < FP_H_MAX; h++)
		json_u64(j, fp_hold_names[h], ds->hold[h]);
	json_end(j, '}');
	json_end(j, '}');
}

static void render_json(const struct status *st)
{
	struct json j;

	json_begin(&j, stdout, '{');
	json_bool(&j, "attached", true);
	json_u64(&j, "prog_id", st->prog_id);
	json_u64(&j, "tc_prog_id", st->tc_prog_id);
	json_arr_open(&j, "interfaces");
	for (int i = 0; i < st->nifs; i++) {
		json_obj_open(&j, NULL);
		json_str(&j, "name", st->ifs[i].name);
		json_u64(&j, "ifindex", st->ifs[i].ifindex);
		json_str(&j, "mode", st->ifs[i].mode);
		json_str(&j, "tc_hook", st->ifs[i].tc_hook);
		json_str(&j, "tier", st->ifs[i].tier);
		json_str(&j, "tier_reason", st->ifs[i].why);
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_u64(&j, "entries", st->entries);
	json_u64(&j, "capacity", st->capacity);
	json_obj_open(&j, "flows_by_tier");
	for (int s = 0; s < FP_STATE_MAX; s++)
		json_u64(&j, fp_state_names[s], st->tier[s]);
	json_end(&j, '}');
	json_obj_open(&j, "verdicts");
	json_u64(&j, "redirect", st->cnt[FP_R_REDIRECT].packets);
	json_u64(&j, "pass", st->pass_pkts);
	json_end(&j, '}');
	json_obj_open(&j, "pass_reasons");
	for (int r = 1; r < FP_R_MAX; r++)
		json_u64(&j, fp_reason_names[r], st->cnt[r].packets);
	json_end(&j, '}');
	if (st->have_tc) {
		json_obj_open(&j, "tc");
		json_obj_open(&j, "verdicts");
		json_u64(&j, "redirect", st->tc_cnt[FP_R_REDIRECT].packets);
		json_u64(&j, "pass", st->tc_pass_pkts);
		json_end(&j, '}');
		json_obj_open(&j, "pass_reasons");
		for (int r = 1; r < FP_R_MAX; r++)
			json_u64(&j, fp_reason_names[r], st->tc_cnt[r].packets);
		json_end(&j, '}');
		json_end(&j, '}');
	}
	json_obj_open(&j, "lease");
	json_str(&j, "state", st->lease);
	json_num(&j, "remaining_s", st->left);
	json_num(&j, "length_s", st->cfg.lease_ns / 1e9);
	json_end(&j, '}');
	json_daemon(&j, &st->ds);
	json_end(&j, '}');
}

static void text_daemon(const struct fp_daemon_stats *ds)
{
	if (!ds->pid) {
		printf("daemon:     not running\n");
		return;
	}
	printf("daemon:     pid %u, %u connections, %llu candidates, %llu directions offloaded (%llu on TC)\n",
	       ds->pid, ds->conns, (unsigned long long)ds->hold[FP_H_LEARNING],
	       (unsigned long long)ds->offloaded, (unsigned long long)ds->tc_dirs);
	printf("            learned %llu, torn down %llu, conntrack events %llu (lost %llu, resyncs %llu), refreshes %llu\n",
	       (unsigned long long)ds->learned, (unsigned long long)ds->torn_down,
	       (unsigned long long)ds->ct_events, (unsigned long long)ds->events_lost,
	       (unsigned long long)ds->resyncs, (unsigned long long)ds->refreshes);
	printf("            candidates refused by a full learning map %llu, not learned within 10 s %llu\n",
	       (unsigned long long)ds->learn_full, (unsigned long long)ds->not_learned);
	printf("            FIN/RST teardowns asked of conntrack %llu, still ESTABLISHED and learned again %llu\n",
	       (unsigned long long)ds->rechecks, (unsigned long long)ds->recheck_relearned);
	printf("            offload latency p50 %.0f us, p99 %.0f us (first packet after ESTABLISHED -> entry)\n",
	       ds->latency_p50_ns / 1e3, ds->latency_p99_ns / 1e3);
	printf("            learning window: %.1f slow-path packets per learned direction (%llu in all)\n",
	       ds->learned ? (double)ds->learn_packets / ds->learned : 0.0,
	       (unsigned long long)ds->learn_packets);
	if (ds->hw_mode == FP_HWM_ON)
		printf("hardware:   %u directions bound in the PPE, %u pending; offered %llu, back to XDP %llu\n",
		       ds->hw_dirs, ds->hw_pending, (unsigned long long)ds->hw_offered,
		       (unsigned long long)ds->hw_fallbacks);
	else
		printf("hardware:   %s\n", ds->hw_mode == FP_HWM_OFF ?
		       "off (--no-hw)" : "fastpath.ko is not loaded");
	printf("conntrack accounting: %s\n", ct_acct_state(ds->hw_mode));
	printf("slow path:  ");
	for (int h = 0; h < FP_H_MAX; h++)
		if (h != FP_H_LEARNING && ds->hold[h])
			printf(" %s %llu", fp_hold_names[h], (unsigned long long)ds->hold[h]);
	printf(" (connections kept off the fast path, by reason)\n");
}

static void render_text(const struct status *st)
{
	printf("program:    id %u, pinned in %s\n", st->prog_id, fp_pin_dir());
	printf("interfaces:");
	for (int i = 0; i < st->nifs; i++)
		printf("\n  %-10s tier %s: %s; xdp %s, tc %s", st->ifs[i].name,
		       st->ifs[i].tier, st->ifs[i].why, st->ifs[i].mode,
		       st->ifs[i].tc_hook);
	printf("\nflows:      %d of %u:", st->entries, st->capacity);
	for (int s = 0; s < FP_STATE_MAX; s++)
		printf(" %s %llu", fp_state_names[s], (unsigned long long)st->tier[s]);
	printf("\n");
	printf("verdicts:   redirect %llu pkts %llu bytes, pass %llu pkts\n",
	       (unsigned long long)st->cnt[FP_R_REDIRECT].packets,
	       (unsigned long long)st->cnt[FP_R_REDIRECT].bytes,
	       (unsigned long long)st->pass_pkts);
	printf("pass reasons:");
	for (int r = 1; r < FP_R_MAX; r++)
		if (st->cnt[r].packets)
			printf(" %s %llu", fp_reason_names[r],
			       (unsigned long long)st->cnt[r].packets);
	printf(st->pass_pkts ? "\n" : " none\n");
	if (st->have_tc) {
		printf("tc:         redirect %llu pkts %llu bytes, pass %llu pkts;",
		       (unsigned long long)st->tc_cnt[FP_R_REDIRECT].packets,
		       (unsigned long long)st->tc_cnt[FP_R_REDIRECT].bytes,
		       (unsigned long long)st->tc_pass_pkts);
		for (int r = 1; r < FP_R_MAX; r++)
			if (st->tc_cnt[r].packets)
				printf(" %s %llu", fp_reason_names[r],
				       (unsigned long long)st->tc_cnt[r].packets);
		printf("\n");
	}
	if (!strcmp(st->lease, "off"))
		printf("lease:      off (no daemon)\n");
	else
		printf("lease:      %s, %.1fs %s\n", st->lease,
		       st->left < 0 ? -st->left : st->left, st->left < 0 ? "ago" : "left");
	text_daemon(&st->ds);
}

/*
 * The Prometheus text exposition format, version 0.0.4: "# HELP" and
 * "# TYPE" before each family, counters end in _total, times in seconds.
 */
static void prom_head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_u64(const char *name, const char *labels, unsigned long long v)
{
	printf("%s%s %llu\n", name, labels, v);
}

static void prom_one(const char *name, const char *type, const char *help,
		     unsigned long long v)
{
	prom_head(name, type, help);
	prom_u64(name, "", v);
}

static void prom_reasons(const char *prog, const struct fp_counter *cnt)
{
	char l[96];

	for (int r = 1; r < FP_R_MAX; r++) {
		snprintf(l, sizeof(l), "{program=\"%s\",reason=\"%s\"}", prog,
			 fp_reason_names[r]);
		prom_u64("fastpath_pass_packets_total", l, cnt[r].packets);
	}
}

static void render_prometheus(const struct status *st)
{
	const struct fp_daemon_stats *ds = &st->ds;
	char l[96];

	prom_one("fastpath_attached", "gauge", "1 while the datapath is loaded.", 1);
	prom_head("fastpath_packets_total", "counter",
		  "Packets per datapath verdict: redirect is the fast path, pass the slow path.");
	prom_u64("fastpath_packets_total", "{program=\"xdp\",verdict=\"redirect\"}",
		 st->cnt[FP_R_REDIRECT].packets);
	prom_u64("fastpath_packets_total", "{program=\"xdp\",verdict=\"pass\"}", st->pass_pkts);
	if (st->have_tc) {
		__u64 pass = 0;

		for (int r = 1; r < FP_R_MAX; r++)
			pass += st->tc_cnt[r].packets;
		prom_u64("fastpath_packets_total", "{program=\"tc\",verdict=\"redirect\"}",
			 st->tc_cnt[FP_R_REDIRECT].packets);
		prom_u64("fastpath_packets_total", "{program=\"tc\",verdict=\"pass\"}", pass);
	}
	prom_head("fastpath_redirect_bytes_total", "counter",
		  "Bytes forwarded on the fast path (L3).");
	prom_u64("fastpath_redirect_bytes_total", "{program=\"xdp\"}",
		 st->cnt[FP_R_REDIRECT].bytes);
	if (st->have_tc)
		prom_u64("fastpath_redirect_bytes_total", "{program=\"tc\"}",
			 st->tc_cnt[FP_R_REDIRECT].bytes);
	prom_head("fastpath_pass_packets_total", "counter",
		  "Packets passed to the slow path, per reason.");
	prom_reasons("xdp", st->cnt);
	if (st->have_tc)
		prom_reasons("tc", st->tc_cnt);
	prom_head("fastpath_flows", "gauge", "Flow-table entries (directions) per tier.");
	for (int s = 0; s < FP_STATE_MAX; s++) {
		snprintf(l, sizeof(l), "{tier=\"%s\"}", fp_state_names[s]);
		prom_u64("fastpath_flows", l, st->tier[s]);
	}
	prom_one("fastpath_flow_capacity", "gauge", "Flow-table capacity (directions).",
		 st->capacity);
	prom_one("fastpath_daemon_up", "gauge", "1 while the daemon runs.", !!ds->pid);
	prom_one("fastpath_daemon_connections", "gauge", "Connections the daemon tracks.",
		 ds->conns);
	prom_one("fastpath_daemon_offloaded_directions", "gauge",
		 "Directions the daemon has in the table.", ds->offloaded);
	prom_head("fastpath_daemon_slow_connections", "gauge",
		  "Connections kept on the slow path, per reason (learning: candidates).");
	for (int h = 0; h < FP_H_MAX; h++) {
		snprintf(l, sizeof(l), "{reason=\"%s\"}", fp_hold_names[h]);
		prom_u64("fastpath_daemon_slow_connections", l, ds->hold[h]);
	}
	prom_one("fastpath_daemon_ct_events_total", "counter", "Conntrack events handled.",
		 ds->ct_events);
	prom_one("fastpath_daemon_events_lost_total", "counter",
		 "Conntrack event losses (ENOBUFS).", ds->events_lost);
	prom_one("fastpath_daemon_resyncs_total", "counter",
		 "Full conntrack dumps after a loss or change.", ds->resyncs);
	prom_one("fastpath_daemon_learned_total", "counter", "Directions learned and offloaded.",
		 ds->learned);
	prom_one("fastpath_daemon_torn_down_total", "counter",
		 "Connections taken off the fast path.", ds->torn_down);
	prom_one("fastpath_daemon_refreshes_total", "counter",
		 "Conntrack timeouts refreshed for offloaded connections.", ds->refreshes);
	prom_one("fastpath_daemon_learning_window_packets_total", "counter",
		 "Slow-path packets of learned directions before their entry.", ds->learn_packets);
	prom_one("fastpath_daemon_table_full_total", "counter",
		 "Offloads refused for --max-flows.", ds->table_full);
	prom_one("fastpath_daemon_learn_full_total", "counter",
		 "Candidates refused by a full learning map.", ds->learn_full);
	prom_one("fastpath_daemon_not_learned_total", "counter",
		 "Candidates not learned within 10 s (back to the slow path until a retry).",
		 ds->not_learned);
	prom_one("fastpath_daemon_teardown_rechecks_total", "counter",
		 "FIN/RST teardowns whose conntrack entry the daemon asked about.", ds->rechecks);
	prom_one("fastpath_daemon_teardown_relearned_total", "counter",
		 "... that conntrack still had ESTABLISHED (a forged or stale RST): learned again.",
		 ds->recheck_relearned);
	prom_head("fastpath_offload_latency_seconds", "gauge",
		  "Offload latency, from a direction's first packet after ESTABLISHED to its entry, recent samples.");
	printf("fastpath_offload_latency_seconds{quantile=\"0.5\"} %.9f\n", ds->latency_p50_ns / 1e9);
	printf("fastpath_offload_latency_seconds{quantile=\"0.99\"} %.9f\n", ds->latency_p99_ns / 1e9);
}

static int status_args(int argc, char **argv, int *fmt)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	*fmt = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "jph", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
		case 'p':
			if (*fmt && *fmt != c)
				return usage_error("status", "give --json or --prometheus, not both");
			*fmt = c;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return EXIT_OK;
		default:
			return bad_option("status", argv);
		}
	}
	if (optind < argc)
		return usage_error("status", "unexpected argument '%s'", argv[optind]);
	return -1;
}

int cmd_status(int argc, char **argv)
{
	struct status *st;
	struct fp_maps m;
	int ret, fmt;

	ret = status_args(argc, argv, &fmt);
	if (ret >= 0)
		return ret;
	ret = fp_open_pinned(&m);
	if (ret && ret != -ENOENT)
		return EXIT_FAIL;	/* said: another build's pins, unreadable */
	if (ret) {
		if (fmt == 'j')
			printf("{\"attached\":false}\n");
		else if (fmt == 'p')
			prom_one("fastpath_attached", "gauge", "1 while the datapath is loaded.", 0);
		else
			printf("fastpath is not attached\n");
		return EXIT_OK;
	}
	st = malloc(sizeof(*st));
	if (!st) {
		fp_close(&m);
		return EXIT_FAIL;
	}
	gather(st, &m);
	if (fmt == 'j')
		render_json(st);
	else if (fmt == 'p')
		render_prometheus(st);
	else
		render_text(st);
	free(st);
	fp_close(&m);
	return EXIT_OK;
}
