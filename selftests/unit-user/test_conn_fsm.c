// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_conn_fsm.c - the daemon's connection state machine driven through
 * its events with fake ops (docs/DESIGN.md, "Tests"): no root, no kernel,
 * no network. One case per transition of the diagram atop
 * user/daemon/conn_fsm.c at least. Prints "PASS name" or "FAIL name: why"
 * per case and "N passed, N failed".
 *
 * Every case starts from a fresh daemon on an empty fake world: ports 2
 * (LAN) and 3 (WAN) attached, policy "all", --max-flows 64. A connection
 * is 10.0.0.2:(40000+n) -> 192.0.2.1:80, masqueraded to 198.51.100.1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "lib/log.h"
#include "fake_ops.h"

#define LAN	2
#define WAN	3
#define NS	1000000000ULL

struct t {
	struct daemon d;
	struct fake fk;
	const char *why;
	int line;
};

#define CHECK(cond) do {					\
	if (!(cond)) {						\
		t->why = #cond;					\
		t->line = __LINE__;				\
		return -1;					\
	}							\
} while (0)

static void setup(struct t *t)
{
	static const __u64 key[2] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };

	memset(t, 0, sizeof(*t));
	t->fk.now = 1000 * NS;
	t->fk.table_cap = FAKE_SLOTS;
	t->fk.learn_cap = FAKE_SLOTS;
	t->fk.ct_timeout = 300;
	t->fk.mtu = 1500;
	t->fk.carries = true;
	t->fk.attached[t->fk.nattached++] = LAN;
	t->fk.attached[t->fk.nattached++] = WAN;
	t->d.ops = &fake_ops;
	t->d.priv = &t->fk;
	t->d.opt = (struct options){
		.policy_all = true, .idle_timeout_s = 30, .lease_s = 5,
		.max_flows = 64, .sqm_guard = true, .hw_deadline_s = 10,
	};
	conntab_init(&t->d.conns, 64, key);
}

static void teardown(struct t *t)
{
	conntab_free(&t->d.conns);
}

static void tuples(int n, __u8 proto, struct ct_tuple *orig, struct ct_tuple *reply)
{
	memset(orig, 0, sizeof(*orig));
	orig->family = AF_INET;
	orig->proto = proto;
	orig->src[0] = inet_addr("10.0.0.2");
	orig->dst[0] = inet_addr("192.0.2.1");
	orig->sport = htons(40000 + n);
	orig->dport = htons(80);
	memset(reply, 0, sizeof(*reply));
	reply->family = AF_INET;
	reply->proto = proto;
	reply->src[0] = inet_addr("192.0.2.1");
	reply->dst[0] = inet_addr("198.51.100.1");
	reply->sport = htons(80);
	reply->dport = htons(40000 + n);
}

/* conntrack reports connection @n: TCP in @tcp_state, or UDP with @status. */
static struct conn *ct_full(struct t *t, int n, __u8 proto, __u8 tcp_state,
			    __u32 status, __u32 mark, bool helper)
{
	struct ct_info ci = { .id = 100 + n, .has_status = true, .status = status,
			      .has_mark = true, .mark = mark, .helper = helper };

	tuples(n, proto, &ci.orig, &ci.reply);
	ci.has_tcp_state = proto == IPPROTO_TCP;
	ci.tcp_state = tcp_state;
	fsm_ct_event(&t->d, &ci);
	return conntab_find(&t->d.conns, &ci.orig, NULL);
}

static struct conn *tcp(struct t *t, int n, __u8 state)
{
	return ct_full(t, n, IPPROTO_TCP, state, IPS_SEEN_REPLY | IPS_ASSURED, 0, false);
}

static struct conn *tcp_est(struct t *t, int n)
{
	return tcp(t, n, TCP_CONNTRACK_ESTABLISHED);
}

static void ct_destroy(struct t *t, int n, __u8 proto)
{
	struct ct_info ci = { .destroy = true, .id = 100 + n };

	tuples(n, proto, &ci.orig, &ci.reply);
	fsm_ct_event(&t->d, &ci);
}

/* The learner saw direction @dir of @c leave through @oif. */
static int learn_full(struct t *t, struct conn *c, int dir, __u32 iif, __u32 oif,
		      __u8 mac_last, __u16 vlan, __u16 sid, __u64 cookie)
{
	struct fp_learn_event ev = { .cookie = cookie, .iif = iif, .oif = oif,
				     .ts = t->fk.learn_ts };
	struct ct_tuple eg;

	tuple_invert(&eg, &c->tuple[!dir]);
	ev.key.family = eg.family;
	ev.key.proto = eg.proto;
	ev.key.sport = eg.sport;
	ev.key.dport = eg.dport;
	memcpy(ev.key.saddr, eg.src, 16);
	memcpy(ev.key.daddr, eg.dst, 16);
	memcpy(ev.dmac, (__u8[6]){ 2, 0, 0, 0, 0, mac_last }, 6);
	memcpy(ev.smac, (__u8[6]){ 2, 0, 0, 0, 1, 1 }, 6);
	ev.out_vlan[0] = vlan;
	ev.out_pppoe_sid = sid;
	/* The TC program reports once and counts the packets it saw; the
	 * daemon takes the entry out.
	 */
	for (int i = 0; i < FAKE_SLOTS; i++)
		if (t->fk.learn[i].used && !memcmp(&t->fk.learn[i].k, &ev.key, sizeof(ev.key)))
			t->fk.learn[i].packets = t->fk.learn_packets ?: 1;
	return fsm_learn_event(&t->d, &ev);
}

static __u64 cookie(const struct conn *c, int dir)
{
	return (__u64)c->id << 1 | dir;
}

static int learn(struct t *t, struct conn *c, int dir)
{
	return learn_full(t, c, dir, dir ? WAN : LAN, dir ? LAN : WAN, dir ? 0x10 : 0x20,
			  0, 0, cookie(c, dir));
}

/* ESTABLISHED, then both directions learned. */
static struct conn *offloaded(struct t *t, int n)
{
	struct conn *c = tcp_est(t, n);

	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	return c;
}

static struct fp_flow *entry(struct t *t, const struct conn *c, int dir)
{
	struct fake_entry *e = fake_entry(&t->fk, &c->dir[dir].key);

	return e ? &e->f : NULL;
}

static void tick(struct t *t, __u64 seconds)
{
	t->fk.now += seconds * NS;
	fsm_tick(&t->d);
}

/* The datapath forwarded a packet of direction @dir just now. */
static void traffic(struct t *t, struct conn *c, int dir)
{
	struct fp_flow *f = entry(t, c, dir);

	if (f) {
		f->packets += 10;
		f->bytes += 10000;
		f->last_seen = t->fk.now;
	}
}

static bool both(const struct conn *c, enum dir_state s)
{
	return c->state[0] == s && c->state[1] == s;
}

/* --- conntrack decides: slow, or a candidate --- */

static int t_tcp_syn_sent_slow(struct t *t)
{
	struct conn *c = tcp(t, 1, TCP_CONNTRACK_SYN_SENT);

	CHECK(c && both(c, DS_SLOW) && c->hold == FP_H_NOT_READY);
	CHECK(fake_learning(&t->fk) == 0 && t->fk.liberal == 0);
	return 0;
}

static int t_tcp_established_learning(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	CHECK(both(c, DS_LEARNING) && c->hold == FP_H_LEARNING);
	CHECK(fake_learning(&t->fk) == 2);
	CHECK(t->fk.liberal == 1);	/* BE_LIBERAL for the FIN later */
	CHECK(fake_entries(&t->fk) == 0);	/* only learning makes entries */
	return 0;
}

static int t_established_learning_offloaded(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	CHECK(learn(t, c, DIR_ORIG) == 0);
	CHECK(c->state[0] == DS_XDP && c->state[1] == DS_LEARNING);
	CHECK(c->hold == FP_H_LEARNING);
	CHECK(learn(t, c, DIR_REPLY) == 0);
	CHECK(both(c, DS_XDP) && c->hold == FP_H_MAX);
	CHECK(fake_entries(&t->fk) == 2 && fake_learning(&t->fk) == 0);
	CHECK(t->d.offloaded == 2 && t->d.conns_offloaded == 1);
	CHECK(t->d.st.learned == 2 && t->d.lat_n == 2);
	return 0;
}

/* The record "fastpath explain" reads: written first by the tick once the
 * connection lived through a whole tick period (no time needs to pass).
 */
static struct fp_conn_info *exported(struct t *t, const struct conn *c)
{
	tick(t, 0);
	tick(t, 0);
	return fake_export(&t->fk, c->id);
}

/* From then on it follows every state and hold change at once. */
static int t_export_follows(struct t *t)
{
	struct conn *c = tcp(t, 1, TCP_CONNTRACK_SYN_SENT);
	struct fp_conn_info *e = exported(t, c);
	int writes;

	CHECK(e && e->hold == FP_H_NOT_READY && e->state[0] == FP_CS_SLOW);
	CHECK(e->tuple[0].sport == c->tuple[0].sport && e->tuple[1].saddr[0] == c->tuple[1].src[0]);
	c = tcp_est(t, 1);
	CHECK(e->hold == FP_H_LEARNING && e->state[1] == FP_CS_LEARNING);
	/* the first data packet came 2 ms before the learner's report */
	t->fk.learn_ts = t->fk.now;
	t->fk.now += 2000000;
	learn(t, c, DIR_ORIG);
	CHECK(e->state[0] == FP_CS_XDP && e->iif[0] == LAN && e->oif[0] == WAN);
	CHECK(e->latency_ns[0] == 2000000 && e->latency_ns[1] == 0);
	learn(t, c, DIR_REPLY);
	CHECK(e->hold == FP_H_MAX && e->state[1] == FP_CS_XDP);
	/* a tick that changes nothing writes nothing */
	writes = t->fk.export_writes;
	tick(t, 1);
	CHECK(t->fk.export_writes == writes);
	ct_destroy(t, 1, IPPROTO_TCP);
	CHECK(!fake_export(&t->fk, 101) && t->fk.export_deletes == 1);
	return 0;
}

