// SPDX-License-Identifier: GPL-2.0-only
/*
 * args.c - the command line's error lines and the options every listing
 * command shares.
 */
#include <getopt.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

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

/* getopt's tables from @spec (terminated by a zeroed entry). */
int opts_build(const struct opt_spec *spec, struct opts *o)
{
	int n = 0, k = 0;

	for (; spec[n].name; n++) {
		if (n == OPTS_MAX)
			return -E2BIG;
		o->lo[n] = (struct option){ spec[n].name,
					    spec[n].arg ? required_argument : no_argument,
					    NULL, spec[n].val };
		if (spec[n].val < 256) {
			o->shorts[k++] = spec[n].val;
			if (spec[n].arg)
				o->shorts[k++] = ':';
		}
	}
	o->lo[n] = (struct option){};
	o->shorts[k] = '\0';
	return 0;
}

#define HELP_COL	25

/* @head, then one line per option ("  -p, --policy P   text"). */
void opts_help(FILE *f, const char *head, const struct opt_spec *spec)
{
	fputs(head, f);
	for (; spec->name; spec++) {
		char left[64];
		const char *h = spec->help, *nl;

		if (spec->val < 256)
			snprintf(left, sizeof(left), "  -%c, --%s%s%s", spec->val, spec->name,
				 spec->arg ? " " : "", spec->arg ? spec->arg : "");
		else
			snprintf(left, sizeof(left), "      --%s%s%s", spec->name,
				 spec->arg ? " " : "", spec->arg ? spec->arg : "");
		fprintf(f, "%-*s", HELP_COL - 1, left);
		if (strlen(left) >= HELP_COL - 1)
			fprintf(f, "\n%*s", HELP_COL - 1, "");
		for (;; h = nl + 1) {
			nl = strchr(h, '\n');
			fprintf(f, " %.*s\n", nl ? (int)(nl - h) : (int)strlen(h), h);
			if (!nl)
				break;
			fprintf(f, "%*s", HELP_COL - 1, "");
		}
	}
}
