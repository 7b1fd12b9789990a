// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - the fastpath command: a table of subcommands, each with --help.
 * The top of the layers (docs/DESIGN.md, "Architecture"): nothing calls it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/pins.h"
#include "daemon/run.h"
#include "cli/cli.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand commands[] = {
	{ "run", cmd_run, "the daemon: offload what conntrack reports established" },
	{ "attach", cmd_attach, "load and attach the fast path to interfaces" },
	{ "detach", cmd_detach, "detach from interfaces, or remove everything" },
	{ "flow", cmd_flow, "add or delete a static flow entry" },
	{ "flows", cmd_flows, "list the flow table" },
	{ "status", cmd_status, "interfaces, table use, counters and lease" },
	{ "top", cmd_top, "live view: flows by rate, tiers, pass reasons" },
	{ "explain", cmd_explain, "why a connection is, or is not, offloaded" },
	{ "lease", cmd_lease, "renew or turn off the datapath lease" },
	{}
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: fastpath [-v] COMMAND [ARGS]\n\n"
		   "Move established router flows onto an XDP fast path.\n\nCommands:\n");
	for (const struct subcommand *c = commands; c->name; c++)
		fprintf(f, "  %-8s  %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'fastpath COMMAND --help' for a command's options.\n"
		   "Options:\n  -v, --verbose  print debug and libbpf messages\n"
		   "  -h, --help     show this help\n  -V, --version  show the version\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			fp_verbose = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("fastpath " FP_VERSION "\n");
			return EXIT_OK;
		} else {
			fprintf(stderr, "fastpath: unknown option '%s' (try 'fastpath --help')\n",
				argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "fastpath: no command given (try 'fastpath --help')\n");
		return EXIT_USAGE;
	}
	opterr = 0;	/* bad_option() reports instead, in one line */
	fp_setup_libbpf_log();
	for (const struct subcommand *c = commands; c->name; c++)
		if (!strcmp(argv[i], c->name))
			return c->run(argc - i, argv + i);
	fprintf(stderr, "fastpath: unknown command '%s' (try 'fastpath --help')\n",
		argv[i]);
	return EXIT_USAGE;
}
