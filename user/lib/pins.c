// SPDX-License-Identifier: GPL-2.0-only
/*
 * pins.c - load or re-adopt the pinned datapath, attach it to devices.
 *
 * All state lives in bpffs under fp_pin_dir(): the program ("xdp") and the
 * maps, pinned by name. A second invocation, or a restarted daemon, finds
 * them there and works on the same table; "detach" with no device removes
 * everything.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/ethtool.h"
#include "lib/log.h"
#include "lib/pins.h"
#include "lib/tc.h"
#include "fastpath.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Pinned programs, by file name in the pin directory. */
#define PIN_PROG	"xdp"
#define PIN_LEARN	"learn"
#define PIN_CLOCK	"clock"

/* Our TC filter, told apart from others' on the same clsact hook. */
#define FP_TC_HANDLE	0xfa57
#define FP_TC_PRIO	0xfa57

static const char *const pinned_maps[] = { "flows", "tx_ports", "fp_stats",
					   "fp_config", "fp_learn", "fp_events",
					   "fp_rates", "fp_daemon", "fp_clock",
					   "fp_tc_stats", "fp_conns" };

/* OpenWrt and minimal systems may not mount bpffs; pins need it. */
static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && (__u32)st.f_type == BPF_FS_MAGIC)
		return 0;
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		pr_warn("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * The pin directory: FP_PIN_DIR, or $FASTPATH_PIN_DIR (under /sys/fs/bpf)
 * so that test labs, or several routers in namespaces of one host, keep
 * separate tables.
 */
const char *fp_pin_dir(void)
{
	static const char *dir;
	const char *env;

	if (dir)
		return dir;
	env = getenv("FASTPATH_PIN_DIR");
	if (env && !strncmp(env, "/sys/fs/bpf/", 12) && !strstr(env, "..") &&
	    strlen(env) < 96)
		dir = env;
	else
		dir = FP_PIN_DIR;
	return dir;
}

static const char *pin_path(const char *name)
{
	static char path[2][128];
	static int i;

	i ^= 1;
	snprintf(path[i], sizeof(path[i]), "%s/%s", fp_pin_dir(), name);
	return path[i];
}

static int map_fd_by_pin(const char *name)
{
	return bpf_obj_get(pin_path(name));
}

/* A pinned map by its name in the pin directory: an fd, or -1 (errno). */
int fp_map_by_pin(const char *name)
{
	return map_fd_by_pin(name);
}

#define FDS(m) { &(m)->prog, &(m)->learn_prog, &(m)->clock_prog, &(m)->flows, \
		 &(m)->tx_ports, &(m)->stats, &(m)->config, &(m)->learn, \
		 &(m)->events, &(m)->rates, &(m)->daemon, &(m)->clock, &(m)->conns }

static void maps_init(struct fp_maps *m)
{
	int *fds[] = FDS(m);

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		*fds[i] = -1;
}

