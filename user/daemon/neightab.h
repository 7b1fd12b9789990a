/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * neightab.h - the daemon's copy of the kernel's neighbour tables:
 * (device, address) -> MAC, so that a neighbour message shows which MAC
 * the flows it concerns were learned with (netmon.c). Hashed with the
 * per-run key, bounded, and pruned on every delete (docs/DESIGN.md,
 * "Safety rules" 10).
 */
#ifndef FP_DAEMON_NEIGHTAB_H
#define FP_DAEMON_NEIGHTAB_H

#include <stdbool.h>
#include <linux/types.h>

struct neigh {
	struct neigh *next;
	__u32 ifindex;
	__u8 family;
	__be32 addr[4];
	__u8 mac[6];
};

struct neightab {
	struct neigh **buckets;
	unsigned int nbuckets;
	unsigned int n, max;
	__u64 key[2];
};

/* What neightab_set() found. */
enum { NT_NEW, NT_SAME, NT_CHANGED };

int neightab_init(struct neightab *t, unsigned int max, const __u64 key[2]);
void neightab_free(struct neightab *t);
void neightab_clear(struct neightab *t);
struct neigh *neightab_find(const struct neightab *t, __u32 ifindex, __u8 family,
			    const __be32 addr[4]);
int neightab_set(struct neightab *t, __u32 ifindex, __u8 family,
		 const __be32 addr[4], const __u8 mac[6], __u8 old[6]);
bool neightab_del(struct neightab *t, __u32 ifindex, __u8 family,
		  const __be32 addr[4], __u8 old[6]);
void neightab_del_dev(struct neightab *t, __u32 ifindex);

#endif /* FP_DAEMON_NEIGHTAB_H */