/* A connection gone within its first tick period costs fp_conns nothing:
 * no record written, none deleted (a flood of short flows); one that
 * lives is written by the tick.
 */
static int t_export_lazy(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	tick(t, 0);
	learn(t, c, DIR_ORIG);
	CHECK(!fake_export(&t->fk, c->id) && t->fk.export_writes == 0);
	ct_destroy(t, 1, IPPROTO_TCP);
	CHECK(t->fk.export_writes == 0 && t->fk.export_deletes == 0);
	c = tcp_est(t, 2);
	tick(t, 0);
	tick(t, 0);
	CHECK(fake_export(&t->fk, c->id) && t->fk.export_writes == 1);
	return 0;
}

/* The latency starts at the first packet, not at ESTABLISHED: idle
 * time before the first data does not count.
 */
static int t_latency_from_first_packet(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.now += 500 * 1000000ULL;		/* idle for 500 ms */
	t->fk.learn_ts = t->fk.now;
	t->fk.now += 1000000;
	learn(t, c, DIR_ORIG);
	CHECK(t->d.lat_n == 1 && t->d.lat[0] == 1000000);
	CHECK(c->dir[0].latency_ns == 1000000);
	/* the learning window: what the learner counted, taken out with it */
	t->fk.learn_packets = 7;
	learn(t, c, DIR_REPLY);
	CHECK(c->dir[1].learn_packets == 7 && c->dir[0].learn_packets == 1);
	CHECK(t->d.st.learn_packets == 8 && fake_learning(&t->fk) == 0);
	CHECK(exported(t, c)->learn_packets[1] == 7);
	return 0;
}

/* A shaped egress puts the direction on the TC tier, and the export says so. */
static int t_export_sqm(struct t *t)
{
	struct conn *c = tcp_est(t, 1);
	struct fp_conn_info *e;

	t->fk.shaped_oif = WAN;
	learn(t, c, DIR_ORIG);
	e = exported(t, c);
	CHECK(e && e->state[0] == FP_CS_TC && e->state[1] == FP_CS_LEARNING);
	return 0;
}

/* The ifb ingress hold reaches the export, for both directions. */
static int t_export_sqm_ingress(struct t *t)
{
	struct conn *c = tcp_est(t, 1);
	struct fp_conn_info *e;

	t->fk.need[WAN] = IN_IFB;
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);		/* in on WAN */
	e = exported(t, c);
	CHECK(e && e->hold == FP_H_SQM_INGRESS);
	CHECK(e->state[0] == FP_CS_SLOW && e->state[1] == FP_CS_SLOW);
	return 0;
}

static int t_entry_nat_rewrite(struct t *t)
{
	struct conn *c = offloaded(t, 1);
	struct fp_flow *o = entry(t, c, DIR_ORIG), *r = entry(t, c, DIR_REPLY);

	CHECK(o && r);
	CHECK(c->dir[0].key.ifindex == LAN && c->dir[1].key.ifindex == WAN);
	CHECK(o->state == FP_STATE_XDP && o->oif == WAN && o->mtu == 1500);
	CHECK(o->flags == FP_F_SNAT && o->nat_saddr[0] == inet_addr("198.51.100.1"));
	CHECK(r->flags == FP_F_DNAT && r->nat_daddr[0] == inet_addr("10.0.0.2"));
	CHECK(o->dmac[5] == 0x20 && r->dmac[5] == 0x10 && r->oif == LAN);
	return 0;
}

/* A route's MTU below the device's caps the entry, so bigger packets go
 * up and the kernel sends the ICMP; one above it changes nothing.
 */
static int t_entry_route_mtu(struct t *t)
{
	struct conn *c;

	t->fk.route_mtu = 1400;
	c = offloaded(t, 1);
	CHECK(entry(t, c, DIR_ORIG) && entry(t, c, DIR_ORIG)->mtu == 1400);
	t->fk.route_mtu = 9000;
	c = offloaded(t, 2);
	CHECK(entry(t, c, DIR_ORIG) && entry(t, c, DIR_ORIG)->mtu == 1500);
	return 0;
}

/* A frame must be addressed to the port it arrives on (other_host). */
static int t_entry_ingress_mac(struct t *t)
{
	struct conn *c = offloaded(t, 1);
	struct fp_flow *o = entry(t, c, DIR_ORIG), *r = entry(t, c, DIR_REPLY);

	CHECK(o && r);
	CHECK(!memcmp(o->in_dmac, ((__u8[6]){ 2, 0, 0, 0, 0, LAN }), 6));
	CHECK(!memcmp(r->in_dmac, ((__u8[6]){ 2, 0, 0, 0, 0, WAN }), 6));
	CHECK(!memcmp(o->in_smac, ((__u8[6]){ 0 }), 6));	/* not PPPoE */
	return 0;
}

static int t_udp_no_reply_slow(struct t *t)
{
	struct conn *c = ct_full(t, 1, IPPROTO_UDP, 0, 0, 0, false);

	CHECK(both(c, DS_SLOW) && c->hold == FP_H_NOT_READY);
	return 0;
}

static int t_udp_seen_reply(struct t *t)
{
	struct conn *c = ct_full(t, 1, IPPROTO_UDP, 0, 0, 0, false);

	c = ct_full(t, 1, IPPROTO_UDP, 0, IPS_SEEN_REPLY, 0, false);
	CHECK(both(c, DS_LEARNING) && t->fk.liberal == 0);
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(both(c, DS_XDP) && c->hold == FP_H_MAX);
	return 0;
}

static int t_helper_slow(struct t *t)
{
	struct conn *c = ct_full(t, 1, IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED,
				 IPS_SEEN_REPLY, 0, true);

	CHECK(both(c, DS_SLOW) && c->hold == FP_H_HELPER);
	return 0;
}

static int t_policy_mark_unselected(struct t *t)
{
	struct conn *c;

	t->d.opt.policy_all = false;
	t->d.opt.mark_value = 1;
	t->d.opt.mark_mask = 1;
	c = tcp_est(t, 1);
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_POLICY);
	return 0;
}

static int t_policy_mark_set(struct t *t)
{
	struct conn *c;

	t->d.opt.policy_all = false;
	t->d.opt.mark_value = 1;
	t->d.opt.mark_mask = 1;
	tcp_est(t, 1);
	c = ct_full(t, 1, IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED, IPS_SEEN_REPLY, 1, false);
	CHECK(both(c, DS_LEARNING) && c->hold == FP_H_LEARNING);
	return 0;
}

static int t_policy_mark_cleared(struct t *t)
{
	struct conn *c;

	t->d.opt.policy_all = false;
	t->d.opt.mark_value = 1;
	t->d.opt.mark_mask = 1;
	c = ct_full(t, 1, IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED, IPS_SEEN_REPLY, 1, false);
	learn(t, c, 0);
	learn(t, c, 1);
	CHECK(both(c, DS_XDP));
	c = ct_full(t, 1, IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED, IPS_SEEN_REPLY, 0, false);
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_POLICY);
	CHECK(fake_entries(&t->fk) == 0 && fake_learning(&t->fk) == 0);
	CHECK(t->d.offloaded == 0 && t->d.conns_offloaded == 0 && t->d.st.torn_down == 1);
	return 0;
}

static int t_mark_changed_relearns(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	c = ct_full(t, 1, IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED, IPS_SEEN_REPLY, 5, false);
	CHECK(both(c, DS_LEARNING) && fake_entries(&t->fk) == 0);
	CHECK(fake_learning(&t->fk) == 2 && t->d.st.torn_down == 1);
	return 0;
}

static int t_update_keeps_offload(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	c = tcp_est(t, 1);
	CHECK(both(c, DS_XDP) && fake_entries(&t->fk) == 2 && t->fk.liberal == 1);
	return 0;
}

/* --- learning --- */

static int t_learn_egress_not_attached(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	learn_full(t, c, DIR_ORIG, LAN, 9, 0x20, 0, 0, cookie(c, DIR_ORIG));
	CHECK(c->state[0] == DS_SLOW && c->hold == FP_H_NOT_ATTACHED);
	CHECK(c->state[1] == DS_LEARNING);
	/* it stays held: conntrack updates do not re-arm it */
	c = tcp_est(t, 1);
	CHECK(c->state[0] == DS_SLOW && c->hold == FP_H_NOT_ATTACHED);
	return 0;
}

static int t_learn_stale_cookie(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	CHECK(learn_full(t, c, DIR_ORIG, LAN, WAN, 1, 0, 0, cookie(c, DIR_ORIG) + 2) == 0);
	CHECK(both(c, DS_LEARNING) && fake_entries(&t->fk) == 0);
	return 0;
}

static int t_learn_unknown_conn(struct t *t)
{
	struct conn *c = tcp_est(t, 1);
	struct conn copy = *c;

	ct_destroy(t, 1, IPPROTO_TCP);
	CHECK(learn_full(t, &copy, DIR_ORIG, LAN, WAN, 1, 0, 0, cookie(&copy, 0)) == 0);
	CHECK(fake_entries(&t->fk) == 0 && t->d.conns.n == 0);
	return 0;
}

