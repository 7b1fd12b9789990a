// SPDX-License-Identifier: GPL-2.0-only
/*
 * attach.c - "fastpath attach" and "fastpath detach".
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
#include "daemon/links.h"
#include "cli/cli.h"

static const char attach_head[] =
	"Usage: fastpath attach [--mode auto|native|generic] [--capacity N] IFACE...\n"
	"\n"
	"Load the XDP fast path, or re-adopt the one pinned under " FP_PIN_DIR ",\n"
	"attach it to each IFACE and make each IFACE a redirect target.\n"
	"\n";

static const struct opt_spec attach_opts[] = {
	{ 'm', "mode", "M", "auto (default: native, else generic with a warning),\n"
			    "native (driver XDP) or generic (skb XDP)" },
	{ 'c', "capacity", "N", "flow-table size when loading afresh (default 65536)" },
	{ 'h', "help", NULL, "show this help" },
	{}
};

int cmd_attach(int argc, char **argv)
{
	enum fp_mode mode = FP_MODE_AUTO;
	__u32 capacity = FP_DEFAULT_CAPACITY;
	__u32 ifindex[FP_MAX_PORTS];
	char name[IF_NAMESIZE + 8];
	struct fp_maps m;
	int c, n, ret = EXIT_OK;
	struct opts go;

	if (opts_build(attach_opts, &go))
		return EXIT_FAIL;
	optind = 0;
	while ((c = getopt_long(argc, argv, go.shorts, go.lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_mode(optarg, &mode))
				return usage_error("attach", "mode must be auto, native or generic, not '%s'",
						   optarg);
			break;
		case 'c':
			if (parse_u32(optarg, 1U << 26, &capacity) || !capacity)
				return usage_error("attach", "invalid capacity '%s'", optarg);
			break;
		case 'h':
			opts_help(stdout, attach_head, attach_opts);
			return EXIT_OK;
		default:
			return bad_option("attach", argv);
		}
	}
	n = argc - optind;
	if (n < 1)
		return usage_error("attach", "give at least one interface");
	if (n > FP_MAX_PORTS)
		return usage_error("attach", "at most %d interfaces", FP_MAX_PORTS);
	/* Check every name, and find the ports under stacked ones, before
	 * changing anything.
	 */
	if (links_ports(argv + optind, n, ifindex, &n, FP_MAX_PORTS, "attaching to"))
		return EXIT_FAIL;
	if (fp_load_or_adopt(&m, capacity))
		return EXIT_FAIL;
	for (int i = 0; i < n; i++) {
		ifname_or_index(ifindex[i], name);
		if (fp_attach(&m, ifindex[i], name, mode))
			ret = EXIT_FAIL;
		else
			pr_debug("%s: attached", name);
	}
	fp_close(&m);
	return ret;
}

static const char detach_usage[] =
	"Usage: fastpath detach [IFACE...]\n"
	"\n"
	"Detach the fast path from each IFACE. With no IFACE, detach from every\n"
	"device and remove the pinned program and maps: the flow table is gone.\n"
	"\n"
	"  -h, --help    show this help\n";

int cmd_detach(int argc, char **argv)
{
	__u32 key, next, *prev = NULL, ports[FP_MAX_PORTS];
	char name[IF_NAMESIZE + 8];
	struct fp_maps m;
	int ret = EXIT_OK, n = 0, err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(detach_usage, stdout);
		return EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			return usage_error("detach", "unknown option '%s'", argv[i]);
	}
	if (argc - 1 > FP_MAX_PORTS)
		return usage_error("detach", "at most %d interfaces", FP_MAX_PORTS);
	/* A stacked name detaches from the ports under it, as attach did. */
	if (argc > 1 &&
	    links_ports(argv + 1, argc - 1, ports, &n, FP_MAX_PORTS, "detaching from"))
		return EXIT_FAIL;
	err = argc > 1 ? fp_open_pinned(&m) : fp_open_pinned_detach(&m);
	if (err && (argc > 1 || m.prog < 0)) {
		if (argc > 1) {
			if (err == -ENOENT)
				pr_warn("fastpath is not attached");
			return EXIT_FAIL;
		}
		/* Nothing loaded, or nothing usable: still clear leftovers
		 * of a broken state.
		 */
		return fp_unpin_all() ? EXIT_FAIL : EXIT_OK;
	}

	if (argc > 1) {
		for (int i = 0; i < n; i++) {
			ifname_or_index(ports[i], name);
			if (fp_detach(&m, ports[i], name) == -ENOENT) {
				pr_warn("%s: fastpath is not attached", name);
				ret = EXIT_FAIL;
			}
		}
		fp_close(&m);
		return ret;
	}

	/* Detaching while iterating: always restart from the first key. */
	while (!bpf_map_get_next_key(m.tx_ports, prev, &next)) {
		key = next;
		fp_detach(&m, key, ifname_or_index(key, name));
		if (!bpf_map_lookup_elem(m.tx_ports, &key, &next)) {
			/* could not remove it: step over it */
			prev = &key;
		}
	}
	fp_close(&m);
	return fp_unpin_all() ? EXIT_FAIL : EXIT_OK;
}

