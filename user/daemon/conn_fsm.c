// SPDX-License-Identifier: GPL-2.0-only
/*
 * conn_fsm.c - the connection state machine (docs/DESIGN.md, "State
 * machine"; this comment is its source).
 *
 * Each direction of a connection has one state (enum dir_state), and the
 * connection has one hold reason (enum fp_hold: why it is slow, FP_H_MAX
 * once both directions are in the table). conn_fsm() is the only function
 * that changes either; adapters turn what they read into events (CE_*),
 * and everything outside goes through struct fsm_ops.
 *
 *  conntrack says   policy selects it (TCP ESTABLISHED, or UDP SEEN_REPLY;
 *  CE_CT            no helper; mark matches)     arm fp_learn, BE_LIBERAL
 *     SLOW/TEARDOWN ------------------------------------------> LEARNING
 *     SLOW          not selected: hold not_established/policy/helper;
 *                   local when it ends on the router (conn_policy())
 *     SLOW          fp_learn full: hold not_learned, counted (learn_full)
 *     TEARDOWN      answer to the recheck, still ESTABLISHED: LEARNING, the
 *                   established conntrack timeout put back (candidate())
 *
 *  CE_LEARNED (the TC learner saw the direction's next slow-path packet)
 *     LEARNING --(egress or ingress not attached)-------> SLOW, hold not_attached
 *     LEARNING --(arrives on a stacked device, other
 *                 direction not learned yet)-------------> WAITING
 *     LEARNING/WAITING --(stacked device does not carry the
 *                 other direction's port/tags)----------> SLOW, hold not_attached
 *     LEARNING/WAITING --(--max-flows reached, table full)--> SLOW, hold table_full
 *     LEARNING/WAITING --(ingress redirects to a shaping ifb,
 *                 SQM guard)-----------------------------> both SLOW, hold sqm_ingress
 *     LEARNING/WAITING --(a device stacked above the egress
 *                 port shapes, SQM guard)----------------> both SLOW, hold sqm
 *     LEARNING/WAITING --(entry written; the tier: --tier
 *                 forces it; else TC when the egress port
 *                 itself shapes (SQM guard), the ingress may deliver
 *                 CHECKSUM_PARTIAL or has generic XDP only;
 *                 else XDP)-------------------------------> XDP or TC
 *                  (the other direction WAITING follows it; both in: hold none)
 *     XDP/TC --(not shaped, not forced, both devices PPE-capable,
 *                 module accepts)------------------------> HW_PENDING
 *     XDP/TC --(module refuses)-------------------------> same, refused until relearned
 *
 *  CE_TICK (once a second)
 *     HW_PENDING --(module reports bound)----------------> HW
 *     HW_PENDING --(not bound within --hw-deadline)------> its tier (refused)
 *     HW_PENDING/HW --(module gone, withdrew it, failed)--> its tier (refused)
 *     XDP/TC/HW_PENDING/HW --(entry teardown: FIN/RST)----> both TEARDOWN,
 *                 conntrack asked at the end of the tick (fsm_tick())
 *     LEARNING/WAITING --(not learned within 10 s)-------> SLOW, hold not_learned
 *                 (a direction in the table stays)
 *     SLOW, hold not_learned --(retry due: 10, 20 .. 320 s)--> LEARNING
 *     XDP/.. --(entry removed behind our back)-----------> both LEARNING
 *     XDP/.. --(idle longer than --idle-timeout)---------> both LEARNING
 *                 (UDP: the conntrack timeout put to run from the last packet)
 *     XDP/.. --(active)-------> same state; conntrack timeout refreshed
 *                 (UDP: a packet 2 s or more after the connection was
 *                 first reported makes it a stream: ASSURED, stream timeout)
 *     TEARDOWN (TCP) --(conntrack still ESTABLISHED 2 s later:
 *                 the FIN/RST was dropped, e.g. forged)-----> both LEARNING
 *     SLOW with hold table_full --(a connection freed a slot)--> both LEARNING
 *
 *  CE_CT_MARK (the mark changed)     any candidate --> both LEARNING again
 *  CE_CT no longer selected           any --> both SLOW, hold of the policy
 *  CE_RELEARN (route, ip rule, neighbour MAC, link down, device
 *    gone, stacked device or port changed, nftables changed)
 *                                          any learned --> both LEARNING
 *    (netmon also relearns the flows through a device whose shaper came or
 *    went, so they change tier)
 *  CE_SQM_GONE   SLOW with hold sqm/sqm_ingress --> re-evaluated (LEARNING)
 *  CE_DESTROY (conntrack DESTROY, NAT replaced, or gone in a resync)
 *                                     any --> both SLOW; the conn is freed
 *  CE_STOP (the daemon exits)         any --> both SLOW, nothing armed
 *
 * Leaving the table always withdraws a hardware flow, then deletes the
 * entry (and its rate); leaving LEARNING disarms the learner: no entry
 * outlives the state that made it (docs/DESIGN.md, "Safety rules").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "lib/fmt.h"
#include "lib/log.h"
#include "daemon/daemon.h"

/* The kernel reuses the UNTRACKED bit for clashing NAT entries; the UAPI
 * copy only names it under __KERNEL__.
 */
#define CT_NAT_CLASH	IPS_UNTRACKED

#define NS	1000000000ULL

/* A candidate whose next packet does not come within this goes back to
 * the slow path (hold not_learned), so idle connections cannot fill the
 * learning map; it is armed again after this, doubled per try up to 32x.
 */
#define NOT_LEARNED_NS	(10 * NS)
#define RETRY_SHIFT_MAX	5

const char *const dir_state_names[DS_MAX] = {
	[DS_SLOW] = "slow", [DS_LEARNING] = "learning", [DS_WAITING] = "waiting",
	[DS_XDP] = "xdp", [DS_TC] = "tc", [DS_HW_PENDING] = "hw_pending",
	[DS_HW] = "hw", [DS_TEARDOWN] = "teardown",
};

const char *const conn_event_names[CE_MAX] = {
	[CE_CT] = "ct", [CE_CT_MARK] = "ct_mark", [CE_DESTROY] = "destroy",
	[CE_LEARNED] = "learned", [CE_TICK] = "tick", [CE_RELEARN] = "relearn",
	[CE_SQM_GONE] = "sqm_gone", [CE_STOP] = "stop",
};

bool dir_in_table(enum dir_state s)
{
	return s == DS_XDP || s == DS_TC || s == DS_HW_PENDING || s == DS_HW;
}

static bool conn_in_table(const struct conn *c)
{
	return dir_in_table(c->state[0]) || dir_in_table(c->state[1]);
}

