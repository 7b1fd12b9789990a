// SPDX-License-Identifier: GPL-2.0-only
/*
 * args.c - the command line's error lines and the options every listing
 * command shares.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "lib/args.h"

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fastpath %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}


/*
 * getopt's own complaint is switched off (opterr = 0 in main) so that a
 * bad option is one line in our format; the option getopt stopped at is
 * the last one it consumed.
 */
int bad_option(const char *cmd, char **argv)
{
	return usage_error(cmd, "bad option or missing value: '%s' (see 'fastpath %s --help')",
			   argv[optind - 1], cmd);
}

/*
 * The options of the listing commands, "--json" and "--help". Returns -1
 * to go on, or the exit status when there is nothing more to do.
 */
int listing_args(int argc, char **argv, const char *cmd, const char *usage,
		 bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	*json = false;
	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return bad_option(cmd, argv);
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return -1;
}
