// SPDX-License-Identifier: GPL-2.0-only
/*
 * learn.c - a connection's way into the flow table and out of it.
 *
 * conn_evaluate() decides from conntrack whether a connection is a
 * candidate. A candidate's directions wait in fp_learn; learn_event() turns
 * the TC program's report into a flow-table entry; conn_tick() keeps
 * conntrack alive for active flows and removes idle or closing ones.
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>

#include "daemon.h"

/* The kernel reuses the UNTRACKED bit for clashing NAT entries; the UAPI
 * copy only names it under __KERNEL__.
 */
#define CT_NAT_CLASH	IPS_UNTRACKED

static void key_from_tuple(struct fp_flow_key *k, __u32 ifindex,
			   const struct ct_tuple *t)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = ifindex;
	k->family = t->family;
	k->proto = t->proto;
	k->sport = t->sport;
	k->dport = t->dport;
	memcpy(k->saddr, t->src, 16);
	memcpy(k->daddr, t->dst, 16);
}

static void tuple_from_key(struct ct_tuple *t, const struct fp_flow_key *k)
{
	memset(t, 0, sizeof(*t));
	t->family = k->family;
	t->proto = k->proto;
	t->sport = k->sport;
	t->dport = k->dport;
	memcpy(t->src, k->saddr, 16);
	memcpy(t->dst, k->daddr, 16);
}

/* A direction leaves the router with the inverse of the other direction's
 * tuple: that is what NAT made of it.
 */
static void egress_key(struct fp_flow_key *k, const struct conn *c, int dir)
{
	struct ct_tuple t;

	tuple_invert(&t, &c->tuple[!dir]);
	key_from_tuple(k, 0, &t);
}

static enum fp_hold conn_policy(const struct daemon *d, const struct conn *c)
{
	if (c->tuple[0].proto == IPPROTO_TCP) {
		if (c->tcp_state != TCP_CONNTRACK_ESTABLISHED)
			return FP_H_NOT_READY;
	} else if (!(c->status & IPS_SEEN_REPLY)) {
		return FP_H_NOT_READY;
	}
	if (c->status & (IPS_HELPER | IPS_SEQ_ADJUST | CT_NAT_CLASH))
		return FP_H_HELPER;
	if (!d->opt.policy_all &&
	    (c->mark & d->opt.mark_mask) != d->opt.mark_value)
		return FP_H_POLICY;
	return FP_H_LEARNING;
}

static void learn_add(struct daemon *d, struct conn *c, int dir)
{
	struct fp_learn v = { .cookie = (__u64)c->id << 1 | dir };
	struct fp_flow_key k;

	egress_key(&k, c, dir);
	if (bpf_map_update_elem(d->learn_fd, &k, &v, BPF_ANY)) {
		pr_debug("cannot add a learning entry: %s", strerror(errno));
		return;
	}
	c->dir[dir].learning = true;
}

static bool is_candidate(const struct conn *c)
{
	return c->dir[0].learning || c->dir[1].learning ||
	       c->dir[0].offloaded || c->dir[1].offloaded ||
	       c->dir[0].pending || c->dir[1].pending;
}

void conn_unoffload(struct daemon *d, struct conn *c, bool relearn)
{
	bool was = false;
	struct fp_flow_key k;

	for (int dir = 0; dir < 2; dir++) {
		struct conn_dir *cd = &c->dir[dir];

		if (cd->offloaded) {
			ppe_dir_stop(d, cd);
			fp_flow_delete(d->m.flows, &cd->key);
			bpf_map_delete_elem(d->rates_fd, &cd->key);
			cd->offloaded = false;
			d->offloaded--;
			was = true;
		}
		if (cd->learning) {
			egress_key(&k, c, dir);
			bpf_map_delete_elem(d->learn_fd, &k);
			cd->learning = false;
		}
		cd->learned = cd->pending = false;
	}
	if (was) {
		d->st.torn_down++;
		d->conns_offloaded--;
	}
	if (relearn && conn_policy(d, c) == FP_H_LEARNING) {
		learn_add(d, c, DIR_ORIG);
		learn_add(d, c, DIR_REPLY);
		c->hold = FP_H_LEARNING;
		c->candidate_ns = mono_ns();
	}
}

