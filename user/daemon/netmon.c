// SPDX-License-Identifier: GPL-2.0-only
/*
 * netmon.c - changes that may change a verdict (docs/DESIGN.md, "Safety
 * rules" 3, 5 and 7), from rtnetlink and nfnetlink multicast groups.
 *
 * - nftables: any ruleset or set change takes every flow off the fast path;
 *   each returns only through a packet the new ruleset accepts.
 * - routes and policy-routing rules: all flows are learned again, along the
 *   new routes.
 * - addresses: the set of the router's own (hold "local") is reloaded.
 * - neighbours: flows to a MAC that changed or went away are torn down.
 * - links: flows through a device that went down, changed its MAC or MTU,
 *   or vanished are torn down; a vanished device leaves the devmap.
 * - qdiscs: the SQM guard's view of each device's root qdisc.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>

#include "lib/devtier.h"
#include "lib/ethtool.h"
#include "lib/log.h"
#include "lib/rtnl.h"
#include "daemon/adapters.h"

#define NL_RCVBUF (8 << 20)
#define NL_BATCH	64		/* datagrams read per loop pass */
/* 64 times the kernel's default gc_thresh3 (1024 per family). */
#define MAX_NEIGH	65536


static bool is_attached(struct daemon *d, __u32 ifindex)
{
	return d->ops->attached(d, ifindex);
}

/*
 * The flows learned out of the ports under @dev to @mac, learned again.
 * One index lookup per port (conntab's (oif, dmac) index), never a walk of
 * every connection: a LAN host can send gratuitous ARPs as fast as it
 * likes (docs/DESIGN.md, "Safety rules" 10).
 */
static void relearn_mac(struct daemon *d, __u32 dev, const __u8 mac[6], __u32 except)
{
	__u32 ports[FP_MAX_PORTS];
	int n = links_lower_ports(&d->links, dev, ports, FP_MAX_PORTS);

	for (int i = 0; i < n; i++)
		if (ports[i] != except)
			fsm_relearn_via(d, ports[i], mac);
}

/*
 * Bridge FDB: the fast path sends a flow's frames to the port where the
 * bridge had the next hop's MAC when the flow was learned, past the
 * bridge; when the bridge announces the MAC on a port (it moved, or came
 * back after aging), the flows learned out of the bridge's other ports to
 * it are learned again. No copy of the FDB is kept: the index answers
 * "which flows go to this MAC through that port" directly, so there is
 * nothing to bound or to prune, and an entry that aged out (the bridge no
 * longer sees the frames XDP forwards) needs no memory to be judged when
 * it comes back.
 */
static void on_fdb(struct daemon *d, const struct nlmsghdr *nlh,
		   const struct ndmsg *ndm, const struct nlattr **tb)
{
	if (nlh->nlmsg_type != RTM_NEWNEIGH || !tb[NDA_LLADDR] || !tb[NDA_MASTER] ||
	    mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
		return;
	relearn_mac(d, mnl_attr_get_u32(tb[NDA_MASTER]),
		    mnl_attr_get_payload(tb[NDA_LLADDR]), ndm->ndm_ifindex);
}

/*
 * Neighbours: flows to a next hop whose MAC changed or that went away are
 * learned again. The cache (neightab.c) remembers the MAC each one had.
 */
static void on_neigh(struct daemon *d, const struct nlmsghdr *nlh)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NDA_MAX + 1] = {};
	__u32 dev = ndm->ndm_ifindex;
	__be32 addr[4] = {};
	__u8 old[6];
	size_t alen;
	bool gone;
	int ret;

	if (nl_parse(nlh, sizeof(*ndm), tb, NDA_MAX))
		return;
	if (ndm->ndm_family == AF_BRIDGE) {
		on_fdb(d, nlh, ndm, tb);
		return;
	}
	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
		return;
	if (!tb[NDA_DST])
		return;
	alen = ndm->ndm_family == AF_INET ? 4 : 16;
	if (mnl_attr_get_payload_len(tb[NDA_DST]) != alen)
		return;
	memcpy(addr, mnl_attr_get_payload(tb[NDA_DST]), alen);

	gone = nlh->nlmsg_type == RTM_DELNEIGH ||
	       (ndm->ndm_state & (NUD_FAILED | NUD_INCOMPLETE)) ||
	       !tb[NDA_LLADDR] || mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6;
	if (gone) {
		if (neightab_del(&d->nm.neighs, dev, ndm->ndm_family, addr, old))
			relearn_mac(d, dev, old, 0);
		return;
	}
	ret = neightab_set(&d->nm.neighs, dev, ndm->ndm_family, addr,
			   mnl_attr_get_payload(tb[NDA_LLADDR]), old);
	if (ret == NT_CHANGED) {
		relearn_mac(d, dev, old, 0);
	} else if (ret < 0) {
		/* Past the bound (a neighbour table raised far beyond the
		 * kernel's default): this neighbour's MAC may have changed
		 * unseen, so every flow is learned again, at most once a
		 * second: safe, if slow, and the bound holds.
		 */
		__u64 now = mono_ns();

		if (!d->nm.full_ns)
			pr_warn("more than %u neighbours: flows are relearned on each new one",
				d->nm.neighs.max);
		if (!d->nm.full_ns || now - d->nm.full_ns >= 1000000000ULL) {
			d->nm.full_ns = now;
			d->flush_needed = true;
		}
	}
}

