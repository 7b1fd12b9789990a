// SPDX-License-Identifier: GPL-2.0-only
/*
 * events.c - changes that may change a verdict (DESIGN.md, safety rules 3,
 * 5 and 7), from rtnetlink and nfnetlink multicast groups.
 *
 * - nftables: any ruleset or set change takes every flow off the fast path;
 *   each returns only through a packet the new ruleset accepts.
 * - routes: all flows are learned again, along the new routes.
 * - neighbours: flows to a MAC that changed or went away are torn down.
 * - links: flows through a device that went down, changed its MAC or MTU,
 *   or vanished are torn down; a vanished device leaves the devmap.
 * - qdiscs: the SQM guard's view of each device's root qdisc.
 */
#include <errno.h>
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

#include "daemon.h"

#define NL_RCVBUF (8 << 20)

/* linux/if.h clashes with net/if.h; this is its value. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP (1 << 16)
#endif

static struct mnl_socket *rtnl, *nft;

/* Neighbour cache: (ifindex, address) -> MAC, to see a MAC change. */
struct neigh {
	struct neigh *next;
	__u32 ifindex;
	__u8 family;
	__be32 addr[4];
	__u8 mac[6];
};
static struct neigh *neighs;

/* Per-device facts the verdicts depend on. */
#define MAX_DEVS 256
struct dev {
	__u32 ifindex;
	__u32 flags;
	__u32 mtu;
	__u8 mac[6];
	bool shaped;	/* root qdisc shapes traffic */
	bool watched;	/* one of the daemon's interfaces */
	char name[IF_NAMESIZE];
};
static struct dev devs[MAX_DEVS];

static struct dev *dev_get(__u32 ifindex, bool create)
{
	struct dev *free_slot = NULL;

	for (int i = 0; i < MAX_DEVS; i++) {
		if (devs[i].ifindex == ifindex)
			return &devs[i];
		if (!devs[i].ifindex && !free_slot)
			free_slot = &devs[i];
	}
	if (create && free_slot) {
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->ifindex = ifindex;
	}
	return create ? free_slot : NULL;
}

/* From the link cache; 0 (every packet "too big") if the device is gone. */
__u16 events_dev_mtu(__u32 ifindex)
{
	struct dev *dv = dev_get(ifindex, false);

	if (!dv)
		return 0;
	return dv->mtu > 65535 ? 65535 : dv->mtu;
}

bool sqm_shaped(__u32 ifindex)
{
	struct dev *dv = dev_get(ifindex, false);

	return dv && dv->shaped;
}

/* The kernel drops a vanished device from the devmap itself, so whether it
 * was ours is remembered here.
 */
void events_watch(__u32 ifindex, const char *name)
{
	struct dev *dv = dev_get(ifindex, true);

	if (dv) {
		dv->watched = true;
		snprintf(dv->name, sizeof(dv->name), "%s", name);
	}
}

void events_unwatch(__u32 ifindex)
{
	struct dev *dv = dev_get(ifindex, false);

	if (dv)
		dv->watched = false;
}

static __u32 match_ifindex;
static const __u8 *match_mac;

static void teardown_if_match(struct daemon *d, struct conn *c)
{
	bool hit = false;

	for (int dir = 0; dir < 2; dir++) {
		const struct conn_dir *cd = &c->dir[dir];
		struct fp_flow f;

		/* A learned egress may key the other direction too. */
		if (cd->learned && cd->out.oif == match_ifindex &&
		    (!match_mac || !memcmp(cd->out.dmac, match_mac, 6)))
			hit = true;
		if (!cd->offloaded)
			continue;
		if (cd->key.ifindex == match_ifindex && !match_mac)
			hit = true;
		if (bpf_map_lookup_elem(d->m.flows, &cd->key, &f))
			continue;
		if (f.oif == match_ifindex &&
		    (!match_mac || !memcmp(f.dmac, match_mac, 6)))
			hit = true;
	}
	if (hit)
		conn_unoffload(d, c, true);
}

/* Flows out of @ifindex to @mac, or all flows in or out of it (mac NULL). */
void teardown_oif_mac(struct daemon *d, __u32 ifindex, const __u8 *mac)
{
	match_ifindex = ifindex;
	match_mac = mac;
	conn_foreach(teardown_if_match, d);
}

void teardown_dev(struct daemon *d, __u32 ifindex)
{
	teardown_oif_mac(d, ifindex, NULL);
}

static bool is_attached(struct daemon *d, __u32 ifindex)
{
	__u32 v;

	return !bpf_map_lookup_elem(d->m.tx_ports, &ifindex, &v);
}

static int neigh_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, NDA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/*
 * Bridge FDB: MAC -> member port. The fast path sends a flow's frames to
 * the port where the bridge had the next hop's MAC when it was learned,
 * past the bridge; when the MAC shows up on another port (a client
 * moved), those flows are learned again. An entry that ages out is kept:
 * the bridge no longer sees the frames XDP forwards, so aging says
 * nothing about where the MAC is.
 */
