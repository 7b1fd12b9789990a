// SPDX-License-Identifier: GPL-2.0-only
/*
 * links.c - the daemon's one link cache: every device's facts the verdicts
 * depend on (MTU, MAC, flags, a shaping root qdisc), and the stacked devices
 * (VLAN, PPPoE, bridge) with the ports under them.
 *
 * XDP runs on the lowest devices, where frames arrive with their VLAN tags
 * and PPPoE header still on. The stack hands the same packet to the
 * routing code on a device above: eth0.7 (a VLAN of eth0), ppp0 (a PPPoE
 * session over eth0.7) or br-lan (a bridge over lan1, lan2). This file
 * maps one to the other:
 *
 * - links_ports(): a name given on the command line -> the ports to attach
 *   to, with a line saying why;
 * - links_carries(): does a frame arriving on a port with these tags and
 *   this session reach this stacked device? (the daemon's check before it
 *   keys a direction on what the other direction learned);
 * - links_egress_devs(): the devices a frame leaving a port with these tags
 *   went through on its way down (for their MTU and qdisc).
 *
 * It keeps a copy of the link table: links_load() dumps it, and the daemon
 * feeds it every link notification through links_msg(). PPPoE
 * sessions are read from /proc/net/pppoe when needed: which ppp device
 * owns which session is not exported by the kernel, so a check that needs
 * it accepts any PPPoE session of the network namespace.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "fastpath.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/rtnl.h"
#include "daemon/links.h"

/* linux/if.h clashes with net/if.h; this is its value. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP (1 << 16)
#endif

/* Recursion bound: a VLAN of a VLAN of a bridge port is 3 deep. */
#define STACK_DEPTH	8

struct link *links_get(const struct links *ls, __u32 ifindex)
{
	for (int i = 0; i < ls->n; i++)
		if (ls->v[i].ifindex == ifindex)
			return &ls->v[i];
	return NULL;
}

/* Grows without bound: a fixed table that is full would read MTU 0. */
struct link *links_add(struct links *ls, __u32 ifindex)
{
	struct link *l = links_get(ls, ifindex), *grown;

	if (l)
		return l;
	if (ls->n == ls->max) {
		grown = realloc(ls->v, (ls->max + 64) * sizeof(*ls->v));
		if (!grown)
			return NULL;
		ls->v = grown;
		ls->max += 64;
	}
	l = &ls->v[ls->n++];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	return l;
}

static void link_del(struct links *ls, __u32 ifindex)
{
	struct link *l = links_get(ls, ifindex);

	if (l)
		*l = ls->v[--ls->n];
}

void links_free(struct links *ls)
{
	free(ls->v);
	ls->v = NULL;
	ls->n = ls->max = 0;
}

/* The kernel drops a vanished device from the devmap itself, so whether it
 * was ours is remembered here.
 */
void links_watch(struct links *ls, __u32 ifindex, const char *name, bool on)
{
	struct link *l = on ? links_add(ls, ifindex) : links_get(ls, ifindex);

	if (!l)
		return;
	l->watched = on;
	if (on && !l->name[0])
		snprintf(l->name, sizeof(l->name), "%s", name);
}