void conn_evaluate(struct daemon *d, struct conn *c, bool mark_changed)
{
	enum fp_hold hold = conn_policy(d, c);

	if (hold != FP_H_LEARNING) {
		conn_unoffload(d, c, false);
		c->hold = hold;
		return;
	}
	/* A new mark may mean a new verdict: learn it again through the
	 * firewall (DESIGN.md, safety rule 3).
	 */
	if (mark_changed && is_candidate(c)) {
		conn_unoffload(d, c, true);
		return;
	}
	if (is_candidate(c) || c->hold == FP_H_TABLE_FULL ||
	    c->hold == FP_H_NOT_ATTACHED || c->hold == FP_H_SQM)
		return;

	c->candidate_ns = mono_ns();
	c->hold = FP_H_LEARNING;
	c->dir[0].learned = c->dir[1].learned = false;
	learn_add(d, c, DIR_ORIG);
	learn_add(d, c, DIR_REPLY);
	pr_debug("conntrack %u: learning both directions", c->id);
	/* After arming the learner, so the next packets are caught meanwhile;
	 * still before any entry, which only the learning events make.
	 */
	if (c->tuple[0].proto == IPPROTO_TCP && ct_set_liberal(c))
		pr_debug("cannot set BE_LIBERAL on conntrack %u", c->id);
}

static bool attached(const struct daemon *d, __u32 ifindex)
{
	__u32 v;

	return !bpf_map_lookup_elem(d->m.tx_ports, &ifindex, &v);
}

/* SQM guard: a shaping qdisc on any device the frame passed on its way
 * down (ppp0, eth0.7, br-lan or the port itself).
 */
static bool egress_shaped(const struct dir_out *o)
{
	__u32 devs[16];
	int n;

	n = stack_egress_devs(o->oif, o->vlan, o->sid, devs, 16);
	for (int i = 0; i < n; i++)
		if (sqm_shaped(devs[i]))
			return true;
	return false;
}

/*
 * Writes direction @dir of a learned connection into the table. Its key
 * is what XDP sees where the direction arrives:
 * - on an attached port (skb->ingress_ifindex is the port): that port,
 *   untagged;
 * - on a stacked device (eth0.7, ppp0, br-lan), or unknown (0): the port,
 *   tags and PPPoE session the other direction leaves with, since both
 *   directions of a connection use the same link. For a bridge, that port
 *   is where the bridge's FDB sends the peer's MAC. The direction waits
 *   ("pending") until the other one is learned, and is kept slow if the
 *   stacked device would not receive those frames (asymmetric routing).
 */
