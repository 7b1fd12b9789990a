// SPDX-License-Identifier: GPL-2.0-only
/*
 * ct.c - conntrack through libnetfilter_conntrack: the event subscription,
 * full dumps, BE_LIBERAL and timeout refreshes.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>
#include <libnfnetlink/libnfnetlink.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>

#include "lib/log.h"
#include "lib/rtnl.h"
#include "daemon/adapters.h"

/* Bursts of thousands of short flows must not overrun the event socket. */
#define CT_RCVBUF	(32 << 20)
#define CT_BATCHES	4		/* recvmmsg() calls per loop pass */
_Static_assert(CT_BATCHES * CT_MSGS == CT_PASS_MAX, "CT_PASS_MAX");


static int ct_tuple_get(const struct nf_conntrack *ct, int dir,
			struct ct_tuple *t)
{
	bool orig = dir == DIR_ORIG;

	memset(t, 0, sizeof(*t));
	t->family = nfct_get_attr_u8(ct, orig ? ATTR_ORIG_L3PROTO : ATTR_REPL_L3PROTO);
	t->proto = nfct_get_attr_u8(ct, orig ? ATTR_ORIG_L4PROTO : ATTR_REPL_L4PROTO);
	if (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP)
		return -1;
	if (t->family == AF_INET) {
		t->src[0] = nfct_get_attr_u32(ct, orig ? ATTR_ORIG_IPV4_SRC : ATTR_REPL_IPV4_SRC);
		t->dst[0] = nfct_get_attr_u32(ct, orig ? ATTR_ORIG_IPV4_DST : ATTR_REPL_IPV4_DST);
	} else if (t->family == AF_INET6) {
		memcpy(t->src, nfct_get_attr(ct, orig ? ATTR_ORIG_IPV6_SRC : ATTR_REPL_IPV6_SRC), 16);
		memcpy(t->dst, nfct_get_attr(ct, orig ? ATTR_ORIG_IPV6_DST : ATTR_REPL_IPV6_DST), 16);
	} else {
		return -1;
	}
	t->sport = nfct_get_attr_u16(ct, orig ? ATTR_ORIG_PORT_SRC : ATTR_REPL_PORT_SRC);
	t->dport = nfct_get_attr_u16(ct, orig ? ATTR_ORIG_PORT_DST : ATTR_REPL_PORT_DST);
	return 0;
}

/* Only the original tuple is needed to address an entry in an update. */
static void ct_tuple_set(struct nf_conntrack *ct, const struct ct_tuple *t)
{
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, t->family);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, t->proto);
	if (t->family == AF_INET) {
		nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, t->src[0]);
		nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, t->dst[0]);
	} else {
		nfct_set_attr(ct, ATTR_ORIG_IPV6_SRC, t->src);
		nfct_set_attr(ct, ATTR_ORIG_IPV6_DST, t->dst);
	}
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, t->sport);
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, t->dport);
}

/* Events and dump entries go through the same path: into a struct
 * ct_info, and on to the state machine.
 */
static int ct_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
		 void *data)
{
	struct daemon *d = data;
	struct ct_info ci = {};

	/* A dump of a big table takes longer than a tick. */
	if (d->ct.dumping && !(d->st.ct_events % 1024))
		fsm_lease_keep(d);
	d->st.ct_events++;
	if (ct_tuple_get(ct, DIR_ORIG, &ci.orig) || ct_tuple_get(ct, DIR_REPLY, &ci.reply))
		return NFCT_CB_CONTINUE;
	ci.destroy = type == NFCT_T_DESTROY;
	ci.is_new = type == NFCT_T_NEW;
	ci.id = nfct_get_attr_u32(ct, ATTR_ID);
	ci.has_status = nfct_attr_is_set(ct, ATTR_STATUS) > 0;
	if (ci.has_status)
		ci.status = nfct_get_attr_u32(ct, ATTR_STATUS);
	ci.has_tcp_state = nfct_attr_is_set(ct, ATTR_TCP_STATE) > 0;
	if (ci.has_tcp_state)
		ci.tcp_state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
	ci.has_mark = nfct_attr_is_set(ct, ATTR_MARK) > 0;
	if (ci.has_mark)
		ci.mark = nfct_get_attr_u32(ct, ATTR_MARK);
	ci.helper = nfct_attr_is_set(ct, ATTR_HELPER_NAME) > 0 &&
		    *(const char *)nfct_get_attr(ct, ATTR_HELPER_NAME);
	fsm_ct_event(d, &ci);
	return NFCT_CB_CONTINUE;
}