/* A device is gone: so are its neighbours. */
static void forget_dev(struct daemon *d, __u32 ifindex)
{
	neightab_del_dev(&d->nm.neighs, ifindex);
}

/*
 * A feature change is a link message too: rx VLAN offload turned back on
 * under an attached port would hide tags from XDP, and a tagged frame
 * would match an untagged flow. Turn it off again; if the driver keeps it
 * on, the port's input goes to the TC tier (dev_ingress_need()). Either
 * way its flows are learned again.
 */
static void vlan_recheck(struct daemon *d, __u32 ifindex)
{
	struct link *l = links_get(&d->links, ifindex);
	bool stuck;
	char done[64];
	int err;

	if (!l || !l->name[0])
		return;
	err = dev_rx_vlan_offload_off(l->name, done, sizeof(done));
	stuck = err == -EBUSY;
	if (!done[0] && stuck == l->vlan_stuck)
		return;		/* nothing new: most link messages */
	if (done[0])
		pr_info("%s: rx VLAN offload came back on: turned off %s again", l->name, done);
	else if (stuck)
		pr_warn("%s: rx VLAN offload is on and stays on: its input goes to the TC tier",
			l->name);
	l->vlan_stuck = stuck;
	l->need_ns = 0;
	fsm_relearn_via(d, ifindex, NULL);
}

static void on_link(struct daemon *d, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	__u32 ifindex = ifi->ifi_index;
	struct link_change ch;

	links_msg(&d->links, nlh, &ch);
	/* eth0.7, ppp0 or br-lan changed under flows keyed on their ports:
	 * which ones is not known, so all are learned again. A port that
	 * joins or leaves a bridge moves only its own flows (follow_ports()).
	 */
	switch (ch.stack) {
	case STACK_MOVED:
		d->flush_needed = true;
		/* fall through */
	case STACK_PORTS:
		d->ports_changed = true;
		break;
	case STACK_SAME:
		break;
	}
	if (ch.removed) {
		forget_dev(d, ifindex);
		if (!ch.watched)
			return;
		pr_warn("%s: interface removed; its flows go back to the slow path", ch.name);
		bpf_map_delete_elem(d->m.tx_ports, &ifindex);
		fsm_relearn_via(d, ifindex, NULL);
		return;
	}
	if (ch.dev_changed && is_attached(d, ifindex))
		fsm_relearn_via(d, ifindex, NULL);
	if (ifi->ifi_family == AF_UNSPEC && is_attached(d, ifindex))
		vlan_recheck(d, ifindex);
}

/* fe80::/64, which every interface gets when it comes up (a Wi-Fi port
 * joining br-lan, say): link-local addresses are never forwarded.
 */
static bool link_local_route(const struct nlmsghdr *nlh, const struct rtmsg *rtm)
{
	const struct nlattr *tb[RTA_MAX + 1] = {};
	const __u8 *dst;

	if (rtm->rtm_family != AF_INET6 || rtm->rtm_dst_len < 10)
		return false;
	if (nl_parse(nlh, sizeof(*rtm), tb, RTA_MAX) || !tb[RTA_DST] || mnl_attr_get_payload_len(tb[RTA_DST]) != 16)
		return false;
	dst = mnl_attr_get_payload(tb[RTA_DST]);
	return dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80;
}

