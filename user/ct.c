// SPDX-License-Identifier: GPL-2.0-only
/*
 * ct.c - conntrack through libnetfilter_conntrack: the event subscription,
 * full dumps, BE_LIBERAL and timeout refreshes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>

#include "daemon.h"

/* Bursts of thousands of short flows must not overrun the event socket. */
#define CT_RCVBUF	(32 << 20)

static struct nfct_handle *ev_h;	/* NEW/UPDATE/DESTROY events */
static struct nfct_handle *q_h;		/* dumps and updates */

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

/* Events and dump entries go through the same path. */
static int ct_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
		 void *data)
{
	struct daemon *d = data;
	struct ct_tuple orig, reply;
	struct conn *c;
	bool mark_changed = false;
	__u32 mark;

	d->st.ct_events++;
	if (ct_tuple_get(ct, DIR_ORIG, &orig) || ct_tuple_get(ct, DIR_REPLY, &reply))
		return NFCT_CB_CONTINUE;
	c = conn_find(&orig, NULL);

	if (type == NFCT_T_DESTROY) {
		if (c) {
			conn_unoffload(d, c, false);
			conn_del(c);
		}
		return NFCT_CB_CONTINUE;
	}
	if (c && memcmp(&c->tuple[DIR_REPLY], &reply, sizeof(reply))) {
		/* Same original tuple, new NAT: a different connection. */
		conn_unoffload(d, c, false);
		conn_del(c);
		c = NULL;
	}
	if (!c) {
		c = conn_add(&orig, &reply);
		if (!c)
			return NFCT_CB_CONTINUE;
		c->mark = nfct_get_attr_u32(ct, ATTR_MARK);
	}
	c->seen = true;
	c->id = nfct_get_attr_u32(ct, ATTR_ID);
	if (nfct_attr_is_set(ct, ATTR_STATUS))
		c->status = nfct_get_attr_u32(ct, ATTR_STATUS);
	if (orig.proto == IPPROTO_TCP && nfct_attr_is_set(ct, ATTR_TCP_STATE))
		c->tcp_state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
	if (nfct_attr_is_set(ct, ATTR_MARK)) {
		mark = nfct_get_attr_u32(ct, ATTR_MARK);
		mark_changed = mark != c->mark;
		c->mark = mark;
	}
	/* A helper needs to see every packet; SEQ_ADJUST rewrites sequence
	 * numbers and NAT_CLASH entries are not in the table.
	 */
	if (nfct_attr_is_set(ct, ATTR_HELPER_NAME) &&
	    *(const char *)nfct_get_attr(ct, ATTR_HELPER_NAME))
		c->status |= IPS_HELPER;
	pr_debug("conntrack %u: %s, tcp state %u, status %#x, mark %#x%s", c->id,
		 type == NFCT_T_NEW ? "new" : "update", c->tcp_state, c->status, c->mark,
		 mark_changed ? " (changed)" : "");
	conn_evaluate(d, c, mark_changed);
	return NFCT_CB_CONTINUE;
}

int ct_open(struct daemon *d)
{
	ev_h = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW |
			 NF_NETLINK_CONNTRACK_UPDATE | NF_NETLINK_CONNTRACK_DESTROY);
	if (!ev_h) {
		pr_warn("cannot subscribe to conntrack events: %s", strerror(errno));
		return -errno;
	}
	q_h = nfct_open(CONNTRACK, 0);
	if (!q_h) {
		pr_warn("cannot open ctnetlink: %s", strerror(errno));
		ct_close();
		return -errno;
	}
	nfnl_rcvbufsiz(nfct_nfnlh(ev_h), CT_RCVBUF);
	fcntl(nfct_fd(ev_h), F_SETFL, fcntl(nfct_fd(ev_h), F_GETFL) | O_NONBLOCK);
	nfct_callback_register(ev_h, NFCT_T_ALL, ct_cb, d);
	nfct_callback_register(q_h, NFCT_T_ALL, ct_cb, d);
	return 0;
}

void ct_close(void)
{
	if (ev_h)
		nfct_close(ev_h);
	if (q_h)
		nfct_close(q_h);
	ev_h = q_h = NULL;
}

int ct_event_fd(void)
{
	return nfct_fd(ev_h);
}

/* Drains the event socket. ENOBUFS means events were lost: the caller
 * resyncs with a full dump.
 */
int ct_read_events(struct daemon *d)
{
	if (nfct_catch(ev_h) < 0) {
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
	return 0;
}

static void drop_unseen(struct daemon *d, struct conn *c)
{
	if (!c->seen) {
		conn_unoffload(d, c, false);
		conn_del(c);
	}
}

static void clear_seen(struct daemon *d, struct conn *c)
{
	(void)d;
	c->seen = false;
}

/*
 * After a loss, the events still queued are older than the dump about to
 * be taken; applied after it they could resurrect a connection whose
 * DESTROY was among the lost. So they are discarded first.
 */
static void ct_drain(void)
{
	static char buf[65536];

	while (recv(nfct_fd(ev_h), buf, sizeof(buf), MSG_DONTWAIT) > 0 ||
	       errno == ENOBUFS)
		;
}

/* Full dump: what it does not list any more is gone. */
int ct_dump(struct daemon *d)
{
	__u32 family = AF_UNSPEC;

	if (d->resync_needed) {
		d->resync_needed = false;
		ct_drain();
	}
	conn_foreach(clear_seen, d);
	if (nfct_query(q_h, NFCT_Q_DUMP, &family) < 0) {
		pr_warn("conntrack dump failed: %s", strerror(errno));
		return -errno;
	}
	conn_foreach(drop_unseen, d);
	d->st.resyncs++;
	return 0;
}

static int ct_update(struct nf_conntrack *ct)
{
	int ret = nfct_query(q_h, NFCT_Q_UPDATE, ct);

	nfct_destroy(ct);
	/* ENOENT: the entry died meanwhile; its DESTROY event follows. */
	return ret < 0 && errno != ENOENT ? -errno : 0;
}

/*
 * conntrack stops seeing the window move once the fast path carries a TCP
 * flow; without BE_LIBERAL the FIN that later takes the slow path looks out
 * of window and "ct state invalid drop" kills the close.
 */
int ct_set_liberal(const struct conn *c)
{
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return -ENOMEM;
	ct_tuple_set(ct, &c->tuple[DIR_ORIG]);
	nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_ORIG, IP_CT_TCP_FLAG_BE_LIBERAL);
	nfct_set_attr_u8(ct, ATTR_TCP_MASK_ORIG, IP_CT_TCP_FLAG_BE_LIBERAL);
	nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_REPL, IP_CT_TCP_FLAG_BE_LIBERAL);
	nfct_set_attr_u8(ct, ATTR_TCP_MASK_REPL, IP_CT_TCP_FLAG_BE_LIBERAL);
	return ct_update(ct);
}

int ct_refresh(const struct conn *c, __u32 timeout_s)
{
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return -ENOMEM;
	ct_tuple_set(ct, &c->tuple[DIR_ORIG]);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, timeout_s);
	return ct_update(ct);
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

/* The timeout conntrack itself would set on the next packet. */
__u32 ct_timeout_for(const struct conn *c)
{
	if (c->tuple[DIR_ORIG].proto == IPPROTO_TCP)
		return sysctl_u32("nf_conntrack_tcp_timeout_established", 432000);
	if (c->status & IPS_ASSURED)
		return sysctl_u32("nf_conntrack_udp_timeout_stream", 120);
	return sysctl_u32("nf_conntrack_udp_timeout", 30);
}
