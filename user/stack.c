// SPDX-License-Identifier: GPL-2.0-only
/*
 * stack.c - stacked devices (VLAN, PPPoE, bridge) and the ports under them.
 *
 * XDP runs on the lowest devices, where frames arrive with their VLAN tags
 * and PPPoE header still on. The stack hands the same packet to the
 * routing code on a device above: eth0.7 (a VLAN of eth0), ppp0 (a PPPoE
 * session over eth0.7) or br-lan (a bridge over lan1, lan2). This file
 * maps one to the other:
 *
 * - stack_ports(): a name given on the command line -> the ports to attach
 *   to, with a line saying why;
 * - stack_carries(): does a frame arriving on a port with these tags and
 *   this session reach this stacked device? (the daemon's check before it
 *   keys a direction on what the other direction learned);
 * - stack_egress_devs(): the devices a frame leaving a port with these tags
 *   went through on its way down (for their MTU and qdisc).
 *
 * It keeps a copy of the link table: stack_load() dumps it, and the daemon
 * feeds it every link notification through stack_link_msg(). PPPoE
 * sessions are read from /proc/net/pppoe when needed: which ppp device
 * owns which session is not exported by the kernel, so a check that needs
 * it accepts any PPPoE session of the network namespace.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "fp.h"

enum { LK_PLAIN = 0, LK_VLAN, LK_BRIDGE, LK_PPP };

struct link {
	__u32 ifindex;
	__u32 lower;		/* IFLA_LINK of a VLAN device */
	__u32 master;		/* IFLA_MASTER: the bridge of a port */
	__u32 mtu;
	__u32 flags;
	__u16 vlan;		/* a VLAN device's tag, as fp_flow_key.vlan */
	__u8 kind;		/* LK_* */
	char name[IF_NAMESIZE];
};

static struct link *links;
static int nlinks, maxlinks;

/* Recursion bound: a VLAN of a VLAN of a bridge port is 3 deep. */
#define STACK_DEPTH	8

static struct link *link_get(__u32 ifindex)
{
	for (int i = 0; i < nlinks; i++)
		if (links[i].ifindex == ifindex)
			return &links[i];
	return NULL;
}

static struct link *link_add(__u32 ifindex)
{
	struct link *l = link_get(ifindex), *grown;

	if (l)
		return l;
	if (nlinks == maxlinks) {
		grown = realloc(links, (maxlinks + 64) * sizeof(*links));
		if (!grown)
			return NULL;
		links = grown;
		maxlinks += 64;
	}
	l = &links[nlinks++];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	return l;
}

