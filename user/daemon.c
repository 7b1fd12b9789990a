// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon.c - "fastpath run": attach, mirror conntrack, learn, keep alive.
 *
 * One thread, one epoll loop over the conntrack event socket, rtnetlink,
 * nftables notifications, the learning ring buffer, a 1 s timer and the
 * termination signals. Every handler is non-blocking except the ctnetlink
 * updates (BE_LIBERAL, timeout refresh), which are one round trip each.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"

static const char run_usage[] =
	"Usage: fastpath run [OPTIONS] IFACE...\n"
	"\n"
	"Attach to each IFACE (or re-adopt the pinned state) and offload the\n"
	"connections conntrack reports established, learning each direction\n"
	"from its next packet the kernel forwards. Runs in the foreground and\n"
	"logs to stderr; SIGTERM or SIGINT stops it.\n"
	"\n"
	"  -p, --policy P         all (default): every TCP/UDP connection;\n"
	"                         mark:VALUE/MASK: those with ct mark & MASK == VALUE\n"
	"  -i, --idle-timeout S   remove a flow idle for S seconds (default 30)\n"
	"  -l, --lease S          datapath lease: if the daemon stops renewing it,\n"
	"                         every flow takes the slow path within S s (default 5)\n"
	"  -n, --max-flows N      offload at most N connections (default: table size / 2)\n"
	"      --no-sqm-guard     offload even through devices with a shaping qdisc\n"
	"      --keep-attached    on exit, leave XDP attached and the table pinned\n"
	"  -m, --mode M           XDP mode: auto, native or generic (as in attach)\n"
	"  -c, --capacity N       flow-table size when loading afresh (default 65536)\n"
	"      --no-hw            never offload to a PPE (kmod fastpath_ppe)\n"
	"      --hw-deadline S    a flow the PPE has not bound after S s goes back\n"
	"                         to XDP (default 10)\n"
	"  -h, --help             show this help\n";