int ct_open(struct daemon *d)
{
	d->ct.ev = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW |
			 NF_NETLINK_CONNTRACK_UPDATE | NF_NETLINK_CONNTRACK_DESTROY);
	if (!d->ct.ev) {
		pr_warn("cannot subscribe to conntrack events: %s", strerror(errno));
		return -errno;
	}
	d->ct.q = nfct_open(CONNTRACK, 0);
	d->ct.upd = nfct_open(CONNTRACK, 0);
	if (!d->ct.q || !d->ct.upd) {
		pr_warn("cannot open ctnetlink: %s", strerror(errno));
		ct_close(d);
		return -errno;
	}
	nfnl_rcvbufsiz(nfct_nfnlh(d->ct.ev), CT_RCVBUF);
	fcntl(nfct_fd(d->ct.ev), F_SETFL, fcntl(nfct_fd(d->ct.ev), F_GETFL) | O_NONBLOCK);
	nfct_callback_register(d->ct.ev, NFCT_T_ALL, ct_cb, d);
	nfct_callback_register(d->ct.q, NFCT_T_ALL, ct_cb, d);
	return 0;
}

void ct_close(struct daemon *d)
{
	if (d->ct.ev)
		nfct_close(d->ct.ev);
	if (d->ct.q)
		nfct_close(d->ct.q);
	if (d->ct.upd)
		nfct_close(d->ct.upd);
	d->ct.ev = d->ct.q = d->ct.upd = NULL;
}

int ct_event_fd(const struct daemon *d)
{
	return nfct_fd(d->ct.ev);
}

/* An attribute's payload, when it is exactly @len bytes long. */
static const void *attr_fixed(const struct nlattr *a, size_t len)
{
	return a && mnl_attr_get_payload_len(a) == len ? mnl_attr_get_payload(a) : NULL;
}

/* The nested attribute @type of @nest, or NULL. */
static const struct nlattr *attr_nested(const struct nlattr *nest, unsigned int type)
{
	const struct nlattr *tb[8] = {};

	if (!nest || type >= 8 || nl_parse_nested(nest, tb, type))
		return NULL;
	return tb[type];
}

/* CTA_TUPLE_ORIG or CTA_TUPLE_REPLY; -1 unless TCP or UDP over IP. */
static int ev_tuple(const struct nlattr *nest, __u8 family, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1] = {}, *ip[CTA_IP_MAX + 1] = {};
	const struct nlattr *pr[CTA_PROTO_MAX + 1] = {};
	const void *src, *dst, *num, *sport, *dport;
	size_t alen = family == AF_INET ? 4 : 16;

	memset(t, 0, sizeof(*t));
	if ((family != AF_INET && family != AF_INET6) || !nest ||
	    nl_parse_nested(nest, tb, CTA_TUPLE_MAX) || !tb[CTA_TUPLE_IP] ||
	    !tb[CTA_TUPLE_PROTO] || nl_parse_nested(tb[CTA_TUPLE_IP], ip, CTA_IP_MAX) ||
	    nl_parse_nested(tb[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX))
		return -1;
	num = attr_fixed(pr[CTA_PROTO_NUM], 1);
	sport = attr_fixed(pr[CTA_PROTO_SRC_PORT], 2);
	dport = attr_fixed(pr[CTA_PROTO_DST_PORT], 2);
	src = attr_fixed(ip[family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC], alen);
	dst = attr_fixed(ip[family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST], alen);
	if (!num || !sport || !dport || !src || !dst)
		return -1;
	t->family = family;
	t->proto = *(const __u8 *)num;
	if (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP)
		return -1;
	memcpy(t->src, src, alen);
	memcpy(t->dst, dst, alen);
	memcpy(&t->sport, sport, 2);
	memcpy(&t->dport, dport, 2);
	return 0;
}