void fp_close(struct fp_maps *m)
{
	int *fds[] = FDS(m);

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static bool pinned_map_name(const char *name)
{
	for (size_t i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++)
		if (!strcmp(name, pinned_maps[i]))
			return true;
	return false;
}

/* The maps "attach --max-flows" sizes: their max_entries may differ. */
static bool sized_by_capacity(const char *name)
{
	return !strcmp(name, "flows") || !strcmp(name, "fp_learn") ||
	       !strcmp(name, "fp_rates") || !strcmp(name, "fp_conns");
}

/*
 * Pins left by another build of fastpath (another layout of the maps)
 * must not be adopted: the kernel copies a map's own value size into the
 * caller's struct, so a larger value would overrun ours, and a smaller
 * one would be half written. Each map pinned here is compared with this
 * build's definition of it: type, key and value size, and the number of
 * entries of those the table's capacity does not size. -EPROTO, said in
 * one line, on a difference; a map not pinned is for the caller to judge.
 */
static int check_layout(bool detaching)
{
	struct fastpath_bpf *skel;
	struct bpf_map *map;
	int err = 0;

	skel = fastpath_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the BPF object: %s", strerror(errno));
		return err;
	}
	bpf_object__for_each_map(map, skel->obj) {
		const char *name = bpf_map__name(map), *what = NULL;
		struct bpf_map_info info = {};
		__u32 len = sizeof(info), have = 0, want = 0;
		int fd;

		if (!pinned_map_name(name))
			continue;
		fd = bpf_obj_get(pin_path(name));
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			what = "not a map";
		} else if (info.type != bpf_map__type(map)) {
			what = "map type";
			have = info.type, want = bpf_map__type(map);
		} else if (info.key_size != bpf_map__key_size(map)) {
			what = "key size";
			have = info.key_size, want = bpf_map__key_size(map);
		} else if (info.value_size != bpf_map__value_size(map)) {
			what = "value size";
			have = info.value_size, want = bpf_map__value_size(map);
		} else if (!sized_by_capacity(name) &&
			   info.max_entries != bpf_map__max_entries(map)) {
			what = "entries";
			have = info.max_entries, want = bpf_map__max_entries(map);
		}
		close(fd);
		if (what) {
			const char *next = detaching ? "removing it" :
				"run 'fastpath detach' to remove it";

			if (want)
				pr_warn("%s was pinned by another build of fastpath (%s: %s %u, this build's %u); %s",
					fp_pin_dir(), name, what, have, want, next);
			else
				pr_warn("%s was pinned by another build of fastpath (%s: %s); %s",
					fp_pin_dir(), name, what, next);
			err = -EPROTO;
			break;
		}
	}
	fastpath_bpf__destroy(skel);
	return err;
}

static int open_pinned(struct fp_maps *m, bool detaching);

/*
 * Returns -ENOENT when nothing is pinned ("not attached"); any other error
 * is said here, in one line.
 */
int fp_open_pinned(struct fp_maps *m)
{
	return open_pinned(m, false);
}

/*
 * For "detach": as fp_open_pinned(), and pins of another build (-EPROTO)
 * still give the program and the redirect map when the latter has our
 * layout (ifindex to ifindex), so that its devices can be let go of.
 */
int fp_open_pinned_detach(struct fp_maps *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err = open_pinned(m, true);

	if (err != -EPROTO)
		return err;
	m->prog = bpf_obj_get(pin_path(PIN_PROG));
	m->tx_ports = map_fd_by_pin("tx_ports");
	if (m->prog < 0 || m->tx_ports < 0 ||
	    bpf_obj_get_info_by_fd(m->tx_ports, &info, &len) ||
	    info.type != BPF_MAP_TYPE_DEVMAP_HASH || info.key_size != 4 ||
	    info.value_size != 4)
		fp_close(m);
	return err;
}

static int open_pinned(struct fp_maps *m, bool detaching)
{
	int err;

	maps_init(m);
	err = ensure_bpffs();
	if (err)
		return err;
	m->prog = bpf_obj_get(pin_path(PIN_PROG));
	if (m->prog < 0) {
		err = -errno;
		if (err != -ENOENT)
			pr_warn("cannot open %s: %s", pin_path(PIN_PROG), strerror(-err));
		return err;
	}
	err = check_layout(detaching);
	if (err) {
		fp_close(m);
		return err;
	}
	m->learn_prog = bpf_obj_get(pin_path(PIN_LEARN));
	/* Absent where the kernel refused it (fp_load_or_adopt()). */
	m->clock_prog = bpf_obj_get(pin_path(PIN_CLOCK));
	m->flows = map_fd_by_pin("flows");
	m->tx_ports = map_fd_by_pin("tx_ports");
	m->stats = map_fd_by_pin("fp_stats");
	m->config = map_fd_by_pin("fp_config");
	m->learn = map_fd_by_pin("fp_learn");
	m->events = map_fd_by_pin("fp_events");
	m->rates = map_fd_by_pin("fp_rates");
	m->daemon = map_fd_by_pin("fp_daemon");
	m->clock = map_fd_by_pin("fp_clock");
	/* Optional: "explain" only, and absent from an older pinned datapath. */
	m->conns = map_fd_by_pin("fp_conns");
	if (m->learn_prog < 0 || m->flows < 0 ||
	    m->tx_ports < 0 || m->stats < 0 || m->config < 0 || m->learn < 0 ||
	    m->events < 0 || m->rates < 0 || m->daemon < 0 || m->clock < 0) {
		err = -errno;
		pr_warn("pinned state in %s is incomplete; run 'fastpath detach' to reset it",
			fp_pin_dir());
		fp_close(m);
		return err;
	}
	return 0;
}

