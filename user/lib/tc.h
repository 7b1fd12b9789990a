/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tc.h - the TC tier's program on clsact ingress, and the XDP program's
 * frags-aware load (tc.c).
 */
#ifndef FP_LIB_TC_H
#define FP_LIB_TC_H

#include <linux/types.h>

struct fastpath_bpf;

int fp_tier_prepare(struct fastpath_bpf *skel);
int fp_tier_pin(struct fastpath_bpf *skel, const char *pin_dir);
void fp_tier_unpin(const char *pin_dir);
int fp_tc_ingress_attach(__u32 ifindex, const char *ifname, const char *pin_dir);
void fp_tc_ingress_detach(__u32 ifindex);

#endif /* FP_LIB_TC_H */