static void parse_linkinfo(const struct nlattr *info, struct link *l)
{
	const struct nlattr *ti[IFLA_INFO_MAX + 1] = {}, *tv[IFLA_VLAN_MAX + 1] = {};
	const char *kind;

	nl_parse_nested(info, ti, IFLA_INFO_MAX);
	if (!ti[IFLA_INFO_KIND])
		return;
	kind = mnl_attr_get_str(ti[IFLA_INFO_KIND]);
	if (!strcmp(kind, "bridge")) {
		l->kind = LK_BRIDGE;
	} else if (!strcmp(kind, "ppp")) {
		l->kind = LK_PPP;
	} else if (!strcmp(kind, "vlan") && ti[IFLA_INFO_DATA]) {
		nl_parse_nested(ti[IFLA_INFO_DATA], tv, IFLA_VLAN_MAX);
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
 * A stacked device that went away, went down, changed its MTU, lower
 * device or tag may move traffic the fast path carries through it
 * (STACK_MOVED); a device that joined or left a bridge moves only its own
 * flows (STACK_PORTS).
 */
static enum stack_change stack_change(const struct link *old, const struct link *l,
				      bool known)
{
	if (!known)	/* new; perhaps created as a bridge port */
		return l->master ? STACK_PORTS : STACK_SAME;
	if (l->kind == LK_PLAIN)
		return old->master != l->master ? STACK_PORTS : STACK_SAME;
	/* Its MAC too: flows arriving through it are addressed to it, and
	 * their entries carry it (fp_flow.in_dmac). A bridge takes a new
	 * one when a port with a lower address joins.
	 */
	if (old->kind != l->kind || old->lower != l->lower || old->vlan != l->vlan ||
	    old->mtu != l->mtu || ((old->flags ^ l->flags) & IFF_UP) ||
	    memcmp(old->mac, l->mac, 6))
		return STACK_MOVED;
	return old->master != l->master ? STACK_PORTS : STACK_SAME;
}

static void link_update(struct link *l, const struct ifinfomsg *ifi,
			const struct nlattr **tb)
{
	l->kind = ifi->ifi_type == ARPHRD_PPP ? LK_PPP : LK_PLAIN;
	l->vlan = 0;
	l->lower = tb[IFLA_LINK] ? mnl_attr_get_u32(tb[IFLA_LINK]) : 0;
	l->master = tb[IFLA_MASTER] ? mnl_attr_get_u32(tb[IFLA_MASTER]) : 0;
	l->mtu = tb[IFLA_MTU] ? mnl_attr_get_u32(tb[IFLA_MTU]) : 0;
	l->flags = ifi->ifi_flags;
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_LINKINFO])
		parse_linkinfo(tb[IFLA_LINKINFO], l);
	l->seen = l->mark = true;
	l->need_ns = 0;		/* XDP mode or driver may have changed: probe again */
}

/* One RTM_NEWLINK/RTM_DELLINK into the cache, and what it changed. */
void links_msg(struct links *ls, const struct nlmsghdr *nlh, struct link_change *ch)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	struct link *l, old;
	bool known;

	memset(ch, 0, sizeof(*ch));
	/* The bridge's own per-port messages carry no link info. */
	if (ifi->ifi_family != AF_UNSPEC || nl_parse(nlh, sizeof(*ifi), tb, IFLA_MAX))
		return;
	l = links_get(ls, ifi->ifi_index);
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (!l)
			return;
		ch->removed = true;
		ch->watched = l->watched;
		snprintf(ch->name, sizeof(ch->name), "%s", l->name);
		ch->stack = l->kind != LK_PLAIN ? STACK_MOVED :
			    l->master ? STACK_PORTS : STACK_SAME;
		link_del(ls, ifi->ifi_index);
		return;
	}
	known = l && l->seen;
	l = links_add(ls, ifi->ifi_index);
	if (!l) {
		ch->stack = STACK_MOVED;	/* out of memory: assume the worst */
		return;
	}
	old = *l;
	link_update(l, ifi, tb);
	ch->stack = stack_change(&old, l, known);
	ch->watched = l->watched;
	snprintf(ch->name, sizeof(ch->name), "%s", l->name);
	if (known)
		ch->dev_changed = old.mtu != l->mtu || memcmp(old.mac, l->mac, 6) ||
				  ((old.flags ^ l->flags) & (IFF_UP | IFF_LOWER_UP)) ||
				  !(l->flags & IFF_UP) || !(l->flags & IFF_LOWER_UP);
}

static int load_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_change ch;

	links_msg(data, nlh, &ch);
	return MNL_CB_OK;
}

/*
 * Fills the cache from a dump; the daemon keeps it current after, and
 * loads it again after lost notifications: what the dump no longer lists
 * is gone, what it lists keeps its qdisc and watch marks.
 */
