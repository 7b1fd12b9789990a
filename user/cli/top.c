// SPDX-License-Identifier: GPL-2.0-only
/*
 * top.c - "fastpath top": a live view of the flow table, refreshed every
 * second: the flows sorted by rate with their tier, totals per tier, and
 * the pass reasons per second.
 *
 * Flow rates are the daemon's (fp_rates, measured once a second); static
 * flows, which the daemon does not measure, show none. Pass reasons are
 * the deltas of the datapath's per-CPU counters between two frames, XDP
 * and TC programs together: --once samples them one second apart.
 * Plain ANSI control, no curses: the terminal goes raw only so that a
 * single 'q' quits, and is restored on every way out.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <bpf/bpf.h>

#include "lib/args.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/pins.h"
#include "cli/cli.h"

static const char top_head[] =
	"Usage: fastpath top [--once] [--limit N]\n"
	"\n"
	"A live view, refreshed every second: flows sorted by rate (the daemon's\n"
	"measure), each flow's tier (xdp, tc, hw, hw_pending, teardown), totals\n"
	"per tier, and packets per second per pass reason (XDP and TC programs\n"
	"together). Press q to quit.\n"
	"\n";

static const struct opt_spec top_opts[] = {
	{ '1', "once", NULL, "print one frame and exit (pass reasons sampled over 1 s)" },
	{ 'n', "limit", "N", "show at most N flows (default: what fits the terminal;\n"
			     "with --once, 50)" },
	{ 'h', "help", NULL, "show this help" },
	{}
};

struct top_flow {
	struct fp_flow_key k;
	__u32 oif;
	__u8 state;
	struct fp_rate r;
};

struct top_frame {
	struct top_flow *flows;
	size_t n, cap;
	struct fp_counter xdp[FP_R_MAX], tc[FP_R_MAX];
	__u64 at;
};

static volatile sig_atomic_t top_stop;
static struct termios saved_tty;
static bool tty_raw;

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

static void tty_restore(void)
{
	if (tty_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
		tty_raw = false;
	}
}

/* Keys without Enter, no echo; output processing stays as it was. */
static void tty_make_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty))
		return;
	t = saved_tty;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (!tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		tty_raw = true;
}

static int cmp_rate(const void *a, const void *b)
{
	const struct top_flow *x = a, *y = b;

	if (x->r.bps != y->r.bps)
		return x->r.bps < y->r.bps ? 1 : -1;
	return x->r.pps < y->r.pps ? 1 : x->r.pps > y->r.pps ? -1 : 0;
}

static int gather(const struct fp_maps *m, int tc_fd, struct top_frame *fr)
{
	struct fp_flow_key k, next;
	void *prev = NULL;
	struct fp_flow f;

	fr->n = 0;
	while (!bpf_map_get_next_key(m->flows, prev, &next)) {
		struct top_flow *t;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(m->flows, &k, &f))
			continue;	/* deleted meanwhile */
		if (fr->n == fr->cap) {
			size_t cap = fr->cap ? 2 * fr->cap : 256;
			void *p = realloc(fr->flows, cap * sizeof(*fr->flows));

			if (!p)
				return -ENOMEM;
			fr->flows = p;
			fr->cap = cap;
		}
		t = &fr->flows[fr->n++];
		t->k = k;
		t->oif = f.oif;
		t->state = f.state;
		if (bpf_map_lookup_elem(m->rates, &k, &t->r))
			t->r = (struct fp_rate){};
	}
	qsort(fr->flows, fr->n, sizeof(*fr->flows), cmp_rate);
	read_counters(m->stats, fr->xdp);
	if (tc_fd >= 0)
		read_counters(tc_fd, fr->tc);
	fr->at = mono_ns();
	return 0;
}

