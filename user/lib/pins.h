/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pins.h - loading, pinning, re-adoption and attachment of the datapath
 * (XDP forward, TC egress learner, the coarse clock) and its maps.
 */
#ifndef FP_LIB_PINS_H
#define FP_LIB_PINS_H

#include <linux/types.h>

#include "fastpath.h"

struct fp_maps {
	int prog;		/* XDP forward */
	int learn_prog;		/* TC egress learn */
	int clock_prog;		/* starts the coarse clock */
	int flows;
	int tx_ports;
	int stats;
	int config;
	int learn;
	int events;
	int rates;
	int daemon;
	int clock;
	int conns;		/* fp_conns; -1 in a datapath pinned before it */
};

enum fp_mode { FP_MODE_AUTO, FP_MODE_NATIVE, FP_MODE_GENERIC };
int parse_mode(const char *s, enum fp_mode *mode);

/* libbpf's messages through pr_warn/pr_debug, demoted one level. */
void fp_setup_libbpf_log(void);

const char *fp_pin_dir(void);
int fp_open_pinned(struct fp_maps *m);
int fp_open_pinned_detach(struct fp_maps *m);
int fp_load_or_adopt(struct fp_maps *m, __u32 capacity);
void fp_close(struct fp_maps *m);
int fp_attach(struct fp_maps *m, __u32 ifindex, const char *ifname,
	      enum fp_mode mode);
int fp_detach(struct fp_maps *m, __u32 ifindex, const char *ifname);
int fp_unpin_all(void);
const char *fp_attach_mode(__u32 ifindex, __u32 our_prog_id);
int fp_tc_attach(struct fp_maps *m, __u32 ifindex, const char *ifname);
void fp_tc_detach(__u32 ifindex);
__u32 fp_prog_id(int prog_fd);
int fp_clock_ensure(struct fp_maps *m);
__u32 fp_map_capacity(int map_fd);
int fp_flow_count(int flows_fd);
int fp_map_by_pin(const char *name);

#endif /* FP_LIB_PINS_H */
