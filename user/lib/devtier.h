/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * devtier.h - what an ingress device asks of the tiers (docs/DESIGN.md,
 * "Tiers"), probed from the kernel; the daemon's tier choice and
 * "fastpath status" both use it.
 */
#ifndef FP_LIB_DEVTIER_H
#define FP_LIB_DEVTIER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

enum ingress_need {
	IN_ANY = 0,		/* XDP can take its frames */
	IN_TC_CSUM,		/* may deliver CHECKSUM_PARTIAL: TC */
	IN_TC_GENERIC,		/* generic XDP only, skb-based anyway: TC */
	IN_TC_VLAN,		/* keeps rx VLAN tags out of the frame: TC */
	IN_IFB,			/* redirects its input to an ifb: slow */
};

/* Where a shaper sits on a direction's way out. The TC tier redirects to
 * the port, so only the port's own qdisc stays in charge: one on a device
 * stacked above it (ppp0, eth0.7, br-lan) is bypassed by any redirect and
 * keeps the connection on the slow path.
 */
enum egress_shaper {
	SHAPER_NONE = 0,
	SHAPER_PORT,		/* on the port: TC keeps it */
	SHAPER_UPPER,		/* on a stacked device: slow */
};

/* Probes @ifindex; @why says what was found ("veth, peer sends partial
 * checksums", "generic XDP", "mirred to ifb0 at ingress"...).
 */
enum ingress_need dev_ingress_need(__u32 ifindex, char *why, size_t len);

/* The kind of @ifindex's root qdisc ("" when none is listed). */
int dev_root_qdisc(__u32 ifindex, char *kind, size_t len);

/* A root qdisc of this kind shapes (the SQM guard's test); a plain
 * fq_codel or pfifo delays nothing the fast path would skip.
 */
bool qdisc_kind_shapes(const char *kind);

#endif /* FP_LIB_DEVTIER_H */