static void print_frame(const struct top_frame *prev, const struct top_frame *fr,
			size_t limit, bool clear)
{
	struct { __u64 n, pps, bps; } tier[FP_STATE_MAX] = {};
	double secs = (fr->at - prev->at) / 1e9;
	char in[IF_NAMESIZE + 8], out[IF_NAMESIZE + 8], src[64], dst[64];
	int any = 0;

	if (secs <= 0)
		secs = 1;
	for (size_t i = 0; i < fr->n; i++) {
		const struct top_flow *t = &fr->flows[i];

		if (t->state >= FP_STATE_MAX)
			continue;
		tier[t->state].n++;
		tier[t->state].pps += t->r.pps;
		tier[t->state].bps += t->r.bps;
	}
	if (clear)
		printf("\033[H\033[2J");
	printf("fastpath top - %zu flow directions; q quits\n", fr->n);
	printf("tiers:");
	for (int s = 0; s < FP_STATE_MAX; s++)
		printf("  %s %llu (%llu pps, %.1f Mbit/s)", fp_state_names[s],
		       (unsigned long long)tier[s].n, (unsigned long long)tier[s].pps,
		       tier[s].bps / 1e6);
	printf("\npass/s:");
	for (int r = 1; r < FP_R_MAX; r++) {
		__u64 d = fr->xdp[r].packets - prev->xdp[r].packets +
			  fr->tc[r].packets - prev->tc[r].packets;

		if (d)
			any = printf("  %s %.0f", fp_reason_names[r], d / secs);
	}
	printf("%s\nredirect/s: xdp %.0f, tc %.0f\n\n", any ? "" : "  none",
	       (fr->xdp[0].packets - prev->xdp[0].packets) / secs,
	       (fr->tc[0].packets - prev->tc[0].packets) / secs);
	printf("%-10s %-4s %-45s %-45s %-10s %-10s %10s %12s\n", "IN", "PROTO", "SOURCE",
	       "DESTINATION", "OUT", "TIER", "PPS", "MBIT/S");
	for (size_t i = 0; i < fr->n && i < limit; i++) {
		const struct top_flow *t = &fr->flows[i];

		format_endpoint(t->k.family, t->k.saddr, t->k.sport, src, sizeof(src));
		format_endpoint(t->k.family, t->k.daddr, t->k.dport, dst, sizeof(dst));
		printf("%-10s %-4s %-45s %-45s %-10s %-10s %10llu %12.2f\n",
		       ifname_or_index(t->k.ifindex, in), proto_name(t->k.proto), src, dst,
		       ifname_or_index(t->oif, out),
		       t->state < FP_STATE_MAX ? fp_state_names[t->state] : "?",
		       (unsigned long long)t->r.pps, t->r.bps / 1e6);
	}
	if (fr->n > limit)
		printf("... %zu more\n", fr->n - limit);
	fflush(stdout);
}

/* Rows for flows: the terminal's height less the header, at least 5. */
static size_t fit_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || ws.ws_row < 12)
		return 5;
	return ws.ws_row - 7;
}

/* Waits up to a second for a key: 1 for 'q', else 0. */
static int wait_key(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char c;

	if (poll(&p, 1, 1000) <= 0)
		return 0;
	if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
		return 1;
	/* EOF on a redirected stdin: just keep the pace */
	if (!tty_raw)
		usleep(1000 * 1000);
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_frame fr[2] = {};
	struct sigaction sa = { .sa_handler = on_signal };
	__u32 limit = 0;
	bool once = false;
	struct fp_maps m;
	int c, cur = 0, tc_fd, ret = EXIT_OK;
	struct opts go;

	if (opts_build(top_opts, &go))
		return EXIT_FAIL;
	optind = 0;
	while ((c = getopt_long(argc, argv, go.shorts, go.lo, NULL)) != -1) {
		switch (c) {
		case '1':
			once = true;
			break;
		case 'n':
			if (parse_u32(optarg, 1U << 26, &limit) || !limit)
				return usage_error("top", "invalid limit '%s'", optarg);
			break;
		case 'h':
			opts_help(stdout, top_head, top_opts);
			return EXIT_OK;
		default:
			return bad_option("top", argv);
		}
	}
	if (optind < argc)
		return usage_error("top", "unexpected argument '%s'", argv[optind]);
	ret = fp_open_pinned(&m);
	if (ret) {
		if (ret == -ENOENT)
			pr_warn("fastpath is not attached");
		return EXIT_FAIL;
	}
	tc_fd = fp_map_by_pin("fp_tc_stats");
	if (gather(&m, tc_fd, &fr[0]))
		goto fail;
	if (once) {
		sleep(1);
		if (gather(&m, tc_fd, &fr[1]))
			goto fail;
		print_frame(&fr[0], &fr[1], limit ? limit : 50, false);
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	tty_make_raw();
	while (!top_stop) {
		if (wait_key())
			break;
		if (top_stop)
			break;
		if (gather(&m, tc_fd, &fr[!cur]))
			goto fail;
		cur = !cur;
		print_frame(&fr[!cur], &fr[cur], limit ? limit : fit_rows(), true);
	}
	tty_restore();
	goto out;
fail:
	tty_restore();
	pr_warn("out of memory");
	ret = EXIT_FAIL;
out:
	free(fr[0].flows);
	free(fr[1].flows);
	if (tc_fd >= 0)
		close(tc_fd);
	fp_close(&m);
	return ret;
}