static bool is_candidate(const struct conn *c)
{
	for (int dir = 0; dir < 2; dir++) {
		enum dir_state s = c->state[dir];

		if (s == DS_LEARNING || s == DS_WAITING || dir_in_table(s))
			return true;
	}
	return false;
}

/* The only writer of a direction's state; the table counts follow it. */
static void dir_set(struct daemon *d, struct conn *c, int dir, enum dir_state s)
{
	bool conn_was = conn_in_table(c), was = dir_in_table(c->state[dir]);
	bool now = dir_in_table(s);

	c->state[dir] = s;
	if (was != now)
		d->offloaded += now ? 1 : -1;
	if (conn_was != conn_in_table(c))
		d->conns_offloaded += conn_was ? -1 : 1;
}

/* @out is valid (learned), and indexed by its (oif, dmac) while it is. */
static void set_have_out(struct daemon *d, struct conn *c, int dir, bool on)
{
	if (!c->dir)
		return;		/* never learned: nothing to clear */
	c->dir[dir].have_out = on;
	if (on)
		conntab_via_link(&d->conns, c, dir);
	else
		conntab_via_unlink(&d->conns, c, dir);
}

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

static __u64 cookie_of(const struct conn *c, int dir)
{
	return (__u64)c->id << 1 | dir;
}

/*
 * Why @c stays slow, or FP_H_LEARNING for a candidate. A connection that
 * ends on the router (its initiator, or its responder after DNAT, is a
 * local or loopback address) has nothing to forward; the post-NAT
 * addresses (a masquerade's) do not count.
 */
static enum fp_hold conn_policy(struct daemon *d, const struct conn *c)
{
	__u8 family = c->tuple[DIR_ORIG].family;

	if (d->ops->is_local(d, family, c->tuple[DIR_ORIG].src) ||
	    d->ops->is_local(d, family, c->tuple[DIR_REPLY].src))
		return FP_H_LOCAL;
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

/* A full learning map is counted and said, once a minute at most. */
static int learn_arm(struct daemon *d, struct conn *c, int dir)
{
	struct fp_flow_key k;
	__u64 now;

	egress_key(&k, c, dir);
	if (d->ops->learn_arm(d, &k, cookie_of(c, dir))) {
		if (errno != E2BIG) {
			pr_debug("cannot add a learning entry: %s", strerror(errno));
			return -1;
		}
		d->st.learn_full++;
		now = d->ops->now(d);
		if (!d->learn_full_logged_ns || now - d->learn_full_logged_ns >= 60 * NS) {
			pr_warn("the learning map is full: new connections stay on the slow path until candidates are learned or age out (fastpath status: learn_full)");
			d->learn_full_logged_ns = now;
		}
		return -1;
	}
	dir_set(d, c, dir, DS_LEARNING);
	return 0;
}

/*
 * Directions still waiting for the learner go back to the slow path; one
 * already in the table stays (a one-way stream never sends the other way).
 * The connection is armed again later, each time after twice the delay.
 */
static void not_learned(struct daemon *d, struct conn *c)
{
	unsigned int shift = c->learn_tries < RETRY_SHIFT_MAX ? c->learn_tries :
			     RETRY_SHIFT_MAX;
	struct fp_flow_key k;

	for (int dir = 0; dir < 2; dir++) {
		enum dir_state s = c->state[dir];

		if (s != DS_LEARNING && s != DS_WAITING)
			continue;
		if (s == DS_LEARNING) {
			egress_key(&k, c, dir);
			d->ops->learn_disarm(d, &k);
		}
		set_have_out(d, c, dir, false);
		dir_set(d, c, dir, DS_SLOW);
	}
	c->hold = FP_H_NOT_LEARNED;
	c->retry_ns = d->ops->now(d) + (NOT_LEARNED_NS << shift);
	if (c->learn_tries < 255)
		c->learn_tries++;
}

/* conntrack's timeout was set to @timeout_s now (a refresh or ASSURED). */
static void refreshed(struct conn *c, __u64 now, __u32 timeout_s)
{
	c->refreshed_ns = now;
	c->refreshed_s = timeout_s;
}

/* Arms every direction on the slow path; false when the map had no room. */
static bool arm_slow(struct daemon *d, struct conn *c)
{
	c->hold = FP_H_LEARNING;
	c->candidate_ns = d->ops->now(d);
	for (int dir = 0; dir < 2; dir++) {
		if (c->state[dir] == DS_SLOW && learn_arm(d, c, dir)) {
			not_learned(d, c);
			return false;
		}
	}
	return true;
}

/*
 * Conntrack saw none of the packets the fast path carried: their growth
 * since the last tick goes into its counters (docs/DESIGN.md, "Tiers").
 */
static void acct(struct daemon *d, const struct conn_dir *cd,
		 const struct fp_flow *f)
{
	if (f->packets > cd->packets && f->bytes >= cd->bytes)
		d->ops->ct_acct(d, &cd->key, f->packets - cd->packets,
				f->bytes - cd->bytes);
}

/* Out of the table and the learner; @rest is SLOW or TEARDOWN. */
static void unoffload(struct daemon *d, struct conn *c, bool relearn,
		      enum dir_state rest)
{
	bool was = conn_in_table(c);
	struct fp_flow_key k;

