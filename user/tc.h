/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tc.h - the TC tier's program on clsact ingress, and the XDP program's
 * frags-aware load (tc.c).
 */
#ifndef FP_TC_H
#define FP_TC_H

#include <linux/types.h>

struct fastpath_bpf;

int fp_tier_prepare(struct fastpath_bpf *skel);
int fp_tier_pin(struct fastpath_bpf *skel);
void fp_tier_unpin(void);
int fp_tc_ingress_attach(__u32 ifindex, const char *ifname);
void fp_tc_ingress_detach(__u32 ifindex);

#endif /* FP_TC_H */
