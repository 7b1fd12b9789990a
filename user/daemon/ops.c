// SPDX-License-Identifier: GPL-2.0-only
/*
 * ops.c - the daemon's struct fsm_ops: what conn_fsm.c does to the world,
 * done with libbpf (the flow table, fp_learn, fp_rates, fp_config),
 * libnetfilter_conntrack (ct.c), the link cache (links.c) and
 * fastpath.ko (hwtier.c). The unit tests replace all of it with fakes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <bpf/bpf.h>

#include "lib/devtier.h"
#include "lib/flowtab.h"
#include "lib/log.h"
#include "lib/rtnl.h"
#include "daemon/adapters.h"

static __u64 op_now(struct daemon *d)
{
	(void)d;
	return mono_ns();
}

static int op_entry_write(struct daemon *d, const struct fp_flow_key *k,
			  const struct fp_flow *f, bool must_exist)
{
	int err = fp_flow_write(d->m.flows, k, f, must_exist ? BPF_EXIST : BPF_ANY);

	errno = -err;	/* conn_fsm reads errno, as after bpf_map_update_elem() */
	return err ? -1 : 0;
}

static int op_entry_read(struct daemon *d, const struct fp_flow_key *k,
			 struct fp_flow *f)
{
	return bpf_map_lookup_elem(d->m.flows, k, f);
}

static void op_entry_delete(struct daemon *d, const struct fp_flow_key *k)
{
	fp_flow_delete(d->m.flows, k);
	bpf_map_delete_elem(d->m.rates, k);
}

static void op_rate_write(struct daemon *d, const struct fp_flow_key *k,
			  const struct fp_rate *r)
{
	bpf_map_update_elem(d->m.rates, k, r, BPF_ANY);
}

/* A key's bucket (its first slot's index) and its tag, from its hash. */
static __u32 learn_base(const struct learn_tab *t, __u32 h)
{
	return h % t->buckets * FP_LEARN_WAYS;
}

static __u8 learn_tag(__u32 h)
{
	return h >> 24 ?: 1;	/* 0 marks a free slot */
}

/*
 * fp_learn is written in place (fastpath.h, struct fp_learn): no system
 * call per candidate. The slot of @egress in its bucket, or with @free_ok
 * a free one there, or NULL; its tag into *@tag. Only a slot whose tag
 * matches is read (learn_tab): a miss into the map costs more than the
 * hash here.
 */
static struct fp_learn *learn_slot(struct daemon *d, const struct fp_flow_key *egress,
				   bool free_ok, __u8 *tag)
{
	struct learn_tab *t = &d->learn;
	struct fp_learn *b;
	__u8 *tags;
	int spare = -1;
	__u32 h;

	if (!t->slots)
		return NULL;
	h = fp_learn_hash(egress, t->key);
	*tag = learn_tag(h);
	b = &t->slots[learn_base(t, h)];
	tags = &t->tags[learn_base(t, h)];
	for (int i = 0; i < FP_LEARN_WAYS; i++) {
		if (!tags[i]) {
			if (spare < 0)
				spare = i;
		} else if (tags[i] == *tag &&
			   !memcmp(&b[i].key, egress, sizeof(*egress))) {
			return &b[i];
		}
	}
	return free_ok && spare >= 0 ? &b[spare] : NULL;
}

/*
 * Stage 0 fetches the tags of @egress's bucket, stage 1 the slots a
 * lookup will read: those whose tag matches, else the first free one.
 */
static void op_learn_prefetch(struct daemon *d, const struct fp_flow_key *egress,
			      __u32 *h, int stage)
{
	struct learn_tab *t = &d->learn;
	__u32 base;
	__u8 tag;

	if (!t->slots)
		return;
	if (!stage) {
		*h = fp_learn_hash(egress, t->key);
		__builtin_prefetch(&t->tags[learn_base(t, *h)]);
		return;
	}
	base = learn_base(t, *h);
	tag = learn_tag(*h);
	for (int i = 0, spare = 1; i < FP_LEARN_WAYS; i++) {
		if (t->tags[base + i] == tag || (spare && !t->tags[base + i])) {
			__builtin_prefetch(&t->slots[base + i]);
			__builtin_prefetch((char *)&t->slots[base + i + 1] - 1);
			spare &= t->tags[base + i] == tag;
		}
	}
}

