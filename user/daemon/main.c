// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - "fastpath run": options, setup and teardown of the daemon
 * (docs/DESIGN.md, "Architecture"); loop.c runs it in between.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "lib/args.h"
#include "lib/flowtab.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "daemon/run.h"

static const char run_head[] =
	"Usage: fastpath run [OPTIONS] IFACE...\n"
	"\n"
	"Attach to each IFACE (or re-adopt the pinned state) and offload the\n"
	"connections conntrack reports established, learning each direction\n"
	"from its next packet the kernel forwards. Runs in the foreground and\n"
	"logs to stderr; SIGTERM or SIGINT stops it.\n"
	"\n";

enum { O_NO_SQM = 256, O_KEEP, O_NO_HW, O_HW_DEADLINE, O_TIER };

static const struct opt_spec run_opts[] = {
	{ 'p', "policy", "P", "all (default): every TCP/UDP connection;\n"
			      "mark:VALUE/MASK: those with ct mark & MASK == VALUE" },
	{ 'i', "idle-timeout", "S", "remove a flow idle for S seconds (default 30)" },
	{ 'l', "lease", "S", "datapath lease: if the daemon stops renewing it,\n"
			     "every flow takes the slow path within S s (default 5)" },
	{ 'n', "max-flows", "N", "offload at most N connections (default: table size / 2)" },
	{ O_NO_SQM, "no-sqm-guard", NULL, "ignore shapers: a shaped egress or an ifb ingress\n"
					 "does not steer flows to TC or keep them slow" },
	{ O_TIER, "tier", "T", "auto (default): per direction, TC for a shaped egress,\n"
			       "a CHECKSUM_PARTIAL or generic-XDP ingress, else XDP\n"
			       "(or the PPE); xdp or tc: force it (for testing)" },
	{ O_KEEP, "keep-attached", NULL, "on exit, leave XDP attached and the table pinned" },
	{ 'm', "mode", "M", "XDP mode: auto, native or generic (as in attach)" },
	{ 'c', "capacity", "N", "flow-table size when loading afresh (default 65536)" },
	{ O_NO_HW, "no-hw", NULL, "never offload to a PPE (module fastpath.ko)" },
	{ O_HW_DEADLINE, "hw-deadline", "S", "a flow the PPE has not bound after S s goes back\n"
					     "to XDP (default 10)" },
	{ 'h', "help", NULL, "show this help" },
	{}
};

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

/* The pid "fastpath status" shows for the daemon on these pins, or 0. */
static __u32 pinned_daemon_pid(void)
{
	struct fp_daemon_stats st = {};
	int fd = fp_map_by_pin("fp_daemon");
	__u32 zero = 0;

	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &zero, &st))
		st.pid = 0;
	close(fd);
	return st.pid;
}

/*
 * One daemon per pin directory: a second one would clear the first one's
 * entries (clear_learned()), arm the learner twice and fight over the
 * lease. The lock is an flock on the pin directory itself (bpffs holds
 * no regular files), taken before anything is loaded or attached, and
 * held until exit; the kernel drops it when the daemon dies, however it
 * dies. Returns the locked fd, or -1 after a one-line error.
 */