static int t_learning_map_full(struct t *t)
{
	struct conn *c;

	t->fk.learn_cap = 0;
	c = tcp_est(t, 1);
	CHECK(both(c, DS_SLOW) && fake_learning(&t->fk) == 0);
	/* counted, shown as not_learned, and no BE_LIBERAL round trip */
	CHECK(c->hold == FP_H_NOT_LEARNED && t->d.st.learn_full == 1);
	CHECK(t->fk.liberal == 0);
	fsm_count(&t->d);
	CHECK(t->d.st.hold[FP_H_NOT_LEARNED] == 1 && t->d.st.hold[FP_H_LEARNING] == 0);
	/* room again: a conntrack update does not re-arm it, its retry does */
	t->fk.learn_cap = FAKE_SLOTS;
	c = tcp_est(t, 1);
	CHECK(both(c, DS_SLOW) && fake_learning(&t->fk) == 0);
	tick(t, 10);
	CHECK(both(c, DS_LEARNING) && fake_learning(&t->fk) == 2 && c->hold == FP_H_LEARNING);
	CHECK(t->fk.liberal == 1);
	return 0;
}

/* A candidate whose next packet never comes leaves the learning map after
 * 10 s (an idle connection), and is tried again after 10, 20, 40... s.
 */
static int t_not_learned(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	tick(t, 9);
	CHECK(both(c, DS_LEARNING) && c->hold == FP_H_LEARNING);
	tick(t, 1);
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_NOT_LEARNED);
	CHECK(fake_learning(&t->fk) == 0 && t->d.st.not_learned == 1);
	CHECK(fake_export(&t->fk, c->id)->hold == FP_H_NOT_LEARNED);
	/* a conntrack update does not bring it back before its time */
	c = tcp_est(t, 1);
	CHECK(both(c, DS_SLOW));
	tick(t, 10);
	CHECK(both(c, DS_LEARNING) && fake_learning(&t->fk) == 2);
	tick(t, 10);
	CHECK(both(c, DS_SLOW) && t->d.st.not_learned == 2);
	tick(t, 10);
	CHECK(both(c, DS_SLOW));		/* the second wait is 20 s */
	tick(t, 10);
	CHECK(both(c, DS_LEARNING));
	/* learned at last: the delay starts again from 10 s */
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(both(c, DS_XDP) && c->hold == FP_H_MAX && c->learn_tries == 0);
	return 0;
}

/* A one-way stream: the direction in the table keeps its entry when the
 * other is given up on.
 */
static int t_not_learned_keeps_offloaded(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	learn(t, c, DIR_ORIG);
	for (int i = 0; i < 10; i++) {
		traffic(t, c, DIR_ORIG);
		tick(t, 1);
	}
	CHECK(c->state[0] == DS_XDP && c->state[1] == DS_SLOW);
	CHECK(c->hold == FP_H_NOT_LEARNED && fake_entries(&t->fk) == 1);
	CHECK(fake_learning(&t->fk) == 0);
	/* its retry arms only the missing direction */
	for (int i = 0; i < 10; i++) {
		traffic(t, c, DIR_ORIG);
		tick(t, 1);
	}
	CHECK(c->state[0] == DS_XDP && c->state[1] == DS_LEARNING);
	CHECK(fake_learning(&t->fk) == 1 && c->hold == FP_H_LEARNING);
	learn(t, c, DIR_REPLY);
	CHECK(both(c, DS_XDP) && c->hold == FP_H_MAX);
	return 0;
}

/* Connections that end on the router (its own address, loopback, or a
 * DNAT to it) are never candidates; a masquerade address does not count.
 */
static int t_local_hold(struct t *t)
{
	struct ct_info ci = { .id = 300, .has_status = true,
			      .status = IPS_SEEN_REPLY | IPS_ASSURED,
			      .has_tcp_state = true, .tcp_state = TCP_CONNTRACK_ESTABLISHED };
	struct conn *c;

	/* 198.51.100.1 is the masquerade address: forwarded, a candidate */
	t->fk.local[t->fk.nlocal++] = inet_addr("198.51.100.1");
	c = tcp_est(t, 1);
	CHECK(both(c, DS_LEARNING));
	/* the router's own connection out */
	t->fk.local[t->fk.nlocal++] = inet_addr("10.0.0.2");
	c = tcp_est(t, 2);
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_LOCAL);
	/* a loopback connection */
	tuples(3, IPPROTO_TCP, &ci.orig, &ci.reply);
	ci.orig.src[0] = ci.orig.dst[0] = inet_addr("127.0.0.1");
	ci.reply.src[0] = ci.reply.dst[0] = inet_addr("127.0.0.1");
	fsm_ct_event(&t->d, &ci);
	c = conntab_find(&t->d.conns, &ci.orig, NULL);
	CHECK(c && both(c, DS_SLOW) && c->hold == FP_H_LOCAL);
	/* DNAT to the router itself: the responder is local */
	tuples(4, IPPROTO_TCP, &ci.orig, &ci.reply);
	ci.id = 301;
	ci.orig.src[0] = inet_addr("192.0.2.7");
	ci.reply.src[0] = inet_addr("10.0.0.1");
	ci.reply.dst[0] = inet_addr("192.0.2.7");
	t->fk.local[t->fk.nlocal++] = inet_addr("10.0.0.1");
	fsm_ct_event(&t->d, &ci);
	c = conntab_find(&t->d.conns, &ci.orig, NULL);
	CHECK(c && both(c, DS_SLOW) && c->hold == FP_H_LOCAL);
	/* only the first connection is in the learning map; no tick changes that */
	CHECK(fake_learning(&t->fk) == 2 && t->fk.liberal == 1);
	tick(t, 20);
	CHECK(c->hold == FP_H_LOCAL && t->d.st.not_learned == 1);
	fsm_count(&t->d);
	CHECK(t->d.st.hold[FP_H_LOCAL] == 3);
	return 0;
}

static int t_local_conn_never_offloaded(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	/* The router's own packet: no ingress device, and the other
	 * direction is delivered locally, so it is never learned.
	 */
	learn_full(t, c, DIR_ORIG, 0, WAN, 0x20, 0, 0, cookie(c, DIR_ORIG));
	CHECK(c->state[0] == DS_WAITING && c->state[1] == DS_LEARNING);
	CHECK(fake_entries(&t->fk) == 0 && t->d.offloaded == 0);
	return 0;
}

/* --- stacked devices --- */

static int t_stacked_waits_for_other(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.stacked[t->fk.nstacked++] = 7;	/* eth0.7 over WAN */
	/* the reply arrives on the VLAN device, learned first */
	learn_full(t, c, DIR_REPLY, 7, LAN, 0x10, 0, 0, cookie(c, DIR_REPLY));
	CHECK(c->state[1] == DS_WAITING && fake_entries(&t->fk) == 0);
	/* the original leaves through WAN tagged 7: the reply is keyed on it */
	learn_full(t, c, DIR_ORIG, LAN, WAN, 0x20, 7, 0, cookie(c, DIR_ORIG));
	CHECK(both(c, DS_XDP) && c->hold == FP_H_MAX);
	CHECK(c->dir[1].key.ifindex == WAN && c->dir[1].key.vlan[0] == 7);
	CHECK(entry(t, c, DIR_ORIG)->out_vlan[0] == 7);
	return 0;
}

static int t_stacked_not_carried(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.stacked[t->fk.nstacked++] = 7;
	t->fk.carries = false;		/* asymmetric: 7 does not get WAN's frames */
	learn_full(t, c, DIR_ORIG, LAN, WAN, 0x20, 0, 0, cookie(c, DIR_ORIG));
	learn_full(t, c, DIR_REPLY, 7, LAN, 0x10, 0, 0, cookie(c, DIR_REPLY));
	CHECK(c->state[0] == DS_XDP && c->state[1] == DS_SLOW);
	CHECK(c->hold == FP_H_NOT_ATTACHED);
	return 0;
}

static int t_stacked_device_change(struct t *t)
{
	struct conn *a = offloaded(t, 1), *b = tcp_est(t, 2);

	fsm_relearn_all(&t->d);		/* eth0.7 moved, or a route changed */
	CHECK(both(a, DS_LEARNING) && fake_entries(&t->fk) == 0);
	CHECK(both(b, DS_LEARNING) && fake_learning(&t->fk) == 4);
	CHECK(t->d.st.torn_down == 1);
	return 0;
}

static int t_waiting_relearns_on_change(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.stacked[t->fk.nstacked++] = 7;
	learn_full(t, c, DIR_REPLY, 7, LAN, 0x10, 0, 0, cookie(c, DIR_REPLY));
	CHECK(c->state[1] == DS_WAITING);
	fsm_relearn_all(&t->d);
	CHECK(both(c, DS_LEARNING) && !c->dir[1].have_out);
	return 0;
}

/* --- SQM --- */

/* A shaped egress: that direction goes TC (the redirect keeps the qdisc),
 * the other one stays on XDP; neither is offered to the PPE.
 */
static int t_sqm_shaped_tc(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.shaped_oif = WAN;
	t->fk.hw_capable = true;
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(c->state[0] == DS_TC && c->state[1] == DS_HW_PENDING);
	CHECK(entry(t, c, DIR_ORIG)->state == FP_STATE_TC);
	CHECK(c->hold == FP_H_MAX && t->fk.hw_offers == 1);
	fsm_count(&t->d);
	CHECK(t->d.st.tc_dirs == 1 && t->d.st.hold[FP_H_SQM] == 0);
	return 0;
}

