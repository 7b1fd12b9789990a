// SPDX-License-Identifier: GPL-2.0-only
/*
 * neightab.c - (device, address) -> MAC, as the kernel's neighbour tables
 * last said. A LAN host can make the kernel announce neighbours at will
 * (gratuitous ARP, unsolicited NA), so each message must cost one keyed
 * hash lookup, never a walk of everything cached, and the cache must not
 * grow past a bound the kernel's own tables would never reach by default
 * (gc_thresh3 is 1024 per family).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/siphash.h"
#include "daemon/neightab.h"

int neightab_init(struct neightab *t, unsigned int max, const __u64 key[2])
{
	memset(t, 0, sizeof(*t));
	/* Chains of four at the bound; a power of two for the mask. */
	t->nbuckets = 16;
	while (t->nbuckets * 4 < max)
		t->nbuckets <<= 1;
	t->max = max;
	t->key[0] = key[0];
	t->key[1] = key[1];
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void neightab_clear(struct neightab *t)
{
	struct neigh *n;

	for (unsigned int b = 0; t->buckets && b < t->nbuckets; b++) {
		while ((n = t->buckets[b])) {
			t->buckets[b] = n->next;
			free(n);
		}
	}
	t->n = 0;
}

void neightab_free(struct neightab *t)
{
	neightab_clear(t);
	free(t->buckets);
	t->buckets = NULL;
}

static struct neigh **slot(const struct neightab *t, __u32 ifindex, __u8 family,
			   const __be32 addr[4])
{
	__u8 k[21];
	struct neigh **pp;

	memcpy(k, &ifindex, 4);
	k[4] = family;
	memcpy(k + 5, addr, 16);
	pp = &t->buckets[siphash(k, sizeof(k), t->key) & (t->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->ifindex == ifindex && (*pp)->family == family &&
		    !memcmp((*pp)->addr, addr, 16))
			break;
	return pp;
}

struct neigh *neightab_find(const struct neightab *t, __u32 ifindex, __u8 family,
			    const __be32 addr[4])
{
	return *slot(t, ifindex, family, addr);
}

/*
 * Records @mac for the neighbour; @old gets the MAC it replaces (NT_CHANGED).
 * -ENOSPC at the bound: the caller cannot see this neighbour's next change.
 */
int neightab_set(struct neightab *t, __u32 ifindex, __u8 family,
		 const __be32 addr[4], const __u8 mac[6], __u8 old[6])
{
	struct neigh **pp = slot(t, ifindex, family, addr), *n = *pp;

	if (n) {
		if (!memcmp(n->mac, mac, 6))
			return NT_SAME;
		memcpy(old, n->mac, 6);
		memcpy(n->mac, mac, 6);
		return NT_CHANGED;
	}
	if (t->n >= t->max)
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->ifindex = ifindex;
	n->family = family;
	memcpy(n->addr, addr, 16);
	memcpy(n->mac, mac, 6);
	*pp = n;
	t->n++;
	return NT_NEW;
}

/* Forgets the neighbour; true, with its MAC in @old, if it was known. */
bool neightab_del(struct neightab *t, __u32 ifindex, __u8 family,
		  const __be32 addr[4], __u8 old[6])
{
	struct neigh **pp = slot(t, ifindex, family, addr), *n = *pp;

	if (!n)
		return false;
	memcpy(old, n->mac, 6);
	*pp = n->next;
	free(n);
	t->n--;
	return true;
}

/* A device is gone (rare): a walk is fine. */
void neightab_del_dev(struct neightab *t, __u32 ifindex)
{
	for (unsigned int b = 0; b < t->nbuckets; b++) {
		struct neigh **pp = &t->buckets[b], *n;

		while ((n = *pp)) {
			if (n->ifindex == ifindex) {
				*pp = n->next;
				free(n);
				t->n--;
			} else {
				pp = &n->next;
			}
		}
	}
}