static int lock_pins(void)
{
	const char *dir = fp_pin_dir();
	__u32 pid;
	int fd;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		pr_warn("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		pr_warn("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	if (errno == EWOULDBLOCK) {
		pid = pinned_daemon_pid();
		if (pid)
			pr_warn("another fastpath daemon (pid %u) already runs on %s", pid, dir);
		else
			pr_warn("another fastpath daemon already runs on %s", dir);
	} else {
		pr_warn("cannot lock %s: %s", dir, strerror(errno));
	}
	close(fd);
	return -1;
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
	while (!bpf_map_get_next_key(d->m.rates, NULL, &next))
		if (bpf_map_delete_elem(d->m.rates, &next))
			break;
}

/* One option into @o: 0, or the exit status after its error line. */
static int run_option(int c, struct options *o, bool *max_given, char **argv)
{
	switch (c) {
	case 'p':
		if (parse_policy(optarg, o))
			return usage_error("run", "policy must be 'all' or 'mark:VALUE/MASK', not '%s'",
					   optarg);
		return 0;
	case 'i':
		if (parse_u32(optarg, 86400 * 7, &o->idle_timeout_s) || !o->idle_timeout_s)
			return usage_error("run", "invalid idle timeout '%s'", optarg);
		return 0;
	case 'l':
		if (parse_u32(optarg, 3600, &o->lease_s) || o->lease_s < 2)
			return usage_error("run", "invalid lease '%s' (2..3600 seconds)", optarg);
		return 0;
	case 'n':
		if (parse_u32(optarg, 1U << 25, &o->max_flows) || !o->max_flows)
			return usage_error("run", "invalid --max-flows '%s'", optarg);
		*max_given = true;
		return 0;
	case O_NO_SQM:
		o->sqm_guard = false;
		return 0;
	case O_KEEP:
		o->keep_attached = true;
		return 0;
	case 'm':
		if (parse_mode(optarg, &o->mode))
			return usage_error("run", "mode must be auto, native or generic, not '%s'",
					   optarg);
		return 0;
	case 'c':
		if (parse_u32(optarg, 1U << 26, &o->capacity) || o->capacity < 2)
			return usage_error("run", "invalid capacity '%s'", optarg);
		return 0;
	case O_NO_HW:
		o->no_hw = true;
		return 0;
	case O_TIER:
		if (!strcmp(optarg, "auto"))
			o->tier = TIER_AUTO;
		else if (!strcmp(optarg, "xdp"))
			o->tier = TIER_XDP;
		else if (!strcmp(optarg, "tc"))
			o->tier = TIER_TC;
		else
			return usage_error("run", "invalid --tier '%s' (auto, xdp or tc)", optarg);
		return 0;
	case O_HW_DEADLINE:
		if (parse_u32(optarg, 3600, &o->hw_deadline_s) || !o->hw_deadline_s)
			return usage_error("run", "invalid --hw-deadline '%s'", optarg);
		return 0;
	case 'h':
		opts_help(stdout, run_head, run_opts);
		return -1;
	}
	return bad_option("run", argv);
}

/* Options and interface names: -1 to go on, or the exit status. */
static int run_args(int argc, char **argv, struct daemon *d, bool *max_given)
{
	struct opts go;
	int c, ret, n;

	d->opt = (struct options){
		.policy_all = true, .idle_timeout_s = 30, .lease_s = 5,
		.sqm_guard = true, .mode = FP_MODE_AUTO,
		.capacity = FP_DEFAULT_CAPACITY, .hw_deadline_s = 10,
	};
	if (opts_build(run_opts, &go))
		return EXIT_FAIL;
	optind = 0;
	while ((c = getopt_long(argc, argv, go.shorts, go.lo, NULL)) != -1) {
		ret = run_option(c, &d->opt, max_given, argv);
		if (ret)
			return ret < 0 ? EXIT_OK : ret;
	}
	n = argc - optind;
	if (n < 1)
		return usage_error("run", "give at least one interface");
	if (n > FP_MAX_PORTS)
		return usage_error("run", "at most %d interfaces", FP_MAX_PORTS);
	d->names = argv + optind;
	d->nnames = n;
	return -1;
}

/* The table, attached ports, caches and subscriptions, in that order. */
static int daemon_setup(struct daemon *d, bool max_given)
{
	char name[IF_NAMESIZE + 8];
	__u64 key[2];
	__u32 cap;

	cap = fp_map_capacity(d->m.flows);
	if (!max_given)
		d->opt.max_flows = cap / 2;
	if (d->opt.max_flows * 2 > cap) {
		pr_warn("--max-flows %u needs %u table entries; the table has %u",
			d->opt.max_flows, d->opt.max_flows * 2, cap);
		return -EINVAL;
	}
	d->attach_tried = true;
	for (int i = 0; i < d->nports; i++) {
		ifname_or_index(d->ports[i], name);
		if (attach_port(d, d->ports[i], name))
			return -ENODEV;
		links_watch(&d->links, d->ports[i], name, true);
	}
	clear_learned(d);
	if (ops_learn_open(d))
		return -EIO;
	d->ops->renew_lease(d, (__u64)d->opt.lease_s * 1000000000ULL,
			    mono_ns() + (__u64)d->opt.lease_s * 1000000000ULL);
	/* The connection table's hash is keyed per run (conntab.c). */
	if (getrandom(key, sizeof(key), 0) != sizeof(key)) {
		key[0] = mono_ns();
		key[1] = (__u64)getpid() << 32 ^ key[0];
	}
	if (conntab_init(&d->conns, d->opt.max_flows * 4 > 1024 ? d->opt.max_flows * 4 : 1024,
			 key)) {
		pr_warn("out of memory");
		return -ENOMEM;
	}
	if (netmon_open(d) || ct_open(d))
		return -EIO;
	hwtier_start(d);
	if (ct_dump(d))
		return -EIO;
	d->st.resyncs = 0;
	publish(d, true);
	pr_info("running on %d interface(s): policy %s, lease %us, idle timeout %us, max %u flows, tier %s%s",
		d->nports, d->opt.policy_all ? "all" : "mark", d->opt.lease_s,
		d->opt.idle_timeout_s, d->opt.max_flows,
		d->opt.tier == TIER_XDP ? "xdp" : d->opt.tier == TIER_TC ? "tc" : "auto",
		d->opt.sqm_guard ? "" : ", no SQM guard");
	return 0;
}

/* Detaches (unless --keep-attached after a clean run) and unpins what no
 * other device still uses.
 */
static void daemon_detach(struct daemon *d, int ret)
{
	char name[IF_NAMESIZE + 8];
	__u32 k;

	if (!d->attach_tried || (d->opt.keep_attached && ret == EXIT_OK)) {
		if (d->attach_tried)
			pr_info("leaving the fast path attached (--keep-attached)");
		fp_close(&d->m);
		return;
	}
	for (int i = 0; i < d->nports; i++)
		fp_detach(&d->m, d->ports[i], ifname_or_index(d->ports[i], name));
	fp_close(&d->m);
	if (fp_open_pinned(&d->m) == 0) {
		/* Remove the pins only when no other device still uses them. */
		if (bpf_map_get_next_key(d->m.tx_ports, NULL, &k)) {
			fp_close(&d->m);
			fp_unpin_all();
			return;
		}
	}
	fp_close(&d->m);
}

static void daemon_teardown(struct daemon *d, int ret, bool ran)
{
	if (ran) {
		fsm_stop(d);
		ops_export_flush(d);
		hwtier_stop(d);
		publish(d, false);
	}
	hwtier_stop(d);
	ct_close(d);
	netmon_close(d);
	conntab_free(&d->conns);
	ops_learn_close(d);
	daemon_detach(d, ret);
	links_free(&d->links);
}

int cmd_run(int argc, char **argv)
{
	struct daemon *d = calloc(1, sizeof(*d));
	bool max_given = false, ran;
	int ret, lock = -1;

	if (!d)
		return EXIT_FAIL;
	d->ops = &daemon_ops;
	ret = run_args(argc, argv, d, &max_given);
	if (ret >= 0)
		goto out;
	ret = EXIT_FAIL;
	/* Stacked names (eth0.7, ppp0, br-lan) become the ports under them. */
	if (links_load(&d->links)) {
		pr_warn("cannot read the interfaces: %s", strerror(errno));
		goto out;
	}
	if (links_resolve(&d->links, d->names, d->nnames, d->ports, &d->nports,
			  FP_MAX_PORTS, "attaching to")) {
		links_free(&d->links);
		goto out;
	}
	lock = lock_pins();
	if (lock < 0 || fp_load_or_adopt(&d->m, d->opt.capacity)) {
		links_free(&d->links);
		goto out;
	}
	ran = !daemon_setup(d, max_given);
	if (ran)
		ret = run_loop(d) ? EXIT_FAIL : EXIT_OK;
	daemon_teardown(d, ret, ran);
out:
	/* After the teardown: the next daemon finds the pins settled. */
	if (lock >= 0)
		close(lock);
	free(d);
	return ret;
}