static int t_sqm_appears_relearns_tc(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	CHECK(both(c, DS_XDP));
	t->fk.shaped_oif = WAN;		/* netmon: a shaper on WAN */
	fsm_relearn_via(&t->d, WAN, NULL);
	CHECK(both(c, DS_LEARNING) && fake_entries(&t->fk) == 0);
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(c->state[0] == DS_TC && c->state[1] == DS_XDP);
	return 0;
}

static int t_sqm_gone_back_to_xdp(struct t *t)
{
	struct conn *c = tcp_est(t, 1), *other;

	t->fk.shaped_oif = WAN;
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(c->state[0] == DS_TC);
	t->fk.shaped_oif = 0;		/* netmon: the shaper went */
	fsm_relearn_via(&t->d, WAN, NULL);
	fsm_sqm_gone(&t->d);
	CHECK(both(c, DS_LEARNING));
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(both(c, DS_XDP) && entry(t, c, DIR_ORIG)->state == FP_STATE_XDP);
	other = offloaded(t, 2);
	CHECK(both(other, DS_XDP));
	return 0;
}

/* A shaper on a device stacked above the egress port (ppp0, eth0.7): a
 * redirect to the port would go past it, so the connection stays slow with
 * hold sqm, and comes back once the shaper goes.
 */
static int t_sqm_upper_holds(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.shaped_upper_oif = WAN;
	learn(t, c, DIR_ORIG);
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_SQM);
	CHECK(fake_entries(&t->fk) == 0);
	fsm_count(&t->d);
	CHECK(t->d.st.hold[FP_H_SQM] == 1 && t->d.st.tc_dirs == 0);
	t->fk.shaped_upper_oif = 0;	/* netmon: the shaper went */
	fsm_sqm_gone(&t->d);
	CHECK(both(c, DS_LEARNING));
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(both(c, DS_XDP));
	return 0;
}

/* An ingress that may deliver CHECKSUM_PARTIAL (veth, tun, virtio_net). */
static int t_partial_csum_ingress_tc(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.need[LAN] = IN_TC_CSUM;
	t->fk.hw_capable = true;
	learn(t, c, DIR_ORIG);		/* in on LAN */
	learn(t, c, DIR_REPLY);		/* in on WAN */
	CHECK(c->state[0] == DS_HW_PENDING && c->dir[0].tier == DS_TC);
	CHECK(c->state[1] == DS_HW_PENDING && c->dir[1].tier == DS_XDP);
	/* the PPE refuses: back to the tier each was chosen for */
	t->fk.hw_gone = true;
	fsm_tick(&t->d);
	CHECK(c->state[0] == DS_TC && c->state[1] == DS_XDP);
	CHECK(entry(t, c, DIR_ORIG)->state == FP_STATE_TC);
	CHECK(entry(t, c, DIR_REPLY)->state == FP_STATE_XDP);
	return 0;
}

static int t_generic_xdp_ingress_tc(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.need[WAN] = IN_TC_GENERIC;
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(c->state[0] == DS_XDP && c->state[1] == DS_TC);
	CHECK(entry(t, c, DIR_REPLY)->state == FP_STATE_TC);
	return 0;
}

/* ifb ingress shaping: both directions stay slow, until it goes. */
static int t_ifb_ingress_slow(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.need[WAN] = IN_IFB;
	learn(t, c, DIR_ORIG);
	CHECK(c->state[0] == DS_XDP);
	learn(t, c, DIR_REPLY);		/* in on WAN */
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_SQM_INGRESS);
	CHECK(fake_entries(&t->fk) == 0 && fake_learning(&t->fk) == 0);
	c = tcp_est(t, 1);		/* held: an update does not re-arm it */
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_SQM_INGRESS);
	fsm_count(&t->d);
	CHECK(t->d.st.hold[FP_H_SQM_INGRESS] == 1);
	t->fk.need[WAN] = IN_ANY;
	fsm_sqm_gone(&t->d);
	CHECK(both(c, DS_LEARNING) && c->hold == FP_H_LEARNING);
	return 0;
}

/* The stacked device it arrived on counts as well as the port. */
static int t_ifb_on_stacked_ingress(struct t *t)
{
	struct conn *c = tcp_est(t, 1);

	t->fk.stacked[t->fk.nstacked++] = 7;
	t->fk.carries = true;
	t->fk.need[7] = IN_IFB;
	learn(t, c, DIR_ORIG);
	learn_full(t, c, DIR_REPLY, 7, LAN, 0x10, 0, 0, cookie(c, DIR_REPLY));
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_SQM_INGRESS);
	return 0;
}

static int t_tier_forced(struct t *t)
{
	struct conn *c;

	t->d.opt.tier = TIER_TC;
	t->fk.hw_capable = true;
	c = offloaded(t, 1);
	CHECK(both(c, DS_TC) && t->fk.hw_offers == 0);
	CHECK(entry(t, c, DIR_ORIG)->state == FP_STATE_TC);
	t->d.opt.tier = TIER_XDP;
	t->fk.shaped_oif = WAN;
	t->fk.need[LAN] = IN_TC_CSUM;
	c = offloaded(t, 2);
	CHECK(both(c, DS_XDP) && t->fk.hw_offers == 0);
	t->fk.need[WAN] = IN_IFB;	/* forcing a tier keeps the ifb hold */
	c = offloaded(t, 3);
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_SQM_INGRESS);
	return 0;
}

static int t_sqm_guard_off(struct t *t)
{
	struct conn *c;

	t->d.opt.sqm_guard = false;
	t->fk.shaped_oif = WAN;
	t->fk.need[WAN] = IN_IFB;	/* ignores ifb shaping too */
	c = offloaded(t, 1);
	CHECK(both(c, DS_XDP));
	CHECK(entry(t, c, DIR_ORIG)->state == FP_STATE_XDP);
	return 0;
}

/* --- capacity --- */

static int t_max_flows_reached(struct t *t)
{
	struct conn *a, *b;

	t->d.opt.max_flows = 1;
	a = offloaded(t, 1);
	b = tcp_est(t, 2);
	learn(t, b, DIR_ORIG);
	CHECK(both(a, DS_XDP) && b->state[0] == DS_SLOW);
	CHECK(b->hold == FP_H_TABLE_FULL && t->d.st.table_full == 1);
	CHECK(fake_entries(&t->fk) == 2);
	return 0;
}

static int t_max_flows_second_direction_fits(struct t *t)
{
	struct conn *a;

	t->d.opt.max_flows = 1;
	a = tcp_est(t, 1);
	learn(t, a, DIR_ORIG);
	CHECK(t->d.conns_offloaded == 1);
	learn(t, a, DIR_REPLY);
	CHECK(both(a, DS_XDP) && t->d.st.table_full == 0);
	return 0;
}

static int t_max_flows_freed(struct t *t)
{
	struct conn *b;

	t->d.opt.max_flows = 1;
	offloaded(t, 1);
	b = tcp_est(t, 2);
	learn(t, b, DIR_ORIG);
	CHECK(b->hold == FP_H_TABLE_FULL);
	tick(t, 1);
	CHECK(b->hold == FP_H_TABLE_FULL);	/* still full */
	ct_destroy(t, 1, IPPROTO_TCP);
	tick(t, 1);
	CHECK(both(b, DS_LEARNING) && b->hold == FP_H_LEARNING);
	learn(t, b, 0);
	learn(t, b, 1);
	CHECK(both(b, DS_XDP));
	return 0;
}

static int t_table_full_map(struct t *t)
{
	struct conn *c;

	t->fk.table_cap = 1;
	c = tcp_est(t, 1);
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(c->state[0] == DS_XDP && c->state[1] == DS_SLOW);
	CHECK(c->hold == FP_H_TABLE_FULL && t->d.st.table_full == 1);
	return 0;
}

/* --- the end of a connection --- */

static int t_fin_teardown(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	entry(t, c, DIR_ORIG)->state = FP_STATE_TEARDOWN;	/* XDP saw a FIN */
	tick(t, 1);
	CHECK(both(c, DS_TEARDOWN) && c->hold == FP_H_NOT_READY);
	CHECK(fake_entries(&t->fk) == 0 && fake_learning(&t->fk) == 0);
	CHECK(t->d.offloaded == 0 && t->d.st.torn_down == 1);
	return 0;
}

static int t_rst_forged_relearns(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	entry(t, c, DIR_REPLY)->state = FP_STATE_TEARDOWN;
	tick(t, 1);
	/* conntrack is asked, in the tick that saw the teardown */
	CHECK(both(c, DS_TEARDOWN) && t->fk.rechecks == 1 && t->d.st.rechecks == 1);
	CHECK(!memcmp(&t->fk.recheck_last, &c->tuple[DIR_ORIG], sizeof(c->tuple[0])));
	/* it still says ESTABLISHED: a forged RST keeps nothing slow, and
	 * the timeout the RST may have cut is put back
	 */
	c = tcp_est(t, 1);
	CHECK(both(c, DS_LEARNING) && c->hold == FP_H_LEARNING);
	CHECK(t->d.st.recheck_relearned == 1 && t->fk.refreshes == 1);
	CHECK(t->fk.refresh_timeout == t->fk.ct_timeout);
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	CHECK(both(c, DS_XDP));
	/* asked once: the next tick asks nothing */
	tick(t, 1);
	CHECK(t->fk.rechecks == 1);
	return 0;
}

