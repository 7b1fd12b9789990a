/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* headroom.h - the FP_R_HEADROOM vector, run by test_vectors. */
#ifndef FP_UNIT_HEADROOM_H
#define FP_UNIT_HEADROOM_H

/* Prints its PASS/FAIL lines; returns the number that failed. */
int headroom_run(void);

#endif /* FP_UNIT_HEADROOM_H */