static void on_route(struct daemon *d, const struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	/* Cached PMTU exceptions, local-table, multicast and link-local
	 * routes do not move forwarded flows.
	 */
	if (rtm->rtm_flags & RTM_F_CLONED || rtm->rtm_table == RT_TABLE_LOCAL ||
	    rtm->rtm_type == RTN_MULTICAST || link_local_route(nlh, rtm))
		return;
	/* "ip route ... mtu 1400": the kernel forwards nothing bigger on
	 * that route (ip_forward() checks the route's MTU, not the
	 * device's). From the first such route on, each learned direction
	 * looks up its own route's MTU; without one, none is asked.
	 */
	if (nlh->nlmsg_type == RTM_NEWROUTE && !d->nm.route_mtu &&
	    nl_route_msg_mtu(nlh)) {
		pr_debug("a route with an MTU metric: learned flows take it into account");
		d->nm.route_mtu = true;
	}
	pr_debug("route change in table %u: relearning every flow", rtm->rtm_table);
	d->flush_needed = true;
}

static void on_qdisc(struct daemon *d, const struct nlmsghdr *nlh)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TCA_MAX + 1] = {};
	struct link *l;
	bool shaped;

	if (tcm->tcm_parent != TC_H_ROOT || nl_parse(nlh, sizeof(*tcm), tb, TCA_MAX))
		return;
	shaped = nlh->nlmsg_type == RTM_NEWQDISC && tb[TCA_KIND] &&
		 qdisc_kind_shapes(mnl_attr_get_str(tb[TCA_KIND]));
	l = links_add(&d->links, tcm->tcm_ifindex);
	if (!l)
		return;
	/* A shaper that came or went moves the flows out of it to the TC tier
	 * or back to XDP (docs/DESIGN.md, "Tiers"): they learn again.
	 */
	if (shaped != l->shaped && d->opt.sqm_guard) {
		fsm_relearn_via(d, tcm->tcm_ifindex, NULL);
		/* A shaper on ppp0 or eth0.7: flows through it use the port. */
		if (links_is_stacked(&d->links, tcm->tcm_ifindex))
			d->flush_needed = true;
	}
	if (!shaped && l->shaped)
		d->sqm_changed = true;
	l->shaped = shaped;
}

/*
 * An ingress filter came or went: perhaps a redirect to an ifb (hold
 * sqm_ingress). The device is probed again; flows in through it learn
 * again, and held ones are reconsidered.
 */
static void on_filter(struct daemon *d, const struct nlmsghdr *nlh)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct link *l;

	if (TC_H_MAJ(tcm->tcm_parent) != TC_H_MAJ(TC_H_CLSACT) ||
	    (TC_H_MIN(tcm->tcm_parent) != TC_H_MIN_INGRESS && TC_H_MIN(tcm->tcm_parent)))
		return;
	l = links_get(&d->links, tcm->tcm_ifindex);
	if (!l || !l->need_ns)
		return;		/* never probed: nothing learned through it */
	l->need_ns = 0;
	fsm_relearn_via(d, tcm->tcm_ifindex, NULL);
	d->flush_needed = true;		/* stacked devices' flows key the port */
	d->sqm_changed = true;
}

/* "ip rule" changes the routing of whatever it selects (from, fwmark,
 * iif, uid...): which flows is not worth computing, all learn again.
 */
static void on_rule(struct daemon *d, const struct nlmsghdr *nlh)
{
	pr_debug("policy-routing rule %s: relearning every flow",
		 nlh->nlmsg_type == RTM_NEWRULE ? "added" : "removed");
	d->flush_needed = true;
}

/* The set of the router's own addresses is read again when next asked.
 * Flows stay: an RA refreshing a SLAAC address's lifetimes sends
 * RTM_NEWADDR every few minutes, and local routes never moved a
 * forwarded flow (on_route()).
 */
static void on_addr(struct daemon *d)
{
	d->addrs.stale = true;
}

