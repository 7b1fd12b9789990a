// SPDX-License-Identifier: GPL-2.0-only
/*
 * tc.c - the TC tier: the forward program on TC ingress (tcx, or clsact
 * before Linux 6.6) of every attached device, next to the learner on
 * clsact egress (pins.c), and the XDP program's frags-aware load.
 *
 * The TC program ("tc" in the pin directory) forwards the entries in
 * FP_STATE_TC; on every other packet it returns TC_ACT_UNSPEC (go on),
 * so it sits on every attached device whatever tier its flows use.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/log.h"
#include "lib/rtnl.h"
#include "lib/tc.h"
#include "fastpath.skel.h"

#define PIN_TC		"tc"

/* Our ingress filter, told apart from others' on the same clsact hook. */
#define FP_TC_IN_HANDLE	0xfa58
#define FP_TC_IN_PRIO	0xfa58

/* The TC program's pin in @pin_dir (lib/pins.c's), given by the caller. */
static const char *tc_pin_path(const char *pin_dir, char buf[128])
{
	snprintf(buf, 128, "%s/%s", pin_dir, PIN_TC);
	return buf;
}

/*
 * Whether the kernel loads multi-buffer XDP programs (BPF_F_XDP_HAS_FRAGS,
 * 5.18): a two-instruction program is the whole probe.
 */
static bool xdp_frags_supported(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = BPF_F_XDP_HAS_FRAGS);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, NULL, "GPL", insns, 2, &o);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * Before the skeleton loads: native XDP on a device whose MTU is over a
 * page (veth with jumbo frames) needs a frags-aware program. Older kernels
 * refuse the flag, so it goes, and with it the multi-buffer counter.
 */
int fp_tier_prepare(struct fastpath_bpf *skel)
{
	struct bpf_program *prog = skel->progs.fastpath_xdp;

	if (xdp_frags_supported()) {
		skel->rodata->fp_xdp_frags = 1;
		return 0;
	}
	pr_debug("no multi-buffer XDP on this kernel: devices with an MTU over a page run generic XDP");
	return bpf_program__set_flags(prog, bpf_program__flags(prog) &
				      ~BPF_F_XDP_HAS_FRAGS);
}

/* After the load, next to the other programs' pins. */
int fp_tier_pin(struct fastpath_bpf *skel, const char *pin_dir)
{
	char path[128];
	int err;

	err = bpf_program__pin(skel->progs.fastpath_tc, tc_pin_path(pin_dir, path));
	if (err) {
		pr_warn("cannot pin %s: %s", path, strerror(-err));
		return err;
	}
	if (chmod(path, 0600)) {
		pr_warn("chmod %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

void fp_tier_unpin(const char *pin_dir)
{
	char path[128];

	if (unlink(tc_pin_path(pin_dir, path)) && errno != ENOENT)
		pr_warn("cannot remove %s: %s", path, strerror(errno));
}

/*
 * BPF_TCX_INGRESS of enum bpf_attach_type (Linux 6.6): the UAPI headers
 * Debian 12 builds with (6.1) do not have it, and libbpf 1.1 has no
 * tcx calls, so the generic attach, detach and query calls carry it.
 */
#define FP_TCX_INGRESS	((enum bpf_attach_type)46)

#define FP_TC_PROG_NAME	"fastpath_tc"

/*
 * The program ids on tcx ingress of @ifindex, at most @max: their count,
 * or -errno. A kernel without tcx (before 6.6) answers -EINVAL, which is
 * the probe for it.
 */
static int tcx_query(__u32 ifindex, __u32 *ids, __u32 max)
{
	__u32 cnt = max, flags = 0;

	if (bpf_prog_query(ifindex, FP_TCX_INGRESS, 0, &flags, ids, &cnt))
		return -errno;
	return cnt;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static bool prog_named(__u32 id, const char *name, int *fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	*fd = bpf_prog_get_fd_by_id(id);
	if (*fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(*fd, &info, &len) && !strcmp(info.name, name))
		return true;
	close(*fd);
	*fd = -1;
	return false;
}

/*
 * Takes every fastpath_tc but @keep_id off tcx ingress: a program loaded
 * before a detach and attach again (new pins) while its attachment
 * stayed, e.g. after a crash. Other programs there are not ours.
 */
static void tcx_detach_ours(__u32 ifindex, __u32 keep_id)
{
	__u32 ids[64];
	int n = tcx_query(ifindex, ids, 64), fd;

	for (int i = 0; i < n; i++) {
		if (ids[i] == keep_id || !prog_named(ids[i], FP_TC_PROG_NAME, &fd))
			continue;
		if (bpf_prog_detach2(fd, ifindex, FP_TCX_INGRESS))
			pr_debug("ifindex %u: cannot detach TC program %u from tcx: %s",
				 ifindex, ids[i], strerror(errno));
		close(fd);
	}
}

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWTFILTER && tcm->tcm_handle == FP_TC_IN_HANDLE &&
	    TC_H_MAJ(tcm->tcm_info) >> 16 == FP_TC_IN_PRIO)
		*(bool *)data = true;
	return MNL_CB_OK;
}

/*
 * Whether our filter is on @ifindex's clsact ingress, asked with a dump:
 * libbpf's own query prints the kernel's complaint about a device without
 * a clsact qdisc, the normal case on tcx, as a warning.
 */
static bool clsact_ours(__u32 ifindex)
{
	bool found = false;

	nl_ingress_filters(ifindex, filter_cb, &found);
	return found;
}

static void clsact_detach(__u32 ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FP_TC_IN_HANDLE,
		    .priority = FP_TC_IN_PRIO);

	if (clsact_ours(ifindex))
		bpf_tc_detach(&hook, &opts);
}

/*
 * @prog_fd as our filter (@handle, @prio) on clsact @where of @ifindex,
 * the qdisc created if need be; @what names the program in a warning.
 * The forward program's fallback from tcx and the egress learner.
 */
int fp_clsact_attach(__u32 ifindex, const char *ifname, enum bpf_tc_attach_point where,
		     __u32 handle, __u32 prio, int prog_fd, const char *what)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio,
		    .flags = BPF_TC_F_REPLACE, .prog_fd = prog_fd);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_warn("%s: cannot create the clsact qdisc: %s", ifname, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_warn("%s: cannot attach the %s: %s", ifname, what, strerror(-err));
	return err;
}

