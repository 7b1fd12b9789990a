// SPDX-License-Identifier: GPL-2.0-only
/*
 * hwtier.c - the hardware tier's adapter (docs/DESIGN.md, "Tiers" and "A
 * connection's life", step 6): the fsm_ops that offer, withdraw and follow
 * directions on fastpath.ko, through the genetlink client in lib/genl.c.
 *
 * A learned direction whose ingress and egress devices the module can
 * bind goes to the module, and to FP_STATE_HW_PENDING in the flow table:
 * XDP passes its packets up, so the driver sees them on its receive path
 * and binds the flow there (MediaTek binds nothing that XDP redirected).
 * Once the module reports the hardware forwarding it, the entry becomes
 * FP_STATE_HW, and its counters, last-seen time and so the conntrack
 * keep-alive come from the hardware. conn_fsm.c decides all of that; this
 * file only answers what the module says, once per tick (hwtier_poll()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fmt.h"
#include "lib/genl.h"
#include "lib/log.h"
#include "daemon/adapters.h"

#define REPROBE_NS	5000000000ULL	/* how long a "no" is believed */
#define REOPEN_NS	5000000000ULL

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct fp_flow_key));
}

static bool dev_capable(struct hwtier *hw, __u32 ifindex)
{
	struct hw_dev_cap *dc = NULL, *free_slot = NULL;
	__u64 now = mono_ns();
	struct ppe_dev pd;

	for (int i = 0; i < HW_DEV_CACHE; i++) {
		if (hw->caps[i].ifindex == ifindex)
			dc = &hw->caps[i];
		else if (!hw->caps[i].ifindex && !free_slot)
			free_slot = &hw->caps[i];
	}
	if (dc && (dc->capable || now - dc->probed_ns < REPROBE_NS))
		return dc->capable;
	if (!dc)
		dc = free_slot ? free_slot : &hw->caps[ifindex % HW_DEV_CACHE];
	dc->ifindex = ifindex;
	dc->probed_ns = now;
	dc->capable = !ppe_dev_get(ifindex, true, &pd) && pd.bind != FP_BIND_NONE;
	return dc->capable;
}

static void forget_dev(struct hwtier *hw, __u32 ifindex)
{
	for (int i = 0; i < HW_DEV_CACHE; i++)
		if (hw->caps[i].ifindex == ifindex)
			hw->caps[i].ifindex = 0;
}

static void kmod_lost(struct daemon *d)
{
	pr_warn("hardware tier: fastpath.ko went away; its flows go back to XDP");
	ppe_close();
	d->hw.kmod = false;
	d->hw.polled_ok = false;
	d->hw.reopen_ns = mono_ns() + REOPEN_NS;
	memset(d->hw.caps, 0, sizeof(d->hw.caps));
	d->st.hw_mode = FP_HWM_NO_KMOD;
}

/*
 * The module's lease has the XDP lease's length and is renewed on the same
 * tick. Its idle expiry is a backstop behind the daemon's own idle timeout
 * and hardware deadline, so it only acts on a rule the daemon forgot.
 */
void hwtier_renew_lease(struct daemon *d)
{
	__u32 idle = d->opt.idle_timeout_s > d->opt.hw_deadline_s ?
		     d->opt.idle_timeout_s : d->opt.hw_deadline_s;
	int err;

	if (!d->hw.kmod)
		return;
	idle += d->opt.lease_s;
	err = ppe_lease(d->opt.lease_s * 1000, idle < 86400 ? (int)idle : 86400);
	/* A family that is gone shows again in the poll, which handles it. */
	if (err && err != -ENOENT)
		pr_debug("hardware tier: cannot renew the module's lease: %s",
			 strerror(-err));
}

/*
 * Conntrack accounting: conntrack sees none of the packets the fast path
 * carries, so what a direction carried since the last tick goes into the
 * entry's counters through the module, as nf_flowtable does with its own.
 * An entry without counters (nf_conntrack_acct=0) or already gone answers
 * an error, which changes nothing.
 */
void hwtier_ct_acct(struct daemon *d, const struct fp_flow_key *k,
		    __u64 packets, __u64 bytes)
{
	int err;

	if (!d->hw.kmod)
		return;
	err = ppe_ct_acct(k, packets, bytes);
	if (err && err != -EOPNOTSUPP && err != -ENOENT)
		pr_debug("conntrack accounting: %s", strerror(-err));
}

static void log_dev(__u32 ifindex)
{
	char name[IF_NAMESIZE + 8], why[160];
	struct ppe_dev pd;
	int err;

	err = ppe_dev_get(ifindex, true, &pd);
	if (err) {
		pr_info("%s: no hardware tier: %s", ifname_or_index(ifindex, name),
			strerror(-err));
		return;
	}
	pr_info("%s: %s tier: %s", ifname_or_index(ifindex, name),
		pd.bind ? "hardware" : "XDP", ppe_dev_reason(0, &pd, why, sizeof(why)));
}