static int pin_private(const char *path)
{
	if (chmod(path, 0600)) {
		pr_warn("chmod %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int fp_load_or_adopt(struct fp_maps *m, __u32 capacity)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = fp_pin_dir());
	struct fastpath_bpf *skel;
	int err;

	err = fp_open_pinned(m);
	if (err != -ENOENT) {
		if (!err) {
			pr_debug("re-adopted pinned datapath in %s", fp_pin_dir());
			err = fp_clock_ensure(m);
		}
		return err;
	}

	/* Maps a broken attach of another build left, without its program:
	 * libbpf would reuse them by name, or fail with a bare EINVAL.
	 */
	err = check_layout(false);
	if (err)
		return err;
	if (mkdir(fp_pin_dir(), 0700) && errno != EEXIST) {
		pr_warn("cannot create %s: %s", fp_pin_dir(), strerror(errno));
		return -errno;
	}
	/*
	 * A kernel that cannot run the clock's timer callback (no JIT that
	 * takes BPF-to-BPF calls: mips32, Debian's s390x, 32-bit ARM; the
	 * interpreter refuses callbacks) refuses fastpath_clock with EINVAL.
	 * The datapath then reads the time per packet (clock_now()), so it
	 * is loaded again without the clock.
	 */
	for (int try = 0; try < 2; try++) {
		skel = fastpath_bpf__open_opts(&opts);
		if (!skel) {
			pr_warn("cannot open the BPF object: %s", strerror(errno));
			return -errno;
		}
		/* The learning and rate maps never hold more than the table. */
		err = bpf_map__set_max_entries(skel->maps.flows, capacity);
		if (!err)
			err = bpf_map__set_max_entries(skel->maps.fp_learn, FP_LEARN_SLOTS(capacity));
		if (!err)
			err = bpf_map__set_max_entries(skel->maps.fp_rates, capacity);
		if (!err)
			err = bpf_map__set_max_entries(skel->maps.fp_conns, capacity);
		if (!err && try)
			err = bpf_program__set_autoload(skel->progs.fastpath_clock, false);
		if (!err)
			err = fp_tier_prepare(skel);
		if (!err)
			err = fastpath_bpf__load(skel);
		if (err != -EINVAL || try)
			break;
		fastpath_bpf__destroy(skel);
		pr_info("load refused (EINVAL): again without the clock's timer, which some JITs cannot take");
	}
	if (err) {
		pr_warn("cannot load the XDP program: %s (run with -v for the verifier log)",
			strerror(-err));
		goto out;
	}
	err = bpf_program__pin(skel->progs.fastpath_xdp, pin_path(PIN_PROG));
	if (err) {
		pr_warn("cannot pin %s: %s", pin_path(PIN_PROG), strerror(-err));
		goto out;
	}
	err = bpf_program__pin(skel->progs.fastpath_learn, pin_path(PIN_LEARN));
	if (err) {
		pr_warn("cannot pin %s: %s", pin_path(PIN_LEARN), strerror(-err));
		goto out;
	}
	if (bpf_program__fd(skel->progs.fastpath_clock) >= 0) {
		err = bpf_program__pin(skel->progs.fastpath_clock, pin_path(PIN_CLOCK));
		if (err) {
			pr_warn("cannot pin %s: %s", pin_path(PIN_CLOCK), strerror(-err));
			goto out;
		}
		err = pin_private(pin_path(PIN_CLOCK));
	}
	err = err ?: fp_tier_pin(skel, fp_pin_dir());
	err = err ?: pin_private(pin_path(PIN_PROG)) ?: pin_private(pin_path(PIN_LEARN));
	for (size_t i = 0; !err && i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		err = pin_private(pin_path(pinned_maps[i]));
	}
	if (!err)
		err = fp_open_pinned(m);
	if (!err)
		err = fp_clock_ensure(m);
out:
	fastpath_bpf__destroy(skel);
	return err;
}

/*
 * The datapath's clock runs on a BPF timer (fastpath.h). It is started at
 * load and keeps going while the maps are pinned; this restarts it if it
 * is not ticking, since without it last_seen stands still and the lease
 * could never expire.
 */
int fp_clock_ensure(struct fp_maps *m)
{
	__u8 frame[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1);
	struct fp_clock c = {};
	__u32 zero = 0;
	__u64 now = mono_ns();
	int err;

	if (m->clock_prog < 0)	/* no timer here: the per-packet clock */
		return 0;
	if (!bpf_map_lookup_elem(m->clock, &zero, &c) && c.now &&
	    now - c.now < 3 * FP_CLOCK_PERIOD_NS)
		return 0;
	err = bpf_prog_test_run_opts(m->clock_prog, &run);
	if (err || run.retval != XDP_PASS) {
		pr_warn("cannot start the datapath clock (BPF timers need Linux 5.15): %s",
			err ? strerror(-err) : "the program failed");
		return err ?: -EINVAL;
	}
	return 0;
}

__u32 fp_prog_id(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return 0;
	return info.id;
}

__u32 fp_map_capacity(int map_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return 0;
	return info.max_entries;
}

/* "native", "generic", "offload", "other" (someone else's program) or NULL. */
const char *fp_attach_mode(__u32 ifindex, __u32 our_prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return NULL;
	if (q.drv_prog_id == our_prog_id)
		return "native";
	if (q.skb_prog_id == our_prog_id)
		return "generic";
	if (q.prog_id || q.drv_prog_id || q.skb_prog_id || q.hw_prog_id)
		return "other";
	return NULL;
}

static int xdp_attach(int prog_fd, __u32 ifindex, __u32 flags)
{
	/* Never replace somebody else's program. */
	return bpf_xdp_attach(ifindex, prog_fd, flags | XDP_FLAGS_UPDATE_IF_NOEXIST,
			      NULL);
}

int fp_attach(struct fp_maps *m, __u32 ifindex, const char *ifname,
	      enum fp_mode mode)
{
	__u32 id = fp_prog_id(m->prog);
	const char *cur = fp_attach_mode(ifindex, id);
	char done[64];
	int err;

	if (cur && strcmp(cur, "other")) {
		pr_debug("%s: already attached (%s)", ifname, cur);
	} else if (cur) {
		pr_warn("%s: another XDP program is attached; detach it first", ifname);
		return -EBUSY;
	} else {
		if (mode == FP_MODE_GENERIC) {
			err = xdp_attach(m->prog, ifindex, XDP_FLAGS_SKB_MODE);
		} else {
			err = xdp_attach(m->prog, ifindex, XDP_FLAGS_DRV_MODE);
			if (err && mode == FP_MODE_AUTO) {
				pr_warn("%s: native XDP failed (%s), falling back to generic mode",
					ifname, strerror(-err));
				err = xdp_attach(m->prog, ifindex, XDP_FLAGS_SKB_MODE);
			}
		}
		if (err) {
			pr_warn("failed to attach XDP to %s: %s", ifname, strerror(-err));
			return err;
		}
	}

	/* XDP cannot see a tag the device keeps in metadata (bpf/l2.h). */
	err = dev_rx_vlan_offload_off(ifname, done, sizeof(done));
	if (done[0])
		pr_info("%s: turned off %s, so that XDP sees VLAN tags", ifname, done);
	if (err == -EBUSY)
		pr_warn("%s: the driver keeps rx VLAN offload on; XDP cannot see its VLAN tags, so the daemon keys its input on the TC tier",
			ifname);
	else if (err && err != -EOPNOTSUPP)
		pr_debug("%s: cannot read or change VLAN offloads: %s", ifname,
			 strerror(-err));

	if (bpf_map_update_elem(m->tx_ports, &ifindex, &ifindex, BPF_ANY)) {
		err = -errno;
		pr_warn("%s: cannot add to the redirect map: %s", ifname, strerror(errno));
		return err;
	}
	return fp_tc_ingress_attach(ifindex, ifname, fp_pin_dir());
}

int fp_detach(struct fp_maps *m, __u32 ifindex, const char *ifname)
{
	__u32 id = fp_prog_id(m->prog);
	const char *cur = fp_attach_mode(ifindex, id);
	int err = 0;

	fp_tc_detach(ifindex);
	fp_tc_ingress_detach(ifindex);
	/* Leave the redirect map first, so no flow sends to it meanwhile. */
	if (bpf_map_delete_elem(m->tx_ports, &ifindex) && errno != ENOENT)
		pr_warn("%s: cannot remove from the redirect map: %s", ifname,
			strerror(errno));
	if (!cur || !strcmp(cur, "other")) {
		pr_debug("%s: fastpath is not attached", ifname);
		return cur ? 0 : -ENOENT;
	}

	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = m->prog);
	err = bpf_xdp_detach(ifindex,
			     (!strcmp(cur, "native") ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE) |
			     XDP_FLAGS_REPLACE, &o);
	if (err)
		pr_warn("failed to detach XDP from %s: %s", ifname, strerror(-err));
	return err;
}

/* The learning program goes on clsact egress, next to anybody else's. */
int fp_tc_attach(struct fp_maps *m, __u32 ifindex, const char *ifname)
{
	return fp_clsact_attach(ifindex, ifname, BPF_TC_EGRESS, FP_TC_HANDLE,
				FP_TC_PRIO, m->learn_prog, "TC egress learner");
}

/* Removes only our filter; the clsact qdisc may serve others. */
void fp_tc_detach(__u32 ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FP_TC_HANDLE,
		    .priority = FP_TC_PRIO);

	bpf_tc_detach(&hook, &opts);
}

