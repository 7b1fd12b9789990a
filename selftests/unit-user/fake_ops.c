// SPDX-License-Identifier: GPL-2.0-only
/*
 * fake_ops.c - the fakes behind fake_ops.h: each records what the state
 * machine asked and answers as the test set it up.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include "fake_ops.h"

static struct fake *F(struct daemon *d)
{
	return d->priv;
}

static __u64 f_now(struct daemon *d)
{
	return F(d)->now;
}

struct fake_entry *fake_entry(struct fake *fk, const struct fp_flow_key *k)
{
	for (int i = 0; i < FAKE_SLOTS; i++)
		if (fk->ent[i].used && !memcmp(&fk->ent[i].k, k, sizeof(*k)))
			return &fk->ent[i];
	return NULL;
}

int fake_entries(const struct fake *fk)
{
	int n = 0;

	for (int i = 0; i < FAKE_SLOTS; i++)
		n += fk->ent[i].used;
	return n;
}

int fake_learning(const struct fake *fk)
{
	int n = 0;

	for (int i = 0; i < FAKE_SLOTS; i++)
		n += fk->learn[i].used;
	return n;
}

static int f_entry_write(struct daemon *d, const struct fp_flow_key *k,
			 const struct fp_flow *f, bool must_exist)
{
	struct fake *fk = F(d);
	struct fake_entry *e = fake_entry(fk, k);

	if (!e && must_exist) {
		errno = ENOENT;
		return -1;
	}
	if (!e && fake_entries(fk) >= fk->table_cap) {
		errno = E2BIG;
		return -1;
	}
	for (int i = 0; !e && i < FAKE_SLOTS; i++)
		if (!fk->ent[i].used)
			e = &fk->ent[i];
	e->used = true;
	e->k = *k;
	e->f = *f;
	return 0;
}

static int f_entry_read(struct daemon *d, const struct fp_flow_key *k,
			struct fp_flow *f)
{
	struct fake_entry *e = fake_entry(F(d), k);

	if (!e) {
		errno = ENOENT;
		return -1;
	}
	*f = e->f;
	return 0;
}

static void f_entry_delete(struct daemon *d, const struct fp_flow_key *k)
{
	struct fake_entry *e = fake_entry(F(d), k);

	if (e)
		e->used = false;
}

static void f_rate_write(struct daemon *d, const struct fp_flow_key *k,
			 const struct fp_rate *r)
{
	(void)k;
	F(d)->rate_writes++;
	F(d)->last_rate = *r;
}

static int f_learn_arm(struct daemon *d, const struct fp_flow_key *egress,
		       __u64 cookie)
{
	struct fake *fk = F(d);
	struct fake_learn *l = NULL;

	for (int i = 0; i < FAKE_SLOTS; i++)
		if (fk->learn[i].used && !memcmp(&fk->learn[i].k, egress, sizeof(*egress)))
			l = &fk->learn[i];
	if (!l && fake_learning(fk) >= fk->learn_cap) {
		errno = E2BIG;
		return -1;
	}
	for (int i = 0; !l && i < FAKE_SLOTS; i++)
		if (!fk->learn[i].used)
			l = &fk->learn[i];
	l->used = true;
	l->k = *egress;
	l->cookie = cookie;
	l->packets = 0;
	return 0;
}

static void f_learn_disarm(struct daemon *d, const struct fp_flow_key *egress)
{
	struct fake *fk = F(d);

	for (int i = 0; i < FAKE_SLOTS; i++)
		if (fk->learn[i].used && !memcmp(&fk->learn[i].k, egress, sizeof(*egress)))
			fk->learn[i].used = false;
}

static __u64 f_learn_take(struct daemon *d, const struct fp_flow_key *egress)
{
	struct fake *fk = F(d);
	__u64 n = 0;

	for (int i = 0; i < FAKE_SLOTS; i++)
		if (fk->learn[i].used && !memcmp(&fk->learn[i].k, egress, sizeof(*egress))) {
			n = fk->learn[i].packets;
			fk->learn[i].used = false;
		}
	return n;
}

static int f_set_liberal(struct daemon *d, const struct conn *c)
{
	(void)c;
	F(d)->liberal++;
	return 0;
}

static int f_refresh(struct daemon *d, const struct conn *c, __u32 timeout_s)
{
	(void)c;
	F(d)->refreshes++;
	F(d)->refresh_timeout = timeout_s;
	return 0;
}

static int f_assure(struct daemon *d, const struct conn *c, __u32 timeout_s)
{
	(void)c;
	F(d)->assures++;
	F(d)->refresh_timeout = timeout_s;
	return F(d)->assure_err;
}

/* As ct_timeout_for(): a UDP stream gets its own timeout, when set. */
static __u32 f_ct_timeout(struct daemon *d, const struct conn *c)
{
	if (F(d)->stream_timeout && c->tuple[DIR_ORIG].proto == IPPROTO_UDP &&
	    ((c->status & IPS_ASSURED) || c->udp_stream))
		return F(d)->stream_timeout;
	return F(d)->ct_timeout;
}