	for (int dir = 0; dir < 2; dir++) {
		enum dir_state s = c->state[dir];

		if (dir_in_table(s)) {
			struct conn_dir *cd = &c->dir[dir];	/* learned */
			struct fp_flow f;

			/* what it carried since the last tick, before it goes */
			if (!d->ops->entry_read(d, &cd->key, &f))
				acct(d, cd, &f);
			if (s == DS_HW_PENDING || s == DS_HW)
				d->ops->hw_withdraw(d, &cd->key);
			cd->hw_refused = false;
			d->ops->entry_delete(d, &cd->key);
		} else if (s == DS_LEARNING) {
			egress_key(&k, c, dir);
			d->ops->learn_disarm(d, &k);
		}
		set_have_out(d, c, dir, false);
		dir_set(d, c, dir, rest);
	}
	if (was)
		d->st.torn_down++;
	if (relearn && conn_policy(d, c) == FP_H_LEARNING)
		arm_slow(d, c);
}

/*
 * A connection the policy selects, from the slow path. After a FIN/RST
 * teardown (DS_TEARDOWN), conntrack still says ESTABLISHED: the RST was
 * forged or out of window, the endpoints ignored it, and the connection
 * is learned again. conntrack accepted that RST under BE_LIBERAL and may
 * have cut its timeout to the CLOSE state's while keeping it ESTABLISHED
 * (so a challenge ACK can still close it); the established timeout is
 * put back, or an idle connection would expire under a forged RST.
 */
static void candidate(struct daemon *d, struct conn *c, bool rechecked)
{
	bool torn = c->state[DIR_ORIG] == DS_TEARDOWN;
	__u32 timeout;

	set_have_out(d, c, DIR_ORIG, false);
	set_have_out(d, c, DIR_REPLY, false);
	dir_set(d, c, DIR_ORIG, DS_SLOW);
	dir_set(d, c, DIR_REPLY, DS_SLOW);
	if (!arm_slow(d, c))
		return;
	pr_debug("conntrack %u: learning both directions%s", c->id,
		 torn ? " again: still ESTABLISHED after a FIN/RST" : "");
	if (torn && rechecked) {
		d->st.recheck_relearned++;
		timeout = d->ops->ct_timeout(d, c);
		if (!d->ops->refresh(d, c, timeout))
			d->st.refreshes++;
		refreshed(c, d->ops->now(d), timeout);
	}
	/* After arming the learner, so the next packets are caught meanwhile;
	 * still before any entry, which only the learning events make.
	 */
	if (c->tuple[0].proto == IPPROTO_TCP && d->ops->set_liberal(d, c))
		pr_debug("cannot set BE_LIBERAL on conntrack %u", c->id);
}

static void evaluate(struct daemon *d, struct conn *c, bool mark_changed)
{
	enum fp_hold hold = conn_policy(d, c);
	bool rechecked = c->recheck_asked;

	/* Any word from conntrack answers the recheck. */
	c->recheck_asked = c->recheck_due = false;

	if (hold != FP_H_LEARNING) {
		unoffload(d, c, false, DS_SLOW);
		c->hold = hold;
		return;
	}
	/* A new mark may mean a new verdict: learn it again through the
	 * firewall (docs/DESIGN.md, "Safety rules" 3).
	 */
	if (mark_changed && is_candidate(c)) {
		unoffload(d, c, true, DS_SLOW);
		return;
	}
	/* not_learned waits for its retry: no conntrack update re-arms it,
	 * or idle connections would fill the learning map again.
	 */
	if (is_candidate(c) || c->hold == FP_H_TABLE_FULL ||
	    c->hold == FP_H_NOT_ATTACHED || c->hold == FP_H_SQM ||
	    c->hold == FP_H_SQM_INGRESS || c->hold == FP_H_NOT_LEARNED)
		return;
	candidate(d, c, rechecked);
}

static void latency(struct daemon *d, __u64 ns)
{
	d->lat[d->lat_n++ % LAT_SAMPLES] = ns;
}

/* Offers a direction just written on its software tier to the PPE: not
 * one whose egress shapes (the qdisc stays in charge) nor a forced tier.
 */
static void hw_start(struct daemon *d, struct conn *c, int dir, struct fp_flow *f)
{
	struct conn_dir *cd = &c->dir[dir];
	char msg[128] = "";
	int err;

	if (d->opt.no_hw || cd->hw_refused || cd->key.pppoe_sid || cd->shaped ||
	    d->opt.tier != TIER_AUTO)
		return;
	err = d->ops->hw_offer(d, &cd->key, f, msg, sizeof(msg));
	if (err == HW_NOT_ELIGIBLE)
		return;
	d->st.hw_offered++;
	if (err) {
		/* The driver refused the rule: the answer says why (see ppe_sim). */
		pr_debug("hardware tier: refused: %s%s%s", strerror(-err),
			 msg[0] ? ": " : "", msg);
		cd->hw_refused = true;
		d->st.hw_fallbacks++;
		return;
	}
	dir_set(d, c, dir, DS_HW_PENDING);
	cd->hw_since = d->ops->now(d);
	cd->hw_base_packets = f->packets;
	cd->hw_base_bytes = f->bytes;
	f->state = FP_STATE_HW_PENDING;
	d->ops->entry_write(d, &cd->key, f, true);
}

/* The entry a learned direction gets: its egress, and what NAT made of it. */
static void entry_of(struct daemon *d, const struct conn *c, int dir,
		     struct fp_flow *f)
{
	const struct conn_dir *cd = &c->dir[dir];
	struct fp_flow_key ek;
	__u32 route_mtu;

	memset(f, 0, sizeof(*f));
	egress_key(&ek, c, dir);
	f->state = cd->tier == DS_TC ? FP_STATE_TC : FP_STATE_XDP;
	f->oif = cd->out.oif;
	f->mtu = d->ops->egress_mtu(d, &cd->out);
	route_mtu = d->ops->route_mtu(d, c, dir);
	if (route_mtu && route_mtu < f->mtu)
		f->mtu = route_mtu;	/* bigger packets go up, for the ICMP */
	memcpy(f->dmac, cd->out.dmac, 6);
	memcpy(f->smac, cd->out.smac, 6);
	memcpy(f->out_vlan, cd->out.vlan, sizeof(f->out_vlan));
	f->out_pppoe_sid = cd->out.sid;
	memcpy(f->nat_saddr, ek.saddr, 16);
	memcpy(f->nat_daddr, ek.daddr, 16);
	f->nat_sport = ek.sport;
	f->nat_dport = ek.dport;
	if (memcmp(ek.saddr, c->tuple[dir].src, 16) || ek.sport != c->tuple[dir].sport)
		f->flags |= FP_F_SNAT;
	if (memcmp(ek.daddr, c->tuple[dir].dst, 16) || ek.dport != c->tuple[dir].dport)
		f->flags |= FP_F_DNAT;
}

/*
 * The key of a direction that arrives on a stacked device (eth0.7, ppp0,
 * br-lan), or unknown (0): the port, tags and PPPoE session the other
 * direction leaves with, since both directions of a connection use the
 * same link. For a bridge, that port is where the bridge's FDB sends the
 * peer's MAC. The direction waits until the other one is learned, and is
 * kept slow if the stacked device would not receive those frames
 * (asymmetric routing). Returns false when it is not keyed (yet).
 */
static bool key_stacked(struct daemon *d, struct conn *c, int dir)
{
	struct conn_dir *cd = &c->dir[dir], *other = &c->dir[!dir];
	char in[IF_NAMESIZE + 8];

	if (!other->have_out) {
		pr_debug("conntrack %u: %s direction arrives on %s: waits for the other",
			 c->id, dir ? "reply" : "original", ifname_or_index(cd->iif, in));
		dir_set(d, c, dir, DS_WAITING);
		return false;
	}
	/* No ingress device to check against (see fsm_learn_event()). */
	if (cd->iif && !d->ops->carries(d, cd->iif, &other->out)) {
		pr_debug("conntrack %u: if%u does not receive from if%u vlan %#x/%#x pppoe %#x; kept slow",
			 c->id, cd->iif, other->out.oif, other->out.vlan[0],
			 other->out.vlan[1], other->out.sid);
		c->hold = FP_H_NOT_ATTACHED;
		dir_set(d, c, dir, DS_SLOW);
		return false;
	}
	cd->key.ifindex = other->out.oif;
	memcpy(cd->key.vlan, other->out.vlan, sizeof(cd->key.vlan));
	cd->key.pppoe_sid = other->out.sid;
	return true;
}

/*
 * The MACs a frame of @dir must carry (docs/DESIGN.md, "Datapath rules"):
 * the router's own address on the link it arrives on, and for PPPoE the
 * concentrator's as its source. A direction keyed from the other one
 * (key_stacked()) arrives where that one leaves, from where it goes.
 */
static int ingress_macs(struct daemon *d, const struct conn *c, int dir,
			struct fp_flow *f)
{
	const struct conn_dir *cd = &c->dir[dir], *other = &c->dir[!dir];

