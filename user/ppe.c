// SPDX-License-Identifier: GPL-2.0-only
/*
 * ppe.c - the hardware tier (DESIGN.md, "A connection's life", step 6):
 * the client of fastpath_ppe.ko's genetlink family, and what the daemon
 * does with each direction on it.
 *
 * A learned direction whose ingress and egress devices the module can
 * bind goes to the module, and to FP_STATE_HW_PENDING in the flow table:
 * XDP passes its packets up, so the driver sees them on its receive path
 * and binds the flow there (MediaTek binds nothing that XDP redirected).
 * Once the module reports the hardware forwarding it, the entry becomes
 * FP_STATE_HW, and its counters, last-seen time and so the conntrack
 * keep-alive come from the hardware. A refusal, no binding within the
 * deadline, the module going away or a device dropping out put the
 * direction back on the XDP tier, where it stays until it is learned again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>

#include "daemon.h"
#include "fastpath_genl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

static struct mnl_socket *gnl;
static __u16 gfamily;
static __u32 gseq, gportid;

struct reply {
	mnl_cb_t cb;
	void *data;
	char *msg;		/* the kernel's extack message, if any */
	size_t msglen;
};

static int err_attr_cb(const struct nlattr *a, void *data)
{
	struct reply *r = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && r->msg &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(r->msg, r->msglen, "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int err_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;
	/* NETLINK_CAP_ACK: the request is not echoed, the TLVs follow. */
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		mnl_attr_parse(nlh, sizeof(*e), err_attr_cb, data);
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_STOP;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply *r = data;

	return r->cb ? r->cb(nlh, r->data) : MNL_CB_OK;
}

/* One request, its replies through @cb, until the ACK or NLMSG_DONE. */
static int talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data, char *msg,
		size_t msglen)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = err_cb,
		[NLMSG_DONE] = done_cb,
	};
	struct reply r = { cb, data, msg, msglen };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret;

	if (msg && msglen)
		msg[0] = '\0';
	nlh->nlmsg_seq = ++gseq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(gnl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ret = mnl_socket_recvfrom(gnl, buf, sizeof(buf));
		if (ret < 0)
			return -errno;
		ret = mnl_cb_run2(buf, ret, gseq, gportid, data_cb, &r, ctl,
				  NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static struct nlmsghdr *genl_hdr(char *buf, __u16 family, __u8 cmd,
				 __u16 flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = FP_GENL_VERSION;
	return nlh;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= FP_A_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			*(__u16 *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

void ppe_close(void)
{
	if (gnl)
		mnl_socket_close(gnl);
	gnl = NULL;
	gfamily = 0;
}

/* 0, or -ENOENT when fastpath_ppe is not loaded. */
int ppe_open(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	__u16 id = 0;
	int one = 1, err;

	if (gnl)
		return 0;
	gnl = mnl_socket_open(NETLINK_GENERIC);
	if (!gnl)
		return -errno;
	if (mnl_socket_bind(gnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto err;
	}
	mnl_socket_setsockopt(gnl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(gnl, NETLINK_CAP_ACK, &one, sizeof(one));
	gportid = mnl_socket_get_portid(gnl);

	nlh = genl_hdr(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, FP_GENL_NAME);
	err = talk(nlh, family_cb, &id, NULL, 0);
	if (!err && !id)
		err = -ENOENT;
	if (err)
		goto err;
	gfamily = id;
	return 0;
err:
	ppe_close();
	return err;
}

static int dev_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[FP_A_MAX + 1] = {};
	struct ppe_dev *pd = data;

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), attr_cb, tb);
	if (tb[FP_A_DEV_BIND])
		pd->bind = mnl_attr_get_u8(tb[FP_A_DEV_BIND]);
	if (tb[FP_A_DEV_ERR])
		pd->err = (int)mnl_attr_get_u32(tb[FP_A_DEV_ERR]);
	if (tb[FP_A_DEV_FLOWS])
		pd->flows = mnl_attr_get_u32(tb[FP_A_DEV_FLOWS]);
	if (tb[FP_A_DEV_DRIVER] &&
	    mnl_attr_validate(tb[FP_A_DEV_DRIVER], MNL_TYPE_NUL_STRING) == 0)
		snprintf(pd->driver, sizeof(pd->driver), "%s",
			 mnl_attr_get_str(tb[FP_A_DEV_DRIVER]));
	return MNL_CB_OK;
}

/* What the module knows of a device; @probe binds it if it can. */
int ppe_dev_get(__u32 ifindex, bool probe, struct ppe_dev *pd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	memset(pd, 0, sizeof(*pd));
	nlh = genl_hdr(buf, gfamily, FP_CMD_DEV_GET, 0);
	mnl_attr_put_u32(nlh, FP_A_IFINDEX, ifindex);
	if (probe)
		mnl_attr_put(nlh, FP_A_DEV_PROBE, 0, NULL);
	return talk(nlh, dev_cb, pd, NULL, 0);
}

static void put_key(struct nlmsghdr *nlh, const struct fp_flow_key *k)
{
	mnl_attr_put_u32(nlh, FP_A_KEY_IFINDEX, k->ifindex);
	mnl_attr_put_u8(nlh, FP_A_KEY_FAMILY, k->family);
	mnl_attr_put_u8(nlh, FP_A_KEY_PROTO, k->proto);
	mnl_attr_put(nlh, FP_A_KEY_SPORT, sizeof(k->sport), &k->sport);
	mnl_attr_put(nlh, FP_A_KEY_DPORT, sizeof(k->dport), &k->dport);
	mnl_attr_put(nlh, FP_A_KEY_SADDR, sizeof(k->saddr), k->saddr);
	mnl_attr_put(nlh, FP_A_KEY_DADDR, sizeof(k->daddr), k->daddr);
	if (k->pppoe_sid)
		mnl_attr_put_u16(nlh, FP_A_KEY_PPPOE_SID, k->pppoe_sid);
	if (k->vlan[0])
		mnl_attr_put_u16(nlh, FP_A_KEY_VLAN0, k->vlan[0]);
	if (k->vlan[1])
		mnl_attr_put_u16(nlh, FP_A_KEY_VLAN1, k->vlan[1]);
}

int ppe_flow_add(const struct fp_flow_key *k, const struct fp_flow *f,
		 char *msg, size_t msglen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = genl_hdr(buf, gfamily, FP_CMD_FLOW_ADD, 0);
	put_key(nlh, k);
	mnl_attr_put_u32(nlh, FP_A_FLOW_OIF, f->oif);
	mnl_attr_put_u8(nlh, FP_A_FLOW_FLAGS, f->flags & (FP_F_SNAT | FP_F_DNAT));
	mnl_attr_put_u16(nlh, FP_A_FLOW_MTU, f->mtu);
	mnl_attr_put(nlh, FP_A_FLOW_DMAC, 6, f->dmac);
	mnl_attr_put(nlh, FP_A_FLOW_SMAC, 6, f->smac);
	if (f->flags & FP_F_SNAT) {
		mnl_attr_put(nlh, FP_A_FLOW_NAT_SADDR, 16, f->nat_saddr);
		mnl_attr_put(nlh, FP_A_FLOW_NAT_SPORT, 2, &f->nat_sport);
	}
	if (f->flags & FP_F_DNAT) {
		mnl_attr_put(nlh, FP_A_FLOW_NAT_DADDR, 16, f->nat_daddr);
		mnl_attr_put(nlh, FP_A_FLOW_NAT_DPORT, 2, &f->nat_dport);
	}
	if (f->out_vlan[0])
		mnl_attr_put_u16(nlh, FP_A_FLOW_OUT_VLAN0, f->out_vlan[0]);
	if (f->out_vlan[1])
		mnl_attr_put_u16(nlh, FP_A_FLOW_OUT_VLAN1, f->out_vlan[1]);
	if (f->out_pppoe_sid)
		mnl_attr_put_u16(nlh, FP_A_FLOW_OUT_PPPOE_SID, f->out_pppoe_sid);
	return talk(nlh, NULL, NULL, msg, msglen);
}

int ppe_flow_del(const struct fp_flow_key *k)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = genl_hdr(buf, gfamily, FP_CMD_FLOW_DEL, 0);
	put_key(nlh, k);
	return talk(nlh, NULL, NULL, NULL, 0);
}

int ppe_flush(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return talk(genl_hdr(buf, gfamily, FP_CMD_FLUSH, 0), NULL, NULL, NULL, 0);
}

struct dump_ctx {
	int (*fn)(const struct ppe_flow_stat *s, void *arg);
	void *arg;
};

static int flow_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[FP_A_MAX + 1] = {};
	struct dump_ctx *ctx = data;
	struct ppe_flow_stat s = {};

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), attr_cb, tb);
	if (!tb[FP_A_KEY_IFINDEX] || !tb[FP_A_KEY_FAMILY] || !tb[FP_A_KEY_PROTO] ||
	    !tb[FP_A_KEY_SPORT] || !tb[FP_A_KEY_DPORT] || !tb[FP_A_KEY_SADDR] ||
	    !tb[FP_A_KEY_DADDR] || !tb[FP_A_HW_STATE] ||
	    mnl_attr_get_payload_len(tb[FP_A_KEY_SADDR]) != 16 ||
	    mnl_attr_get_payload_len(tb[FP_A_KEY_DADDR]) != 16)
		return MNL_CB_OK;
	s.key.ifindex = mnl_attr_get_u32(tb[FP_A_KEY_IFINDEX]);
	s.key.family = mnl_attr_get_u8(tb[FP_A_KEY_FAMILY]);
	s.key.proto = mnl_attr_get_u8(tb[FP_A_KEY_PROTO]);
	memcpy(&s.key.sport, mnl_attr_get_payload(tb[FP_A_KEY_SPORT]), 2);
	memcpy(&s.key.dport, mnl_attr_get_payload(tb[FP_A_KEY_DPORT]), 2);
	memcpy(s.key.saddr, mnl_attr_get_payload(tb[FP_A_KEY_SADDR]), 16);
	memcpy(s.key.daddr, mnl_attr_get_payload(tb[FP_A_KEY_DADDR]), 16);
	if (tb[FP_A_KEY_PPPOE_SID])
		s.key.pppoe_sid = mnl_attr_get_u16(tb[FP_A_KEY_PPPOE_SID]);
	if (tb[FP_A_KEY_VLAN0])
		s.key.vlan[0] = mnl_attr_get_u16(tb[FP_A_KEY_VLAN0]);
	if (tb[FP_A_KEY_VLAN1])
		s.key.vlan[1] = mnl_attr_get_u16(tb[FP_A_KEY_VLAN1]);
	s.state = mnl_attr_get_u8(tb[FP_A_HW_STATE]);
	if (tb[FP_A_HW_ERR])
		s.err = (int)mnl_attr_get_u32(tb[FP_A_HW_ERR]);
	if (tb[FP_A_HW_MSG] &&
	    mnl_attr_validate(tb[FP_A_HW_MSG], MNL_TYPE_NUL_STRING) == 0)
		snprintf(s.msg, sizeof(s.msg), "%s", mnl_attr_get_str(tb[FP_A_HW_MSG]));
	if (tb[FP_A_HW_PACKETS])
		s.packets = mnl_attr_get_u64(tb[FP_A_HW_PACKETS]);
	if (tb[FP_A_HW_BYTES])
		s.bytes = mnl_attr_get_u64(tb[FP_A_HW_BYTES]);
	if (tb[FP_A_HW_IDLE_MS]) {
		s.idle_ms = mnl_attr_get_u64(tb[FP_A_HW_IDLE_MS]);
		s.has_idle = true;
	}
	return ctx->fn(&s, ctx->arg) ? MNL_CB_ERROR : MNL_CB_OK;
}

