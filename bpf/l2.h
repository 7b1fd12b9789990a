/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * l2.h - the egress L2 header. Plain Ethernet for now: VLAN and PPPoE
 * push/pop arrive with the encapsulation stage.
 */
#ifndef FP_L2_H
#define FP_L2_H

#include "parse.h"

static __always_inline void l2_rewrite(struct ethhdr *eth,
				       const struct fp_flow *f)
{
	__builtin_memcpy(eth->h_dest, f->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f->smac, ETH_ALEN);
}

#endif /* FP_L2_H */