static int f_ct_recheck(struct daemon *d, const struct ct_tuple *orig)
{
	F(d)->rechecks++;
	F(d)->recheck_last = *orig;
	return 0;
}

/* 127/8 and the addresses the test listed. */
static bool f_is_local(struct daemon *d, __u8 family, const __be32 *addr)
{
	struct fake *fk = F(d);

	if (family != AF_INET)
		return false;
	if ((ntohl(addr[0]) >> 24) == 127)
		return true;
	for (int i = 0; i < fk->nlocal; i++)
		if (fk->local[i] == addr[0])
			return true;
	return false;
}

static bool in_set(const __u32 *set, int n, __u32 ifindex)
{
	for (int i = 0; i < n; i++)
		if (set[i] == ifindex)
			return true;
	return false;
}

static bool f_attached(struct daemon *d, __u32 ifindex)
{
	return in_set(F(d)->attached, F(d)->nattached, ifindex);
}

static bool f_stacked(struct daemon *d, __u32 ifindex)
{
	return in_set(F(d)->stacked, F(d)->nstacked, ifindex);
}

static bool f_carries(struct daemon *d, __u32 dev, const struct dir_out *via)
{
	(void)dev;
	(void)via;
	return F(d)->carries;
}

static __u16 f_egress_mtu(struct daemon *d, const struct dir_out *o)
{
	(void)o;
	return F(d)->mtu;
}

static __u32 f_route_mtu(struct daemon *d, const struct conn *c, int dir)
{
	(void)c;
	(void)dir;
	return F(d)->route_mtu;
}

static enum egress_shaper f_egress_shaped(struct daemon *d, const struct dir_out *o)
{
	if (F(d)->shaped_upper_oif && o->oif == F(d)->shaped_upper_oif)
		return SHAPER_UPPER;
	return F(d)->shaped_oif && o->oif == F(d)->shaped_oif ? SHAPER_PORT :
								  SHAPER_NONE;
}

static enum ingress_need f_ingress_need(struct daemon *d, __u32 ifindex)
{
	return ifindex < 16 ? F(d)->need[ifindex] : IN_ANY;
}

static void f_renew_lease(struct daemon *d, __u64 lease_ns, __u64 expires_ns)
{
	F(d)->renewals++;
	F(d)->lease_ns = lease_ns;
	F(d)->lease_expires = expires_ns;
}

static void f_hw_poll(struct daemon *d)
{
	F(d)->hw_polls++;
}

struct fake_hw *fake_hw(struct fake *fk, const struct fp_flow_key *k)
{
	for (int i = 0; i < FAKE_SLOTS; i++)
		if (fk->hw[i].used && !memcmp(&fk->hw[i].k, k, sizeof(*k)))
			return &fk->hw[i];
	return NULL;
}

