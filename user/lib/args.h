/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * args.h - the command line's error lines ("fastpath CMD: why"), shared by
 * every command; lib/ reports errors through them, never through the CLI.
 */
#ifndef FP_LIB_ARGS_H
#define FP_LIB_ARGS_H

#include <stdbool.h>

#include "lib/log.h"

int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int bad_option(const char *cmd, char **argv);
int listing_args(int argc, char **argv, const char *cmd, const char *usage,
		 bool *json);

#endif /* FP_LIB_ARGS_H */