static int rtnl_cb(const struct nlmsghdr *nlh, void *data)
{
	struct daemon *d = data;

	switch (nlh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		on_neigh(d, nlh);
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		on_link(d, nlh);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		on_route(d, nlh);
		break;
	case RTM_NEWQDISC:
	case RTM_DELQDISC:
		on_qdisc(d, nlh);
		break;
	case RTM_NEWTFILTER:
	case RTM_DELTFILTER:
		on_filter(d, nlh);
		break;
	case RTM_NEWRULE:
	case RTM_DELRULE:
		on_rule(d, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		on_addr(d);
		break;
	}
	return MNL_CB_OK;
}

static int nl_open(struct mnl_socket **s, int bus, const unsigned int *groups,
		   int n)
{
	int buf = NL_RCVBUF;

	*s = mnl_socket_open2(bus, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!*s)
		return -errno;
	if (mnl_socket_bind(*s, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	for (int i = 0; i < n; i++)
		if (mnl_socket_setsockopt(*s, NETLINK_ADD_MEMBERSHIP, (void *)&groups[i],
					  sizeof(groups[i])) < 0)
			return -errno;
	setsockopt(mnl_socket_get_fd(*s), SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	return 0;
}

/* Fill the caches before the first event can be compared with them. */
static void rtnl_dump(struct daemon *d, int type, int family)
{
	nl_route_dump(type, family, rtnl_cb, d);
}

int netmon_open(struct daemon *d)
{
	static const unsigned int rt_groups[] = {
		RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE,
		RTNLGRP_IPV6_ROUTE, RTNLGRP_TC, RTNLGRP_IPV4_RULE,
		RTNLGRP_IPV6_RULE, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
	};
	static const unsigned int nf_groups[] = { NFNLGRP_NFTABLES };
	int err;

	/* Keyed as the connection table is (conntab_init() came first). */
	err = neightab_init(&d->nm.neighs, MAX_NEIGH, d->conns.key);
	if (!err)
		err = nl_open(&d->nm.rtnl, NETLINK_ROUTE, rt_groups,
			      sizeof(rt_groups) / sizeof(rt_groups[0]));
	if (!err)
		err = nl_open(&d->nm.nft, NETLINK_NETFILTER, nf_groups, 1);
	if (err) {
		pr_warn("cannot subscribe to netlink events: %s", strerror(-err));
		netmon_close(d);
		return err;
	}
	/* Caches only: nothing is offloaded yet. The FDB is not copied
	 * (on_fdb()).
	 */
	d->addrs.stale = true;
	rtnl_dump(d, RTM_GETLINK, AF_UNSPEC);
	rtnl_dump(d, RTM_GETNEIGH, AF_UNSPEC);
	rtnl_dump(d, RTM_GETQDISC, AF_UNSPEC);
	rtnl_dump(d, RTM_GETROUTE, AF_UNSPEC);	/* for nm.route_mtu only */
	d->flush_needed = false;
	return 0;
}

void netmon_close(struct daemon *d)
{
	if (d->nm.rtnl)
		mnl_socket_close(d->nm.rtnl);
	if (d->nm.nft)
		mnl_socket_close(d->nm.nft);
	d->nm.rtnl = d->nm.nft = NULL;
	neightab_free(&d->nm.neighs);
	addrs_free(&d->addrs);
}

int netmon_rtnl_fd(const struct daemon *d)
{
	return mnl_socket_get_fd(d->nm.rtnl);
}

int netmon_nft_fd(const struct daemon *d)
{
	return mnl_socket_get_fd(d->nm.nft);
}

int netmon_read_rtnl(struct daemon *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int n;

	/* Bounded per pass (docs/DESIGN.md, "Safety rules" 10): the socket
	 * stays readable, and the loop comes back after the timer.
	 */
	for (int i = 0; i < NL_BATCH; i++) {
		n = mnl_socket_recvfrom(d->nm.rtnl, buf, sizeof(buf));
		if (n <= 0)
			break;
		mnl_cb_run(buf, n, 0, 0, rtnl_cb, d);
	}
	/*
	 * Lost link/neighbour/route events: the caches are rebuilt from dumps
	 * (a neighbour deleted meanwhile would otherwise stay cached for good,
	 * one whose MAC changed would keep the old one), and every flow is
	 * learned again, since which ones moved is not known.
	 */
	if (n < 0 && errno == ENOBUFS) {
		links_load(&d->links);
		neightab_clear(&d->nm.neighs);
		rtnl_dump(d, RTM_GETNEIGH, AF_UNSPEC);
		if (!d->nm.route_mtu)
			rtnl_dump(d, RTM_GETROUTE, AF_UNSPEC);
		d->flush_needed = true;
		pr_debug("rtnetlink events were lost: caches reloaded, relearning every flow");
	}
	return 0;
}

static int nft_cb(const struct nlmsghdr *nlh, void *data)
{
	struct daemon *d = data;
	int type = NFNL_MSG_TYPE(nlh->nlmsg_type);

	/* Every committed change ends with NEWGEN; the objects before it
	 * (rules, chains, sets, elements, tables) are what changed.
	 */
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_NFTABLES &&
	    type != NFT_MSG_NEWGEN && type != NFT_MSG_GETGEN)
		d->flush_needed = true;
	return MNL_CB_OK;
}

int netmon_read_nft(struct daemon *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int n;

	for (int i = 0; i < NL_BATCH; i++) {
		n = mnl_socket_recvfrom(d->nm.nft, buf, sizeof(buf));
		if (n <= 0)
			break;
		mnl_cb_run(buf, n, 0, 0, nft_cb, d);
	}
	/* Lost nftables events: assume the worst. */
	if (n < 0 && errno == ENOBUFS)
		d->flush_needed = true;
	return 0;
}
