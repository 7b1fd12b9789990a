/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flowtab.h - flow-table writes that wait out the datapath's readers
 * (docs/DESIGN.md, "Recycled elements").
 */
#ifndef FP_LIB_FLOWTAB_H
#define FP_LIB_FLOWTAB_H

#include <linux/types.h>

#include "fastpath.h"

int fp_flows_quiesce(void);
int fp_flow_write(int flows_fd, const struct fp_flow_key *k,
		  const struct fp_flow *v, __u64 flags);
int fp_flow_delete(int flows_fd, const struct fp_flow_key *k);

#endif /* FP_LIB_FLOWTAB_H */