static int dir_offload(struct daemon *d, struct conn *c, int dir)
{
	struct conn_dir *cd = &c->dir[dir], *other = &c->dir[!dir];
	char in[IF_NAMESIZE + 8], port[IF_NAMESIZE + 8];
	struct fp_flow_key ek;
	struct fp_flow f = {};
	int err;

	cd->pending = false;
	key_from_tuple(&cd->key, cd->iif, &c->tuple[dir]);
	if (!attached(d, cd->iif)) {
		if (!other->learned) {
			pr_debug("conntrack %u: %s direction arrives on %s: waits for the other",
				 c->id, dir ? "reply" : "original",
				 ifname_or_index(cd->iif, in));
			cd->pending = true;
			return 0;
		}
		/* No ingress device to check against (see learn_event()). */
		if (cd->iif && !stack_carries(cd->iif, other->out.oif, other->out.vlan,
					      other->out.sid)) {
			pr_debug("conntrack %u: %s does not receive from %s vlan %#x/%#x pppoe %#x; kept slow",
				 c->id, ifname_or_index(cd->iif, in),
				 ifname_or_index(other->out.oif, port), other->out.vlan[0],
				 other->out.vlan[1], other->out.sid);
			c->hold = FP_H_NOT_ATTACHED;
			return 0;
		}
		cd->key.ifindex = other->out.oif;
		memcpy(cd->key.vlan, other->out.vlan, sizeof(cd->key.vlan));
		cd->key.pppoe_sid = other->out.sid;
		/* Frames come to the MAC the router sends from on that link
		 * (the VLAN, bridge or PPPoE device's), and PPPoE frames from
		 * the concentrator the other direction goes to.
		 */
		memcpy(f.in_dmac, other->out.smac, 6);
		if (other->out.sid)
			memcpy(f.in_smac, other->out.dmac, 6);
	} else {
		__u32 mtu;

		/* The port itself receives: its own MAC. */
		if (link_info(ifname_or_index(cd->iif, in), f.in_dmac, &mtu)) {
			pr_debug("conntrack %u: no MAC for %s; kept slow", c->id, in);
			c->hold = FP_H_NOT_ATTACHED;
			return 0;
		}
	}
	/* --max-flows counts connections; a second direction always fits. */
	if (!other->offloaded && d->conns_offloaded >= d->opt.max_flows) {
		c->hold = FP_H_TABLE_FULL;
		d->st.table_full++;
		return 0;
	}

	/* The tuple it leaves with is what NAT made of it. */
	egress_key(&ek, c, dir);
	f.state = FP_STATE_XDP;
	f.oif = cd->out.oif;
	f.mtu = stack_egress_mtu(cd->out.oif, cd->out.vlan, cd->out.sid);
	if (!f.mtu)
		f.mtu = events_dev_mtu(cd->out.oif);
	memcpy(f.dmac, cd->out.dmac, 6);
	memcpy(f.smac, cd->out.smac, 6);
	memcpy(f.out_vlan, cd->out.vlan, sizeof(f.out_vlan));
	f.out_pppoe_sid = cd->out.sid;
	memcpy(f.nat_saddr, ek.saddr, 16);
	memcpy(f.nat_daddr, ek.daddr, 16);
	f.nat_sport = ek.sport;
	f.nat_dport = ek.dport;
	if (memcmp(ek.saddr, c->tuple[dir].src, 16) || ek.sport != c->tuple[dir].sport)
		f.flags |= FP_F_SNAT;
	if (memcmp(ek.daddr, c->tuple[dir].dst, 16) || ek.dport != c->tuple[dir].dport)
		f.flags |= FP_F_DNAT;

	err = fp_flow_write(d->m.flows, &cd->key, &f, BPF_ANY);
	if (err) {
		if (err == -E2BIG || err == -ENOMEM) {
			c->hold = FP_H_TABLE_FULL;
			d->st.table_full++;
			return 0;
		}
		pr_warn("cannot write a flow entry: %s", strerror(-err));
		return err;
	}
	pr_debug("conntrack %u: %s direction in %s vlan %#x/%#x pppoe %#x, out %s vlan %#x/%#x pppoe %#x",
		 c->id, dir ? "reply" : "original", ifname_or_index(cd->key.ifindex, in),
		 cd->key.vlan[0], cd->key.vlan[1], cd->key.pppoe_sid,
		 ifname_or_index(f.oif, port), f.out_vlan[0], f.out_vlan[1],
		 f.out_pppoe_sid);
	if (!other->offloaded)
		d->conns_offloaded++;
	cd->offloaded = true;
	cd->last_seen = 0;
	cd->packets = cd->bytes = 0;
	c->active_ns = mono_ns();
	d->offloaded++;
	d->st.learned++;
	daemon_latency(d, c->active_ns - c->candidate_ns);
	if (other->offloaded)
		c->hold = FP_H_MAX;
	ppe_dir_start(d, c, dir);
	return 0;
}