static __u8 *slot_tag(struct daemon *d, const struct fp_learn *s)
{
	return &d->learn.tags[s - d->learn.slots];
}

/*
 * The TC learner matches only a slot whose cookie is set: the cookie goes
 * last on arming and first on disarming, with release stores. A learner
 * that reads a slot while it is rewritten may still report the old tuple
 * with the new cookie, or the reverse; the report carries the packet's
 * own tuple, so the daemon finds the cookie stale and drops it, and the
 * candidate waits for its next packet or the not_learned retry.
 *
 * A 32-bit router CPU (MIPS32) has no 64-bit atomic store: the compiler
 * would call libatomic, whose lock the datapath never takes. There the
 * release fence orders the slot's other fields before the cookie, and the
 * cookie goes as two 32-bit stores: a reader that sees half of it reports
 * a cookie the daemon finds stale, the same cost as any torn read above.
 */
static void cookie_store(__u64 *p, __u64 v)
{
#if __GCC_ATOMIC_LLONG_LOCK_FREE == 2
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
#else
	__u32 *w = (__u32 *)(void *)p, half[2];

	memcpy(half, &v, sizeof(half));
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&w[0], half[0], __ATOMIC_RELAXED);
	__atomic_store_n(&w[1], half[1], __ATOMIC_RELAXED);
#endif
}

/* The learning window's packet count: a statistic, so a torn read on a
 * 32-bit CPU costs only a wrong count.
 */
static __u64 packets_load(const __u64 *p)
{
#if __GCC_ATOMIC_LLONG_LOCK_FREE == 2
	return __atomic_load_n(p, __ATOMIC_RELAXED);
#else
	return *(const volatile __u64 *)p;
#endif
}

static void slot_free(struct daemon *d, struct fp_learn *s)
{
	cookie_store(&s->cookie, 0);
	*slot_tag(d, s) = 0;
}

static int op_learn_arm(struct daemon *d, const struct fp_flow_key *egress,
			__u64 cookie)
{
	__u8 tag;
	struct fp_learn *s = learn_slot(d, egress, true, &tag);

	if (!s) {
		errno = d->learn.slots ? E2BIG : ENODEV;
		return -1;
	}
	slot_free(d, s);
	s->key = *egress;
	s->packets = 0;
	s->reported = 0;
	cookie_store(&s->cookie, cookie ?: 1);
	*slot_tag(d, s) = tag;
	return 0;
}

static void op_learn_disarm(struct daemon *d, const struct fp_flow_key *egress)
{
	__u8 tag;
	struct fp_learn *s = learn_slot(d, egress, false, &tag);

	if (s)
		slot_free(d, s);
}

static __u64 op_learn_take(struct daemon *d, const struct fp_flow_key *egress)
{
	__u8 tag;
	struct fp_learn *s = learn_slot(d, egress, false, &tag);
	__u64 n;

	if (!s)
		return 0;
	n = packets_load(&s->packets);
	slot_free(d, s);
	return n;
}

/*
 * Maps fp_learn, empties it (what an earlier run armed is learned again)
 * and picks this run's hash key; op_renew_lease() tells the datapath.
 */
int ops_learn_open(struct daemon *d)
{
	struct learn_tab *t = &d->learn;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (bpf_obj_get_info_by_fd(d->m.learn, &info, &len))
		return -errno;
	if (info.value_size != sizeof(struct fp_learn) ||
	    info.max_entries < FP_LEARN_WAYS || !(info.map_flags & BPF_F_MMAPABLE)) {
		pr_warn("fp_learn has another layout than this build's");
		return -EPROTO;
	}
	t->len = ((size_t)info.max_entries * info.value_size + page - 1) / page * page;
	p = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_SHARED, d->m.learn, 0);
	if (p == MAP_FAILED) {
		pr_warn("cannot map fp_learn: %s", strerror(errno));
		return -errno;
	}
	/* Written here, so that the first burst of candidates does not
	 * fault its pages in one by one.
	 */
	t->tags = malloc(info.max_entries);
	if (!t->tags) {
		munmap(p, t->len);
		return -ENOMEM;
	}
	memset(t->tags, 0, info.max_entries);
	t->slots = p;
	t->buckets = info.max_entries / FP_LEARN_WAYS;
	for (__u32 i = 0; i < info.max_entries; i++)
		slot_free(d, &t->slots[i]);
	if (getrandom(t->key, sizeof(t->key), 0) != sizeof(t->key)) {
		t->key[0] = mono_ns();
		t->key[1] = (__u64)getpid() << 32 ^ t->key[0];
	}
	return 0;
}

