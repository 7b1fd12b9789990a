/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* learn_vectors.h - the learning program's cases, run by test_vectors. */
#ifndef FP_UNIT_LEARN_VECTORS_H
#define FP_UNIT_LEARN_VECTORS_H

struct fastpath_bpf;

/* Prints one PASS/FAIL line per case; returns the number that failed. */
int learn_vectors_run(struct fastpath_bpf *skel, int iif, int oif);

#endif /* FP_UNIT_LEARN_VECTORS_H */