int links_load(struct links *ls)
{
	int err;

	for (int i = 0; i < ls->n; i++)
		ls->v[i].mark = false;
	err = nl_route_dump(RTM_GETLINK, AF_UNSPEC, load_cb, ls);
	if (err)
		return err;
	for (int i = 0; i < ls->n;)
		if (!ls->v[i].mark && ls->v[i].seen)
			ls->v[i] = ls->v[--ls->n];
		else
			i++;
	return 0;
}

bool links_is_stacked(const struct links *ls, __u32 ifindex)
{
	const struct link *l = links_get(ls, ifindex);

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

static bool carries(const struct links *ls, __u32 dev, __u32 port, __u16 vlan0, __u16 vlan1, __u16 sid,
		    int depth)
{
	struct pppoe_sess s[MAX_SESS];
	const struct link *l;
	int n;

	if (depth > STACK_DEPTH)
		return false;
	if (dev == port)
		return !vlan0 && !vlan1 && !sid;
	l = links_get(ls, dev);
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
			    carries(ls, s[i].dev, port, vlan0, vlan1, 0, depth + 1))
				return true;
		return false;
	case LK_VLAN:
		if (sid)
			return false;
		/* This device takes off the innermost tag left. */
		if (vlan1)
			return vlan1 == l->vlan &&
			       carries(ls, l->lower, port, vlan0, 0, 0, depth + 1);
		return vlan0 && vlan0 == l->vlan &&
		       carries(ls, l->lower, port, 0, 0, 0, depth + 1);
	case LK_BRIDGE:
		for (int i = 0; i < ls->n; i++)
			if (ls->v[i].master == dev &&
			    carries(ls, ls->v[i].ifindex, port, vlan0, vlan1, sid, depth + 1))
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
bool links_carries(const struct links *ls, __u32 dev, __u32 port, const __u16 vlan[2], __u16 sid)
{
	return carries(ls, dev, port, vlan[0], vlan[1], sid, 0);
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
int links_egress_devs(const struct links *ls, __u32 oif, const __u16 vlan[2],
		      __u16 sid, __u32 *devs, int max)
{
	const struct link *cur = links_get(ls, oif), *br;
	int n = 0, t = 0;

	add_dev(devs, &n, max, oif);
	for (int depth = 0; cur && depth < STACK_DEPTH; depth++) {
		const struct link *up = NULL;

		br = cur->master ? links_get(ls, cur->master) : NULL;
		if (br && br->kind == LK_BRIDGE)
			add_dev(devs, &n, max, br->ifindex);
		else
			br = NULL;
		if (t >= 2 || !vlan[t])
			break;
		for (int i = 0; i < ls->n && !up; i++)
			if (ls->v[i].kind == LK_VLAN && ls->v[i].vlan == vlan[t] &&
			    (ls->v[i].lower == cur->ifindex ||
			     (br && ls->v[i].lower == br->ifindex)))
				up = &ls->v[i];
		if (!up)
			break;
		add_dev(devs, &n, max, up->ifindex);
		cur = up;
		t++;
	}
	if (sid)
		for (int i = 0; i < ls->n; i++)
			if (ls->v[i].kind == LK_PPP)
				add_dev(devs, &n, max, ls->v[i].ifindex);
	return n;
}

/*
 * fp_flow.mtu for that egress: the lowest device's MTU, lowered to what
 * the devices above it allow. The datapath takes 8 bytes off for PPPoE,
 * so a PPP device's MTU counts 8 more. 0 when @oif is unknown.
 */
__u16 links_egress_mtu(const struct links *ls, __u32 oif, const __u16 vlan[2],
		       __u16 sid)
{
	__u32 devs[16], mtu = 0, m;
	const struct link *l;
	int n;

	n = links_egress_devs(ls, oif, vlan, sid, devs, 16);
	for (int i = 0; i < n; i++) {
		l = links_get(ls, devs[i]);
		if (!l || !l->mtu)
			continue;
		m = l->mtu + (l->kind == LK_PPP ? 8 : 0);
		if (!mtu || m < mtu)
			mtu = m;
	}
	return mtu > 65535 ? 65535 : mtu;
}

/* A name from the cache, so a device just gone still has one. */
static const char *name_of(const struct links *ls, __u32 ifindex,
			   char buf[IF_NAMESIZE + 8])
{
	const struct link *l = links_get(ls, ifindex);

	if (l && l->name[0])
		return l->name;
	return ifname_or_index(ifindex, buf);
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
static int resolve(const struct links *ls, __u32 ifindex, __u32 *ports, int *n, int max, char *why,
		   size_t len, int depth)
{
	struct pppoe_sess s[MAX_SESS];
	const struct link *l = links_get(ls, ifindex);
	char nb[IF_NAMESIZE + 8];
	int err, ns, found = 0;

	if (depth > STACK_DEPTH) {
		pr_warn("%s: devices stacked too deep", name_of(ls, ifindex, nb));
		return -ELOOP;
	}
	if (!l || l->kind == LK_PLAIN)
		return add_dev(ports, n, max, ifindex);
	if (depth)
		appendf(why, len, " = ");
	switch (l->kind) {
	case LK_VLAN:
		appendf(why, len, "%s %sVLAN %u", name_of(ls, l->lower, nb),
			l->vlan & FP_VLAN_8021AD ? "802.1ad " : "",
			l->vlan & FP_VLAN_VID_MASK);
		return resolve(ls, l->lower, ports, n, max, why, len, depth + 1);
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
			err = resolve(ls, s[i].dev, ports, n, max, why, len, depth + 1);
			if (err)
				return err;
		}
		return 0;
	case LK_BRIDGE:
		appendf(why, len, "bridge over");
		for (int i = 0; i < ls->n; i++) {
			if (ls->v[i].master != ifindex)
				continue;
			appendf(why, len, "%s %s", found++ ? "," : "", ls->v[i].name);
		}
		if (!found) {
			pr_warn("%s: the bridge has no ports", l->name);
			return -ENOENT;
		}
		for (int i = 0; i < ls->n; i++) {
			if (ls->v[i].master != ifindex)
				continue;
			err = resolve(ls, ls->v[i].ifindex, ports, n, max, why, len, depth + 1);
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
int links_resolve(const struct links *ls, char *const *names, int nnames,
		  __u32 *ports, int *nports, int max, const char *verb)
{
	__u32 ifindex, sub[FP_MAX_PORTS];
	char why[512], list[512], nb[IF_NAMESIZE + 8];
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
		if (!links_is_stacked(ls, ifindex)) {
			if (add_dev(ports, nports, max, ifindex))
				goto too_many;
			continue;
		}
		why[0] = list[0] = '\0';
		nsub = 0;
		err = resolve(ls, ifindex, sub, &nsub, FP_MAX_PORTS, why, sizeof(why), 0);
		if (err == -E2BIG)
			goto too_many;
		if (err)
			return err;
		for (int j = 0; j < nsub; j++) {
			appendf(list, sizeof(list), "%s%s", j ? ", " : "", name_of(ls, sub[j], nb));
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

/* links_resolve() on a fresh copy of the link table. */
int links_ports(char *const *names, int nnames, __u32 *ports, int *nports,
		int max, const char *verb)
{
	struct links ls = {};
	int err = links_load(&ls);

	if (err)
		pr_warn("cannot read the interfaces: %s", strerror(-err));
	else
		err = links_resolve(&ls, names, nnames, ports, nports, max, verb);
	links_free(&ls);
	return err;
}

/* SQM guard: a shaping qdisc on any device the frame passed on its way
 * down (ppp0, eth0.7, br-lan or the port itself, which comes first).
 */
enum egress_shaper links_egress_shaped(const struct links *ls, __u32 oif,
				       const __u16 vlan[2], __u16 sid)
{
	enum egress_shaper s = SHAPER_NONE;
	__u32 devs[16];
	const struct link *l;
	int n;

	n = links_egress_devs(ls, oif, vlan, sid, devs, 16);
	for (int i = 0; i < n; i++) {
		l = links_get(ls, devs[i]);
		if (!l || !l->shaped)
			continue;
		if (devs[i] != oif)
			return SHAPER_UPPER;
		s = SHAPER_PORT;
	}
	return s;
}