	if (d->ops->attached(d, cd->iif))
		return d->ops->dev_mac(d, cd->iif, f->in_dmac);
	memcpy(f->in_dmac, other->out.smac, 6);
	if (other->out.sid)
		memcpy(f->in_smac, other->out.dmac, 6);
	return 0;
}

static const char *const need_names[] = {
	[IN_ANY] = "any", [IN_TC_CSUM] = "checksum_partial",
	[IN_TC_GENERIC] = "generic_xdp", [IN_TC_VLAN] = "rx_vlan_offload",
	[IN_IFB] = "ifb",
};

/*
 * The tier of a learned direction (docs/DESIGN.md, "Tiers"), per
 * direction: --tier forces it; otherwise TC when its egress shapes (the
 * redirect keeps the egress qdisc; the SQM guard, --no-sqm-guard ignores
 * shapers) or its ingress device needs the skb (CHECKSUM_PARTIAL input,
 * generic XDP only), else XDP. Both the device it arrived on and the port
 * it is keyed on count. Returns the hold that keeps it slow instead, or
 * FP_H_MAX: an ifb shaping the ingress (XDP and TC ingress both run before
 * the ifb), or a shaper on a device stacked above the egress port (the
 * redirect goes to the port, past ppp0's or eth0.7's qdisc).
 */
static enum fp_hold choose_tier(struct daemon *d, struct conn *c, int dir)
{
	struct conn_dir *cd = &c->dir[dir];
	enum ingress_need need = d->ops->ingress_need(d, cd->key.ifindex);
	enum egress_shaper shaper;

	if (cd->iif && cd->iif != cd->key.ifindex) {
		enum ingress_need n = d->ops->ingress_need(d, cd->iif);

		if (n > need)
			need = n;
	}
	cd->shaped = false;
	if (need == IN_IFB && d->opt.sqm_guard)
		return FP_H_SQM_INGRESS;
	if (d->opt.tier != TIER_AUTO) {
		cd->tier = d->opt.tier == TIER_TC ? DS_TC : DS_XDP;
		return FP_H_MAX;
	}
	shaper = d->opt.sqm_guard ? d->ops->egress_shaped(d, &cd->out) : SHAPER_NONE;
	if (shaper == SHAPER_UPPER)
		return FP_H_SQM;
	cd->shaped = shaper == SHAPER_PORT;
	cd->tier = cd->shaped || need == IN_TC_CSUM || need == IN_TC_GENERIC ||
		   need == IN_TC_VLAN ?
		   DS_TC : DS_XDP;
	if (cd->tier == DS_TC)
		pr_debug("conntrack %u: %s direction on the TC tier: %s", c->id,
			 dir ? "reply" : "original",
			 cd->shaped ? "egress shaped" : need_names[need]);
	return FP_H_MAX;
}

/* Writes direction @dir of a learned connection into the table. */
static int dir_offload(struct daemon *d, struct conn *c, int dir)
{
	struct conn_dir *cd = &c->dir[dir];
	enum fp_hold hold;
	struct fp_flow f;

	key_from_tuple(&cd->key, cd->iif, &c->tuple[dir]);
	if (!d->ops->attached(d, cd->iif) && !key_stacked(d, c, dir))
		return 0;
	hold = choose_tier(d, c, dir);
	if (hold != FP_H_MAX) {
		/* The whole connection stays with the shaper; it is
		 * reconsidered when the shaper or the redirect goes.
		 */
		unoffload(d, c, false, DS_SLOW);
		c->hold = hold;
		return 0;
	}
	/* --max-flows counts connections; a second direction always fits. */
	if (!dir_in_table(c->state[!dir]) && d->conns_offloaded >= d->opt.max_flows)
		goto full;
	entry_of(d, c, dir, &f);
	if (ingress_macs(d, c, dir, &f)) {
		pr_debug("conntrack %u: no MAC for if%u; kept slow", c->id, cd->iif);
		c->hold = FP_H_NOT_ATTACHED;
		dir_set(d, c, dir, DS_SLOW);
		return 0;
	}
	if (d->ops->entry_write(d, &cd->key, &f, false)) {
		if (errno == E2BIG || errno == ENOMEM)
			goto full;
		pr_warn("cannot write a flow entry: %s", strerror(errno));
		dir_set(d, c, dir, DS_SLOW);
		return -errno;
	}
	pr_debug("conntrack %u: %s direction in if%u vlan %#x/%#x pppoe %#x, out if%u vlan %#x/%#x pppoe %#x, %llu us after its first packet",
		 c->id, dir ? "reply" : "original", cd->key.ifindex,
		 cd->key.vlan[0], cd->key.vlan[1], cd->key.pppoe_sid,
		 f.oif, f.out_vlan[0], f.out_vlan[1], f.out_pppoe_sid,
		 (unsigned long long)(d->ops->now(d) - cd->first_ns) / 1000);
	dir_set(d, c, dir, cd->tier);
	cd->last_seen = 0;
	cd->packets = cd->bytes = 0;
	c->active_ns = d->ops->now(d);
	d->st.learned++;
	c->learn_tries = 0;
	/* From the first packet the learner saw, not from ESTABLISHED: a
	 * connection may idle long before its first data.
	 */
	if (cd->first_ns && cd->first_ns <= c->active_ns)
		cd->latency_ns = c->active_ns - cd->first_ns;
	else
		cd->latency_ns = c->active_ns - c->candidate_ns;
	latency(d, cd->latency_ns);
	d->st.learn_packets += cd->learn_packets;
	if (dir_in_table(c->state[!dir]))
		c->hold = FP_H_MAX;
	hw_start(d, c, dir, &f);
	return 0;
full:
	c->hold = FP_H_TABLE_FULL;
	d->st.table_full++;
	dir_set(d, c, dir, DS_SLOW);
	return 0;
}

/*
 * The learner runs on the lowest devices only, so @oif is a port; the
 * ingress is a port or a device stacked on ports. It is 0 when the frame
 * went out through a PPP device, whose xmit clears skb->ingress_ifindex,
 * and for the router's own packets: both wait for the other direction,
 * which a local connection never gets.
 */
static int on_learned(struct daemon *d, struct conn *c, int dir,
		      const struct fp_learn_event *ev)
{
	struct conn_dir *cd;
	struct fp_flow_key k;
	__u64 packets;
	int err;

	/* The learner keeps counting until the candidate is taken out. */
	egress_key(&k, c, dir);
	packets = d->ops->learn_take(d, &k);
	dir_set(d, c, dir, DS_SLOW);
	/* No memory for what a learned direction needs: as a full table,
	 * tried again by the tick when there may be room.
	 */
	if (conntab_dir(&d->conns, c)) {
		c->hold = FP_H_TABLE_FULL;
		d->st.table_full++;
		return 0;
	}
	cd = &c->dir[dir];
	cd->learn_packets = packets;
	set_have_out(d, c, dir, false);		/* before @out changes */
	if (!d->ops->attached(d, ev->oif) ||
	    (ev->iif && !d->ops->attached(d, ev->iif) && !d->ops->stacked(d, ev->iif))) {
		c->hold = FP_H_NOT_ATTACHED;
		return 0;
	}
	cd->iif = ev->iif;
	cd->first_ns = ev->ts;
	cd->out.oif = ev->oif;
	memcpy(cd->out.vlan, ev->out_vlan, sizeof(cd->out.vlan));
	cd->out.sid = ev->out_pppoe_sid;
	memcpy(cd->out.dmac, ev->dmac, 6);
	memcpy(cd->out.smac, ev->smac, 6);
	set_have_out(d, c, dir, true);
	err = dir_offload(d, c, dir);
	/* The other direction may have waited for this one's egress. */
	if (!err && c->state[!dir] == DS_WAITING)
		err = dir_offload(d, c, !dir);
	return err;
}

/* Back to its tier for the rest of this offload: re-learning tries again. */
static void hw_fallback(struct daemon *d, struct conn *c, int dir,
			struct fp_flow *f, const char *why)
{
	struct conn_dir *cd = &c->dir[dir];
	char addr[INET6_ADDRSTRLEN + 8];