int fp_unpin_all(void)
{
	int err = 0;

	if (unlink(pin_path(PIN_PROG)) && errno != ENOENT)
		err = -errno;
	if (unlink(pin_path(PIN_LEARN)) && errno != ENOENT)
		err = -errno;
	if (unlink(pin_path(PIN_CLOCK)) && errno != ENOENT)
		err = -errno;
	fp_tier_unpin(fp_pin_dir());
	for (size_t i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		if (unlink(pin_path(pinned_maps[i])) && errno != ENOENT)
			err = -errno;
	}
	if (rmdir(fp_pin_dir()) && errno != ENOENT) {
		pr_warn("cannot remove %s: %s", fp_pin_dir(), strerror(errno));
		err = -errno;
	}
	return err;
}

/* libbpf's warnings are demoted one level: the command reports the failure
 * itself in one line, and -v shows libbpf's detail (verifier log included).
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || !fp_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void fp_setup_libbpf_log(void)
{
	libbpf_set_print(libbpf_print);
}

int parse_mode(const char *s, enum fp_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = FP_MODE_AUTO;
	else if (!strcmp(s, "native"))
		*mode = FP_MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*mode = FP_MODE_GENERIC;
	else
		return -EINVAL;
	return 0;
}

int fp_flow_count(int flows_fd)
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
