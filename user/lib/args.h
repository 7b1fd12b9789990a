/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * args.h - the command line's error lines ("fastpath CMD: why"), shared by
 * every command; lib/ reports errors through them, never through the CLI.
 */
#ifndef FP_LIB_ARGS_H
#define FP_LIB_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "lib/log.h"

/*
 * One table per command gives getopt its options and "--help" its text,
 * so the two cannot drift apart. @val is the short option letter, or a
 * value >= 256 for a long-only option; @arg names the value, NULL for a
 * flag; @help may span lines ("\n").
 */
struct opt_spec {
	int val;
	const char *name;
	const char *arg;
	const char *help;
};

#define OPTS_MAX	24

struct opts {
	struct option lo[OPTS_MAX + 1];
	char shorts[2 * OPTS_MAX + 1];
};

int opts_build(const struct opt_spec *spec, struct opts *o);
void opts_help(FILE *f, const char *head, const struct opt_spec *spec);

int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int bad_option(const char *cmd, char **argv);
int listing_args(int argc, char **argv, const char *cmd, const char *usage,
		 bool *json);

#endif /* FP_LIB_ARGS_H */
