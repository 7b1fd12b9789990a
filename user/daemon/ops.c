// SPDX-License-Identifier: GPL-2.0-only
/*
 * ops.c - the daemon's struct fsm_ops: what conn_fsm.c does to the world,
 * done with libbpf (the flow table, fp_learn, fp_rates, fp_config),
 * libnetfilter_conntrack (ct.c), the link cache (links.c) and
 * fastpath.ko (hwtier.c). The unit tests replace all of it with fakes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

#include "lib/devtier.h"
#include "lib/flowtab.h"
#include "lib/log.h"
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

static int op_learn_arm(struct daemon *d, const struct fp_flow_key *egress,
			__u64 cookie)
{
	struct fp_learn v = { .cookie = cookie };

	return bpf_map_update_elem(d->m.learn, egress, &v, BPF_ANY);
}

static void op_learn_disarm(struct daemon *d, const struct fp_flow_key *egress)
{
	bpf_map_delete_elem(d->m.learn, egress);
}

static __u64 op_learn_take(struct daemon *d, const struct fp_flow_key *egress)
{
	struct fp_learn v = {};

	/* Best effort: a count missed here only shows as 0 in explain. */
	bpf_map_lookup_and_delete_elem(d->m.learn, egress, &v);
	return v.packets;
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
	struct fp_config cfg = { .lease_ns = lease_ns, .lease_expires = expires_ns };
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

/* Best effort: a full map or an older pinned datapath leaves explain
 * without this connection, never the daemon without its work.
 */
static void op_conn_export(struct daemon *d, __u32 id, const struct fp_conn_info *ci)
{
	if (d->m.conns < 0)
		return;
	if (!ci)
		bpf_map_delete_elem(d->m.conns, &id);
	else if (bpf_map_update_elem(d->m.conns, &id, ci, BPF_ANY) && errno != E2BIG)
		pr_debug("conntrack %u: cannot export: %s", id, strerror(errno));
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