int ppe_flow_dump(int (*fn)(const struct ppe_flow_stat *s, void *arg), void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct dump_ctx ctx = { fn, arg };

	return talk(genl_hdr(buf, gfamily, FP_CMD_FLOW_GET, NLM_F_DUMP), flow_cb,
		    &ctx, NULL, 0);
}

/* One line of "fastpath status": why a device is or is not on the hardware tier. */
const char *ppe_dev_reason(int open_err, const struct ppe_dev *pd,
			   char *buf, size_t len)
{
	const char *drv = pd->driver[0] ? pd->driver : "its driver";

	if (open_err == -ENOENT)
		snprintf(buf, len, "the hardware tier module fastpath_ppe is not loaded");
	else if (open_err)
		snprintf(buf, len, "cannot ask fastpath_ppe: %s", strerror(-open_err));
	else if (pd->bind == FP_BIND_DIRECT)
		snprintf(buf, len, "%s offloads flows (TC_SETUP_FT through ndo_setup_tc)", drv);
	else if (pd->bind == FP_BIND_INDIRECT)
		snprintf(buf, len, "%s offloads flows (TC_SETUP_FT through an indirect block)", drv);
	else if (pd->err == -EOPNOTSUPP)
		snprintf(buf, len, "%s has no flow offload (TC_SETUP_FT: %s)", drv,
			 strerror(EOPNOTSUPP));
	else if (pd->err == -ENETDOWN)
		snprintf(buf, len, "the device is down");
	else
		snprintf(buf, len, "%s cannot be bound: %s", drv, strerror(-pd->err));
	return buf;
}