	format_endpoint(cd->key.family, cd->key.saddr, cd->key.sport, addr,
			sizeof(addr));
	pr_debug("hardware tier: %s %s: back to %s: %s",
		 proto_name(cd->key.proto), addr, dir_state_names[cd->tier], why);
	d->ops->hw_withdraw(d, &cd->key);
	dir_set(d, c, dir, cd->tier);
	cd->hw_refused = true;
	f->state = cd->tier == DS_TC ? FP_STATE_TC : FP_STATE_XDP;
	d->ops->entry_write(d, &cd->key, f, true);
	d->st.hw_fallbacks++;
}

/*
 * Per tick and direction on the PPE, before the counters are read from
 * @f: follow the module's state, and feed the hardware counters into @f.
 */
static void hw_tick(struct daemon *d, struct conn *c, int dir, struct fp_flow *f)
{
	struct conn_dir *cd = &c->dir[dir];
	struct hw_answer a = {};
	char why[160];
	__u64 now;

	if (c->state[dir] != DS_HW_PENDING && c->state[dir] != DS_HW)
		return;
	d->ops->hw_state(d, &cd->key, &a);
	now = d->ops->now(d);
	switch (a.kind) {
	case HWA_UNKNOWN:
		break;
	case HWA_GONE:
		hw_fallback(d, c, dir, f, "fastpath.ko is gone");
		return;
	case HWA_MISSING:
		hw_fallback(d, c, dir, f, "the module withdrew it (device down or gone)");
		return;
	case HWA_FAILED:
		snprintf(why, sizeof(why), "the driver refused it: %s%s%s",
			 strerror(-a.err), a.msg[0] ? ": " : "", a.msg);
		hw_fallback(d, c, dir, f, why);
		return;
	case HWA_BOUND:
		if (c->state[dir] == DS_HW_PENDING)
			dir_set(d, c, dir, DS_HW);
		break;
	case HWA_PENDING:
		if (c->state[dir] == DS_HW_PENDING &&
		    now - cd->hw_since > (__u64)d->opt.hw_deadline_s * NS) {
			snprintf(why, sizeof(why), "not bound within %us",
				 d->opt.hw_deadline_s);
			hw_fallback(d, c, dir, f, why);
		return;
		}
		break;
	}
	if (c->state[dir] == DS_HW && (a.kind == HWA_BOUND || a.kind == HWA_PENDING)) {
		f->packets = cd->hw_base_packets + a.packets;
		f->bytes = cd->hw_base_bytes + a.bytes;
		if (a.has_idle && now > a.idle_ms * 1000000ULL &&
		    now - a.idle_ms * 1000000ULL > f->last_seen)
			f->last_seen = now - a.idle_ms * 1000000ULL;
		f->state = FP_STATE_HW;
		d->ops->entry_write(d, &cd->key, f, true);
	}
	if (c->state[dir] == DS_HW)
		d->st.hw_dirs++;
	else
		d->st.hw_pending++;
}

/* Asked at the end of the tick, outside the walk over the table, since
 * the answer is an event that may replace the connection.
 */
static void recheck_queue(struct daemon *d, struct conn *c)
{
	if (d->nrecheck >= RECHECK_MAX)
		return;		/* the next tick */
	d->recheck[d->nrecheck++] = c->tuple[DIR_ORIG];
	c->recheck_due = false;
	c->recheck_asked = true;
	d->st.rechecks++;
}

/* The latest packet either direction carried (datapath clock), 0 if none. */
static __u64 last_packet(const struct conn *c)
{
	if (!c->dir)
		return 0;
	return c->dir[0].last_seen > c->dir[1].last_seen ?
	       c->dir[0].last_seen : c->dir[1].last_seen;
}

/*
 * conntrack makes a UDP connection a stream on a packet that comes 2 s or
 * more after the connection was created, once a reply was seen: it sets
 * IPS_ASSURED and from then on gives it nf_conntrack_udp_timeout_stream
 * (120 s) instead of nf_conntrack_udp_timeout (30 s). The packets the fast
 * path carries never reach it, so the daemon judges by the same rule for
 * them (the latest packet either direction carried, against when the
 * connection was first reported); else an offloaded stream would be kept
 * alive with the short timeout and lose its NAT mapping in a pause the
 * slow path would have survived. nf_flowtable gives a replied UDP flow the
 * stream timeout too (flow_offload_fixup_ct()). NAT_CLASH entries never
 * become ASSURED (and are not offloaded).
 */
#define UDP_STREAM_NS	(2 * NS)

static bool udp_stream_due(const struct conn *c)
{
	return c->tuple[DIR_ORIG].proto == IPPROTO_UDP && !c->udp_stream &&
	       (c->status & IPS_SEEN_REPLY) &&
	       !(c->status & (IPS_ASSURED | CT_NAT_CLASH)) &&
	       last_packet(c) >= c->created_ns + UDP_STREAM_NS;
}

/*
 * A UDP connection leaves the table idle: conntrack's timer runs from the
 * last refresh, which may be up to a third of the timeout older than the
 * last packet. It is set to run from the last packet instead, as conntrack
 * would have it had it seen that packet, so a quiet stream keeps its NAT
 * mapping as long as on the slow path (nf_flowtable likewise takes the
 * idle time off the timeout when it hands a flow back). For TCP a third of
 * the established timeout (days) does not matter.
 */
static void idle_handback(struct daemon *d, struct conn *c, __u64 now)
{
	__u64 last = last_packet(c), end;
	__u32 timeout, left;

	if (c->tuple[DIR_ORIG].proto != IPPROTO_UDP || last <= c->refreshed_ns)
		return;
	timeout = d->ops->ct_timeout(d, c);
	end = last + (__u64)timeout * NS;
	if (end <= now + NS)
		return;
	left = (__u32)((end - now) / NS);
	if (!d->ops->refresh(d, c, left))
		d->st.refreshes++;
	refreshed(c, now, left);
}

/* One direction's tick: false when the connection left the table. */
static bool dir_tick(struct daemon *d, struct conn *c, int dir, bool *active)
{
	struct conn_dir *cd = &c->dir[dir];
	struct fp_rate r;
	struct fp_flow f;

	if (d->ops->entry_read(d, &cd->key, &f)) {
		/* removed behind our back ("fastpath flow del") */
		pr_debug("conntrack %u: %s entry gone: learning again", c->id,
			 dir ? "reply" : "original");
		unoffload(d, c, true, DS_SLOW);
		return false;
	}
	if (f.state == FP_STATE_TEARDOWN) {
		/* FIN/RST went up: conntrack judges it. XDP checks no
		 * sequence numbers, so conntrack is asked at the end of this
		 * tick whether the connection is still ESTABLISHED (a forged
		 * or stale RST); a real close moved it on already.
		 */
		unoffload(d, c, false, DS_TEARDOWN);
		c->hold = FP_H_NOT_READY;
		c->recheck_due = true;
		recheck_queue(d, c);
		return false;
	}
	hw_tick(d, c, dir, &f);
	acct(d, cd, &f);
	r.pps = f.packets - cd->packets;
	r.bps = (f.bytes - cd->bytes) * 8;
	d->ops->rate_write(d, &cd->key, &r);
	cd->packets = f.packets;
	cd->bytes = f.bytes;
	if (f.last_seen > cd->last_seen) {
		cd->last_seen = f.last_seen;
		*active = true;
	}
	return true;
}

/* Once a second per connection: counters, keep-alive, idle and teardown. */
static void on_tick(struct daemon *d, struct conn *c)
{
	__u64 now = d->ops->now(d);
	bool active = false;
	__u32 timeout, due;

	/* Capacity may be back: both directions try again, also one that
	 * is still armed and one that made it into the table meanwhile.
	 */
	if (c->hold == FP_H_TABLE_FULL && d->conns_offloaded < d->opt.max_flows) {
		c->hold = FP_H_NOT_READY;
		unoffload(d, c, true, DS_SLOW);
		return;
	}
	if (c->recheck_due)
		recheck_queue(d, c);
	if (c->hold == FP_H_LEARNING && now - c->candidate_ns >= NOT_LEARNED_NS) {
		pr_debug("conntrack %u: not learned within %llu s", c->id,
			 NOT_LEARNED_NS / NS);
		d->st.not_learned++;
		not_learned(d, c);
	} else if (c->hold == FP_H_NOT_LEARNED && now >= c->retry_ns) {
		enum fp_hold hold = conn_policy(d, c);

		if (hold != FP_H_LEARNING) {
			unoffload(d, c, false, DS_SLOW);
			c->hold = hold;
			return;
		}
		if (conn_in_table(c))
			arm_slow(d, c);
		else
			candidate(d, c, false);
	}
	for (int dir = 0; dir < 2; dir++)
		if (dir_in_table(c->state[dir]) && !dir_tick(d, c, dir, &active))
			return;
	if (!conn_in_table(c))
		return;

	if (active) {
		bool stream = udp_stream_due(c);

		c->active_ns = now;
		if (stream)
			c->udp_stream = true;
		timeout = d->ops->ct_timeout(d, c);
		if (stream) {
			/* Once, as conntrack would: ASSURED and the stream
			 * timeout in one update; if conntrack refuses the
			 * status, the refreshes still give the stream timeout.
			 */
			if (!d->ops->assure(d, c, timeout)) {
				pr_debug("conntrack %u: a UDP stream: assured, timeout %u s",
					 c->id, timeout);
				d->st.refreshes++;
				refreshed(c, now, timeout);
				return;
			}
			pr_debug("conntrack %u: a UDP stream, but ASSURED cannot be set",
				 c->id);
		}
		/* Refresh well before conntrack's own timer could fire: the
		 * one the last refresh set, which is shorter than today's
		 * sysctl when the admin raised it since (a connection refreshed
		 * to 4 s, then left for a third of 5 days, would expire under
		 * its flow).
		 */
		if (c->refreshed_s && c->refreshed_s < timeout)
			due = c->refreshed_s;
		else
			due = timeout;
		if (stream || now - c->refreshed_ns >= (__u64)due * NS / 3) {
			if (!d->ops->refresh(d, c, timeout))
				d->st.refreshes++;
			refreshed(c, now, timeout);
		}
	} else if (now - c->active_ns > (__u64)d->opt.idle_timeout_s * NS) {
		/* Idle: back to learning; conntrack expires it if it stays
		 * so, timed from the last packet.
		 */
		pr_debug("conntrack %u: idle for %u s: learning again", c->id,
			 d->opt.idle_timeout_s);
		idle_handback(d, c, now);
		unoffload(d, c, true, DS_SLOW);
	}
}

_Static_assert(DS_SLOW == (int)FP_CS_SLOW && DS_LEARNING == (int)FP_CS_LEARNING &&
	       DS_WAITING == (int)FP_CS_WAITING && DS_XDP == (int)FP_CS_XDP &&
	       DS_TC == (int)FP_CS_TC && DS_HW_PENDING == (int)FP_CS_HW_PENDING &&
	       DS_HW == (int)FP_CS_HW && DS_TEARDOWN == (int)FP_CS_TEARDOWN &&
	       DS_MAX == (int)FP_CS_MAX, "fp_conn_state mirrors dir_state");

static void export_tuple(struct fp_conn_tuple *o, const struct ct_tuple *t)
{
	o->family = t->family;
	o->proto = t->proto;
	o->sport = t->sport;
	o->dport = t->dport;
	memcpy(o->saddr, t->src, sizeof(o->saddr));
	memcpy(o->daddr, t->dst, sizeof(o->daddr));
}

/* The record "fastpath explain" reads (fastpath.h, struct fp_conn_info). */
void conn_info(const struct conn *c, struct fp_conn_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	for (int dir = 0; dir < 2; dir++) {
		const struct conn_dir *cd = conn_dir_of(c, dir);
		bool in = dir_in_table(c->state[dir]);

		export_tuple(&ci->tuple[dir], &c->tuple[dir]);
		ci->state[dir] = c->state[dir];
		if (!cd)
			continue;
		ci->iif[dir] = cd->have_out ? cd->iif : 0;
		ci->oif[dir] = cd->have_out ? cd->out.oif : 0;
		ci->latency_ns[dir] = in ? cd->latency_ns : 0;
		ci->learn_packets[dir] = in ? cd->learn_packets : 0;
	}
	ci->id = c->id;
	ci->mark = c->mark;
	ci->status = c->status;
	ci->hold = c->hold;
	ci->tcp_state = c->tcp_state;
}

static int conn_step(struct daemon *d, struct conn *c, const struct conn_ev *ev)
{
	switch (ev->type) {
	case CE_CT:
	case CE_CT_MARK:
		evaluate(d, c, ev->type == CE_CT_MARK);
		return 0;
	case CE_DESTROY:
	case CE_STOP:
		unoffload(d, c, false, DS_SLOW);
		return 0;
	case CE_LEARNED:
		return on_learned(d, c, ev->dir, ev->learn);
	case CE_TICK:
		on_tick(d, c);
		return 0;
	case CE_RELEARN:
		unoffload(d, c, true, DS_SLOW);
		return 0;
	case CE_SQM_GONE:
		if (c->hold == FP_H_SQM || c->hold == FP_H_SQM_INGRESS) {
			c->hold = FP_H_NOT_READY;
			evaluate(d, c, false);
		}
		return 0;
	case CE_MAX:
		break;
	}
	return -EINVAL;
}

/*
 * One event for one connection. The record "fastpath explain" reads is
 * first written from the tick, once the connection has lived through a
 * whole tick period; from then on it follows every change, written after
 * the step that made it, as it always was. A flood of short connections
 * (DNS, a scan) then never touches fp_conns (docs/PERF.md, "Daemon"). A
 * record written is removed with its connection.
 */
#define EXPORT_AFTER_TICKS	2

int conn_fsm(struct daemon *d, struct conn *c, const struct conn_ev *ev)
{
	struct fp_conn_info before, after;
	bool due = d->ticks - c->born_tick >= EXPORT_AFTER_TICKS;
	bool check = c->exported;
	int ret;

	if (check)
		conn_info(c, &before);
	ret = conn_step(d, c, ev);
	if (ev->type == CE_DESTROY || ev->type == CE_STOP) {
		if (c->exported)
			d->ops->conn_export(d, c->id, NULL);
		c->exported = false;
		return ret;
	}
	if (!due && !c->exported)
		return ret;	/* too young: the tick writes it, if it lives */
	conn_info(c, &after);
	/* A tick that changes nothing writes nothing; a conntrack event
	 * may have changed only what conntrack said (status, mark).
	 */
	if (!check || ev->type == CE_CT || ev->type == CE_CT_MARK ||
	    memcmp(&before, &after, sizeof(after))) {
		d->ops->conn_export(d, c->id, &after);
		c->exported = true;
	}
	return ret;
}

static void send_one(struct daemon *d, struct conn *c, enum conn_event type)
{
	struct conn_ev ev = { .type = type };

	conn_fsm(d, c, &ev);
}

/*
 * What fsm_ct_event() will read for @ci, fetched ahead for a batch of
 * events (ct.c): stage 0 for every event of the batch, then stage 1, then
 * the events. Stage 0 fetches the connection table's buckets of both
 * tuples and the learning map's tags of both egress tuples; stage 1 what
 * those point to. Nothing changes; a wrong guess costs a fetch.
 */
void fsm_ct_prefetch(struct daemon *d, struct ct_info *ci, int stage)
{
	struct fp_flow_key k;
	struct ct_tuple t;

	if (!stage) {
		ci->pf[0] = conntab_prefetch_bucket(&d->conns, &ci->orig);
		ci->pf[1] = conntab_prefetch_bucket(&d->conns, &ci->reply);
	} else {
		conntab_prefetch_chain(&d->conns, ci->pf[0]);
		conntab_prefetch_chain(&d->conns, ci->pf[1]);
	}
	if (!d->ops->learn_prefetch)
		return;
	for (int dir = 0; dir < 2; dir++) {
		/* egress_key(), from the tuples the event carries */
		tuple_invert(&t, dir == DIR_ORIG ? &ci->reply : &ci->orig);
		key_from_tuple(&k, 0, &t);
		d->ops->learn_prefetch(d, &k, &ci->pf[2 + dir], stage);
	}
}

/* conntrack's view of one connection: new, changed, replaced or gone. */
void fsm_ct_event(struct daemon *d, const struct ct_info *ci)
{
	struct conn *c = conntab_find(&d->conns, &ci->orig, NULL);
	bool mark_changed = false;

	if (c && (ci->destroy || memcmp(&c->tuple[DIR_REPLY], &ci->reply,
					sizeof(ci->reply)))) {
		/* Gone, or the same original tuple with a new NAT: a
		 * different connection.
		 */
		send_one(d, c, CE_DESTROY);
		conntab_del(&d->conns, c);
		c = NULL;
	}
	if (ci->destroy)
		return;
	if (!c) {
		c = conntab_add(&d->conns, &ci->orig, &ci->reply);
		if (!c)
			return;
		c->born_tick = d->ticks;
		c->created_ns = d->ops->now(d);
		c->mark = ci->has_mark ? ci->mark : 0;
	}
	c->seen = true;
	c->id = ci->id;
	if (ci->has_status)
		c->status = ci->status;
	if (ci->orig.proto == IPPROTO_TCP && ci->has_tcp_state)
		c->tcp_state = ci->tcp_state;
	if (ci->has_mark) {
		mark_changed = ci->mark != c->mark;
		c->mark = ci->mark;
	}
	/* A helper needs to see every packet; SEQ_ADJUST rewrites sequence
	 * numbers and NAT_CLASH entries are not in the table.
	 */
	if (ci->helper)
		c->status |= IPS_HELPER;
	pr_debug("conntrack %u: %s, tcp state %u, status %#x, mark %#x%s", c->id,
		 ci->is_new ? "new" : "update", c->tcp_state, c->status, c->mark,
		 mark_changed ? " (changed)" : "");
	send_one(d, c, mark_changed ? CE_CT_MARK : CE_CT);
}

/* The TC learner's report: the direction it saw, if still expected. */
int fsm_learn_event(struct daemon *d, const struct fp_learn_event *ev)
{
	struct conn_ev e = { .type = CE_LEARNED, .learn = ev };
	struct ct_tuple egress, inv;
	struct conn *c;
	int which;

	tuple_from_key(&egress, &ev->key);
	tuple_invert(&inv, &egress);
	c = conntab_find(&d->conns, &inv, &which);
	/* Matching the reply tuple means the packet went the original way. */
	e.dir = which == DIR_REPLY ? DIR_ORIG : DIR_REPLY;
	if (!c || c->state[e.dir] != DS_LEARNING || ev->cookie != cookie_of(c, e.dir)) {
		pr_debug("learning event for %s: stale", c ? "a changed connection" :
			 "no connection");
		return 0;	/* stale: the connection changed meanwhile */
	}
	return conn_fsm(d, c, &e);
}

static void count_one(struct daemon *d, const struct conn *c)
{
	if (c->hold < FP_H_MAX)
		d->st.hold[c->hold]++;
	for (int dir = 0; dir < 2; dir++)
		if (c->state[dir] == DS_TC)
			d->st.tc_dirs++;
}

/* The tick also counts what "fastpath status" shows: one walk a second
 * over the connections rather than two.
 */
static void tick_one(struct conn *c, void *arg)
{
	struct daemon *d = arg;

	send_one(d, c, CE_TICK);
	count_one(d, c);
}

static void lease_renew(struct daemon *d, __u64 now)
{
	__u64 lease = (__u64)d->opt.lease_s * NS;

	d->ops->renew_lease(d, lease, now + lease);
	d->lease_renewed_ns = now;
}

/*
 * For work that may outlast a tick by itself (a full conntrack dump of a
 * big table): the lease is renewed once a second from inside it, so it
 * never lapses while the daemon is busy, only when it is stuck.
 */
void fsm_lease_keep(struct daemon *d)
{
	__u64 now = d->ops->now(d);

	if (now - d->lease_renewed_ns >= NS)
		lease_renew(d, now);
}

/* The timer: the lease first, then the module's view, then every flow. */
void fsm_tick(struct daemon *d)
{
	lease_renew(d, d->ops->now(d));
	d->ticks++;
	d->st.hw_dirs = d->st.hw_pending = 0;
	d->ops->hw_poll(d);
	memset(d->st.hold, 0, sizeof(d->st.hold));
	d->st.tc_dirs = 0;
	conntab_foreach(&d->conns, tick_one, d);
	d->counted = true;
	/* Connections torn down by a FIN/RST this tick: their answers come
	 * back as conntrack events (evaluate(), candidate()).
	 */
	for (__u32 i = 0; i < d->nrecheck; i++) {
		int err = d->ops->ct_recheck(d, &d->recheck[i]);

		if (err)
			pr_debug("cannot ask conntrack about a torn-down connection: %s",
				 strerror(-err));
	}
	d->nrecheck = 0;
}

struct via {
	struct daemon *d;
	__u32 ifindex;
	const __u8 *mac;
};

static void relearn_if_via(struct conn *c, void *arg)
{
	const struct via *v = arg;
	bool hit = false;

	for (int dir = 0; dir < 2 && c->dir; dir++) {
		const struct conn_dir *cd = &c->dir[dir];

		/* A learned egress may key the other direction too. */
		if (cd->have_out && cd->out.oif == v->ifindex &&
		    (!v->mac || !memcmp(cd->out.dmac, v->mac, 6)))
			hit = true;
		if (dir_in_table(c->state[dir]) && cd->key.ifindex == v->ifindex &&
		    !v->mac)
			hit = true;
	}
	if (hit)
		send_one(v->d, c, CE_RELEARN);
}

/*
 * Flows out of @ifindex to @mac, found through the (oif, dmac) index
 * (neighbour and FDB changes are frequent: no scan per event); or all
 * flows in or out of @ifindex (mac NULL: a link change, rare), by a scan.
 */
void fsm_relearn_via(struct daemon *d, __u32 ifindex, const __u8 *mac)
{
	struct via v = { d, ifindex, mac };
	struct conn *hit[64];
	int n;

	if (!mac) {
		conntab_foreach(&d->conns, relearn_if_via, &v);
		return;
	}
	/* Relearning unlinks each one found, so every round makes progress. */
	do {
		n = conntab_via_find(&d->conns, ifindex, mac, hit, 64);
		for (int i = 0; i < n && i < 64; i++)
			send_one(d, hit[i], CE_RELEARN);
	} while (n > 64);
}

static void relearn_learned(struct conn *c, void *arg)
{
	if (conn_in_table(c) || (c->dir && (c->dir[0].have_out || c->dir[1].have_out)))
		send_one(arg, c, CE_RELEARN);
}

void fsm_relearn_all(struct daemon *d)
{
	conntab_foreach(&d->conns, relearn_learned, d);
}

static void sqm_one(struct conn *c, void *arg)
{
	send_one(arg, c, CE_SQM_GONE);
}

void fsm_sqm_gone(struct daemon *d)
{
	conntab_foreach(&d->conns, sqm_one, d);
}

static void stop_one(struct conn *c, void *arg)
{
	send_one(arg, c, CE_STOP);
}

void fsm_stop(struct daemon *d)
{
	conntab_foreach(&d->conns, stop_one, d);
}

static void clear_seen(struct conn *c, void *arg)
{
	(void)arg;
	c->seen = false;
}

/* A full dump follows: what it does not list any more is gone. */
void fsm_resync_begin(struct daemon *d)
{
	conntab_foreach(&d->conns, clear_seen, d);
}

static void drop_unseen(struct conn *c, void *arg)
{
	struct daemon *d = arg;

	if (!c->seen) {
		send_one(d, c, CE_DESTROY);
		conntab_del(&d->conns, c);
	}
}

void fsm_resync_end(struct daemon *d)
{
	conntab_foreach(&d->conns, drop_unseen, d);
	d->st.resyncs++;
}

static void count_hold(struct conn *c, void *arg)
{
	count_one(arg, c);
}

/* The numbers "fastpath status" shows, read from the states. */
void fsm_count(struct daemon *d)
{
	/* Right after a tick, whose walk counted them (tick_one()). */
	if (!d->counted) {
		memset(d->st.hold, 0, sizeof(d->st.hold));
		d->st.tc_dirs = 0;
		conntab_foreach(&d->conns, count_hold, d);
	}
	d->counted = false;
	d->st.conns = d->conns.n;
	d->st.offloaded = d->offloaded;
}
