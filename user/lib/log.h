/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - one logging layer for the whole command; libbpf's messages go
 * through it too (pins.c). The bottom of the layers (docs/DESIGN.md,
 * "Architecture"): it calls nothing of ours.
 */
#ifndef FP_LIB_LOG_H
#define FP_LIB_LOG_H

#include <linux/types.h>

/* Exit statuses: ok, failed, bad usage. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

extern int fp_verbose;
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
__u64 mono_ns(void);

#endif /* FP_LIB_LOG_H */
