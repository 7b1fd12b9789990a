// SPDX-License-Identifier: GPL-2.0-only
/*
 * devtier.c - what an ingress device asks of the tiers (docs/DESIGN.md,
 * "Tiers"). Three probes, cheapest answer first:
 *
 * - ifb ingress shaping: a filter at the ingress hook (clsact or ingress
 *   qdisc; matchall, u32, flower, basic, fw or bpf classifier) whose
 *   mirred action redirects to a device of kind "ifb", as sqm-scripts sets
 *   up. XDP and TC ingress both run before it: the flow stays slow.
 * - generic XDP: the XDP program on it runs in skb mode.
 * - CHECKSUM_PARTIAL input: tun/tap and virtio_net may hand up packets
 *   whose L4 checksum holds only the pseudo-header sum; a veth does when
 *   its peer transmits with checksum offload, so for a veth the peer's
 *   tx-checksumming decides (looked up in its network namespace when that
 *   one is named under /run/netns; an unknown peer counts as partial).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/tc_act/tc_mirred.h>
#include <libmnl/libmnl.h>
#include <bpf/libbpf.h>

#include "lib/devtier.h"
#include "lib/ethtool.h"
#include "lib/rtnl.h"

struct linkq {
	char kind[16];
	__u32 peer;		/* IFLA_LINK */
	int netnsid;		/* IFLA_LINK_NETNSID, -1 when none */
	char name[IF_NAMESIZE];
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {}, *ti[IFLA_INFO_MAX + 1] = {};
	struct linkq *q = data;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nl_parse(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX))
		return MNL_CB_OK;
	if (tb[IFLA_LINK])
		q->peer = mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINK_NETNSID])
		q->netnsid = (int)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID]);
	if (tb[IFLA_IFNAME])
		snprintf(q->name, sizeof(q->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_LINKINFO] && !nl_parse_nested(tb[IFLA_LINKINFO], ti, IFLA_INFO_MAX) &&
	    ti[IFLA_INFO_KIND])
		snprintf(q->kind, sizeof(q->kind), "%s", mnl_attr_get_str(ti[IFLA_INFO_KIND]));
	return MNL_CB_OK;
}

static int link_query(__u32 ifindex, struct linkq *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	memset(q, 0, sizeof(*q));
	q->netnsid = -1;
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_route_query(nlh, link_cb, q);
}

/* --- ifb at ingress --- */

struct ifbq {
	char ifb[IF_NAMESIZE];	/* the first ifb a filter redirects to */
};

/* The action list of one classifier's options, by classifier kind. */
static int act_attr(const char *kind)
{
	static const struct { const char *kind; int attr; } acts[] = {
		{ "matchall", TCA_MATCHALL_ACT }, { "u32", TCA_U32_ACT },
		{ "flower", TCA_FLOWER_ACT }, { "basic", TCA_BASIC_ACT },
		{ "fw", TCA_FW_ACT }, { "bpf", TCA_BPF_ACT },
	};

	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (!strcmp(kind, acts[i].kind))
			return acts[i].attr;
	return -1;
}

static void check_action(const struct nlattr *act, struct ifbq *q)
{
	const struct nlattr *ta[TCA_ACT_MAX + 1] = {}, *tm[TCA_MIRRED_MAX + 1] = {};
	const struct tc_mirred *m;
	struct linkq l;

	if (nl_parse_nested(act, ta, TCA_ACT_MAX) || !ta[TCA_ACT_KIND] ||
	    strcmp(mnl_attr_get_str(ta[TCA_ACT_KIND]), "mirred") || !ta[TCA_ACT_OPTIONS] ||
	    nl_parse_nested(ta[TCA_ACT_OPTIONS], tm, TCA_MIRRED_MAX) ||
	    !tm[TCA_MIRRED_PARMS] ||
	    mnl_attr_get_payload_len(tm[TCA_MIRRED_PARMS]) < sizeof(*m))
		return;
	m = mnl_attr_get_payload(tm[TCA_MIRRED_PARMS]);
	if (m->eaction != TCA_EGRESS_REDIR && m->eaction != TCA_INGRESS_REDIR)
		return;
	if (!link_query(m->ifindex, &l) && !strcmp(l.kind, "ifb") && !q->ifb[0])
		snprintf(q->ifb, sizeof(q->ifb), "%s", l.name);
}

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TCA_MAX + 1] = {}, *to[TCA_MAX + 1] = {};
	const struct nlattr *a;
	int attr;

	if (nlh->nlmsg_type != RTM_NEWTFILTER ||
	    nl_parse(nlh, sizeof(struct tcmsg), tb, TCA_MAX) || !tb[TCA_KIND] ||
	    !tb[TCA_OPTIONS])
		return MNL_CB_OK;
	attr = act_attr(mnl_attr_get_str(tb[TCA_KIND]));
	/* TCA_MAX bounds every classifier's option attributes used here. */
	if (attr < 0 || nl_parse_nested(tb[TCA_OPTIONS], to, TCA_MAX) || !to[attr])
		return MNL_CB_OK;
	mnl_attr_for_each_nested(a, to[attr])
		check_action(a, data);
	return MNL_CB_OK;
}

static void ifb_query(__u32 ifindex, struct ifbq *q)
{
	memset(q, 0, sizeof(*q));
	nl_ingress_filters(ifindex, filter_cb, q);
}

/* --- checksum offload --- */

static int drvinfo(int fd, const char *ifname, char *driver, size_t len)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&di;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		return -errno;
	snprintf(driver, len, "%s", di.driver);
	return 0;
}

