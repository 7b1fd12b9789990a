// SPDX-License-Identifier: GPL-2.0-only
/*
 * ct_gen - create many UDP conntrack entries through ctnetlink, as a burst
 * of short flows would, to load the daemon's event path.
 *
 *   ct_gen COUNT [SRC DST]
 *
 * Each entry is 10.200.x.y:port -> DST:53 with a reply seen, so the daemon
 * treats it as a candidate (the heavier path: two learning entries each).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

int main(int argc, char **argv)
{
	struct nfct_handle *h;
	struct timespec t0, t1;
	unsigned long count;
	__be32 dst;
	int made = 0;

	if (argc < 2 || (count = strtoul(argv[1], NULL, 0)) == 0 || count > 1000000) {
		fprintf(stderr, "usage: ct_gen COUNT [DST]\n");
		return 2;
	}
	dst = inet_addr(argc > 2 ? argv[2] : "10.201.0.1");
	h = nfct_open(CONNTRACK, 0);
	if (!h) {
		fprintf(stderr, "ct_gen: ctnetlink: %s\n", strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < count; i++) {
		struct nf_conntrack *ct = nfct_new();
		__be32 src = htonl(0x0ac80000 | (i >> 14));	/* 10.200.0.0/16 */
		__be16 sport = htons(1024 + (i & 0x3fff));

		if (!ct)
			break;
		nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET);
		nfct_set_attr_u32(ct, ATTR_IPV4_SRC, src);
		nfct_set_attr_u32(ct, ATTR_IPV4_DST, dst);
		nfct_set_attr_u8(ct, ATTR_L4PROTO, IPPROTO_UDP);
		nfct_set_attr_u16(ct, ATTR_PORT_SRC, sport);
		nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(53));
		nfct_setobjopt(ct, NFCT_SOPT_SETUP_REPLY);
		nfct_set_attr_u32(ct, ATTR_TIMEOUT, 60);
		nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_CONFIRMED);
		if (nfct_query(h, NFCT_Q_CREATE, ct) == 0)
			made++;
		nfct_destroy(ct);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	nfct_close(h);
	printf("%d %.6f\n", made, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return made ? 0 : 1;
}
