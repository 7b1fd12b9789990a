// SPDX-License-Identifier: GPL-2.0-only
/*
 * lease.c - "fastpath lease": renew or turn off the datapath lease.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "lib/args.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/pins.h"
#include "cli/cli.h"

static const char lease_usage[] =
	"Usage: fastpath lease SECONDS | off\n"
	"\n"
	"Renew the datapath lease for SECONDS, or turn it off. While a lease is\n"
	"set and has expired, every packet takes the slow path. The daemon renews\n"
	"it by itself; this command is for scripts and external controllers.\n"
	"\n"
	"  -h, --help    show this help\n";

int cmd_lease(int argc, char **argv)
{
	struct fp_config cfg = {}, cur = {};
	struct fp_maps m;
	__u32 zero = 0, secs;
	int ret = EXIT_OK;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(lease_usage, stdout);
		return EXIT_OK;
	}
	if (argc != 2)
		return usage_error("lease", "give SECONDS or 'off'");
	if (strcmp(argv[1], "off")) {
		if (parse_u32(argv[1], 86400, &secs) || !secs)
			return usage_error("lease", "invalid duration '%s' (1..86400 seconds)",
					   argv[1]);
		cfg.lease_ns = secs * 1000000000ULL;
		cfg.lease_expires = mono_ns() + cfg.lease_ns;
	}
	ret = fp_open_pinned(&m);
	if (ret) {
		if (ret == -ENOENT)
			pr_warn("fastpath is not attached");
		return EXIT_FAIL;
	}
	/* The learner's hash key and size are the daemon's: kept. */
	if (!bpf_map_lookup_elem(m.config, &zero, &cur)) {
		memcpy(cfg.learn_key, cur.learn_key, sizeof(cfg.learn_key));
		cfg.learn_buckets = cur.learn_buckets;
	}
	if (bpf_map_update_elem(m.config, &zero, &cfg, BPF_ANY)) {
		pr_warn("cannot write the lease: %s", strerror(errno));
		ret = EXIT_FAIL;
	}
	fp_close(&m);
	return ret;
}