static void link_del(__u32 ifindex)
{
	struct link *l = link_get(ifindex);

	if (l)
		*l = links[--nlinks];
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	/* One table for all three levels: IFLA_*, IFLA_INFO_* and IFLA_VLAN_*
	 * are parsed into separate arrays, each at most IFLA_MAX long.
	 */
	if (mnl_attr_type_valid(a, IFLA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void parse_linkinfo(const struct nlattr *info, struct link *l)
{
	const struct nlattr *ti[IFLA_MAX + 1] = {}, *tv[IFLA_MAX + 1] = {};
	const char *kind;

	mnl_attr_parse_nested(info, attr_cb, ti);
	if (!ti[IFLA_INFO_KIND])
		return;
	kind = mnl_attr_get_str(ti[IFLA_INFO_KIND]);
	if (!strcmp(kind, "bridge")) {
		l->kind = LK_BRIDGE;
	} else if (!strcmp(kind, "ppp")) {
		l->kind = LK_PPP;
	} else if (!strcmp(kind, "vlan") && ti[IFLA_INFO_DATA]) {
		mnl_attr_parse_nested(ti[IFLA_INFO_DATA], attr_cb, tv);
		if (!tv[IFLA_VLAN_ID])
			return;
		l->kind = LK_VLAN;
		l->vlan = mnl_attr_get_u16(tv[IFLA_VLAN_ID]) & FP_VLAN_VID_MASK;
		if (tv[IFLA_VLAN_PROTOCOL] &&
		    mnl_attr_get_u16(tv[IFLA_VLAN_PROTOCOL]) == htons(ETH_P_8021AD))
			l->vlan |= FP_VLAN_8021AD;
	}
}

/*
 * One RTM_NEWLINK/RTM_DELLINK. Returns STACK_MOVED when the change may
 * move traffic that the fast path carries through a stacked device (a
 * VLAN, bridge or PPP device went away, went down, changed its MTU, lower
 * device or tag), STACK_PORTS when a device joined or left a bridge (the
 * flows through the other ports stay as they are), else STACK_SAME.
 */
enum stack_change stack_link_msg(const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	enum stack_change ret;
	struct link *l, old;
	bool known;

	/* The bridge's own per-port messages carry no link info. */
	if (ifi->ifi_family != AF_UNSPEC)
		return STACK_SAME;
	l = link_get(ifi->ifi_index);
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (!l)
			return STACK_SAME;
		ret = l->kind != LK_PLAIN ? STACK_MOVED :
		      l->master ? STACK_PORTS : STACK_SAME;
		link_del(ifi->ifi_index);
		return ret;
	}
	known = l != NULL;
	l = link_add(ifi->ifi_index);
	if (!l)
		return STACK_MOVED;	/* out of memory: assume the worst */
	old = *l;
	mnl_attr_parse(nlh, sizeof(*ifi), attr_cb, tb);
	l->kind = ifi->ifi_type == ARPHRD_PPP ? LK_PPP : LK_PLAIN;
	l->vlan = 0;
	l->lower = tb[IFLA_LINK] ? mnl_attr_get_u32(tb[IFLA_LINK]) : 0;
	l->master = tb[IFLA_MASTER] ? mnl_attr_get_u32(tb[IFLA_MASTER]) : 0;
	l->mtu = tb[IFLA_MTU] ? mnl_attr_get_u32(tb[IFLA_MTU]) : 0;
	l->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_LINKINFO])
		parse_linkinfo(tb[IFLA_LINKINFO], l);
	if (!known)	/* new; perhaps created as a bridge port */
		return l->master ? STACK_PORTS : STACK_SAME;
	if (l->kind == LK_PLAIN)
		return old.master != l->master ? STACK_PORTS : STACK_SAME;
	if (old.kind != l->kind || old.lower != l->lower || old.vlan != l->vlan ||
	    old.mtu != l->mtu || ((old.flags ^ l->flags) & IFF_UP))
		return STACK_MOVED;
	return old.master != l->master ? STACK_PORTS : STACK_SAME;
}

static int load_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	stack_link_msg(nlh);
	return MNL_CB_OK;
}

