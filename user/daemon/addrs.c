// SPDX-License-Identifier: GPL-2.0-only
/*
 * addrs.c - the router's own addresses (addrs.h), from getifaddrs(3),
 * kept sorted so that the per-event query is a binary search.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "lib/log.h"
#include "daemon/addrs.h"

static int cmp_addr(const void *a, const void *b)
{
	const struct addr_ent *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

int addrs_load(struct addrs *a)
{
	struct ifaddrs *ifa, *i;
	struct addr_ent *v;
	unsigned int n = 0;

	if (getifaddrs(&ifa))
		return -errno;
	v = calloc(ADDRS_MAX, sizeof(*v));
	if (!v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	for (i = ifa; i && n < ADDRS_MAX; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			v[n].family = AF_INET;
			v[n].addr[0] = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
			n++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			v[n].family = AF_INET6;
			memcpy(v[n].addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			n++;
		}
	}
	freeifaddrs(ifa);
	if (n == ADDRS_MAX)
		pr_warn("over %d local addresses: connections to the rest are not told apart",
			ADDRS_MAX);
	qsort(v, n, sizeof(*v), cmp_addr);
	free(a->v);
	a->v = v;
	a->n = n;
	a->stale = false;
	return 0;
}

void addrs_free(struct addrs *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

static bool loopback(__u8 family, const __be32 *addr)
{
	static const __u8 lo6[16] = { [15] = 1 };
	const __u8 *b = (const __u8 *)addr;

	if (family == AF_INET)
		return b[0] == 127;
	/* ::1, and 127/8 mapped into IPv6 */
	return !memcmp(b, lo6, 16) ||
	       (!memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) && b[12] == 127);
}

/* A failed reload keeps the old set, and tries again on the next query. */
bool addrs_is_local(struct addrs *a, __u8 family, const __be32 *addr)
{
	struct addr_ent key = { .family = family };
	int err;

	if (loopback(family, addr))
		return true;
	if (a->stale || !a->v) {
		err = addrs_load(a);
		if (err)
			pr_debug("cannot read the local addresses: %s", strerror(-err));
	}
	memcpy(key.addr, addr, family == AF_INET ? 4 : 16);
	return a->n && bsearch(&key, a->v, a->n, sizeof(key), cmp_addr);
}
