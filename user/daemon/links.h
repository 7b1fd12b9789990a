/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * links.h - the daemon's one link cache (docs/DESIGN.md, "Architecture"):
 * every device's MTU, MAC, flags and root qdisc, and how devices stack
 * (VLAN, PPPoE, bridge) on the ports where XDP runs. "attach" and "detach"
 * use it too, loaded once.
 */
#ifndef FP_DAEMON_LINKS_H
#define FP_DAEMON_LINKS_H

#include <stdbool.h>
#include <linux/types.h>
#include <net/if.h>
#include "lib/devtier.h"

struct nlmsghdr;

enum { LK_PLAIN = 0, LK_VLAN, LK_BRIDGE, LK_PPP };

struct link {
	__u32 ifindex;
	__u32 lower;		/* IFLA_LINK of a VLAN device */
	__u32 master;		/* IFLA_MASTER: the bridge of a port */
	__u32 mtu;
	__u32 flags;		/* IFF_* */
	__u16 vlan;		/* a VLAN device's tag, as fp_flow_key.vlan */
	__u8 kind;		/* LK_* */
	__u8 mac[6];
	bool seen;		/* an RTM_NEWLINK was read (not just a qdisc) */
	bool shaped;		/* its root qdisc shapes traffic (SQM guard) */
	bool watched;		/* one of the daemon's ports */
	bool vlan_stuck;	/* rx VLAN offload stays on (netmon warned) */
	__u8 need;		/* enum ingress_need, probed at need_ns */
	__u64 need_ns;		/* 0: not probed, or invalidated */
	char need_why[64];	/* what the probe found (debug) */
	bool mark;		/* mark-and-sweep of links_load() */
	char name[IF_NAMESIZE];
};

struct links {
	struct link *v;
	int n, max;
};

/* What one link message changed. */
enum stack_change { STACK_SAME, STACK_PORTS, STACK_MOVED };
struct link_change {
	enum stack_change stack;	/* for the stacked devices above ports */
	bool removed;			/* RTM_DELLINK */
	bool dev_changed;		/* MTU, MAC, up or carrier changed, or down */
	bool watched;			/* it was one of the daemon's ports */
	char name[IF_NAMESIZE];
};

int links_load(struct links *ls);
void links_free(struct links *ls);
struct link *links_get(const struct links *ls, __u32 ifindex);
struct link *links_add(struct links *ls, __u32 ifindex);
void links_msg(struct links *ls, const struct nlmsghdr *nlh, struct link_change *ch);
void links_watch(struct links *ls, __u32 ifindex, const char *name, bool on);

bool links_is_stacked(const struct links *ls, __u32 ifindex);
bool links_carries(const struct links *ls, __u32 dev, __u32 port,
		   const __u16 vlan[2], __u16 sid);
int links_egress_devs(const struct links *ls, __u32 oif, const __u16 vlan[2],
		      __u16 sid, __u32 *devs, int max);
__u16 links_egress_mtu(const struct links *ls, __u32 oif, const __u16 vlan[2],
		       __u16 sid);
enum egress_shaper links_egress_shaped(const struct links *ls, __u32 oif,
				       const __u16 vlan[2], __u16 sid);
int links_lower_ports(const struct links *ls, __u32 dev, __u32 *ports, int max);
int links_resolve(const struct links *ls, char *const *names, int nnames,
		  __u32 *ports, int *nports, int max, const char *verb);
int links_ports(char *const *names, int nnames, __u32 *ports, int *nports,
		int max, const char *verb);

#endif /* FP_DAEMON_LINKS_H */
