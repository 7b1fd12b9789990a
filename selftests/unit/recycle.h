/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* recycle.h - flow entries recycled under a reader (L6), run by test_vectors. */
#ifndef FP_UNIT_RECYCLE_H
#define FP_UNIT_RECYCLE_H

struct fastpath_bpf;

/* Prints its PASS/FAIL/SKIP lines; returns the number that failed. */
int recycle_run(struct fastpath_bpf *skel, int iif, int oif);

#endif /* FP_UNIT_RECYCLE_H */
