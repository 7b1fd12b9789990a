/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tc.h - the TC tier's program on clsact ingress, and the XDP program's
 * frags-aware load (tc.c).
 */
#ifndef FP_LIB_TC_H
#define FP_LIB_TC_H

#include <linux/types.h>
#include <bpf/libbpf.h>

struct fastpath_bpf;

int fp_tier_prepare(struct fastpath_bpf *skel);
int fp_tier_pin(struct fastpath_bpf *skel, const char *pin_dir);
void fp_tier_unpin(const char *pin_dir);

/* Where the TC program sits on an ingress (fp_tc_ingress_attach_fd()). */
enum { FP_TC_HOOK_TCX = 1, FP_TC_HOOK_CLSACT = 2 };

int fp_clsact_attach(__u32 ifindex, const char *ifname, enum bpf_tc_attach_point where,
		     __u32 handle, __u32 prio, int prog_fd, const char *what);
int fp_tc_ingress_attach_fd(__u32 ifindex, const char *ifname, int prog_fd);
int fp_tc_ingress_attach(__u32 ifindex, const char *ifname, const char *pin_dir);
void fp_tc_ingress_detach(__u32 ifindex);
void fp_tc_ingress_detach_fd(__u32 ifindex, int prog_fd);
const char *fp_tc_ingress_hook(__u32 ifindex, __u32 prog_id);
__u32 fp_tc_pinned_id(const char *pin_dir);

#endif /* FP_LIB_TC_H */