static int parse_policy(const char *s, struct options *o)
{
	char *slash;

	if (!strcmp(s, "all")) {
		o->policy_all = true;
		return 0;
	}
	if (strncmp(s, "mark:", 5))
		return -EINVAL;
	slash = strchr(s + 5, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (parse_u32(s + 5, UINT32_MAX, &o->mark_value) ||
	    parse_u32(slash + 1, UINT32_MAX, &o->mark_mask) || !o->mark_mask ||
	    (o->mark_value & ~o->mark_mask))
		return -EINVAL;
	o->policy_all = false;
	return 0;
}

void daemon_latency(struct daemon *d, __u64 ns)
{
	d->lat[d->lat_n++ % LAT_SAMPLES] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void count_hold(struct daemon *d, struct conn *c)
{
	if (c->hold < FP_H_MAX)
		d->st.hold[c->hold]++;
}

static void publish(struct daemon *d, bool running)
{
	__u32 zero = 0, n = d->lat_n < LAT_SAMPLES ? d->lat_n : LAT_SAMPLES;
	static __u64 sorted[LAT_SAMPLES];

	memset(d->st.hold, 0, sizeof(d->st.hold));
	conn_foreach(count_hold, d);
	d->st.pid = running ? getpid() : 0;
	d->st.conns = conn_count();
	d->st.offloaded = d->offloaded;
	if (n) {
		memcpy(sorted, d->lat, n * sizeof(sorted[0]));
		qsort(sorted, n, sizeof(sorted[0]), cmp_u64);
		d->st.latency_p50_ns = sorted[n / 2];
		d->st.latency_p99_ns = sorted[(n * 99) / 100];
	}
	bpf_map_update_elem(d->m.daemon, &zero, &d->st, BPF_ANY);
}

static void renew_lease(struct daemon *d, bool off)
{
	struct fp_config cfg = {};
	__u32 zero = 0;

	if (!off) {
		cfg.lease_ns = (__u64)d->opt.lease_s * 1000000000ULL;
		cfg.lease_expires = mono_ns() + cfg.lease_ns;
	}
	bpf_map_update_elem(d->m.config, &zero, &cfg, BPF_ANY);
}

/* Entries the daemon made, and learning state, from an earlier run: they
 * are learned again, so each flow returns through the current ruleset.
 * Static entries ("flow add") stay.
 */
static void clear_learned(struct daemon *d)
{
	struct fp_flow_key k, next;
	struct fp_flow f;
	void *prev = NULL;

	while (!bpf_map_get_next_key(d->m.flows, prev, &next)) {
		k = next;
		if (!bpf_map_lookup_elem(d->m.flows, &k, &f) && !(f.flags & FP_F_STATIC)) {
			fp_flow_delete(d->m.flows, &k);
			prev = NULL;	/* restart: the key is gone */
		} else {
			prev = &k;
		}
	}
	prev = NULL;
	while (!bpf_map_get_next_key(d->learn_fd, NULL, &next))
		if (bpf_map_delete_elem(d->learn_fd, &next))
			break;
	while (!bpf_map_get_next_key(d->rates_fd, NULL, &next))
		if (bpf_map_delete_elem(d->rates_fd, &next))
			break;
}

static int on_learn(void *ctx, void *data, size_t len)
{
	if (len < sizeof(struct fp_learn_event))
		return 0;
	return learn_event(ctx, data);
}

static void flush_one(struct daemon *d, struct conn *c)
{
	if (c->dir[0].offloaded || c->dir[1].offloaded ||
	    c->dir[0].learned || c->dir[1].learned)
		conn_unoffload(d, c, true);
}

static void unhold_sqm(struct daemon *d, struct conn *c)
{
	if (c->hold == FP_H_SQM) {
		c->hold = FP_H_NOT_READY;
		conn_evaluate(d, c, false);
	}
}

static void tick_one(struct daemon *d, struct conn *c)
{
	conn_tick(d, c);
}

static int add_fd(int ep, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static bool has_port(const __u32 *ports, int n, __u32 ifindex)
{
	for (int i = 0; i < n; i++)
		if (ports[i] == ifindex)
			return true;
	return false;
}

/* XDP and the learner on one port, both or neither. */
static int attach_port(struct daemon *d, __u32 ifindex, const char *name)
{
	int err = fp_attach(&d->m, ifindex, name, d->opt.mode);

	if (!err) {
		err = fp_tc_attach(&d->m, ifindex, name);
		if (err)
			fp_detach(&d->m, ifindex, name);
	}
	return err;
}

/*
 * The ports under the command line's names, again, after a stacked device
 * changed: a port that joined a bridge given by name (hostapd adds Wi-Fi
 * interfaces after boot) is attached, one that left is detached and its
 * flows go back to the slow path. A name that does not resolve just now
 * (ppp0 while pppd redials) keeps every port attached.
 */
static void follow_ports(struct daemon *d)
{
	__u32 now[FP_MAX_PORTS], sub[FP_MAX_PORTS];
	char name[IF_NAMESIZE + 8];
	bool keep = false;
	int n = 0, nsub;

	for (int i = 0; i < d->nnames; i++) {
		/* The link table is current: on_link() fed it every change. */
		if (stack_resolve(&d->names[i], 1, sub, &nsub, FP_MAX_PORTS, NULL)) {
			keep = true;
			continue;
		}
		for (int j = 0; j < nsub; j++) {
			if (has_port(now, n, sub[j]))
				continue;
			if (n == FP_MAX_PORTS) {
				pr_warn("at most %d interfaces: %s not attached",
					FP_MAX_PORTS, ifname_or_index(sub[j], name));
				break;
			}
			if (!has_port(d->ports, d->nports, sub[j])) {
				ifname_or_index(sub[j], name);
				if (attach_port(d, sub[j], name)) {
					pr_warn("%s: new port under %s not attached; its flows stay on the slow path",
						name, d->names[i]);
					continue;
				}
				events_watch(sub[j], name);
				pr_info("%s: new port under %s: attached", name, d->names[i]);
			}
			now[n++] = sub[j];
		}
	}
	for (int i = 0; i < d->nports; i++) {
		if (has_port(now, n, d->ports[i]))
			continue;
		if (keep) {
			if (n < FP_MAX_PORTS)
				now[n++] = d->ports[i];
			continue;
		}
		/* A device that is gone left the devmap with it. */
		if (if_indextoname(d->ports[i], name)) {
			fp_detach(&d->m, d->ports[i], name);
			pr_info("%s: no longer under the interfaces given: detached", name);
		}
		events_unwatch(d->ports[i]);
		teardown_dev(d, d->ports[i]);
	}
	memcpy(d->ports, now, n * sizeof(now[0]));
	d->nports = n;
}

enum { T_CT, T_RTNL, T_NFT, T_RING, T_TIMER, T_SIGNAL };

static int run_loop(struct daemon *d, struct ring_buffer *rb)
{
	struct itimerspec its = { .it_interval.tv_sec = 1, .it_value.tv_sec = 1 };
	struct epoll_event evs[8];
	sigset_t mask;
	int ep, tfd, sfd, ret = 0;
	bool stop = false;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || ep < 0 || timerfd_settime(tfd, 0, &its, NULL)) {
		pr_warn("cannot set up the event loop: %s", strerror(errno));
		ret = -errno;
		goto out;
	}
	if (add_fd(ep, ct_event_fd(), T_CT) || add_fd(ep, events_rtnl_fd(), T_RTNL) ||
	    add_fd(ep, events_nft_fd(), T_NFT) ||
	    add_fd(ep, ring_buffer__epoll_fd(rb), T_RING) ||
	    add_fd(ep, tfd, T_TIMER) || add_fd(ep, sfd, T_SIGNAL)) {
		pr_warn("cannot set up the event loop: %s", strerror(errno));
		ret = -errno;
		goto out;
	}

	while (!stop) {
		int n = epoll_wait(ep, evs, 8, 1000);

		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			__u64 ticks;
			struct signalfd_siginfo si;

			switch (evs[i].data.u32) {
			case T_CT:
				if (ct_read_events(d))
					stop = true;
				break;
			case T_RTNL:
				events_read_rtnl(d);
				break;
			case T_NFT:
				events_read_nft(d);
				break;
			case T_RING:
				ring_buffer__consume(rb);
				break;
			case T_TIMER:
				if (read(tfd, &ticks, sizeof(ticks)) < 0)
					break;
				fp_clock_ensure(&d->m);
				renew_lease(d, false);
				ppe_poll(d);
				conn_foreach(tick_one, d);
				publish(d, true);
				break;
			case T_SIGNAL:
				if (read(sfd, &si, sizeof(si)) == sizeof(si))
					pr_info("signal %u: stopping", si.ssi_signo);
				stop = true;
				break;
			}
		}
		if (d->resync_needed) {
			pr_info("conntrack events were lost: resynchronising");
			ct_dump(d);
			/* The burst that overran the socket may still be going
			 * on while the dump ran; look again once it is over.
			 */
			d->resync_again_ns = mono_ns() + 2000000000ULL;
		} else if (d->resync_again_ns && mono_ns() > d->resync_again_ns) {
			d->resync_again_ns = 0;
			ct_dump(d);
		}
		if (d->sqm_changed) {
			d->sqm_changed = false;
			conn_foreach(unhold_sqm, d);
		}
		if (d->ports_changed) {
			d->ports_changed = false;
			follow_ports(d);
		}
		if (d->flush_needed) {
			d->flush_needed = false;
			pr_debug("firewall or routing changed: relearning every flow");
			conn_foreach(flush_one, d);
		}
	}
out:
	if (ep >= 0)
		close(ep);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	return ret;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "lease", required_argument, NULL, 'l' },
		{ "max-flows", required_argument, NULL, 'n' },
		{ "no-sqm-guard", no_argument, NULL, 'S' },
		{ "keep-attached", no_argument, NULL, 'k' },
		{ "mode", required_argument, NULL, 'm' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "no-hw", no_argument, NULL, 'H' },
		{ "hw-deadline", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static struct daemon dm;
	struct daemon *d = &dm;
	struct ring_buffer *rb = NULL;
	char name[IF_NAMESIZE + 8];
	int c, n, ret = EXIT_FAIL;
	bool max_given = false;

	memset(d, 0, sizeof(*d));
	d->opt = (struct options){
		.policy_all = true, .idle_timeout_s = 30, .lease_s = 5,
		.sqm_guard = true, .mode = FP_MODE_AUTO,
		.capacity = FP_DEFAULT_CAPACITY, .hw_deadline_s = 10,
	};
	optind = 0;
	while ((c = getopt_long(argc, argv, "p:i:l:n:m:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_policy(optarg, &d->opt))
				return usage_error("run", "policy must be 'all' or 'mark:VALUE/MASK', not '%s'",
						   optarg);
			break;
		case 'i':
			if (parse_u32(optarg, 86400 * 7, &d->opt.idle_timeout_s) ||
			    !d->opt.idle_timeout_s)
				return usage_error("run", "invalid idle timeout '%s'", optarg);
			break;
		case 'l':
			if (parse_u32(optarg, 3600, &d->opt.lease_s) || d->opt.lease_s < 2)
				return usage_error("run", "invalid lease '%s' (2..3600 seconds)",
						   optarg);
			break;
		case 'n':
			if (parse_u32(optarg, 1U << 25, &d->opt.max_flows) || !d->opt.max_flows)
				return usage_error("run", "invalid --max-flows '%s'", optarg);
			max_given = true;
			break;
		case 'S':
			d->opt.sqm_guard = false;
			break;
		case 'k':
			d->opt.keep_attached = true;
			break;
		case 'm':
			if (parse_mode(optarg, &d->opt.mode))
				return usage_error("run", "mode must be auto, native or generic, not '%s'",
						   optarg);
			break;
		case 'c':
			if (parse_u32(optarg, 1U << 26, &d->opt.capacity) || d->opt.capacity < 2)
				return usage_error("run", "invalid capacity '%s'", optarg);
			break;
		case 'H':
			d->opt.no_hw = true;
			break;
		case 'D':
			if (parse_u32(optarg, 3600, &d->opt.hw_deadline_s) ||
			    !d->opt.hw_deadline_s)
				return usage_error("run", "invalid --hw-deadline '%s'", optarg);
			break;
		case 'h':
			fputs(run_usage, stdout);
			return EXIT_OK;
		default:
			return bad_option("run", argv);
		}
	}
	n = argc - optind;
	if (n < 1)
		return usage_error("run", "give at least one interface");
	if (n > FP_MAX_PORTS)
		return usage_error("run", "at most %d interfaces", FP_MAX_PORTS);
	/* Stacked names (eth0.7, ppp0, br-lan) become the ports under them. */
	d->names = argv + optind;
	d->nnames = n;
	if (stack_ports(d->names, n, d->ports, &d->nports, FP_MAX_PORTS, "attaching to"))
		return EXIT_FAIL;

	if (fp_load_or_adopt(&d->m, d->opt.capacity))
		return EXIT_FAIL;
	d->learn_fd = d->m.learn;
	d->rates_fd = d->m.rates;
	if (!max_given)
		d->opt.max_flows = fp_map_capacity(d->m.flows) / 2;
	if (d->opt.max_flows * 2 > fp_map_capacity(d->m.flows)) {
		pr_warn("--max-flows %u needs %u table entries; the table has %u",
			d->opt.max_flows, d->opt.max_flows * 2, fp_map_capacity(d->m.flows));
		goto out_close;
	}
	for (int i = 0; i < d->nports; i++) {
		ifname_or_index(d->ports[i], name);
		if (attach_port(d, d->ports[i], name))
			goto out_detach;
	}
	clear_learned(d);
	renew_lease(d, false);

	if (conns_init(d->opt.max_flows * 4 > 1024 ? d->opt.max_flows * 4 : 1024)) {
		pr_warn("out of memory");
		goto out_detach;
	}
	rb = ring_buffer__new(d->m.events, on_learn, d, NULL);
	if (!rb) {
		pr_warn("cannot open the learning ring: %s", strerror(errno));
		goto out_conns;
	}
	if (events_open(d) || ct_open(d))
		goto out_events;
	for (int i = 0; i < d->nports; i++)
		events_watch(d->ports[i], ifname_or_index(d->ports[i], name));
	ppe_start(d, d->ports, d->nports);
	if (ct_dump(d))
		goto out_events;
	d->st.resyncs = 0;
	publish(d, true);
	pr_info("running on %d interface(s): policy %s, lease %us, idle timeout %us, max %u flows%s",
		d->nports, d->opt.policy_all ? "all" : "mark", d->opt.lease_s,
		d->opt.idle_timeout_s, d->opt.max_flows,
		d->opt.sqm_guard ? "" : ", no SQM guard");

	ret = run_loop(d, rb) ? EXIT_FAIL : EXIT_OK;

	conn_foreach(flush_one, d);
	ppe_stop(d);
	publish(d, false);
out_events:
	ppe_stop(d);
	ct_close();
	events_close();
	ring_buffer__free(rb);
out_conns:
	conns_free();
out_detach:
	if (d->opt.keep_attached && ret == EXIT_OK) {
		pr_info("leaving the fast path attached (--keep-attached)");
		goto out_close;
	}
	for (int i = 0; i < d->nports; i++)
		fp_detach(&d->m, d->ports[i], ifname_or_index(d->ports[i], name));
	fp_close(&d->m);
	if (fp_open_pinned(&d->m) == 0) {
		__u32 k;

		/* Remove the pins only when no other device still uses them. */
		if (bpf_map_get_next_key(d->m.tx_ports, NULL, &k)) {
			fp_close(&d->m);
			fp_unpin_all();
			return ret;
		}
	}
out_close:
	fp_close(&d->m);
	return ret;
}
