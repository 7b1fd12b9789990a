// SPDX-License-Identifier: GPL-2.0-only
/*
 * log.c - one logging layer (pr_warn, pr_info, pr_debug) and the clock its
 * debug lines carry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "lib/log.h"

int fp_verbose;

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "fastpath: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

/* Debug lines carry the monotonic clock, to order them against packets. */
void pr_debug(const char *fmt, ...)
{
	char prefix[40];
	va_list ap;

	if (!fp_verbose)
		return;
	snprintf(prefix, sizeof(prefix), "debug: %.6f ", mono_ns() / 1e9);
	va_start(ap, fmt);
	vlog(prefix, fmt, ap);
	va_end(ap);
}

/* Same clock as bpf_ktime_get_ns(). */
__u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