void ops_learn_close(struct daemon *d)
{
	if (d->learn.slots)
		munmap(d->learn.slots, d->learn.len);
	free(d->learn.tags);
	d->learn.slots = NULL;
	d->learn.tags = NULL;
}

static bool op_attached(struct daemon *d, __u32 ifindex)
{
	__u32 v;

	return !bpf_map_lookup_elem(d->m.tx_ports, &ifindex, &v);
}

static bool op_stacked(struct daemon *d, __u32 ifindex)
{
	return links_is_stacked(&d->links, ifindex);
}

static bool op_carries(struct daemon *d, __u32 dev, const struct dir_out *via)
{
	return links_carries(&d->links, dev, via->oif, via->vlan, via->sid);
}

static __u16 op_egress_mtu(struct daemon *d, const struct dir_out *o)
{
	return links_egress_mtu(&d->links, o->oif, o->vlan, o->sid);
}

/* What the forwarding lookup of this direction's packets says of its
 * route's MTU, once some route has one (netmon.c, on_route()).
 */
static __u32 op_route_mtu(struct daemon *d, const struct conn *c, int dir)
{
	const struct ct_tuple *t = &c->tuple[dir], *back = &c->tuple[!dir];
	struct route_query q = {
		.family = t->family, .proto = t->proto,
		/* after DNAT, before SNAT: where the kernel routes it */
		.sport = t->sport, .dport = back->sport,
		.iif = c->dir[dir].key.ifindex, .mark = c->mark,
	};
	__u32 mtu;
	int err;

	if (!d->nm.route_mtu)
		return 0;
	memcpy(q.src, t->src, sizeof(q.src));
	memcpy(q.dst, back->src, sizeof(q.dst));
	err = nl_route_mtu(&q, &mtu);
	if (err) {
		pr_debug("conntrack %u: no route MTU: %s", c->id, strerror(-err));
		return 0;
	}
	return mtu;
}

static enum egress_shaper op_egress_shaped(struct daemon *d, const struct dir_out *o)
{
	return links_egress_shaped(&d->links, o->oif, o->vlan, o->sid);
}

/*
 * What the ingress device asks of the tiers, probed once per device and
 * kept a few seconds: a veth peer's checksum offload changes without an
 * event in this namespace. netmon drops the cache on a filter or link
 * change.
 */
#define NEED_TTL_NS	(5 * 1000000000ULL)

static enum ingress_need op_ingress_need(struct daemon *d, __u32 ifindex)
{
	struct link *l = links_add(&d->links, ifindex);
	__u64 now = mono_ns();
	enum ingress_need n;
	char why[64];

	if (l && l->need_ns && now - l->need_ns < NEED_TTL_NS)
		return l->need;
	n = dev_ingress_need(ifindex, why, sizeof(why));
	if (!l)
		return n;
	if (n != l->need || !l->need_ns)
		pr_debug("if%u: %s", ifindex, why);
	l->need = n;
	l->need_ns = now;
	snprintf(l->need_why, sizeof(l->need_why), "%s", why);
	return n;
}

/*
 * From the timer: probe again what the ports (and the devices flows came
 * in on) ask of the tiers before their answer expires, so that learning a
 * flow never waits for the probe's netlink and ethtool round trips. Under
 * emulation those cost tens of milliseconds, hundreds of packets of a
 * transfer that has just started.
 */
void ops_probe_ingress(struct daemon *d)
{
	__u64 now = mono_ns();

	for (int i = 0; i < d->links.n; i++) {
		struct link *l = &d->links.v[i];
		bool port = false;

		for (int p = 0; p < d->nports && !port; p++)
			port = d->ports[p] == l->ifindex;
		if (!port && !l->need_ns)
			continue;	/* never asked about */
		if (l->need_ns && now - l->need_ns < NEED_TTL_NS / 2)
			continue;
		/* As if expired, without a debug line for the same answer. */
		l->need_ns = now - NEED_TTL_NS;
		op_ingress_need(d, l->ifindex);
	}
}