static bool attr_u32(const struct nlattr *a, __u32 *v)
{
	const void *p = attr_fixed(a, 4);

	if (p) {
		memcpy(v, p, 4);
		*v = ntohl(*v);
	}
	return p;
}

/*
 * One ctnetlink event into a struct ct_info, as ct_cb() has it from a dump
 * line. Parsed here rather than through libnetfilter_conntrack, which
 * allocates, fills and frees a struct nf_conntrack of every attribute per
 * event: the event path must keep up with a flood (docs/PERF.md, "Daemon").
 */
static bool ct_event_msg(struct daemon *d, const struct nlmsghdr *nlh,
			 struct ct_info *ci)
{
	const struct nlattr *tb[CTA_MAX + 1] = {}, *a;
	int type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const struct nfgenmsg *nfg;

	memset(ci, 0, sizeof(*ci));
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK ||
	    (type != IPCTNL_MSG_CT_NEW && type != IPCTNL_MSG_CT_DELETE) ||
	    nl_parse(nlh, sizeof(*nfg), tb, CTA_MAX))
		return false;
	nfg = mnl_nlmsg_get_payload(nlh);
	d->st.ct_events++;
	if (ev_tuple(tb[CTA_TUPLE_ORIG], nfg->nfgen_family, &ci->orig) ||
	    ev_tuple(tb[CTA_TUPLE_REPLY], nfg->nfgen_family, &ci->reply))
		return false;
	ci->destroy = type == IPCTNL_MSG_CT_DELETE;
	ci->is_new = !ci->destroy && (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL));
	attr_u32(tb[CTA_ID], &ci->id);
	ci->has_status = attr_u32(tb[CTA_STATUS], &ci->status);
	ci->has_mark = attr_u32(tb[CTA_MARK], &ci->mark);
	a = attr_nested(attr_nested(tb[CTA_PROTOINFO], CTA_PROTOINFO_TCP),
			CTA_PROTOINFO_TCP_STATE);
	if (attr_fixed(a, 1)) {
		ci->has_tcp_state = true;
		ci->tcp_state = mnl_attr_get_u8(a);
	}
	a = attr_nested(tb[CTA_HELP], CTA_HELP_NAME);
	ci->helper = a && mnl_attr_get_payload_len(a) > 0 &&
		    *(const char *)mnl_attr_get_payload(a);
	return true;
}

/*
 * A batch of parsed events, in order. Their lookups are fetched first, in
 * two rounds over the whole batch (fsm_ct_prefetch()): every event misses
 * the cache several times in tables of 100,000s of connections, and the
 * misses of a batch then overlap (docs/PERF.md, "Daemon").
 */
static void ct_events_handle(struct daemon *d, struct ct_info *ci, int n)
{
	for (int stage = 0; stage < 2; stage++)
		for (int i = 0; i < n; i++)
			fsm_ct_prefetch(d, &ci[i], stage);
	for (int i = 0; i < n; i++)
		fsm_ct_event(d, &ci[i]);
}

/*
 * Reads at most CT_BATCHES x CT_MSGS (CT_PASS_MAX) datagrams of events per
 * loop pass and returns how many, or -errno on a fatal error
 * (docs/DESIGN.md, "Safety rules" 10): reading until the socket is empty,
 * as nfct_catch() does, never ends under a flood of new connections, and
 * the timer (the lease) would wait behind it. The socket stays readable;
 * the loop comes back after the timer. recvmmsg() takes a batch in one
 * system call. ENOBUFS, or an event that did not fit its buffer, means
 * events were lost: the caller resyncs with a full dump.
 */