/* The daemon's side */

#define DEV_CACHE	64
#define REPROBE_NS	5000000000ULL	/* how long a "no" is believed */
#define REOPEN_NS	5000000000ULL

struct dev_cap {
	__u32 ifindex;
	bool capable;
	__u64 probed_ns;
};
static struct dev_cap caps[DEV_CACHE];
static bool kmod;		/* the family answers */
static __u64 reopen_ns;

static struct ppe_flow_stat *polled;	/* the module's flows, sorted by key */
static size_t npolled, polled_cap;
static bool polled_ok;

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct fp_flow_key));
}

static bool dev_capable(__u32 ifindex)
{
	struct dev_cap *dc = NULL, *free_slot = NULL;
	__u64 now = mono_ns();
	struct ppe_dev pd;

	for (int i = 0; i < DEV_CACHE; i++) {
		if (caps[i].ifindex == ifindex)
			dc = &caps[i];
		else if (!caps[i].ifindex && !free_slot)
			free_slot = &caps[i];
	}
	if (dc && (dc->capable || now - dc->probed_ns < REPROBE_NS))
		return dc->capable;
	if (!dc)
		dc = free_slot ? free_slot : &caps[ifindex % DEV_CACHE];
	dc->ifindex = ifindex;
	dc->probed_ns = now;
	dc->capable = !ppe_dev_get(ifindex, true, &pd) && pd.bind != FP_BIND_NONE;
	return dc->capable;
}