/* A real close: conntrack moved on, the answer keeps it slow. */
static int t_fin_recheck_closing(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	entry(t, c, DIR_ORIG)->state = FP_STATE_TEARDOWN;
	tick(t, 1);
	CHECK(t->fk.rechecks == 1);
	c = tcp(t, 1, TCP_CONNTRACK_FIN_WAIT);
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_NOT_READY);
	CHECK(fake_learning(&t->fk) == 0 && t->d.st.recheck_relearned == 0);
	CHECK(t->fk.refreshes == 0);
	return 0;
}

/* A UDP flow is never torn down by XDP; nothing to ask. The teardown of a
 * connection that conntrack already forgot costs one question only.
 */
static int t_recheck_gone(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	entry(t, c, DIR_ORIG)->state = FP_STATE_TEARDOWN;
	tick(t, 1);
	ct_destroy(t, 1, IPPROTO_TCP);
	tick(t, 1);
	CHECK(t->fk.rechecks == 1 && t->d.conns.n == 0);
	return 0;
}

/* A real close is reported: the connection stays slow however long. */
static int t_fin_reported_stays_slow(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	entry(t, c, DIR_ORIG)->state = FP_STATE_TEARDOWN;
	tick(t, 1);
	c = tcp(t, 1, TCP_CONNTRACK_FIN_WAIT);
	tick(t, 5);
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_NOT_READY && fake_learning(&t->fk) == 0);
	return 0;
}

static int t_teardown_then_close(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	entry(t, c, DIR_ORIG)->state = FP_STATE_TEARDOWN;
	tick(t, 1);
	c = tcp(t, 1, TCP_CONNTRACK_TIME_WAIT);
	CHECK(both(c, DS_SLOW) && c->hold == FP_H_NOT_READY && fake_learning(&t->fk) == 0);
	return 0;
}

static int t_ct_destroy(struct t *t)
{
	offloaded(t, 1);
	ct_destroy(t, 1, IPPROTO_TCP);
	CHECK(t->d.conns.n == 0 && fake_entries(&t->fk) == 0);
	CHECK(t->d.offloaded == 0 && t->d.conns_offloaded == 0 && t->d.st.torn_down == 1);
	return 0;
}

static int t_ct_destroy_learning(struct t *t)
{
	tcp_est(t, 1);
	ct_destroy(t, 1, IPPROTO_TCP);
	CHECK(t->d.conns.n == 0 && fake_learning(&t->fk) == 0 && t->d.st.torn_down == 0);
	return 0;
}

static int t_nat_replaced(struct t *t)
{
	struct ct_info ci = { .id = 200, .has_status = true, .status = IPS_SEEN_REPLY,
			      .has_tcp_state = true, .tcp_state = TCP_CONNTRACK_ESTABLISHED };
	struct conn *c;

	offloaded(t, 1);
	tuples(1, IPPROTO_TCP, &ci.orig, &ci.reply);
	ci.reply.dst[0] = inet_addr("198.51.100.2");	/* a new NAT address */
	fsm_ct_event(&t->d, &ci);
	c = conntab_find(&t->d.conns, &ci.orig, NULL);
	CHECK(c && c->id == 200 && t->d.conns.n == 1);
	CHECK(both(c, DS_LEARNING) && fake_entries(&t->fk) == 0);
	return 0;
}

static int t_idle_timeout(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	tick(t, 20);
	CHECK(both(c, DS_XDP));
	tick(t, 11);		/* 31 s without a packet */
	CHECK(both(c, DS_LEARNING) && fake_entries(&t->fk) == 0);
	CHECK(t->d.st.torn_down == 1);
	return 0;
}

/* The sysctl raised after a refresh with the old value (read every 10 s):
 * the next refresh comes a third of the old timeout later, with the new
 * one, or conntrack would expire the connection under its flow.
 */
static int t_refresh_after_sysctl_raised(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	t->fk.ct_timeout = 4;
	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	CHECK(t->fk.refreshes == 1 && t->fk.refresh_timeout == 4);
	t->fk.ct_timeout = 432000;
	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	CHECK(t->fk.refreshes == 1);	/* 1 s: not yet a third of 4 s */
	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	CHECK(t->fk.refreshes == 2 && t->fk.refresh_timeout == 432000);
	traffic(t, c, DIR_ORIG);
	tick(t, 2);
	CHECK(t->fk.refreshes == 2);	/* and then a third of 5 days */
	return 0;
}

static int t_active_refresh(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	CHECK(t->fk.refreshes == 1 && t->fk.refresh_timeout == 300);
	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	CHECK(t->fk.refreshes == 1);	/* not again before timeout / 3 */
	for (int i = 0; i < 100; i++) {
		traffic(t, c, i & 1);
		tick(t, 1);
	}
	CHECK(t->fk.refreshes == 2 && both(c, DS_XDP) && t->d.st.refreshes == 2);
	return 0;
}

/* A UDP flow offloaded at once: reported new at 1000 s, replied, learned. */
static struct conn *udp_offloaded(struct t *t, int n, __u32 status)
{
	struct conn *c;

	t->fk.ct_timeout = 30;
	t->fk.stream_timeout = 120;
	ct_full(t, n, IPPROTO_UDP, 0, 0, 0, false);
	c = ct_full(t, n, IPPROTO_UDP, 0, IPS_SEEN_REPLY | status, 0, false);
	learn(t, c, DIR_ORIG);
	learn(t, c, DIR_REPLY);
	return c;
}

/* conntrack would make it a stream on a packet 2 s after it began: the
 * daemon does, for the packets the fast path carried (once), and the
 * refreshes give the stream timeout from then on.
 */
static int t_udp_stream_assured(struct t *t)
{
	struct conn *c = udp_offloaded(t, 1, 0);

	CHECK(both(c, DS_XDP));
	traffic(t, c, DIR_ORIG);	/* at 0 s and 1 s: not yet */
	tick(t, 1);
	traffic(t, c, DIR_REPLY);
	tick(t, 1);
	CHECK(t->fk.assures == 0 && !c->udp_stream);
	CHECK(t->fk.refreshes == 1 && t->fk.refresh_timeout == 30);
	traffic(t, c, DIR_REPLY);	/* at 2 s */
	tick(t, 1);
	CHECK(t->fk.assures == 1 && c->udp_stream && t->fk.refresh_timeout == 120);
	CHECK(t->fk.refreshes == 1 && t->d.st.refreshes == 2);
	for (int i = 0; i < 50; i++) {
		traffic(t, c, i & 1);
		tick(t, 1);
	}
	/* once; the next refresh a third of the stream timeout later */
	CHECK(t->fk.assures == 1 && t->fk.refreshes == 2 && t->fk.refresh_timeout == 120);
	CHECK(both(c, DS_XDP));
	return 0;
}

/* Packets only in the first 2 s, then a pause: no stream until the next. */
static int t_udp_stream_after_pause(struct t *t)
{
	struct conn *c = udp_offloaded(t, 1, 0);

	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	tick(t, 5);
	CHECK(t->fk.assures == 0 && both(c, DS_XDP));
	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	CHECK(t->fk.assures == 1 && t->fk.refresh_timeout == 120);
	return 0;
}

/* conntrack refuses the status: the stream timeout all the same, tried once. */
static int t_udp_stream_assure_refused(struct t *t)
{
	struct conn *c = udp_offloaded(t, 1, 0);

	t->fk.assure_err = -EBUSY;
	tick(t, 2);
	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	CHECK(t->fk.assures == 1 && t->fk.refreshes == 1 && t->fk.refresh_timeout == 120);
	for (int i = 0; i < 5; i++) {
		traffic(t, c, DIR_REPLY);
		tick(t, 1);
	}
	CHECK(t->fk.assures == 1 && t->fk.refreshes == 1);
	return 0;
}

/* Already ASSURED (conntrack saw a late packet, or a restart), and TCP:
 * nothing to set.
 */
static int t_stream_not_again(struct t *t)
{
	struct conn *u = udp_offloaded(t, 1, IPS_ASSURED);
	struct conn *c = offloaded(t, 2);

	for (int i = 0; i < 5; i++) {
		traffic(t, u, DIR_ORIG);
		traffic(t, c, DIR_ORIG);
		tick(t, 1);
	}
	CHECK(t->fk.assures == 0 && !u->udp_stream && !c->udp_stream);
	CHECK(t->fk.refreshes == 2 && t->d.st.refreshes == 2);
	return 0;
}

/* A quiet stream leaves the table: conntrack's timer is put to run from
 * its last packet, not from the last refresh up to 40 s before it.
 */
static int t_udp_idle_handback(struct t *t)
{
	struct conn *c = udp_offloaded(t, 1, 0);
	int i;

	for (i = 0; i < 10; i++) {	/* packets at 1000 .. 1009 s */
		traffic(t, c, i & 1);
		tick(t, 1);
	}
	CHECK(c->udp_stream && t->fk.assures == 1 && t->fk.refreshes == 1);
	for (i = 0; i < 40 && both(c, DS_XDP); i++)
		tick(t, 1);
	/* idle from the tick at 1010 s, out 31 s later: 120 - (1041 - 1009) */
	CHECK(both(c, DS_LEARNING) && t->fk.now == 1041 * NS);
	CHECK(t->fk.refreshes == 2 && t->fk.refresh_timeout == 88);
	return 0;
}