int ct_read_events(struct daemon *d)
{
	struct sockaddr_nl peer[CT_MSGS];
	struct mmsghdr mm[CT_MSGS];
	struct iovec iov[CT_MSGS];
	struct ct_info ci[CT_MSGS];
	int fd = nfct_fd(d->ct.ev), n, nci, got = 0;

	for (int b = 0; b < CT_BATCHES; b++) {
		for (int i = 0; i < CT_MSGS; i++) {
			iov[i] = (struct iovec){ d->ct.rx[i], CT_MSG_BUF };
			mm[i].msg_hdr = (struct msghdr){
				.msg_name = &peer[i], .msg_namelen = sizeof(peer[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1,
			};
		}
		n = recvmmsg(fd, mm, CT_MSGS, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return got;
			if (errno == ENOBUFS) {
				d->st.events_lost++;
				d->resync_needed = true;
				return got;
			}
			pr_warn("conntrack events: %s", strerror(errno));
			return -errno;
		}
		nci = 0;
		got += n;
		for (int i = 0; i < n; i++) {
			const struct nlmsghdr *nlh = (const void *)d->ct.rx[i];
			int len = mm[i].msg_len;

			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				d->st.events_lost++;
				d->resync_needed = true;
				continue;
			}
			/* Only the kernel sends to the conntrack groups. */
			if (peer[i].nl_pid)
				continue;
			for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
				if (nci == CT_MSGS) {
					ct_events_handle(d, ci, nci);
					nci = 0;
				}
				nci += ct_event_msg(d, nlh, &ci[nci]);
			}
		}
		ct_events_handle(d, ci, nci);
		if (n < CT_MSGS)
			return got;
	}
	return got;
}

/*
 * After a loss, the events still queued are older than the dump about to
 * be taken; applied after it they could resurrect a connection whose
 * DESTROY was among the lost. So they are discarded first.
 */
static void ct_drain(struct daemon *d)
{
	/* What was queued, and some: a flood that goes on must not hold
	 * the loop here.
	 */
	long left = 2L * CT_RCVBUF;
	struct mmsghdr mm[CT_MSGS];
	struct iovec iov[CT_MSGS];
	int n;

	for (int i = 0; i < CT_MSGS; i++) {
		iov[i] = (struct iovec){ d->ct.rx[i], CT_MSG_BUF };
		mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	for (int tries = 0; left > 0 && tries < 4096; tries++) {
		n = recvmmsg(nfct_fd(d->ct.ev), mm, CT_MSGS, MSG_DONTWAIT, NULL);
		if (n < 0 && errno != ENOBUFS && errno != EINTR)
			break;
		for (int i = 0; i < n; i++)
			left -= mm[i].msg_len;
		if (n > 0)
			d->st.events_discarded += n;
		if (n >= 0 && n < CT_MSGS)
			break;
	}
}

/* Full dump: what it does not list any more is gone. */
int ct_dump(struct daemon *d)
{
	__u32 family = AF_UNSPEC;
	int ret;

	if (d->resync_needed) {
		d->resync_needed = false;
		ct_drain(d);
	}
	fsm_resync_begin(d);
	d->ct.dumping = true;
	ret = nfct_query(d->ct.q, NFCT_Q_DUMP, &family);
	d->ct.dumping = false;
	if (ret < 0) {
		pr_warn("conntrack dump failed: %s", strerror(errno));
		return -errno;
	}
	fsm_resync_end(d);
	return 0;
}

static int ct_update(struct daemon *d, struct nf_conntrack *ct)
{
	int ret = nfct_query(d->ct.upd, NFCT_Q_UPDATE, ct);

	nfct_destroy(ct);
	/* ENOENT: the entry died meanwhile; its DESTROY event follows. */
	return ret < 0 && errno != ENOENT ? -errno : 0;
}

/*
 * conntrack stops seeing the window move once the fast path carries a TCP
 * flow; without BE_LIBERAL the FIN that later takes the slow path looks out
 * of window and "ct state invalid drop" kills the close.
 */
int ct_set_liberal(struct daemon *d, const struct conn *c)
{
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return -ENOMEM;
	ct_tuple_set(ct, &c->tuple[DIR_ORIG]);
	nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_ORIG, IP_CT_TCP_FLAG_BE_LIBERAL);
	nfct_set_attr_u8(ct, ATTR_TCP_MASK_ORIG, IP_CT_TCP_FLAG_BE_LIBERAL);
	nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_REPL, IP_CT_TCP_FLAG_BE_LIBERAL);
	nfct_set_attr_u8(ct, ATTR_TCP_MASK_REPL, IP_CT_TCP_FLAG_BE_LIBERAL);
	return ct_update(d, ct);
}

