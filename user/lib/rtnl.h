/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rtnl.h - rtnetlink: one attribute-table parser, one request/dump loop,
 * and the neighbour lookup built on them.
 */
#ifndef FP_LIB_RTNL_H
#define FP_LIB_RTNL_H

#include <stddef.h>
#include <linux/types.h>

struct nlmsghdr;
struct nlattr;

/*
 * Fills @tb[0..@max] with the attributes after @hdrlen bytes of family
 * header (the one parser for every message type: links, neighbours,
 * routes, qdiscs, genetlink replies). Types above @max are skipped.
 */
int nl_parse(const struct nlmsghdr *nlh, size_t hdrlen,
	     const struct nlattr **tb, unsigned int max);
int nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb,
		    unsigned int max);

/* One request on a fresh NETLINK_ROUTE socket, @cb on every reply. */
int nl_route_query(struct nlmsghdr *nlh,
		   int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
/* A dump of @type (RTM_GETLINK, RTM_GETNEIGH, RTM_GETQDISC, RTM_GETROUTE)
 * for @family. */
int nl_route_dump(int type, int family,
		  int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
/* "tc filter show dev X ingress": @cb on each filter of the clsact (or
 * ingress qdisc) ingress of @ifindex. */
int nl_ingress_filters(__u32 ifindex,
		       int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
int nl_neigh_lookup(__u32 ifindex, __u8 family, const __be32 addr[4],
		    __u8 mac[6]);

/* A forwarded packet's route lookup, as the kernel makes it after DNAT. */
struct route_query {
	__u8 family;
	__u8 proto;
	__be16 sport, dport;
	__be32 src[4], dst[4];
	__u32 iif;
	__u32 mark;
};
int nl_route_mtu(const struct route_query *q, __u32 *mtu);
/* The MTU metric of a route message (RTA_METRICS, RTAX_MTU), or 0. */
__u32 nl_route_msg_mtu(const struct nlmsghdr *nlh);

#endif /* FP_LIB_RTNL_H */
