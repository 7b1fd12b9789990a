// SPDX-License-Identifier: GPL-2.0-only
/*
 * rtnl.c - rtnetlink: one attribute-table parser and one request/dump loop,
 * which every rtnetlink user of the command goes through.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/neighbour.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "lib/rtnl.h"

struct attr_table {
	const struct nlattr **tb;
	unsigned int max;
};

static int table_cb(const struct nlattr *a, void *data)
{
	const struct attr_table *t = data;
	unsigned int type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

int nl_parse(const struct nlmsghdr *nlh, size_t hdrlen,
	     const struct nlattr **tb, unsigned int max)
{
	struct attr_table t = { tb, max };

	if (nlh->nlmsg_len < mnl_nlmsg_size(hdrlen))
		return -EBADMSG;
	return mnl_attr_parse(nlh, hdrlen, table_cb, &t) < 0 ? -EBADMSG : 0;
}

int nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb,
		    unsigned int max)
{
	struct attr_table t = { tb, max };

	return mnl_attr_parse_nested(nest, table_cb, &t) < 0 ? -EBADMSG : 0;
}

/*
 * Sends one rtnetlink request and runs @cb on every message of the answer:
 * each part of a dump (NLM_F_DUMP), or the single reply. Sets the request
 * flag and the sequence number. Returns 0, or -errno (the kernel's error
 * for the request included).
 */
int nl_route_query(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned int portid;
	int ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_flags |= NLM_F_REQUEST;
	nlh->nlmsg_seq = time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	do {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0)
			goto fail;
		ret = mnl_cb_run(buf, ret, nlh->nlmsg_seq, portid, cb, data);
		if (ret < 0)
			goto fail;
	} while (ret > MNL_CB_STOP && (nlh->nlmsg_flags & NLM_F_DUMP));
	mnl_socket_close(nl);
	return 0;
fail:
	ret = -errno;
	mnl_socket_close(nl);
	return ret;
}

/* Each request's header is the one of its type; all begin with the family. */
int nl_route_dump(int type, int family, mnl_cb_t cb, void *data)
{
	char buf[NLMSG_ALIGN(sizeof(struct nlmsghdr)) + 64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	size_t hdr = type == RTM_GETQDISC ? sizeof(struct tcmsg) :
		     type == RTM_GETLINK ? sizeof(struct ifinfomsg) :
		     type == RTM_GETROUTE ? sizeof(struct rtmsg) :
					   sizeof(struct ndmsg);
	__u8 *fam;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_DUMP;
	fam = mnl_nlmsg_put_extra_header(nlh, hdr);
	*fam = family;
	return nl_route_query(nlh, cb, data);
}

int nl_ingress_filters(__u32 ifindex, mnl_cb_t cb, void *data)
{
	char buf[NLMSG_ALIGN(sizeof(struct nlmsghdr)) + 64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;

	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_DUMP;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	/* the clsact and the ingress qdisc both answer to this parent */
	tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
	return nl_route_query(nlh, cb, data);
}

struct neigh_reply {
	__u8 mac[6];
	bool found;
	__u16 state;
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NDA_MAX + 1] = {};
	struct neigh_reply *r = data;

	if (nl_parse(nlh, sizeof(*ndm), tb, NDA_MAX))
		return MNL_CB_ERROR;
	r->state = ndm->ndm_state;
	if (tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6) {
		memcpy(r->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
		r->found = true;
	}
	return MNL_CB_OK;
}

/*
 * RTM_GETNEIGH for one address on one device (kernel >= 5.0, as "ip neigh
 * get"). Only a usable entry counts: an incomplete or failed one would
 * install a flow to the wrong or no MAC.
 */
int nl_neigh_lookup(__u32 ifindex, __u8 family, const __be32 addr[4],
		    __u8 mac[6])
{
	char buf[NLMSG_ALIGN(sizeof(struct nlmsghdr)) + 128];
	struct neigh_reply r = {};
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, addr);

	ret = nl_route_query(nlh, neigh_cb, &r);
	if (ret)
		return ret;
	if (!r.found || !(r.state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY |
				     NUD_PROBE | NUD_PERMANENT | NUD_NOARP)))
		return -ENOENT;
	memcpy(mac, r.mac, 6);
	return 0;
}

__u32 nl_route_msg_mtu(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[RTA_MAX + 1] = {};
	const struct nlattr *mx[RTAX_MAX + 1] = {};

	if (nl_parse(nlh, sizeof(struct rtmsg), tb, RTA_MAX) || !tb[RTA_METRICS] ||
	    nl_parse_nested(tb[RTA_METRICS], mx, RTAX_MAX) || !mx[RTAX_MTU] ||
	    mnl_attr_get_payload_len(mx[RTAX_MTU]) != 4)
		return 0;
	return mnl_attr_get_u32(mx[RTAX_MTU]);
}

static int route_mtu_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		*(__u32 *)data = nl_route_msg_mtu(nlh);
	return MNL_CB_OK;
}

/*
 * The MTU metric of the route a forwarded packet takes ("ip route get ...
 * iif ... fibmatch"): the routing entry itself, as ip_forward() and
 * ip6_forward() honour it, not a cached PMTU exception, which forwarding
 * ignores unless locked. 0 in *@mtu: the route sets none.
 */
int nl_route_mtu(const struct route_query *q, __u32 *mtu)
{
	char buf[NLMSG_ALIGN(sizeof(struct nlmsghdr)) + 256];
	size_t alen = q->family == AF_INET ? 4 : 16;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	*mtu = 0;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = q->family;
	rtm->rtm_dst_len = rtm->rtm_src_len = alen * 8;
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	mnl_attr_put(nlh, RTA_DST, alen, q->dst);
	mnl_attr_put(nlh, RTA_SRC, alen, q->src);
	mnl_attr_put_u32(nlh, RTA_IIF, q->iif);
	if (q->mark)
		mnl_attr_put_u32(nlh, RTA_MARK, q->mark);
	mnl_attr_put_u8(nlh, RTA_IP_PROTO, q->proto);
	if (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP) {
		mnl_attr_put_u16(nlh, RTA_SPORT, q->sport);
		mnl_attr_put_u16(nlh, RTA_DPORT, q->dport);
	}
	return nl_route_query(nlh, route_mtu_cb, mtu);
}