static void forget_dev(__u32 ifindex)
{
	for (int i = 0; i < DEV_CACHE; i++)
		if (caps[i].ifindex == ifindex)
			caps[i].ifindex = 0;
}

static void kmod_lost(struct daemon *d)
{
	pr_warn("hardware tier: fastpath_ppe went away; its flows go back to XDP");
	ppe_close();
	kmod = false;
	polled_ok = false;
	reopen_ns = mono_ns() + REOPEN_NS;
	memset(caps, 0, sizeof(caps));
	d->st.hw_mode = FP_HWM_NO_KMOD;
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

int ppe_start(struct daemon *d, const __u32 *ifindex, int n)
{
	int err;

	if (d->opt.no_hw) {
		d->st.hw_mode = FP_HWM_OFF;
		return 0;
	}
	err = ppe_open();
	if (err) {
		d->st.hw_mode = FP_HWM_NO_KMOD;
		reopen_ns = mono_ns() + REOPEN_NS;
		if (err == -ENOENT)
			pr_info("hardware tier: fastpath_ppe is not loaded; XDP only");
		else
			pr_warn("hardware tier: cannot reach fastpath_ppe: %s", strerror(-err));
		return 0;
	}
	kmod = true;
	d->st.hw_mode = FP_HWM_ON;
	/* Directions an earlier daemon left behind are learned again. */
	ppe_flush();
	for (int i = 0; i < n; i++)
		log_dev(ifindex[i]);
	return 0;
}

void ppe_stop(struct daemon *d)
{
	if (kmod)
		ppe_flush();
	ppe_close();
	kmod = false;
	free(polled);
	polled = NULL;
	npolled = polled_cap = 0;
	d->st.hw_dirs = d->st.hw_pending = 0;
}

static int collect(const struct ppe_flow_stat *s, void *arg)
{
	(void)arg;
	if (npolled == polled_cap) {
		size_t cap = polled_cap ? polled_cap * 2 : 256;
		struct ppe_flow_stat *p = realloc(polled, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		polled = p;
		polled_cap = cap;
	}
	polled[npolled++] = *s;
	return 0;
}

/* Once per tick, before the connections: the module's view of every flow. */
void ppe_poll(struct daemon *d)
{
	int err;

	polled_ok = false;
	d->st.hw_dirs = d->st.hw_pending = 0;
	if (d->opt.no_hw)
		return;
	if (!kmod) {
		if (mono_ns() < reopen_ns)
			return;
		reopen_ns = mono_ns() + REOPEN_NS;
		if (ppe_open())
			return;
		pr_info("hardware tier: fastpath_ppe is loaded; new flows may use it");
		kmod = true;
		memset(caps, 0, sizeof(caps));
		d->st.hw_mode = FP_HWM_ON;
	}
	npolled = 0;
	err = ppe_flow_dump(collect, NULL);
	if (err) {
		/* A family that is gone answers ENOENT to its old id. */
		if (err == -ENOENT || err == -EOPNOTSUPP)
			kmod_lost(d);
		else
			pr_debug("hardware tier: cannot read counters: %s", strerror(-err));
		return;
	}
	qsort(polled, npolled, sizeof(*polled), key_cmp);
	polled_ok = true;
}

static const struct ppe_flow_stat *polled_find(const struct fp_flow_key *k)
{
	if (!polled_ok || !npolled)
		return NULL;
	return bsearch(k, polled, npolled, sizeof(*polled), key_cmp);
}

static void set_state(struct daemon *d, const struct conn_dir *cd,
		      struct fp_flow *f, __u8 state)
{
	f->state = state;
	fp_flow_write(d->m.flows, &cd->key, f, BPF_EXIST);
}

/* Back to XDP for the rest of this offload: re-learning tries again. */
static void fallback(struct daemon *d, struct conn_dir *cd, struct fp_flow *f,
		     const char *why)
{
	char addr[INET6_ADDRSTRLEN + 8];

	format_endpoint(cd->key.family, cd->key.saddr, cd->key.sport, addr,
			sizeof(addr));
	pr_debug("hardware tier: %s %s: back to XDP: %s",
		 proto_name(cd->key.proto), addr, why);
	if (kmod)
		ppe_flow_del(&cd->key);
	cd->hw = PPE_DIR_NONE;
	cd->hw_refused = true;
	set_state(d, cd, f, FP_STATE_XDP);
	d->st.hw_fallbacks++;
}

/*
 * A direction just went into the flow table (as FP_STATE_XDP): hand it to
 * the module if both its devices are on the hardware tier.
 */
void ppe_dir_start(struct daemon *d, struct conn *c, int dir)
{
	struct conn_dir *cd = &c->dir[dir];
	char msg[128];
	struct fp_flow f;
	int err;

	cd->hw = PPE_DIR_NONE;
	if (!kmod || cd->hw_refused || cd->key.pppoe_sid)
		return;
	if (bpf_map_lookup_elem(d->m.flows, &cd->key, &f))
		return;
	if (!dev_capable(cd->key.ifindex) || !dev_capable(f.oif))
		return;
	err = ppe_flow_add(&cd->key, &f, msg, sizeof(msg));
	if (err == -EEXIST) {
		/* left from an earlier offload of this tuple */
		ppe_flow_del(&cd->key);
		err = ppe_flow_add(&cd->key, &f, msg, sizeof(msg));
	}
	if (err) {
		struct ppe_dev pd;

		/* A family that is gone answers every request with ENOENT. */
		if (err == -ENOENT && ppe_dev_get(cd->key.ifindex, false, &pd) == -ENOENT) {
			kmod_lost(d);
			return;
		}
		/* The driver refused the rule: the answer says why (see ppe_sim). */
		pr_debug("hardware tier: refused: %s%s%s", strerror(-err),
			 msg[0] ? ": " : "", msg);
		if (err == -ENODEV || err == -ENETDOWN) {
			/* a device that stopped binding is asked again later */
			forget_dev(cd->key.ifindex);
			forget_dev(f.oif);
		}
		cd->hw_refused = true;
		d->st.hw_offered++;
		d->st.hw_fallbacks++;
		return;
	}
	cd->hw = PPE_DIR_PENDING;
	cd->hw_since = mono_ns();
	cd->hw_base_packets = f.packets;
	cd->hw_base_bytes = f.bytes;
	set_state(d, cd, &f, FP_STATE_HW_PENDING);
	d->st.hw_offered++;
}

/*
 * Per tick and direction in the table, before conn_tick() reads @f:
 * follow the module's state, and feed the hardware counters into @f.
 */
void ppe_dir_tick(struct daemon *d, struct conn *c, int dir, struct fp_flow *f)
{
	struct conn_dir *cd = &c->dir[dir];
	const struct ppe_flow_stat *s;
	char why[160];
	__u64 now;

	if (cd->hw == PPE_DIR_NONE)
		return;
	if (!kmod) {
		fallback(d, cd, f, "fastpath_ppe is gone");
		return;
	}
	if (!polled_ok)
		goto count;
	s = polled_find(&cd->key);
	if (!s) {
		fallback(d, cd, f, "the module withdrew it (device down or gone)");
		return;
	}
	now = mono_ns();
	switch (s->state) {
	case FP_HW_FAILED:
		snprintf(why, sizeof(why), "the driver refused it: %s%s%s",
			 strerror(-s->err), s->msg[0] ? ": " : "", s->msg);
		fallback(d, cd, f, why);
		return;
	case FP_HW_BOUND:
		if (cd->hw == PPE_DIR_PENDING)
			cd->hw = PPE_DIR_ON;
		break;
	default:
		if (cd->hw == PPE_DIR_PENDING &&
		    now - cd->hw_since > (__u64)d->opt.hw_deadline_s * 1000000000ULL) {
			snprintf(why, sizeof(why), "not bound within %us",
				 d->opt.hw_deadline_s);
			fallback(d, cd, f, why);
			return;
		}
		break;
	}
	if (cd->hw == PPE_DIR_ON) {
		f->packets = cd->hw_base_packets + s->packets;
		f->bytes = cd->hw_base_bytes + s->bytes;
		if (s->has_idle && now > s->idle_ms * 1000000ULL &&
		    now - s->idle_ms * 1000000ULL > f->last_seen)
			f->last_seen = now - s->idle_ms * 1000000ULL;
		set_state(d, cd, f, FP_STATE_HW);
	}
count:
	if (cd->hw == PPE_DIR_ON)
		d->st.hw_dirs++;
	else if (cd->hw == PPE_DIR_PENDING)
		d->st.hw_pending++;
}

/* The direction leaves the flow table. */
void ppe_dir_stop(struct daemon *d, struct conn_dir *cd)
{
	(void)d;
	if (cd->hw != PPE_DIR_NONE && kmod)
		ppe_flow_del(&cd->key);
	cd->hw = PPE_DIR_NONE;
	cd->hw_refused = false;
}
