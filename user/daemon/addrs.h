/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * addrs.h - the router's own addresses, so that a connection that ends on
 * the router itself is never a candidate (hold "local"): it has nothing
 * to forward, and would only sit in the learning map. netmon marks the
 * set stale on every address change; the next query reloads it.
 */
#ifndef FP_DAEMON_ADDRS_H
#define FP_DAEMON_ADDRS_H

#include <stdbool.h>
#include <linux/types.h>

/* More are not looked up: past this, the set says "not local" (the
 * connection then only takes its 10 s in the learning map).
 */
#define ADDRS_MAX	4096

struct addr_ent {
	__u8 family;
	__u8 pad[3];
	__be32 addr[4];
};

struct addrs {
	struct addr_ent *v;		/* sorted, for bsearch */
	unsigned int n;
	bool stale;			/* an address came or went: reload */
};

int addrs_load(struct addrs *a);
void addrs_free(struct addrs *a);
bool addrs_is_local(struct addrs *a, __u8 family, const __be32 *addr);

#endif /* FP_DAEMON_ADDRS_H */