/* Refreshed after its last packet already, or TCP: no handback. */
static int t_idle_no_handback(struct t *t)
{
	struct conn *u = udp_offloaded(t, 1, 0);
	struct conn *c = offloaded(t, 2);

	t->fk.ct_timeout = 300;
	traffic(t, u, DIR_ORIG);
	tick(t, 1);			/* refreshed after the packet */
	for (int i = 0; i < 5; i++) {
		traffic(t, c, DIR_ORIG);
		tick(t, 1);
	}
	CHECK(t->fk.refreshes == 2);
	tick(t, 40);
	CHECK(both(u, DS_LEARNING) && both(c, DS_LEARNING) && t->fk.refreshes == 2);
	return 0;
}

static int t_rates_written(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	CHECK(t->fk.rate_writes == 2);
	CHECK(t->fk.last_rate.pps == 0);	/* the reply direction, last */
	CHECK(c->dir[0].packets == 10 && c->dir[0].bytes == 10000);
	return 0;
}

/* What the fast path carried reaches conntrack's counters once. */
static int t_ct_acct_tick(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	tick(t, 1);
	CHECK(t->fk.accts == 0);	/* nothing carried yet */
	traffic(t, c, DIR_ORIG);
	traffic(t, c, DIR_REPLY);
	tick(t, 1);
	CHECK(t->fk.accts == 2 && t->fk.acct_packets == 20 && t->fk.acct_bytes == 20000);
	tick(t, 1);
	CHECK(t->fk.accts == 2);	/* no growth, nothing added */
	return 0;
}

/* Leaving the table hands conntrack what was carried since the last tick. */
static int t_ct_acct_on_unoffload(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	traffic(t, c, DIR_ORIG);
	tick(t, 1);
	traffic(t, c, DIR_ORIG);
	ct_destroy(t, 1, IPPROTO_TCP);
	CHECK(t->fk.acct_packets == 20 && t->fk.acct_bytes == 20000);
	return 0;
}

static int t_entry_removed_behind_back(struct t *t)
{
	struct conn *c = offloaded(t, 1);

	fake_entry(&t->fk, &c->dir[0].key)->used = false;	/* "flow del" */
	tick(t, 1);
	CHECK(both(c, DS_LEARNING) && fake_entries(&t->fk) == 0);
	return 0;
}

/* --- neighbours and links --- */

static int t_neighbour_mac_change(struct t *t)
{
	struct conn *a = offloaded(t, 1), *b = tcp_est(t, 2);

	learn_full(t, b, 0, LAN, WAN, 0x21, 0, 0, cookie(b, 0));	/* another next hop */
	learn(t, b, 1);
	CHECK(both(b, DS_XDP));
	fsm_relearn_via(&t->d, WAN, (__u8[6]){ 2, 0, 0, 0, 0, 0x20 });
	CHECK(both(a, DS_LEARNING) && both(b, DS_XDP));
	CHECK(fake_entries(&t->fk) == 2);
	return 0;
}

static int t_neighbour_index_many(struct t *t)
{
	struct conn *c;
	int learning = 0, xdp = 0;

	t->d.opt.max_flows = 1000;
	for (int n = 0; n < 110; n++) {
		c = tcp_est(t, n);
		/* 100 go to next hop ...:20, 10 to ...:21 */
		learn_full(t, c, 0, LAN, WAN, n < 100 ? 0x20 : 0x21, 0, 0, cookie(c, 0));
		learn(t, c, 1);
	}
	fsm_relearn_via(&t->d, WAN, (__u8[6]){ 2, 0, 0, 0, 0, 0x20 });
	for (int n = 0; n < 110; n++) {
		struct ct_tuple o, r;

		tuples(n, IPPROTO_TCP, &o, &r);
		c = conntab_find(&t->d.conns, &o, NULL);
		learning += both(c, DS_LEARNING) && n < 100;
		xdp += both(c, DS_XDP) && n >= 100;
	}
	CHECK(learning == 100 && xdp == 10 && fake_entries(&t->fk) == 20);
	return 0;
}

static int t_neighbour_index_follows_relearn(struct t *t)
{
	struct conn *c = offloaded(t, 1);
	const __u8 a[6] = { 2, 0, 0, 0, 0, 0x20 }, b[6] = { 2, 0, 0, 0, 0, 0x22 };

	fsm_relearn_all(&t->d);
	learn_full(t, c, 0, LAN, WAN, 0x22, 0, 0, cookie(c, 0));	/* moved to b */
	learn(t, c, 1);
	CHECK(both(c, DS_XDP));
	fsm_relearn_via(&t->d, WAN, a);
	CHECK(both(c, DS_XDP));
	fsm_relearn_via(&t->d, LAN, b);			/* b, but on the other port */
	CHECK(both(c, DS_XDP));
	fsm_relearn_via(&t->d, WAN, b);
	CHECK(both(c, DS_LEARNING));
	ct_destroy(t, 1, IPPROTO_TCP);
	fsm_relearn_via(&t->d, WAN, b);			/* nothing left to find */
	CHECK(t->d.conns.n == 0);
	return 0;
}

static int t_link_down(struct t *t)
{
	struct conn *a = offloaded(t, 1), *b = offloaded(t, 2);

	fsm_relearn_via(&t->d, LAN, NULL);	/* in through LAN, or out */
	CHECK(both(a, DS_LEARNING) && both(b, DS_LEARNING));
	CHECK(fake_entries(&t->fk) == 0 && t->d.offloaded == 0);
	return 0;
}

static int t_link_other_port_untouched(struct t *t)
{
	struct conn *a = offloaded(t, 1);

	fsm_relearn_via(&t->d, 9, NULL);
	CHECK(both(a, DS_XDP) && fake_entries(&t->fk) == 2);
	return 0;
}

static int t_device_removed(struct t *t)
{
	struct conn *a = offloaded(t, 1);

	t->fk.nattached = 1;		/* WAN left the devmap */
	fsm_relearn_via(&t->d, WAN, NULL);
	CHECK(both(a, DS_LEARNING));
	learn(t, a, DIR_ORIG);
	CHECK(a->state[0] == DS_SLOW && a->hold == FP_H_NOT_ATTACHED);
	return 0;
}

/* --- lease and timer --- */

static int t_lease_renewed(struct t *t)
{
	tick(t, 1);
	CHECK(t->fk.renewals == 1 && t->fk.lease_ns == 5 * NS);
	CHECK(t->fk.lease_expires == t->fk.now + 5 * NS);
	tick(t, 1);
	CHECK(t->fk.renewals == 2 && t->fk.lease_expires == t->fk.now + 5 * NS);
	CHECK(t->fk.hw_polls == 2);
	return 0;
}

/* Inside a long dump: renewed once a second, not on every call. */
static int t_lease_kept_in_long_work(struct t *t)
{
	tick(t, 1);
	CHECK(t->fk.renewals == 1);
	fsm_lease_keep(&t->d);
	t->fk.now += NS / 2;
	fsm_lease_keep(&t->d);
	CHECK(t->fk.renewals == 1);
	t->fk.now += NS / 2;
	fsm_lease_keep(&t->d);
	CHECK(t->fk.renewals == 2 && t->fk.lease_expires == t->fk.now + 5 * NS);
	fsm_lease_keep(&t->d);
	CHECK(t->fk.renewals == 2);
	return 0;
}

/* --- the neighbour cache (neightab.c) --- */

static void nb_addr(__be32 a[4], int n)
{
	memset(a, 0, 16);
	a[0] = htonl(0x0a000000 | n);
}

static int t_neightab_changes(struct t *t)
{
	static const __u64 key[2] = { 1, 2 };
	const __u8 m1[6] = { 2, 0, 0, 0, 0, 1 }, m2[6] = { 2, 0, 0, 0, 0, 2 };
	struct neightab nt;
	__be32 a[4];
	__u8 old[6];

	CHECK(!neightab_init(&nt, 64, key));
	nb_addr(a, 1);
	CHECK(neightab_set(&nt, LAN, AF_INET, a, m1, old) == NT_NEW);
	CHECK(neightab_set(&nt, LAN, AF_INET, a, m1, old) == NT_SAME);
	CHECK(neightab_set(&nt, LAN, AF_INET, a, m2, old) == NT_CHANGED && !memcmp(old, m1, 6));
	/* another device, another family: other neighbours */
	CHECK(neightab_set(&nt, WAN, AF_INET, a, m1, old) == NT_NEW);
	CHECK(neightab_set(&nt, LAN, AF_INET6, a, m1, old) == NT_NEW && nt.n == 3);
	CHECK(neightab_del(&nt, LAN, AF_INET, a, old) && !memcmp(old, m2, 6));
	CHECK(!neightab_del(&nt, LAN, AF_INET, a, old) && nt.n == 2);
	neightab_del_dev(&nt, WAN);
	CHECK(nt.n == 1 && !neightab_find(&nt, WAN, AF_INET, a));
	CHECK(neightab_find(&nt, LAN, AF_INET6, a));
	neightab_free(&nt);
	return 0;
}