struct fdb {
	struct fdb *next;
	__u32 bridge;
	__u32 port;
	__u16 vlan;
	__u8 mac[6];
};
static struct fdb *fdbs;
static unsigned int nfdbs;
#define MAX_FDB 8192

static void on_fdb(struct daemon *d, const struct nlmsghdr *nlh,
		   const struct ndmsg *ndm, const struct nlattr **tb)
{
	const __u8 *mac;
	__u32 bridge;
	__u16 vlan;
	struct fdb *f;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || !tb[NDA_LLADDR] || !tb[NDA_MASTER] ||
	    mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
		return;
	mac = mnl_attr_get_payload(tb[NDA_LLADDR]);
	bridge = mnl_attr_get_u32(tb[NDA_MASTER]);
	vlan = tb[NDA_VLAN] ? mnl_attr_get_u16(tb[NDA_VLAN]) : 0;
	for (f = fdbs; f; f = f->next)
		if (f->bridge == bridge && f->vlan == vlan && !memcmp(f->mac, mac, 6))
			break;
	if (f) {
		if (f->port != (__u32)ndm->ndm_ifindex) {
			teardown_oif_mac(d, f->port, f->mac);
			f->port = ndm->ndm_ifindex;
		}
		return;
	}
	if (nfdbs >= MAX_FDB)
		return;
	f = calloc(1, sizeof(*f));
	if (!f)
		return;
	f->bridge = bridge;
	f->port = ndm->ndm_ifindex;
	f->vlan = vlan;
	memcpy(f->mac, mac, 6);
	f->next = fdbs;
	fdbs = f;
	nfdbs++;
}

static void on_neigh(struct daemon *d, const struct nlmsghdr *nlh)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NDA_MAX + 1] = {};
	struct neigh **pp, *n;
	__be32 addr[4] = {};
	bool gone;
	size_t alen;

	if (ndm->ndm_family == AF_BRIDGE) {
		mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, tb);
		on_fdb(d, nlh, ndm, tb);
		return;
	}
	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
		return;
	mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, tb);
	if (!tb[NDA_DST])
		return;
	alen = ndm->ndm_family == AF_INET ? 4 : 16;
	if (mnl_attr_get_payload_len(tb[NDA_DST]) != alen)
		return;
	memcpy(addr, mnl_attr_get_payload(tb[NDA_DST]), alen);

	for (pp = &neighs; (n = *pp); pp = &n->next)
		if (n->ifindex == (__u32)ndm->ndm_ifindex &&
		    n->family == ndm->ndm_family && !memcmp(n->addr, addr, 16))
			break;

	gone = nlh->nlmsg_type == RTM_DELNEIGH ||
	       (ndm->ndm_state & (NUD_FAILED | NUD_INCOMPLETE)) ||
	       !tb[NDA_LLADDR] || mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6;
	if (gone) {
		if (n) {
			teardown_oif_mac(d, n->ifindex, n->mac);
			*pp = n->next;
			free(n);
		}
		return;
	}
	if (n) {
		if (!memcmp(n->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6))
			return;	/* a state change only */
		teardown_oif_mac(d, n->ifindex, n->mac);
	} else {
		n = calloc(1, sizeof(*n));
		if (!n)
			return;
		n->ifindex = ndm->ndm_ifindex;
		n->family = ndm->ndm_family;
		memcpy(n->addr, addr, 16);
		n->next = neighs;
		neighs = n;
	}
	memcpy(n->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void on_link(struct daemon *d, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	char name[IF_NAMESIZE + 8];
	struct dev *dv, old;
	__u32 ifindex = ifi->ifi_index;
	bool changed;

	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb);
	/* eth0.7, ppp0 or br-lan changed under flows keyed on their ports:
	 * which ones is not known, so all are learned again. A port that
	 * joins or leaves a bridge moves only its own flows (below).
	 */
	switch (stack_link_msg(nlh)) {
	case STACK_MOVED:
		d->flush_needed = true;
		/* fall through */
	case STACK_PORTS:
		d->ports_changed = true;
		break;
	case STACK_SAME:
		break;
	}
	if (nlh->nlmsg_type == RTM_DELLINK) {
		dv = dev_get(ifindex, false);
		if (!dv || !dv->watched) {
			if (dv)
				dv->ifindex = 0;
			return;
		}
		snprintf(name, sizeof(name), "%s", dv->name);
		dv->ifindex = 0;
		pr_warn("%s: interface removed; its flows go back to the slow path", name);
		bpf_map_delete_elem(d->m.tx_ports, &ifindex);
		teardown_dev(d, ifindex);
		return;
	}
	dv = dev_get(ifindex, true);
	if (!dv)
		return;
	old = *dv;
	if (!old.flags && !old.mtu)
		old.ifindex = 0;	/* watched before it was first seen */
	dv->flags = ifi->ifi_flags;
	if (tb[IFLA_MTU])
		dv->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(dv->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	if (!old.ifindex || old.ifindex != ifindex)
		return;	/* first sight */
	changed = old.mtu != dv->mtu || memcmp(old.mac, dv->mac, 6) ||
		  ((old.flags ^ dv->flags) & (IFF_UP | IFF_LOWER_UP)) ||
		  !(dv->flags & IFF_UP) || !(dv->flags & IFF_LOWER_UP);
	if (changed && is_attached(d, ifindex))
		teardown_dev(d, ifindex);
}

static int route_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, RTA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
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
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb);
	if (!tb[RTA_DST] || mnl_attr_get_payload_len(tb[RTA_DST]) != 16)
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
	pr_debug("route change in table %u: relearning every flow", rtm->rtm_table);
	d->flush_needed = true;
}