int hwtier_start(struct daemon *d)
{
	int err;

	if (d->opt.no_hw) {
		d->st.hw_mode = FP_HWM_OFF;
		return 0;
	}
	err = ppe_open();
	if (err) {
		d->st.hw_mode = FP_HWM_NO_KMOD;
		d->hw.reopen_ns = mono_ns() + REOPEN_NS;
		if (err == -ENOENT)
			pr_info("hardware tier: fastpath.ko is not loaded; XDP only");
		else
			pr_warn("hardware tier: cannot reach fastpath.ko: %s", strerror(-err));
		return 0;
	}
	d->hw.kmod = true;
	d->st.hw_mode = FP_HWM_ON;
	/* Directions an earlier daemon left behind are learned again. */
	ppe_flush();
	hwtier_renew_lease(d);
	for (int i = 0; i < d->nports; i++)
		log_dev(d->ports[i]);
	return 0;
}

void hwtier_stop(struct daemon *d)
{
	if (d->hw.kmod) {
		ppe_flush();
		ppe_lease(0, -1);
	}
	ppe_close();
	d->hw.kmod = false;
	free(d->hw.polled);
	d->hw.polled = NULL;
	d->hw.npolled = d->hw.polled_cap = 0;
	d->st.hw_dirs = d->st.hw_pending = 0;
}

static int collect(const struct ppe_flow_stat *s, void *arg)
{
	struct hwtier *hw = arg;

	if (hw->npolled == hw->polled_cap) {
		size_t cap = hw->polled_cap ? hw->polled_cap * 2 : 256;
		struct ppe_flow_stat *p = realloc(hw->polled, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		hw->polled = p;
		hw->polled_cap = cap;
	}
	hw->polled[hw->npolled++] = *s;
	return 0;
}

/* Once per tick, before the connections: the module's view of every flow. */
void hwtier_poll(struct daemon *d)
{
	int err;

	d->hw.polled_ok = false;
	if (d->opt.no_hw)
		return;
	if (!d->hw.kmod) {
		if (mono_ns() < d->hw.reopen_ns)
			return;
		d->hw.reopen_ns = mono_ns() + REOPEN_NS;
		if (ppe_open())
			return;
		pr_info("hardware tier: fastpath.ko is loaded; new flows may use it");
		d->hw.kmod = true;
		memset(d->hw.caps, 0, sizeof(d->hw.caps));
		d->st.hw_mode = FP_HWM_ON;
		hwtier_renew_lease(d);
	}
	d->hw.npolled = 0;
	err = ppe_flow_dump(collect, &d->hw);
	if (err) {
		/* A family that is gone answers ENOENT to its old id. */
		if (err == -ENOENT || err == -EOPNOTSUPP)
			kmod_lost(d);
		else
			pr_debug("hardware tier: cannot read counters: %s", strerror(-err));
		return;
	}
	qsort(d->hw.polled, d->hw.npolled, sizeof(*d->hw.polled), key_cmp);
	d->hw.polled_ok = true;
}

/* What the last poll said of @k. */
void hwtier_state(struct daemon *d, const struct fp_flow_key *k,
		  struct hw_answer *a)
{
	const struct ppe_flow_stat *s;

	memset(a, 0, sizeof(*a));
	if (!d->hw.kmod) {
		a->kind = HWA_GONE;
		return;
	}
	if (!d->hw.polled_ok)
		return;		/* HWA_UNKNOWN */
	s = d->hw.npolled ? bsearch(k, d->hw.polled, d->hw.npolled,
				    sizeof(*d->hw.polled), key_cmp) : NULL;
	if (!s) {
		a->kind = HWA_MISSING;
		return;
	}
	a->kind = s->state == FP_HW_FAILED ? HWA_FAILED :
		  s->state == FP_HW_BOUND ? HWA_BOUND : HWA_PENDING;
	a->err = s->err;
	snprintf(a->msg, sizeof(a->msg), "%s", s->msg);
	a->packets = s->packets;
	a->bytes = s->bytes;
	a->idle_ms = s->idle_ms;
	a->has_idle = s->has_idle;
}

/*
 * Offers a direction to the module if both its devices are on the hardware
 * tier: 0, HW_NOT_ELIGIBLE, or the driver's -errno (with its message).
 */
int hwtier_offer(struct daemon *d, const struct fp_flow_key *k,
		 const struct fp_flow *f, char *msg, size_t msglen)
{
	struct ppe_dev pd;
	int err;

	if (!d->hw.kmod || !dev_capable(&d->hw, k->ifindex) || !dev_capable(&d->hw, f->oif))
		return HW_NOT_ELIGIBLE;
	err = ppe_flow_add(k, f, msg, msglen);
	if (err == -EEXIST) {
		/* left from an earlier offload of this tuple */
		ppe_flow_del(k);
		err = ppe_flow_add(k, f, msg, msglen);
	}
	if (!err)
		return 0;
	/* A family that is gone answers every request with ENOENT. */
	if (err == -ENOENT && ppe_dev_get(k->ifindex, false, &pd) == -ENOENT) {
		kmod_lost(d);
		return HW_NOT_ELIGIBLE;
	}
	if (err == -ENODEV || err == -ENETDOWN) {
		/* a device that stopped binding is asked again later */
		forget_dev(&d->hw, k->ifindex);
		forget_dev(&d->hw, f->oif);
	}
	return err;
}

void hwtier_withdraw(struct daemon *d, const struct fp_flow_key *k)
{
	if (d->hw.kmod)
		ppe_flow_del(k);
}