static int f_hw_offer(struct daemon *d, const struct fp_flow_key *k,
		      const struct fp_flow *f, char *msg, size_t msglen)
{
	struct fake *fk = F(d);

	(void)f;
	if (!fk->hw_capable || fk->hw_gone)
		return HW_NOT_ELIGIBLE;
	fk->hw_offers++;
	if (fk->hw_offer_err) {
		snprintf(msg, msglen, "fake refusal");
		return fk->hw_offer_err;
	}
	for (int i = 0; i < FAKE_SLOTS; i++) {
		if (!fk->hw[i].used) {
			fk->hw[i] = (struct fake_hw){ .used = true, .k = *k,
						      .kind = HWA_PENDING };
			break;
		}
	}
	return 0;
}

static void f_hw_withdraw(struct daemon *d, const struct fp_flow_key *k)
{
	struct fake_hw *h = fake_hw(F(d), k);

	F(d)->hw_withdraws++;
	if (h)
		h->used = false;
}

/* Every device's MAC is 02:00:00:00:00:<ifindex>. */
static int f_dev_mac(struct daemon *d, __u32 ifindex, __u8 mac[6])
{
	(void)d;
	memcpy(mac, (__u8[6]){ 2, 0, 0, 0, 0, (__u8)ifindex }, 6);
	return 0;
}

static void f_ct_acct(struct daemon *d, const struct fp_flow_key *k,
		      __u64 packets, __u64 bytes)
{
	(void)k;
	F(d)->accts++;
	F(d)->acct_packets += packets;
	F(d)->acct_bytes += bytes;
}

static void f_hw_state(struct daemon *d, const struct fp_flow_key *k,
		       struct hw_answer *a)
{
	struct fake *fk = F(d);
	struct fake_hw *h;

	memset(a, 0, sizeof(*a));
	if (fk->hw_gone) {
		a->kind = HWA_GONE;
		return;
	}
	if (fk->hw_unknown)
		return;
	h = fake_hw(fk, k);
	if (!h) {
		a->kind = HWA_MISSING;
		return;
	}
	a->kind = h->kind;
	a->err = h->err;
	a->packets = h->packets;
	a->bytes = h->bytes;
}

struct fp_conn_info *fake_export(struct fake *fk, __u32 id)
{
	for (int i = 0; i < FAKE_SLOTS; i++)
		if (fk->exp[i].used && fk->exp[i].ci.id == id)
			return &fk->exp[i].ci;
	return NULL;
}

static void f_conn_export(struct daemon *d, __u32 id, const struct fp_conn_info *ci)
{
	struct fake *fk = F(d);
	struct fp_conn_info *e = fake_export(fk, id);

	if (!ci) {
		if (e) {
			((struct fake_export *)((char *)e - offsetof(struct fake_export, ci)))->used = false;
			fk->export_deletes++;
		}
		return;
	}
	for (int i = 0; !e && i < FAKE_SLOTS; i++)
		if (!fk->exp[i].used) {
			fk->exp[i].used = true;
			e = &fk->exp[i].ci;
		}
	if (!e)
		return;		/* full, as the real map would refuse it */
	*e = *ci;
	fk->export_writes++;
}

const struct fsm_ops fake_ops = {
	.now = f_now,
	.entry_write = f_entry_write,
	.entry_read = f_entry_read,
	.entry_delete = f_entry_delete,
	.rate_write = f_rate_write,
	.learn_arm = f_learn_arm,
	.learn_disarm = f_learn_disarm,
	.learn_take = f_learn_take,
	.set_liberal = f_set_liberal,
	.refresh = f_refresh,
	.assure = f_assure,
	.ct_timeout = f_ct_timeout,
	.ct_recheck = f_ct_recheck,
	.is_local = f_is_local,
	.attached = f_attached,
	.stacked = f_stacked,
	.carries = f_carries,
	.egress_mtu = f_egress_mtu,
	.route_mtu = f_route_mtu,
	.egress_shaped = f_egress_shaped,
	.ingress_need = f_ingress_need,
	.dev_mac = f_dev_mac,
	.renew_lease = f_renew_lease,
	.hw_poll = f_hw_poll,
	.conn_export = f_conn_export,
	.hw_offer = f_hw_offer,
	.hw_withdraw = f_hw_withdraw,
	.hw_state = f_hw_state,
	.ct_acct = f_ct_acct,
};