static void op_renew_lease(struct daemon *d, __u64 lease_ns, __u64 expires_ns)
{
	struct fp_config cfg = { .lease_ns = lease_ns, .lease_expires = expires_ns,
				 .learn_key = { d->learn.key[0], d->learn.key[1] },
				 .learn_buckets = d->learn.slots ? d->learn.buckets : 0 };
	__u32 zero = 0;

	bpf_map_update_elem(d->m.config, &zero, &cfg, BPF_ANY);
	hwtier_renew_lease(d);
}

static int op_dev_mac(struct daemon *d, __u32 ifindex, __u8 mac[6])
{
	const struct link *l = links_get(&d->links, ifindex);

	if (!l || !l->seen)
		return -ENOENT;
	memcpy(mac, l->mac, 6);
	return 0;
}

static bool op_is_local(struct daemon *d, __u8 family, const __be32 *addr)
{
	return addrs_is_local(&d->addrs, family, addr);
}

/* One fp_conns element the batch stopped at, done alone: the batch
 * calls stop at the first element that fails (a delete of a record
 * already gone, a full map), and the rest of the run goes on after it.
 */
static void export_one(struct daemon *d, __u32 i)
{
	struct export_q *q = &d->exq;

	if (q->del)
		bpf_map_delete_elem(d->m.conns, &q->ids[i]);
	else if (bpf_map_update_elem(d->m.conns, &q->ids[i], &q->info[i], BPF_ANY) &&
		 errno != E2BIG)
		pr_debug("conntrack %u: cannot export: %s", q->ids[i], strerror(errno));
}

/* Best effort: a full map or an older pinned datapath leaves explain
 * without this connection, never the daemon without its work. The
 * queued run goes out in one system call, in the order it was queued.
 */
void ops_export_flush(struct daemon *d)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
	struct export_q *q = &d->exq;
	__u32 done = 0;

	while (done < q->n) {
		__u32 cnt = q->n - done;
		int err;

		if (q->nobatch) {
			export_one(d, done++);
			continue;
		}
		if (q->del)
			err = bpf_map_delete_batch(d->m.conns, &q->ids[done], &cnt, &bo);
		else
			err = bpf_map_update_batch(d->m.conns, &q->ids[done],
						   &q->info[done], &cnt, &bo);
		if (!err)
			break;
		if (err == -EINVAL || err == -EOPNOTSUPP || err == -524) {
			/* A kernel without the batch calls: the count is
			 * not an answer. Redoing an element is harmless.
			 */
			q->nobatch = true;
			continue;
		}
		done += cnt;
		if (done < q->n)
			export_one(d, done++);
	}
	q->n = 0;
}

static void op_conn_export(struct daemon *d, __u32 id, const struct fp_conn_info *ci)
{
	struct export_q *q = &d->exq;

	if (d->m.conns < 0)
		return;
	if (q->n && (q->del != !ci || q->n == EXPORT_BATCH))
		ops_export_flush(d);
	q->del = !ci;
	q->ids[q->n] = id;
	if (ci)
		q->info[q->n] = *ci;
	q->n++;
}

const struct fsm_ops daemon_ops = {
	.now = op_now,
	.entry_write = op_entry_write,
	.entry_read = op_entry_read,
	.entry_delete = op_entry_delete,
	.rate_write = op_rate_write,
	.learn_arm = op_learn_arm,
	.learn_disarm = op_learn_disarm,
	.learn_take = op_learn_take,
	.learn_prefetch = op_learn_prefetch,
	.set_liberal = ct_set_liberal,
	.refresh = ct_refresh,
	.assure = ct_assure,
	.ct_timeout = ct_timeout_for,
	.ct_recheck = ct_recheck,
	.is_local = op_is_local,
	.attached = op_attached,
	.stacked = op_stacked,
	.carries = op_carries,
	.egress_mtu = op_egress_mtu,
	.route_mtu = op_route_mtu,
	.egress_shaped = op_egress_shaped,
	.ingress_need = op_ingress_need,
	.dev_mac = op_dev_mac,
	.renew_lease = op_renew_lease,
	.hw_poll = hwtier_poll,
	.hw_offer = hwtier_offer,
	.hw_withdraw = hwtier_withdraw,
	.hw_state = hwtier_state,
	.ct_acct = hwtier_ct_acct,
	.conn_export = op_conn_export,
};