/* 1 when @ifindex (in @fd's netns) transmits with checksum offload. */
static int tx_csum(int fd, __u32 ifindex)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GTXCSUM };
	struct ifreq ifr = {};

	ifr.ifr_ifindex = ifindex;
	if (ioctl(fd, SIOCGIFNAME, &ifr))
		return -errno;
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		return -errno;
	return !!ev.data;
}

struct nsidq {
	int nsid;
};

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NETNSA_MAX + 1] = {};
	struct nsidq *q = data;

	if (nlh->nlmsg_type == RTM_NEWNSID &&
	    !nl_parse(nlh, sizeof(struct rtgenmsg), tb, NETNSA_MAX) && tb[NETNSA_NSID])
		q->nsid = (int)mnl_attr_get_u32(tb[NETNSA_NSID]);
	return MNL_CB_OK;
}

/* Our id for the namespace @nsfd, -1 when it has none. */
static int nsid_of(int nsfd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;
	struct nsidq q = { -1 };

	nlh->nlmsg_type = RTM_GETNSID;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, nsfd);
	if (nl_route_query(nlh, nsid_cb, &q))
		return -1;
	return q.nsid;
}

/* A socket in the named namespace whose id is @nsid, or -errno. */
static int socket_in_nsid(int nsid)
{
	int self, fd = -ENOENT, nsfd;
	struct dirent *de;
	DIR *dir;

	dir = opendir("/run/netns");
	if (!dir)
		return -ENOENT;
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		fd = -errno;
		goto out;
	}
	while ((de = readdir(dir))) {
		char path[300];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			continue;
		if (nsid_of(nsfd) != nsid) {
			close(nsfd);
			continue;
		}
		/* The daemon is single-threaded: in, one socket, back. */
		if (setns(nsfd, CLONE_NEWNET)) {
			fd = -errno;
		} else {
			fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fd < 0)
				fd = -errno;
			if (setns(self, CLONE_NEWNET)) {
				/* Cannot happen with CAP_SYS_ADMIN; never stay there. */
				perror("setns back");
				_exit(1);
			}
		}
		close(nsfd);
		break;
	}
	close(self);
out:
	closedir(dir);
	return fd;
}

/* Does the veth's peer transmit with checksum offload? 1, 0 or -errno. */
static int veth_peer_csum(const struct linkq *l)
{
	int fd, ret;

	if (!l->peer)
		return -ENOENT;
	fd = l->netnsid < 0 ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) :
			      socket_in_nsid(l->netnsid);
	if (fd < 0)
		return fd == -1 ? -errno : fd;
	ret = tx_csum(fd, l->peer);
	close(fd);
	return ret;
}

enum ingress_need dev_ingress_need(__u32 ifindex, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, xq);
	char driver[32] = "";
	struct ifbq iq;
	struct linkq l;
	int fd, r;

	snprintf(why, len, "complete checksums");
	ifb_query(ifindex, &iq);
	if (iq.ifb[0]) {
		snprintf(why, len, "ingress redirected to ifb %s", iq.ifb);
		return IN_IFB;
	}
	if (!bpf_xdp_query(ifindex, 0, &xq) && xq.attach_mode == XDP_ATTACHED_SKB) {
		snprintf(why, len, "generic XDP");
		return IN_TC_GENERIC;
	}
	if (link_query(ifindex, &l))
		return IN_ANY;
	/* A tag XDP cannot see would make a tagged frame look untagged:
	 * only TC, which reads it from the skb, may key such input.
	 */
	if (dev_rx_vlan_active(l.name) > 0) {
		snprintf(why, len, "rx VLAN offload on: XDP cannot see the tags");
		return IN_TC_VLAN;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		drvinfo(fd, l.name, driver, sizeof(driver));
		close(fd);
	}
	if (!strcmp(driver, "tun") || !strcmp(driver, "virtio_net")) {
		snprintf(why, len, "%s may deliver CHECKSUM_PARTIAL", driver);
		return IN_TC_CSUM;
	}
	if (strcmp(l.kind, "veth") && strcmp(driver, "veth"))
		return IN_ANY;
	r = veth_peer_csum(&l);
	if (r == 0) {
		snprintf(why, len, "veth, peer sends complete checksums");
		return IN_ANY;
	}
	if (r > 0)
		snprintf(why, len, "veth, peer has tx checksum offload");
	else
		snprintf(why, len, "veth, peer unknown (%s): may deliver CHECKSUM_PARTIAL",
			 strerror(-r));
	return IN_TC_CSUM;
}

struct qdiscq {
	char kind[16];
};

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TCA_MAX + 1] = {};
	struct qdiscq *q = data;

	if (nlh->nlmsg_type == RTM_NEWQDISC && tcm->tcm_parent == TC_H_ROOT &&
	    !nl_parse(nlh, sizeof(*tcm), tb, TCA_MAX) && tb[TCA_KIND])
		snprintf(q->kind, sizeof(q->kind), "%s", mnl_attr_get_str(tb[TCA_KIND]));
	return MNL_CB_OK;
}

bool qdisc_kind_shapes(const char *kind)
{
	static const char *const shapers[] = { "cake", "htb", "tbf", "hfsc",
					       "cbq", "netem" };

	for (size_t i = 0; i < sizeof(shapers) / sizeof(shapers[0]); i++)
		if (!strcmp(kind, shapers[i]))
			return true;
	return false;
}

int dev_root_qdisc(__u32 ifindex, char *kind, size_t len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct qdiscq q = {};
	struct tcmsg *tcm;
	int err;

	nlh->nlmsg_type = RTM_GETQDISC;
	nlh->nlmsg_flags = NLM_F_DUMP;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	err = nl_route_query(nlh, qdisc_cb, &q);
	snprintf(kind, len, "%s", q.kind);
	return err;
}