int learn_event(struct daemon *d, const struct fp_learn_event *ev)
{
	struct ct_tuple egress, inv;
	struct conn_dir *cd;
	struct conn *c;
	int which, dir, err;

	tuple_from_key(&egress, &ev->key);
	tuple_invert(&inv, &egress);
	c = conn_find(&inv, &which);
	/* Matching the reply tuple means the packet went the original way. */
	dir = which == DIR_REPLY ? DIR_ORIG : DIR_REPLY;
	if (!c || !c->dir[dir].learning || ev->cookie != ((__u64)c->id << 1 | dir)) {
		pr_debug("learning event for %s: stale", c ? "a changed connection" :
			 "no connection");
		return 0;	/* stale: the connection changed meanwhile */
	}
	cd = &c->dir[dir];
	cd->learning = false;

	/* The learner runs on the lowest devices only, so @oif is a port;
	 * the ingress is a port or a device stacked on ports. It is 0 when
	 * the frame went out through a PPP device, whose xmit clears
	 * skb->ingress_ifindex, and for the router's own packets: both wait
	 * for the other direction, which a local connection never gets.
	 */
	if (!attached(d, ev->oif) ||
	    (ev->iif && !attached(d, ev->iif) && !stack_is_stacked(ev->iif))) {
		c->hold = FP_H_NOT_ATTACHED;
		return 0;
	}
	cd->iif = ev->iif;
	cd->out.oif = ev->oif;
	memcpy(cd->out.vlan, ev->out_vlan, sizeof(cd->out.vlan));
	cd->out.sid = ev->out_pppoe_sid;
	memcpy(cd->out.dmac, ev->dmac, 6);
	memcpy(cd->out.smac, ev->smac, 6);
	/* The whole connection stays with the qdisc, not just the direction
	 * leaving through it; it is reconsidered when the qdisc goes.
	 */
	if (d->opt.sqm_guard && egress_shaped(&cd->out)) {
		conn_unoffload(d, c, false);
		c->hold = FP_H_SQM;
		return 0;
	}
	cd->learned = true;

	err = dir_offload(d, c, dir);
	/* The other direction may have waited for this one's egress. */
	if (!err && c->dir[!dir].pending)
		err = dir_offload(d, c, !dir);
	return err;
}

/* Once a second per connection: counters, keep-alive, idle and teardown. */
void conn_tick(struct daemon *d, struct conn *c)
{
	__u64 now = mono_ns();
	bool active = false;
	__u32 timeout;

	/* Capacity may be back: let these try again. */
	if (c->hold == FP_H_TABLE_FULL && d->conns_offloaded < d->opt.max_flows) {
		c->hold = FP_H_NOT_READY;
		conn_evaluate(d, c, false);
		return;
	}

	for (int dir = 0; dir < 2; dir++) {
		struct conn_dir *cd = &c->dir[dir];
		struct fp_rate r;
		struct fp_flow f;

		if (!cd->offloaded)
			continue;
		if (bpf_map_lookup_elem(d->m.flows, &cd->key, &f)) {
			/* removed behind our back ("fastpath flow del") */
			conn_unoffload(d, c, true);
			return;
		}
		if (f.state == FP_STATE_TEARDOWN) {
			/* FIN/RST went up: conntrack takes it from here. */
			conn_unoffload(d, c, false);
			c->hold = FP_H_NOT_READY;
			return;
		}
		ppe_dir_tick(d, c, dir, &f);
		r.pps = f.packets - cd->packets;
		r.bps = (f.bytes - cd->bytes) * 8;
		bpf_map_update_elem(d->rates_fd, &cd->key, &r, BPF_ANY);
		cd->packets = f.packets;
		cd->bytes = f.bytes;
		if (f.last_seen > cd->last_seen) {
			cd->last_seen = f.last_seen;
			active = true;
		}
	}
	if (!c->dir[0].offloaded && !c->dir[1].offloaded)
		return;

	if (active) {
		c->active_ns = now;
		/* Refresh well before conntrack's own timer could fire. */
		timeout = ct_timeout_for(c);
		if (now - c->refreshed_ns >= (__u64)timeout * 1000000000ULL / 3) {
			if (!ct_refresh(c, timeout))
				d->st.refreshes++;
			c->refreshed_ns = now;
		}
	} else if (now - c->active_ns > (__u64)d->opt.idle_timeout_s * 1000000000ULL) {
		/* Idle: back to learning; conntrack expires it if it stays so. */
		conn_unoffload(d, c, true);
	}
}
