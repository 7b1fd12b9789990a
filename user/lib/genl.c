// SPDX-License-Identifier: GPL-2.0-only
/*
 * genl.c - the client of fastpath.ko's genetlink family
 * (include/fastpath_genl.h): device capability, flow add/del/flush and the
 * flow dump with the hardware counters. The hardware tier's decisions are
 * in daemon/hwtier.c and daemon/conn_fsm.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>

#include "lib/genl.h"
#include "lib/rtnl.h"

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


static int err_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {};
	struct reply *r = data;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;
	/* NETLINK_CAP_ACK: the request is not echoed, the TLVs follow. */
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS &&
	    !nl_parse(nlh, sizeof(*e), tb, NLMSGERR_ATTR_MAX) && r->msg &&
	    tb[NLMSGERR_ATTR_MSG] &&
	    mnl_attr_validate(tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING) == 0)
		snprintf(r->msg, r->msglen, "%s", mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]));
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

/* 0, or -ENOENT when fastpath.ko is not loaded. */
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

	nl_parse(nlh, sizeof(struct genlmsghdr), tb, FP_A_MAX);
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

/*
 * Renews the module's lease of this namespace (0 ends it) and, unless
 * @idle_s is negative, sets its idle expiry (0: never). Once renewed, the
 * module withdraws every direction when the daemon stops renewing
 * (docs/DESIGN.md, "Safety rules").
 */
int ppe_lease(__u32 lease_ms, int idle_s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = genl_hdr(buf, gfamily, FP_CMD_LEASE, 0);
	mnl_attr_put_u32(nlh, FP_A_LEASE_MS, lease_ms);
	if (idle_s >= 0)
		mnl_attr_put_u32(nlh, FP_A_IDLE_S, idle_s);
	return talk(nlh, NULL, NULL, NULL, 0);
}

/*
 * Adds what the fast path carried for the direction whose conntrack tuple
 * is @k's (zone 0) to that direction's conntrack counters.
 */
int ppe_ct_acct(const struct fp_flow_key *k, __u64 packets, __u64 bytes)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = genl_hdr(buf, gfamily, FP_CMD_CT_ACCT, 0);
	mnl_attr_put_u8(nlh, FP_A_KEY_FAMILY, k->family);
	mnl_attr_put_u8(nlh, FP_A_KEY_PROTO, k->proto);
	mnl_attr_put(nlh, FP_A_KEY_SPORT, sizeof(k->sport), &k->sport);
	mnl_attr_put(nlh, FP_A_KEY_DPORT, sizeof(k->dport), &k->dport);
	mnl_attr_put(nlh, FP_A_KEY_SADDR, sizeof(k->saddr), k->saddr);
	mnl_attr_put(nlh, FP_A_KEY_DADDR, sizeof(k->daddr), k->daddr);
	mnl_attr_put_u64(nlh, FP_A_ACCT_PACKETS, packets);
	mnl_attr_put_u64(nlh, FP_A_ACCT_BYTES, bytes);
	return talk(nlh, NULL, NULL, NULL, 0);
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

	nl_parse(nlh, sizeof(struct genlmsghdr), tb, FP_A_MAX);
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
		snprintf(buf, len, "the hardware tier module fastpath.ko is not loaded");
	else if (open_err)
		snprintf(buf, len, "cannot ask fastpath.ko: %s", strerror(-open_err));
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