/* Bounded: past max nothing is added; a delete makes room again. */
static int t_neightab_bounded(struct t *t)
{
	static const __u64 key[2] = { 3, 4 };
	const __u8 m[6] = { 2, 0, 0, 0, 0, 1 };
	struct neightab nt;
	__be32 a[4];
	__u8 old[6];

	CHECK(!neightab_init(&nt, 1000, key));
	for (int n = 0; n < 1000; n++) {
		nb_addr(a, n);
		CHECK(neightab_set(&nt, LAN, AF_INET, a, m, old) == NT_NEW);
	}
	nb_addr(a, 1000);
	CHECK(neightab_set(&nt, LAN, AF_INET, a, m, old) == -ENOSPC && nt.n == 1000);
	/* a known one still changes at the bound */
	nb_addr(a, 7);
	CHECK(neightab_set(&nt, LAN, AF_INET, a, (__u8[6]){ 2, 0, 0, 0, 0, 9 }, old) == NT_CHANGED);
	CHECK(neightab_del(&nt, LAN, AF_INET, a, old));
	nb_addr(a, 1000);
	CHECK(neightab_set(&nt, LAN, AF_INET, a, m, old) == NT_NEW);
	for (int n = 0; n <= 1000; n++) {
		nb_addr(a, n);
		CHECK(!!neightab_find(&nt, LAN, AF_INET, a) == (n != 7));
	}
	neightab_clear(&nt);
	CHECK(nt.n == 0 && !neightab_find(&nt, LAN, AF_INET, a));
	neightab_free(&nt);
	return 0;
}

/*
 * Keyed: the same 4096 addresses spread over the buckets with no chain
 * much longer than the average, and another key puts them elsewhere.
 */
static int t_neightab_keyed(struct t *t)
{
	static const __u64 k1[2] = { 5, 6 }, k2[2] = { 7, 8 };
	const __u8 m[6] = { 2, 0, 0, 0, 0, 1 };
	struct neightab x, y;
	int longest = 0, same = 0;
	__be32 a[4];
	__u8 old[6];

	CHECK(!neightab_init(&x, 4096, k1) && !neightab_init(&y, 4096, k2));
	for (int n = 0; n < 4096; n++) {
		nb_addr(a, n << 8);
		neightab_set(&x, LAN, AF_INET, a, m, old);
		neightab_set(&y, LAN, AF_INET, a, m, old);
	}
	for (unsigned int b = 0; b < x.nbuckets; b++) {
		int len = 0;

		for (struct neigh *n = x.buckets[b]; n; n = n->next)
			len++;
		if (len > longest)
			longest = len;
		same += x.buckets[b] && y.buckets[b] &&
			!memcmp(x.buckets[b]->addr, y.buckets[b]->addr, 16);
	}
	CHECK(x.n == 4096 && longest <= 16);
	CHECK(same < (int)x.nbuckets / 8);
	neightab_free(&x);
	neightab_free(&y);
	return 0;
}

/* --- the hardware tier --- */

static struct conn *hw_setup(struct t *t)
{
	t->fk.hw_capable = true;
	return offloaded(t, 1);
}

static int t_hw_pending(struct t *t)
{
	struct conn *c = hw_setup(t);

	CHECK(both(c, DS_HW_PENDING) && t->fk.hw_offers == 2);
	CHECK(entry(t, c, 0)->state == FP_STATE_HW_PENDING);
	CHECK(t->d.st.hw_offered == 2 && t->d.offloaded == 2);
	tick(t, 1);
	CHECK(both(c, DS_HW_PENDING) && t->d.st.hw_pending == 2);
	return 0;
}

static int t_hw_bound(struct t *t)
{
	struct conn *c = hw_setup(t);

	fake_hw(&t->fk, &c->dir[0].key)->kind = HWA_BOUND;
	tick(t, 1);
	CHECK(c->state[0] == DS_HW && c->state[1] == DS_HW_PENDING);
	CHECK(entry(t, c, 0)->state == FP_STATE_HW);
	CHECK(t->d.st.hw_dirs == 1 && t->d.st.hw_pending == 1);
	return 0;
}

static int t_hw_counters(struct t *t)
{
	struct conn *c = hw_setup(t);
	struct fake_hw *h = fake_hw(&t->fk, &c->dir[0].key);

	h->kind = HWA_BOUND;
	tick(t, 1);
	h->packets = 500;
	h->bytes = 700000;
	entry(t, c, 0)->last_seen = t->fk.now;	/* the module's idle time */
	tick(t, 1);
	CHECK(entry(t, c, 0)->packets == 500 && entry(t, c, 0)->bytes == 700000);
	CHECK(c->dir[0].packets == 500 && t->fk.refreshes == 1);
	return 0;
}

static int t_hw_deadline_fallback(struct t *t)
{
	struct conn *c = hw_setup(t);

	tick(t, 5);
	CHECK(both(c, DS_HW_PENDING));
	tick(t, 6);		/* 11 s > --hw-deadline 10 */
	CHECK(both(c, DS_XDP) && c->dir[0].hw_refused);
	CHECK(entry(t, c, 0)->state == FP_STATE_XDP && t->fk.hw_withdraws == 2);
	CHECK(t->d.st.hw_fallbacks == 2 && t->d.offloaded == 2);
	return 0;
}

static int t_hw_module_gone(struct t *t)
{
	struct conn *c = hw_setup(t);

	fake_hw(&t->fk, &c->dir[0].key)->kind = HWA_BOUND;
	tick(t, 1);
	t->fk.hw_gone = true;
	tick(t, 1);
	CHECK(both(c, DS_XDP) && entry(t, c, 0)->state == FP_STATE_XDP);
	CHECK(t->d.st.hw_fallbacks == 2);
	return 0;
}

static int t_hw_withdrawn(struct t *t)
{
	struct conn *c = hw_setup(t);

	fake_hw(&t->fk, &c->dir[1].key)->used = false;	/* device went down */
	tick(t, 1);
	CHECK(c->state[0] == DS_HW_PENDING && c->state[1] == DS_XDP);
	return 0;
}

static int t_hw_failed(struct t *t)
{
	struct conn *c = hw_setup(t);
	struct fake_hw *h = fake_hw(&t->fk, &c->dir[0].key);

	h->kind = HWA_FAILED;
	h->err = -ENOSPC;
	tick(t, 1);
	CHECK(c->state[0] == DS_XDP && c->dir[0].hw_refused);
	return 0;
}

static int t_hw_poll_failed_keeps(struct t *t)
{
	struct conn *c = hw_setup(t);

	t->fk.hw_unknown = true;
	tick(t, 20);
	CHECK(both(c, DS_HW_PENDING));
	return 0;
}

static int t_hw_refused_offer(struct t *t)
{
	struct conn *c;

	t->fk.hw_offer_err = -EOPNOTSUPP;
	c = hw_setup(t);
	CHECK(both(c, DS_XDP) && c->dir[0].hw_refused);
	CHECK(t->d.st.hw_offered == 2 && t->d.st.hw_fallbacks == 2);
	return 0;
}

static int t_hw_not_eligible(struct t *t)
{
	struct conn *c = offloaded(t, 1);	/* devices not PPE-capable */

	CHECK(both(c, DS_XDP) && !c->dir[0].hw_refused && t->d.st.hw_offered == 0);
	return 0;
}

static int t_hw_no_pppoe(struct t *t)
{
	struct conn *c;

	t->fk.hw_capable = true;
	t->fk.stacked[t->fk.nstacked++] = 8;	/* ppp0 */
	c = tcp_est(t, 1);
	learn_full(t, c, DIR_REPLY, 8, LAN, 0x10, 0, 0, cookie(c, DIR_REPLY));
	learn_full(t, c, DIR_ORIG, LAN, WAN, 0x20, 0, 0x1234, cookie(c, DIR_ORIG));
	/* the key carries a PPPoE session: never to the PPE */
	CHECK(c->state[1] == DS_XDP && c->dir[1].key.pppoe_sid == 0x1234);
	CHECK(c->state[0] == DS_HW_PENDING);
	return 0;
}

static int t_no_hw_option(struct t *t)
{
	struct conn *c;

	t->d.opt.no_hw = true;
	c = hw_setup(t);
	CHECK(both(c, DS_XDP) && t->fk.hw_offers == 0);
	return 0;
}

static int t_hw_destroy_withdraws(struct t *t)
{
	hw_setup(t);
	ct_destroy(t, 1, IPPROTO_TCP);
	CHECK(t->fk.hw_withdraws == 2 && fake_entries(&t->fk) == 0);
	return 0;
}

static int t_hw_relearn_offers_again(struct t *t)
{
	struct conn *c = hw_setup(t);

	tick(t, 11);
	CHECK(both(c, DS_XDP) && c->dir[0].hw_refused);
	fsm_relearn_all(&t->d);
	CHECK(!c->dir[0].hw_refused);
	learn(t, c, 0);
	learn(t, c, 1);
	CHECK(both(c, DS_HW_PENDING));
	return 0;
}

/* --- restart, resync, stop --- */

/* The daemon dies (kill -9): its memory is gone, the pinned table stays. */
static void restart(struct t *t)
{
	static const __u64 key[2] = { 7, 8 };
	struct options o = t->d.opt;

	conntab_free(&t->d.conns);
	memset(&t->d, 0, sizeof(t->d));
	t->d.ops = &fake_ops;
	t->d.priv = &t->fk;
	t->d.opt = o;
	conntab_init(&t->d.conns, 64, key);
	/* main.c's clear_learned(): what the daemon made is learned again */
	for (int i = 0; i < FAKE_SLOTS; i++) {
		if (t->fk.ent[i].used && !(t->fk.ent[i].f.flags & FP_F_STATIC))
			t->fk.ent[i].used = false;
		t->fk.learn[i].used = false;
	}
}

