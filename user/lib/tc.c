// SPDX-License-Identifier: GPL-2.0-only
/*
 * tc.c - the TC tier: the forward program on clsact ingress of every
 * attached device, next to the learner on clsact egress (attach.c), and
 * the XDP program's frags-aware load.
 *
 * The TC program ("tc" in the pin directory) forwards the entries in
 * FP_STATE_TC; on every other packet it returns TC_ACT_OK, so it sits on
 * every attached device whatever tier its flows use.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/log.h"
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
 * The forward program goes on clsact ingress, next to anybody else's.
 * Replacing our own filter makes a re-attach, or a restarted daemon,
 * install the pinned program again.
 */
int fp_tc_ingress_attach(__u32 ifindex, const char *ifname, const char *pin_dir)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FP_TC_IN_HANDLE,
		    .priority = FP_TC_IN_PRIO, .flags = BPF_TC_F_REPLACE);
	char path[128];
	int fd, err;

	/*
	 * State pinned by a version without the TC tier: XDP keeps working,
	 * so keep it running and say how to get the TC tier.
	 */
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
	opts.prog_fd = fd;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_warn("%s: cannot create the clsact qdisc: %s", ifname, strerror(-err));
		goto out;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_warn("%s: cannot attach the TC ingress program: %s", ifname,
			strerror(-err));
out:
	close(fd);
	return err;
}

/* Removes only our filter; the clsact qdisc may serve others. */
void fp_tc_ingress_detach(__u32 ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FP_TC_IN_HANDLE,
		    .priority = FP_TC_IN_PRIO);

	bpf_tc_detach(&hook, &opts);
}
