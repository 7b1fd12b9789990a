// SPDX-License-Identifier: GPL-2.0-only
/*
 * ct_gen - create many UDP conntrack entries through ctnetlink, as a burst
 * of short flows would, to load the daemon's event path.
 *
 *   ct_gen COUNT [DST]
 *   ct_gen -t SECONDS COUNT [DST]
 *
 * Each entry is 10.200.x.y:port -> DST:53 with a reply seen, so the daemon
 * treats it as a candidate (the heavier path: two learning entries each).
 * With -t it runs for SECONDS at full rate, keeping COUNT entries alive:
 * each new one past COUNT destroys the oldest, so the flood of NEW and
 * DESTROY events goes on without filling conntrack's table. It prints
 * the entries created and the seconds taken.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#define SPACE	(1UL << 30)	/* distinct tuples: 10.200.0.0/16 x 16384 ports */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Entry @i's original tuple; a reply is set up for a create. */
static struct nf_conntrack *entry(unsigned long i, __be32 dst, bool create)
{
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return NULL;
	i %= SPACE;
	nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET);
	nfct_set_attr_u32(ct, ATTR_IPV4_SRC, htonl(0x0ac80000 | (i >> 14)));
	nfct_set_attr_u32(ct, ATTR_IPV4_DST, dst);
	nfct_set_attr_u8(ct, ATTR_L4PROTO, IPPROTO_UDP);
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(1024 + (i & 0x3fff)));
	nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(53));
	if (create) {
		nfct_setobjopt(ct, NFCT_SOPT_SETUP_REPLY);
		nfct_set_attr_u32(ct, ATTR_TIMEOUT, 60);
		nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_CONFIRMED);
	}
	return ct;
}

static int query(struct nfct_handle *h, enum nf_conntrack_query q,
		 unsigned long i, __be32 dst)
{
	struct nf_conntrack *ct = entry(i, dst, q == NFCT_Q_CREATE);
	int ret;

	if (!ct)
		return -1;
	ret = nfct_query(h, q, ct);
	nfct_destroy(ct);
	return ret;
}

int main(int argc, char **argv)
{
	double secs = 0, t0, t1;
	unsigned long count, i;
	struct nfct_handle *h;
	char *end;
	__be32 dst;
	long made = 0;

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		secs = strtod(argv[2], &end);
		if (*end || secs <= 0 || secs > 3600) {
			fprintf(stderr, "ct_gen: bad duration '%s'\n", argv[2]);
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc < 2 || (count = strtoul(argv[1], NULL, 0)) == 0 || count > 1000000) {
		fprintf(stderr, "usage: ct_gen [-t SECONDS] COUNT [DST]\n");
		return 2;
	}
	dst = inet_addr(argc > 2 ? argv[2] : "10.201.0.1");
	h = nfct_open(CONNTRACK, 0);
	if (!h) {
		fprintf(stderr, "ct_gen: ctnetlink: %s\n", strerror(errno));
		return 1;
	}
	t0 = now();
	for (i = 0; secs ? (i & 255) || now() - t0 < secs : i < count; i++) {
		if (query(h, NFCT_Q_CREATE, i, dst) == 0)
			made++;
		if (secs && i >= count)
			query(h, NFCT_Q_DESTROY, i - count, dst);
	}
	/* A flood leaves its last COUNT entries behind it for the caller
	 * ("conntrack -F"), as a burst does.
	 */
	t1 = now();
	nfct_close(h);
	printf("%ld %.6f\n", made, t1 - t0);
	return made ? 0 : 1;
}