/* Fills the link table from a dump; the daemon keeps it current after. */
int stack_load(void)
{
	char buf[NLMSG_ALIGN(sizeof(struct nlmsghdr)) + 64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	nlinks = 0;
	return nl_route_query(nlh, load_cb, NULL);
}

bool stack_is_stacked(__u32 ifindex)
{
	const struct link *l = link_get(ifindex);

	return l && l->kind != LK_PLAIN;
}

/* PPPoE sessions of this network namespace, from /proc/net/pppoe. */
struct pppoe_sess {
	__u16 sid;		/* host order */
	__u8 peer[6];
	__u32 dev;		/* the device the session runs over */
	char devname[IF_NAMESIZE];
};

#define MAX_SESS 16

static int pppoe_sessions(struct pppoe_sess *s, int max)
{
	char line[128], mac[18], dev[IF_NAMESIZE];
	unsigned int sid;
	int n = 0;
	FILE *f;

	f = fopen("/proc/net/pppoe", "re");
	if (!f)
		return 0;	/* no pppoe module: no sessions */
	while (n < max && fgets(line, sizeof(line), f)) {
		/* "%08X %pM %8s": the id is printed in network byte order. */
		if (sscanf(line, "%x %17s %15s", &sid, mac, dev) != 3)
			continue;	/* the header */
		s[n].sid = ntohs((__u16)sid);
		if (parse_mac(mac, s[n].peer))
			continue;
		snprintf(s[n].devname, sizeof(s[n].devname), "%s", dev);
		s[n].dev = if_nametoindex(dev);
		if (s[n].dev)
			n++;
	}
	fclose(f);
	return n;
}

static bool carries(__u32 dev, __u32 port, __u16 vlan0, __u16 vlan1, __u16 sid,
		    int depth)
{
	struct pppoe_sess s[MAX_SESS];
	const struct link *l;
	int n;

	if (depth > STACK_DEPTH)
		return false;
	if (dev == port)
		return !vlan0 && !vlan1 && !sid;
	l = link_get(dev);
	if (!l)
		return false;
	switch (l->kind) {
	case LK_PPP:
		/* PPPoE is the innermost layer: the session comes off first. */
		if (!sid)
			return false;
		n = pppoe_sessions(s, MAX_SESS);
		for (int i = 0; i < n; i++)
			if (s[i].sid == sid &&
			    carries(s[i].dev, port, vlan0, vlan1, 0, depth + 1))
				return true;
		return false;
	case LK_VLAN:
		if (sid)
			return false;
		/* This device takes off the innermost tag left. */
		if (vlan1)
			return vlan1 == l->vlan &&
			       carries(l->lower, port, vlan0, 0, 0, depth + 1);
		return vlan0 && vlan0 == l->vlan &&
		       carries(l->lower, port, 0, 0, 0, depth + 1);
	case LK_BRIDGE:
		for (int i = 0; i < nlinks; i++)
			if (links[i].master == dev &&
			    carries(links[i].ifindex, port, vlan0, vlan1, sid, depth + 1))
				return true;
		return false;
	}
	return false;
}

/*
 * Does a frame that arrives on @port with tags @vlan and PPPoE session
 * @sid reach @dev, where the routing code saw it? A bridge's frame may
 * come in on any of its ports.
 */
bool stack_carries(__u32 dev, __u32 port, const __u16 vlan[2], __u16 sid)
{
	return carries(dev, port, vlan[0], vlan[1], sid, 0);
}

/* Adds @ifindex to a set; -E2BIG when it is full. */
static int add_dev(__u32 *devs, int *n, int max, __u32 ifindex)
{
	for (int i = 0; i < *n; i++)
		if (devs[i] == ifindex)
			return 0;
	if (*n >= max)
		return -E2BIG;
	devs[(*n)++] = ifindex;
	return 0;
}

/*
 * The devices a frame leaving through @oif with tags @vlan and PPPoE
 * session @sid went through: @oif, the bridge it is a port of, the VLAN
 * device of each tag (outer first), and for PPPoE every PPP device, since
 * which one owns the session is not known. Returns how many.
 */
int stack_egress_devs(__u32 oif, const __u16 vlan[2], __u16 sid, __u32 *devs,
		      int max)
{
	const struct link *cur = link_get(oif), *br;
	int n = 0, t = 0;

	add_dev(devs, &n, max, oif);
	for (int depth = 0; cur && depth < STACK_DEPTH; depth++) {
		const struct link *up = NULL;

		br = cur->master ? link_get(cur->master) : NULL;
		if (br && br->kind == LK_BRIDGE)
			add_dev(devs, &n, max, br->ifindex);
		else
			br = NULL;
		if (t >= 2 || !vlan[t])
			break;
		for (int i = 0; i < nlinks && !up; i++)
			if (links[i].kind == LK_VLAN && links[i].vlan == vlan[t] &&
			    (links[i].lower == cur->ifindex ||
			     (br && links[i].lower == br->ifindex)))
				up = &links[i];
		if (!up)
			break;
		add_dev(devs, &n, max, up->ifindex);
		cur = up;
		t++;
	}
	if (sid)
		for (int i = 0; i < nlinks; i++)
			if (links[i].kind == LK_PPP)
				add_dev(devs, &n, max, links[i].ifindex);
	return n;
}

/*
 * fp_flow.mtu for that egress: the lowest device's MTU, lowered to what
 * the devices above it allow. The datapath takes 8 bytes off for PPPoE,
 * so a PPP device's MTU counts 8 more. 0 when @oif is unknown.
 */
__u16 stack_egress_mtu(__u32 oif, const __u16 vlan[2], __u16 sid)
{
	__u32 devs[16], mtu = 0, m;
	const struct link *l;
	int n;

	n = stack_egress_devs(oif, vlan, sid, devs, 16);
	for (int i = 0; i < n; i++) {
		l = link_get(devs[i]);
		if (!l || !l->mtu)
			continue;
		m = l->mtu + (l->kind == LK_PPP ? 8 : 0);
		if (!mtu || m < mtu)
			mtu = m;
	}
	return mtu > 65535 ? 65535 : mtu;
}

static const char *name_of(__u32 ifindex)
{
	const struct link *l = link_get(ifindex);
	static char buf[4][IF_NAMESIZE + 8];
	static int i;

	if (l && l->name[0])
		return l->name;
	i = (i + 1) % 4;
	return ifname_or_index(ifindex, buf[i]);
}

static void appendf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Resolves @ifindex down to its ports, adding them to @ports, and writes
 * how into @why ("PPPoE session 0x1234 over eth0.7 = eth0 VLAN 7").
 */
static int resolve(__u32 ifindex, __u32 *ports, int *n, int max, char *why,
		   size_t len, int depth)
{
	struct pppoe_sess s[MAX_SESS];
	const struct link *l = link_get(ifindex);
	int err, ns, found = 0;

	if (depth > STACK_DEPTH) {
		pr_warn("%s: devices stacked too deep", name_of(ifindex));
		return -ELOOP;
	}
	if (!l || l->kind == LK_PLAIN)
		return add_dev(ports, n, max, ifindex);
	if (depth)
		appendf(why, len, " = ");
	switch (l->kind) {
	case LK_VLAN:
		appendf(why, len, "%s %sVLAN %u", name_of(l->lower),
			l->vlan & FP_VLAN_8021AD ? "802.1ad " : "",
			l->vlan & FP_VLAN_VID_MASK);
		return resolve(l->lower, ports, n, max, why, len, depth + 1);
	case LK_PPP:
		ns = pppoe_sessions(s, MAX_SESS);
		if (!ns) {
			pr_warn("%s: no PPPoE session in /proc/net/pppoe (not connected, or not PPPoE); give its Ethernet device instead",
				l->name);
			return -ENOENT;
		}
		appendf(why, len, "PPPoE session%s", ns > 1 ? "s" : "");
		for (int i = 0; i < ns; i++)
			appendf(why, len, "%s 0x%04x over %s", i ? "," : "", s[i].sid,
				s[i].devname);
		for (int i = 0; i < ns; i++) {
			err = resolve(s[i].dev, ports, n, max, why, len, depth + 1);
			if (err)
				return err;
		}
		return 0;
	case LK_BRIDGE:
		appendf(why, len, "bridge over");
		for (int i = 0; i < nlinks; i++) {
			if (links[i].master != ifindex)
				continue;
			appendf(why, len, "%s %s", found++ ? "," : "", links[i].name);
		}
		if (!found) {
			pr_warn("%s: the bridge has no ports", l->name);
			return -ENOENT;
		}
		for (int i = 0; i < nlinks; i++) {
			if (links[i].master != ifindex)
				continue;
			err = resolve(links[i].ifindex, ports, n, max, why, len, depth + 1);
			if (err)
				return err;
		}
		return 0;
	}
	return -EINVAL;
}

/*
 * The command line's interface names -> the ports XDP and the learner go
 * on, each once, from the link table as it is (the daemon keeps it current
 * from link notifications). A stacked name (eth0.7, ppp0, br-lan) becomes
 * the devices under it, with one line saying so ("...: @verb eth0", none
 * if @verb is NULL); a plain name is itself. 0, or -errno after a
 * one-line error.
 */
int stack_resolve(char *const *names, int nnames, __u32 *ports, int *nports,
		  int max, const char *verb)
{
	__u32 ifindex, sub[FP_MAX_PORTS];
	char why[512], list[512];
	int err, nsub;

	*nports = 0;
	for (int i = 0; i < nnames; i++) {
		if (parse_ifname(names[i], &ifindex)) {
			pr_warn("%s: no such interface", names[i]);
			return -ENODEV;
		}
	}
	for (int i = 0; i < nnames; i++) {
		parse_ifname(names[i], &ifindex);
		if (!stack_is_stacked(ifindex)) {
			if (add_dev(ports, nports, max, ifindex))
				goto too_many;
			continue;
		}
		why[0] = list[0] = '\0';
		nsub = 0;
		err = resolve(ifindex, sub, &nsub, FP_MAX_PORTS, why, sizeof(why), 0);
		if (err == -E2BIG)
			goto too_many;
		if (err)
			return err;
		for (int j = 0; j < nsub; j++) {
			appendf(list, sizeof(list), "%s%s", j ? ", " : "", name_of(sub[j]));
			if (add_dev(ports, nports, max, sub[j]))
				goto too_many;
		}
		if (verb)
			pr_info("%s: %s: %s %s", names[i], why, verb, list);
	}
	return 0;
too_many:
	pr_warn("at most %d interfaces", max);
	return -E2BIG;
}

/* stack_resolve() on a fresh copy of the link table. */
int stack_ports(char *const *names, int nnames, __u32 *ports, int *nports,
		int max, const char *verb)
{
	int err = stack_load();

	if (err) {
		pr_warn("cannot read the interfaces: %s", strerror(-err));
		return err;
	}
	return stack_resolve(names, nnames, ports, nports, max, verb);
}