/*
 * The forward program on TC ingress of @ifindex: on tcx where the kernel
 * has it (6.6), else as a clsact filter. tcx runs the program straight
 * from the receive path, before any clsact filter and without the
 * classifier around it, which is a good part of the TC tier's own cost
 * per packet. It is attached without a link: like the filter, and like
 * XDP's netlink attachment, it stays when the daemon stops or crashes,
 * goes with the device, and is found again by the next attach or detach.
 * In both places the program passes with TC_ACT_UNSPEC, so whatever
 * comes after it (a clsact filter redirecting to an ifb, for SQM's
 * ingress shaping) still runs.
 *
 * Returns FP_TC_HOOK_TCX or FP_TC_HOOK_CLSACT, or -errno.
 */
int fp_tc_ingress_attach_fd(__u32 ifindex, const char *ifname, int prog_fd)
{
	__u32 id = prog_id(prog_fd), ids[64];
	int n, err;

	n = tcx_query(ifindex, ids, 64);
	if (n == -EINVAL) {
		pr_debug("%s: no tcx in this kernel, the TC program goes on clsact",
			 ifname);
		err = fp_clsact_attach(ifindex, ifname, BPF_TC_INGRESS, FP_TC_IN_HANDLE,
				       FP_TC_IN_PRIO, prog_fd, "TC ingress program");
		return err ?: FP_TC_HOOK_CLSACT;
	}
	/* An older version's filter would run the program a second time
	 * on everything tcx passes on.
	 */
	clsact_detach(ifindex);
	tcx_detach_ours(ifindex, id);
	for (int i = 0; i < n; i++) {
		if (ids[i] == id)
			return FP_TC_HOOK_TCX;	/* a re-attach, or a restart */
	}
	if (bpf_prog_attach(prog_fd, ifindex, FP_TCX_INGRESS, 0)) {
		err = -errno;
		pr_warn("%s: cannot attach the TC ingress program (tcx): %s",
			ifname, strerror(errno));
		return err;
	}
	return FP_TC_HOOK_TCX;
}

/*
 * State pinned by a version without the TC tier has no program: XDP keeps
 * working, so keep it running and say how to get the TC tier.
 */
int fp_tc_ingress_attach(__u32 ifindex, const char *ifname, const char *pin_dir)
{
	char path[128];
	int fd, err;

	fd = bpf_obj_get(tc_pin_path(pin_dir, path));
	if (fd < 0 && errno == ENOENT) {
		pr_warn("%s: the pinned datapath has no TC program; 'fastpath detach' and attach again for the TC tier",
			ifname);
		return 0;
	}
	if (fd < 0) {
		err = -errno;
		pr_warn("%s: cannot open %s: %s", ifname, path, strerror(errno));
		return err;
	}
	err = fp_tc_ingress_attach_fd(ifindex, ifname, fd);
	close(fd);
	return err < 0 ? err : 0;
}

/* Takes the program @prog_fd off @ifindex's ingress, where it was put. */
void fp_tc_ingress_detach_fd(__u32 ifindex, int prog_fd)
{
	if (bpf_prog_detach2(prog_fd, ifindex, FP_TCX_INGRESS))
		clsact_detach(ifindex);
}

/* Removes only our program; the clsact qdisc and tcx may serve others. */
void fp_tc_ingress_detach(__u32 ifindex)
{
	tcx_detach_ours(ifindex, 0);
	clsact_detach(ifindex);
}

/*
 * Where the TC program with id @prog_id sits on @ifindex's ingress:
 * "tcx", "clsact", or NULL when it is not there.
 */
const char *fp_tc_ingress_hook(__u32 ifindex, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FP_TC_IN_HANDLE,
		    .priority = FP_TC_IN_PRIO);
	__u32 ids[64];
	int n = tcx_query(ifindex, ids, 64);

	for (int i = 0; i < n; i++) {
		if (ids[i] == prog_id)
			return "tcx";
	}
	if (clsact_ours(ifindex) && !bpf_tc_query(&hook, &opts) &&
	    opts.prog_id == prog_id)
		return "clsact";
	return NULL;
}

/* The pinned TC program's id, 0 when there is none. */
__u32 fp_tc_pinned_id(const char *pin_dir)
{
	char path[128];
	int fd = bpf_obj_get(tc_pin_path(pin_dir, path));
	__u32 id;

	if (fd < 0)
		return 0;
	id = prog_id(fd);
	close(fd);
	return id;
}
