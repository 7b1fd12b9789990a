/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * names.h - the words "status", "flows" and the tests print for verdict
 * reasons, entry states and hold reasons.
 */
#ifndef FP_LIB_NAMES_H
#define FP_LIB_NAMES_H

#include "fastpath.h"

extern const char *const fp_reason_names[FP_R_MAX];
extern const char *const fp_state_names[FP_STATE_MAX];
extern const char *const fp_hold_names[FP_H_MAX];

#endif /* FP_LIB_NAMES_H */