static int tc_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, TCA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* Shaping root qdiscs; a plain fq_codel or pfifo does not delay anything
 * the fast path would skip.
 */
static bool kind_shapes(const char *kind)
{
	static const char *const shapers[] = { "cake", "htb", "tbf", "hfsc",
					       "cbq", "netem" };

	for (size_t i = 0; i < sizeof(shapers) / sizeof(shapers[0]); i++)
		if (!strcmp(kind, shapers[i]))
			return true;
	return false;
}

static void on_qdisc(struct daemon *d, const struct nlmsghdr *nlh)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TCA_MAX + 1] = {};
	struct dev *dv;
	bool shaped;

	if (tcm->tcm_parent != TC_H_ROOT)
		return;
	mnl_attr_parse(nlh, sizeof(*tcm), tc_attr_cb, tb);
	shaped = nlh->nlmsg_type == RTM_NEWQDISC && tb[TCA_KIND] &&
		 kind_shapes(mnl_attr_get_str(tb[TCA_KIND]));
	dv = dev_get(tcm->tcm_ifindex, true);
	if (!dv)
		return;
	if (shaped && !dv->shaped && d->opt.sqm_guard) {
		teardown_dev(d, tcm->tcm_ifindex);
		/* A shaper on ppp0 or eth0.7: flows through it use the port. */
		if (stack_is_stacked(tcm->tcm_ifindex))
			d->flush_needed = true;
	}
	if (!shaped && dv->shaped)
		d->sqm_changed = true;
	dv->shaped = shaped;
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

/*
 * Fill the caches before the first event can be compared with them. Each
 * request's header is the one of its type; all begin with the family.
 */
static int rtnl_dump(struct daemon *d, int type, int family)
{
	char buf[NLMSG_ALIGN(sizeof(struct nlmsghdr)) + 64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	size_t hdr = type == RTM_GETQDISC ? sizeof(struct tcmsg) :
		     type == RTM_GETLINK ? sizeof(struct ifinfomsg) :
					   sizeof(struct ndmsg);
	__u8 *fam;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_DUMP;
	fam = mnl_nlmsg_put_extra_header(nlh, hdr);
	*fam = family;
	return nl_route_query(nlh, rtnl_cb, d);
}

int events_open(struct daemon *d)
{
	static const unsigned int rt_groups[] = {
		RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE,
		RTNLGRP_IPV6_ROUTE, RTNLGRP_TC,
	};
	static const unsigned int nf_groups[] = { NFNLGRP_NFTABLES };
	int err;

	err = nl_open(&rtnl, NETLINK_ROUTE, rt_groups, 5);
	if (!err)
		err = nl_open(&nft, NETLINK_NETFILTER, nf_groups, 1);
	if (err) {
		pr_warn("cannot subscribe to netlink events: %s", strerror(-err));
		events_close();
		return err;
	}
	/* Caches only: nothing is offloaded yet. */
	rtnl_dump(d, RTM_GETLINK, AF_UNSPEC);
	rtnl_dump(d, RTM_GETNEIGH, AF_UNSPEC);
	rtnl_dump(d, RTM_GETNEIGH, AF_BRIDGE);
	rtnl_dump(d, RTM_GETQDISC, AF_UNSPEC);
	d->flush_needed = false;
	return 0;
}

void events_close(void)
{
	struct neigh *n;
	struct fdb *f;

	if (rtnl)
		mnl_socket_close(rtnl);
	if (nft)
		mnl_socket_close(nft);
	rtnl = nft = NULL;
	while ((n = neighs)) {
		neighs = n->next;
		free(n);
	}
	while ((f = fdbs)) {
		fdbs = f->next;
		free(f);
	}
	nfdbs = 0;
}

int events_rtnl_fd(void)
{
	return mnl_socket_get_fd(rtnl);
}

int events_nft_fd(void)
{
	return mnl_socket_get_fd(nft);
}

int events_read_rtnl(struct daemon *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int n;

	while ((n = mnl_socket_recvfrom(rtnl, buf, sizeof(buf))) > 0)
		mnl_cb_run(buf, n, 0, 0, rtnl_cb, d);
	/* Lost link/neighbour/route events: learn everything again. */
	if (n < 0 && errno == ENOBUFS) {
		stack_load();
		d->flush_needed = true;
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

int events_read_nft(struct daemon *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int n;

	while ((n = mnl_socket_recvfrom(nft, buf, sizeof(buf))) > 0)
		mnl_cb_run(buf, n, 0, 0, nft_cb, d);
	/* Lost nftables events: assume the worst. */
	if (n < 0 && errno == ENOBUFS)
		d->flush_needed = true;
	return 0;
}