/*
 * conntrack's view of one connection now, by its original tuple: the
 * answer goes through ct_cb() like an event, before this returns.
 * ENOENT: it is gone, and its DESTROY event follows.
 */
int ct_recheck(struct daemon *d, const struct ct_tuple *orig)
{
	struct nf_conntrack *ct = nfct_new();
	int ret;

	if (!ct)
		return -ENOMEM;
	ct_tuple_set(ct, orig);
	ret = nfct_query(d->ct.q, NFCT_Q_GET, ct);
	nfct_destroy(ct);
	return ret < 0 && errno != ENOENT ? -errno : 0;
}

int ct_refresh(struct daemon *d, const struct conn *c, __u32 timeout_s)
{
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return -ENOMEM;
	ct_tuple_set(ct, &c->tuple[DIR_ORIG]);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, timeout_s);
	return ct_update(d, ct);
}

/*
 * ctnetlink lets userspace set IPS_ASSURED (and SEEN_REPLY), never clear
 * them (nf_ct_change_status_common()); it only sets the bits it is sent,
 * but refuses a status whose EXPECTED, CONFIRMED or DYING bits differ
 * from the entry's. So: the entry's EXPECTED as reported, CONFIRMED (it
 * is in the table), and ASSURED. The timeout goes in the same update.
 */
int ct_assure(struct daemon *d, const struct conn *c, __u32 timeout_s)
{
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return -ENOMEM;
	ct_tuple_set(ct, &c->tuple[DIR_ORIG]);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, timeout_s);
	nfct_set_attr_u32(ct, ATTR_STATUS, (c->status & IPS_EXPECTED) |
			  IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED);
	return ct_update(d, ct);
}

static __u32 sysctl_u32(const char *name, __u32 dflt)
{
	char path[128];
	unsigned int v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/%s", name);
	f = fopen(path, "r");
	if (!f)
		return dflt;
	if (fscanf(f, "%u", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/*
 * The timeout conntrack itself would set on the next packet. The sysctls
 * are read at most once a second, once for all flows (the tick asks for
 * every active flow, and three file reads per flow per second would cost
 * more than the flows). Not less often: a refresh with a value the admin
 * has just raised sets the old, short timeout, and a flow that then idles
 * a moment is expired under the fast path (conn_fsm.c, on_tick()).
 */
#define CT_TIMEOUTS_NS	1000000000ULL

__u32 ct_timeout_for(struct daemon *d, const struct conn *c)
{
	struct ct_handles *h = &d->ct;
	__u64 now = mono_ns();

	if (!h->timeouts_ns || now - h->timeouts_ns >= CT_TIMEOUTS_NS) {
		h->tcp_timeout = sysctl_u32("nf_conntrack_tcp_timeout_established", 432000);
		h->udp_stream_timeout = sysctl_u32("nf_conntrack_udp_timeout_stream", 120);
		h->udp_timeout = sysctl_u32("nf_conntrack_udp_timeout", 30);
		h->timeouts_ns = now;
	}
	if (c->tuple[DIR_ORIG].proto == IPPROTO_TCP)
		return h->tcp_timeout;
	/* ASSURED is what conntrack judged; udp_stream what the daemon
	 * judged for the packets the fast path carried (conn_fsm.c).
	 */
	if ((c->status & IPS_ASSURED) || c->udp_stream)
		return h->udp_stream_timeout;
	return h->udp_timeout;
}
