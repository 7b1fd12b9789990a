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
#include <sys/socket.h>
#include <libnfnetlink/libnfnetlink.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>

#include "lib/log.h"
#include "daemon/adapters.h"

/* Bursts of thousands of short flows must not overrun the event socket. */
#define CT_RCVBUF	(32 << 20)
#define CT_BATCH	64		/* datagrams read per loop pass */


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

/* Drains the event socket. ENOBUFS means events were lost: the caller
 * resyncs with a full dump.
 */
/*
 * Reads at most CT_BATCH datagrams of events per loop pass (docs/DESIGN.md,
 * "Safety rules" 10): nfct_catch() would read until the socket is empty,
 * which a flood of new connections never lets happen, and the timer (the
 * lease) would wait behind it. The socket stays readable; the loop comes
 * back after the timer. ENOBUFS means events were lost: the caller
 * resyncs with a full dump.
 */
int ct_read_events(struct daemon *d)
{
	/* nfct_nfnlh() hands out a const handle that nfnl_process() needs
	 * writable, as nfct_catch() has it.
	 */
	struct nfnl_handle *nh = (struct nfnl_handle *)nfct_nfnlh(d->ct.ev);
	unsigned char *buf = d->ct.buf;
	ssize_t n;

	for (int i = 0; i < CT_BATCH; i++) {
		/* nfnl_recv() takes only what the kernel sent. */
		n = nfnl_recv(nh, buf, CT_BUF);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			if (errno == ENOBUFS) {
				d->st.events_lost++;
				d->resync_needed = true;
				return 0;
			}
			pr_warn("conntrack events: %s", strerror(errno));
			return -errno;
		}
		nfnl_process(nh, buf, n);
	}
	return 0;
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
	ssize_t n;

	for (int tries = 0; left > 0 && tries < 65536; tries++) {
		n = recv(nfct_fd(d->ct.ev), d->ct.buf, CT_BUF, MSG_DONTWAIT);
		if (n > 0)
			left -= n;
		else if (n == 0 || (errno != ENOBUFS && errno != EINTR))
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
 * are read at most every 10 s: the tick asks for every active flow, and
 * three file reads per flow per second would cost more than the flows.
 */
#define CT_TIMEOUTS_NS	(10 * 1000000000ULL)

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
