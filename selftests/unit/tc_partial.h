/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* tc_partial.h - CHECKSUM_PARTIAL skbs through the TC program on veths. */
#ifndef FP_UNIT_TC_PARTIAL_H
#define FP_UNIT_TC_PARTIAL_H

struct fastpath_bpf;

/* Prints one PASS/FAIL line per case; returns the number that failed. */
int tc_partial_run(struct fastpath_bpf *skel);

#endif /* FP_UNIT_TC_PARTIAL_H */