static int t_restart_readopt(struct t *t)
{
	struct fp_flow_key sk = { .ifindex = LAN, .family = AF_INET, .proto = IPPROTO_UDP };
	struct fp_flow sf = { .flags = FP_F_STATIC, .oif = WAN };
	struct conn *c = offloaded(t, 1);

	fake_ops.entry_write(&t->d, &sk, &sf, false);	/* "fastpath flow add" */
	CHECK(fake_entries(&t->fk) == 3);
	restart(t);
	fsm_resync_begin(&t->d);
	c = tcp_est(t, 1);				/* the conntrack dump */
	fsm_resync_end(&t->d);
	CHECK(both(c, DS_LEARNING) && t->d.st.resyncs == 1);
	learn(t, c, 0);
	learn(t, c, 1);
	CHECK(both(c, DS_XDP) && t->d.conns_offloaded == 1);
	CHECK(fake_entries(&t->fk) == 3 && fake_entry(&t->fk, &sk));
	return 0;
}

static int t_enobufs_resync(struct t *t)
{
	struct conn *a = offloaded(t, 1), *b = offloaded(t, 2);

	tcp_est(t, 3);
	/* Events were lost (ENOBUFS), among them 2's DESTROY and a new 4. */
	fsm_resync_begin(&t->d);
	a = tcp_est(t, 1);
	tcp_est(t, 3);
	tcp_est(t, 4);
	fsm_resync_end(&t->d);
	CHECK(t->d.conns.n == 3 && t->d.st.resyncs == 1);
	CHECK(both(a, DS_XDP));			/* a survivor keeps its state */
	CHECK(fake_entries(&t->fk) == 2 && t->d.conns_offloaded == 1);
	b = tcp_est(t, 4);
	CHECK(both(b, DS_LEARNING));
	return 0;
}

static int t_stop(struct t *t)
{
	offloaded(t, 1);
	tcp_est(t, 2);
	t->fk.hw_capable = true;
	offloaded(t, 3);
	fsm_stop(&t->d);
	CHECK(fake_entries(&t->fk) == 0 && fake_learning(&t->fk) == 0);
	CHECK(t->d.offloaded == 0 && t->d.conns_offloaded == 0 && t->fk.hw_withdraws == 2);
	return 0;
}

static int t_count(struct t *t)
{
	offloaded(t, 1);
	tcp_est(t, 2);
	tcp(t, 3, TCP_CONNTRACK_SYN_RECV);
	fsm_count(&t->d);
	CHECK(t->d.st.conns == 3 && t->d.st.offloaded == 2);
	CHECK(t->d.st.hold[FP_H_LEARNING] == 1 && t->d.st.hold[FP_H_NOT_READY] == 1);
	return 0;
}

static int t_bad_event(struct t *t)
{
	struct conn *c = tcp_est(t, 1);
	struct conn_ev ev = { .type = CE_MAX };

	CHECK(conn_fsm(&t->d, c, &ev) == -EINVAL && both(c, DS_LEARNING));
	return 0;
}

static int t_many_conns_hash(struct t *t)
{
	struct ct_tuple o, r;

	for (int n = 0; n < 500; n++)
		CHECK(tcp_est(t, n));
	CHECK(t->d.conns.n == 500);
	for (int n = 0; n < 500; n += 7) {
		int dir = -1;

		tuples(n, IPPROTO_TCP, &o, &r);
		CHECK(conntab_find(&t->d.conns, &r, &dir) && dir == DIR_REPLY);
	}
	for (int n = 0; n < 500; n++)
		ct_destroy(t, n, IPPROTO_TCP);
	CHECK(t->d.conns.n == 0);
	return 0;
}

/*
 * A candidate has no offload block (struct conn_dir) until the learner
 * reports one of its directions; a deleted connection's memory, block
 * included, is what the next one gets.
 */
static int t_offload_state_on_learn(struct t *t)
{
	struct conn *c = tcp_est(t, 1), *again;
	struct conn_dir *cd;
	struct fp_conn_info ci;

	CHECK(both(c, DS_LEARNING) && !c->dir);
	conn_info(c, &ci);
	CHECK(ci.iif[0] == 0 && ci.oif[1] == 0 && ci.state[0] == DS_LEARNING);
	CHECK(learn(t, c, DIR_ORIG) == 0);
	CHECK(c->dir && c->dir[0].have_out && !c->dir[1].have_out);
	CHECK(c->state[0] == DS_XDP && c->state[1] == DS_LEARNING);
	cd = c->dir;
	ct_destroy(t, 1, IPPROTO_TCP);
	CHECK(t->d.conns.n == 0);
	again = tcp_est(t, 2);
	CHECK(again == c && !again->dir && both(again, DS_LEARNING));
	CHECK(learn(t, again, DIR_REPLY) == 0 && again->dir == cd);
	CHECK(!again->dir[0].have_out && again->dir[1].have_out);
	return 0;
}

/* Deletions from the middle of hash chains (64 buckets, 1,000 tuples). */
static int t_conntab_unlink_middle(struct t *t)
{
	struct ct_tuple o, r;

	for (int n = 0; n < 500; n++)
		CHECK(tcp_est(t, n));
	for (int n = 0; n < 500; n += 3)
		ct_destroy(t, n, IPPROTO_TCP);
	for (int n = 0; n < 500; n++) {
		int dir = -1;
		bool gone = n % 3 == 0;

		tuples(n, IPPROTO_TCP, &o, &r);
		CHECK(!conntab_find(&t->d.conns, &o, &dir) == gone);
		CHECK(!conntab_find(&t->d.conns, &r, &dir) == gone);
		CHECK(gone || dir == DIR_REPLY);
	}
	for (int n = 0; n < 500; n++)
		if (n % 3)
			ct_destroy(t, n, IPPROTO_TCP);
	CHECK(t->d.conns.n == 0);
	for (unsigned int b = 0; b < t->d.conns.nbuckets; b++)
		CHECK(!t->d.conns.buckets[b]);
	return 0;
}

struct test {
	const char *name;
	int (*fn)(struct t *t);
};

#define T(x) { #x, t_##x }

static const struct test tests[] = {
	T(tcp_syn_sent_slow),
	T(tcp_established_learning),
	T(established_learning_offloaded),
	T(entry_nat_rewrite),
	T(entry_route_mtu),
	T(entry_ingress_mac),
	T(udp_no_reply_slow),
	T(udp_seen_reply),
	T(helper_slow),
	T(policy_mark_unselected),
	T(policy_mark_set),
	T(policy_mark_cleared),
	T(mark_changed_relearns),
	T(update_keeps_offload),
	T(learn_egress_not_attached),
	T(learn_stale_cookie),
	T(learn_unknown_conn),
	T(learning_map_full),
	T(not_learned),
	T(not_learned_keeps_offloaded),
	T(local_hold),
	T(local_conn_never_offloaded),
	T(stacked_waits_for_other),
	T(stacked_not_carried),
	T(stacked_device_change),
	T(waiting_relearns_on_change),
	T(sqm_shaped_tc),
	T(sqm_appears_relearns_tc),
	T(sqm_gone_back_to_xdp),
	T(sqm_upper_holds),
	T(partial_csum_ingress_tc),
	T(generic_xdp_ingress_tc),
	T(ifb_ingress_slow),
	T(ifb_on_stacked_ingress),
	T(tier_forced),
	T(sqm_guard_off),
	T(max_flows_reached),
	T(max_flows_second_direction_fits),
	T(max_flows_freed),
	T(table_full_map),
	T(fin_teardown),
	T(rst_forged_relearns),
	T(fin_recheck_closing),
	T(recheck_gone),
	T(teardown_then_close),
	T(fin_reported_stays_slow),
	T(ct_destroy),
	T(export_follows),
	T(export_lazy),
	T(latency_from_first_packet),
	T(export_sqm),
	T(export_sqm_ingress),
	T(ct_destroy_learning),
	T(nat_replaced),
	T(idle_timeout),
	T(active_refresh),
	T(refresh_after_sysctl_raised),
	T(udp_stream_assured),
	T(udp_stream_after_pause),
	T(udp_stream_assure_refused),
	T(stream_not_again),
	T(udp_idle_handback),
	T(idle_no_handback),
	T(rates_written),
	T(ct_acct_tick),
	T(ct_acct_on_unoffload),
	T(entry_removed_behind_back),
	T(neighbour_mac_change),
	T(neighbour_index_many),
	T(neighbour_index_follows_relearn),
	T(link_down),
	T(link_other_port_untouched),
	T(device_removed),
	T(lease_renewed),
	T(lease_kept_in_long_work),
	T(neightab_changes),
	T(neightab_bounded),
	T(neightab_keyed),
	T(hw_pending),
	T(hw_bound),
	T(hw_counters),
	T(hw_deadline_fallback),
	T(hw_module_gone),
	T(hw_withdrawn),
	T(hw_failed),
	T(hw_poll_failed_keeps),
	T(hw_refused_offer),
	T(hw_not_eligible),
	T(hw_no_pppoe),
	T(no_hw_option),
	T(hw_destroy_withdraws),
	T(hw_relearn_offers_again),
	T(restart_readopt),
	T(enobufs_resync),
	T(stop),
	T(count),
	T(bad_event),
	T(many_conns_hash),
	T(offload_state_on_learn),
	T(conntab_unlink_middle),
};

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	struct t *t = malloc(sizeof(*t));

	if (!t)
		return 1;
	fp_verbose = argc > 1 && !strcmp(argv[1], "-v");
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		setup(t);
		if (tests[i].fn(t)) {
			printf("FAIL fsm-%s: line %d: %s\n", tests[i].name, t->line, t->why);
			failed++;
		} else {
			printf("PASS fsm-%s\n", tests[i].name);
			passed++;
		}
		teardown(t);
	}
	free(t);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
