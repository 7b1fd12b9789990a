// SPDX-License-Identifier: GPL-2.0-only
/*
 * loop.c - the daemon's one thread: an epoll loop over the conntrack event
 * socket, rtnetlink, nftables notifications, the learning ring buffer, a
 * 1 s timer and the termination signals (docs/DESIGN.md, "Architecture").
 * Every handler is non-blocking except the ctnetlink updates (BE_LIBERAL,
 * timeout refresh), which are one round trip each. The timer is served
 * first in each pass, so a flood of events cannot make the lease lapse.
 */
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/fmt.h"
#include "lib/log.h"
#include "daemon/run.h"

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* The daemon's counters into fp_daemon, for "fastpath status". */
void publish(struct daemon *d, bool running)
{
	__u32 zero = 0, n = d->lat_n < LAT_SAMPLES ? d->lat_n : LAT_SAMPLES;

	fsm_count(d);
	d->st.pid = running ? getpid() : 0;
	if (n) {
		memcpy(d->lat_sorted, d->lat, n * sizeof(d->lat[0]));
		qsort(d->lat_sorted, n, sizeof(d->lat[0]), cmp_u64);
		d->st.latency_p50_ns = d->lat_sorted[n / 2];
		d->st.latency_p99_ns = d->lat_sorted[(n * 99) / 100];
	}
	bpf_map_update_elem(d->m.daemon, &zero, &d->st, BPF_ANY);
}

static bool has_port(const __u32 *ports, int n, __u32 ifindex)
{
	for (int i = 0; i < n; i++)
		if (ports[i] == ifindex)
			return true;
	return false;
}

/* XDP and the learner on one port, both or neither. */
int attach_port(struct daemon *d, __u32 ifindex, const char *name)
{
	int err = fp_attach(&d->m, ifindex, name, d->opt.mode);

	if (!err) {
		err = fp_tc_attach(&d->m, ifindex, name);
		if (err)
			fp_detach(&d->m, ifindex, name);
	}
	return err;
}

/* Adds the ports under command-line name @i to @now, attaching new ones. */
static void follow_name(struct daemon *d, int i, __u32 *now, int *n, bool *keep)
{
	__u32 sub[FP_MAX_PORTS];
	char name[IF_NAMESIZE + 8];
	int nsub;

	/* The link table is current: on_link() fed it every change. */
	if (links_resolve(&d->links, &d->names[i], 1, sub, &nsub, FP_MAX_PORTS, NULL)) {
		*keep = true;
		return;
	}
	for (int j = 0; j < nsub; j++) {
		if (has_port(now, *n, sub[j]))
			continue;
		if (*n == FP_MAX_PORTS) {
			pr_warn("at most %d interfaces: %s not attached",
				FP_MAX_PORTS, ifname_or_index(sub[j], name));
			return;
		}
		if (!has_port(d->ports, d->nports, sub[j])) {
			ifname_or_index(sub[j], name);
			if (attach_port(d, sub[j], name)) {
				pr_warn("%s: new port under %s not attached; its flows stay on the slow path",
					name, d->names[i]);
				continue;
			}
			links_watch(&d->links, sub[j], name, true);
			pr_info("%s: new port under %s: attached", name, d->names[i]);
		}
		now[(*n)++] = sub[j];
	}
}

/*
 * The ports under the command line's names, again, after a stacked device
 * changed: a port that joined a bridge given by name (hostapd adds Wi-Fi
 * interfaces after boot) is attached, one that left is detached and its
 * flows go back to the slow path. A name that does not resolve just now
 * (ppp0 while pppd redials) keeps every port attached.
 */
void follow_ports(struct daemon *d)
{
	__u32 now[FP_MAX_PORTS];
	char name[IF_NAMESIZE + 8];
	bool keep = false;
	int n = 0;

	for (int i = 0; i < d->nnames; i++)
		follow_name(d, i, now, &n, &keep);
	for (int i = 0; i < d->nports; i++) {
		if (has_port(now, n, d->ports[i]))
			continue;
		if (keep) {
			if (n < FP_MAX_PORTS)
				now[n++] = d->ports[i];
			continue;
		}
		/* A device that is gone left the devmap with it. */
		if (if_indextoname(d->ports[i], name)) {
			fp_detach(&d->m, d->ports[i], name);
			pr_info("%s: no longer under the interfaces given: detached", name);
		}
		links_watch(&d->links, d->ports[i], NULL, false);
		fsm_relearn_via(d, d->ports[i], NULL);
	}
	memcpy(d->ports, now, n * sizeof(now[0]));
	d->nports = n;
}

enum { T_CT, T_RTNL, T_NFT, T_RING, T_TIMER, T_SIGNAL, T_MAX };

/* Learning events handled per loop pass, as ct.c and netmon.c bound theirs. */
#define RING_BATCH	256

/*
 * Conntrack events in a burst are read once a millisecond at most. Each
 * wakeup costs a context switch and two system calls (epoll_wait(), then
 * recvmmsg()), and a PVM guest exits to the hypervisor in each; a burst
 * of new connections at 80,000 a second woke the daemon for every two or
 * three events, and the wakeups were a quarter of its CPU (docs/PERF.md,
 * "Daemon"). So when a read found events less than CT_HOLD_NS after the
 * last one that did, the next wait leaves the conntrack socket out for
 * CT_HOLD_MS: the timer, the learning ring and the rest are served as
 * always, and the events of that millisecond come in one batch (the
 * wait is in whole milliseconds: an event waits 1 - 2 ms at most). A
 * read that finds none ends the burst; a pass that read CT_PASS_MAX
 * leaves the socket to the next pass as before.
 */
#define CT_HOLD_MS	1
#define CT_HOLD_NS	(CT_HOLD_MS * 1000000ULL)

struct loop {
	int ep, tfd, sfd;
	int ep_noct;			/* the same without the conntrack socket */
	struct ring_buffer *rb;
	struct daemon *d;
	int ring_left;			/* of RING_BATCH, this pass */
	bool ct_hold;			/* a burst: conntrack is read after CT_HOLD_NS */
	__u64 ct_read_ns;		/* the last read that found events */
};

/*
 * ring_buffer__consume() reads until the ring is empty, and the learner
 * may keep filling it meanwhile; a negative return stops it after this
 * event (libbpf commits the consumer position first). The rest stays in
 * the ring, which keeps its fd readable for the next pass.
 */
static int on_learn(void *ctx, void *data, size_t len)
{
	struct loop *l = ctx;

	if (len >= sizeof(struct fp_learn_event))
		fsm_learn_event(l->d, data);
	return --l->ring_left > 0 ? 0 : -EAGAIN;
}

static int add_fd(int ep, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int loop_open(struct daemon *d, struct loop *l)
{
	struct itimerspec its = { .it_interval.tv_sec = 1, .it_value.tv_sec = 1 };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	l->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->ep_noct = epoll_create1(EPOLL_CLOEXEC);
	l->d = d;
	l->rb = ring_buffer__new(d->m.events, on_learn, l, NULL);
	if (!l->rb) {
		pr_warn("cannot open the learning ring: %s", strerror(errno));
		return -errno;
	}
	if (l->sfd < 0 || l->tfd < 0 || l->ep < 0 || l->ep_noct < 0 ||
	    timerfd_settime(l->tfd, 0, &its, NULL) || add_fd(l->ep, ct_event_fd(d), T_CT))
		goto err;
	for (int i = 0; i < 2; i++) {
		int ep = i ? l->ep_noct : l->ep;

		if (add_fd(ep, netmon_rtnl_fd(d), T_RTNL) ||
		    add_fd(ep, netmon_nft_fd(d), T_NFT) ||
		    add_fd(ep, ring_buffer__epoll_fd(l->rb), T_RING) ||
		    add_fd(ep, l->tfd, T_TIMER) || add_fd(ep, l->sfd, T_SIGNAL))
			goto err;
	}
	return 0;
err:
	pr_warn("cannot set up the event loop: %s", strerror(errno));
	return -errno;
}

static void loop_close(struct loop *l)
{
	ring_buffer__free(l->rb);
	if (l->ep >= 0)
		close(l->ep);
	if (l->ep_noct >= 0)
		close(l->ep_noct);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->sfd >= 0)
		close(l->sfd);
}

static void on_timer(struct daemon *d, struct loop *l)
{
	__u64 ticks;

	if (read(l->tfd, &ticks, sizeof(ticks)) < 0)
		return;
	fp_clock_ensure(&d->m);
	fsm_tick(d);
	ops_probe_ingress(d);
	publish(d, true);
}

/* Reads conntrack events, and says whether a burst goes on (CT_HOLD_MS). */
static void ct_pass(struct daemon *d, struct loop *l)
{
	int got = ct_read_events(d);
	__u64 now;

	if (got < 0) {
		d->stop = true;
		return;
	}
	if (!got) {
		l->ct_hold = false;
		return;
	}
	/* Two reads with events within CT_HOLD_NS start a burst; held, a
	 * read with events continues it.
	 */
	now = mono_ns();
	l->ct_hold = got < CT_PASS_MAX && (l->ct_hold || now - l->ct_read_ns < CT_HOLD_NS);
	l->ct_read_ns = now;
}

static void dispatch(struct daemon *d, struct loop *l, int tag)
{
	struct signalfd_siginfo si;

	switch (tag) {
	case T_CT:
		ct_pass(d, l);
		break;
	case T_RTNL:
		netmon_read_rtnl(d);
		break;
	case T_NFT:
		netmon_read_nft(d);
		break;
	case T_RING:
		l->ring_left = RING_BATCH;
		ring_buffer__consume(l->rb);
		break;
	case T_TIMER:
		on_timer(d, l);
		break;
	case T_SIGNAL:
		if (read(l->sfd, &si, sizeof(si)) == sizeof(si))
			pr_info("signal %u: stopping", si.ssi_signo);
		d->stop = true;
		break;
	}
}

/* What the handlers only flagged, done once per pass. */
static void after_events(struct daemon *d)
{
	if (d->resync_needed) {
		pr_info("conntrack events were lost: resynchronising");
		ct_dump(d);
		/* The burst that overran the socket may still be going
		 * on while the dump ran; look again once it is over.
		 */
		d->resync_again_ns = mono_ns() + 2000000000ULL;
	} else if (d->resync_again_ns && mono_ns() > d->resync_again_ns) {
		d->resync_again_ns = 0;
		ct_dump(d);
	}
	if (d->sqm_changed) {
		d->sqm_changed = false;
		fsm_sqm_gone(d);
	}
	if (d->ports_changed) {
		d->ports_changed = false;
		follow_ports(d);
	}
	if (d->flush_needed) {
		d->flush_needed = false;
		pr_debug("firewall or routing changed: relearning every flow");
		fsm_relearn_all(d);
	}
}

int run_loop(struct daemon *d)
{
	struct loop l = { .ep = -1, .tfd = -1, .sfd = -1, .ep_noct = -1 };
	struct epoll_event evs[8];
	int ret;

	ret = loop_open(d, &l);
	if (!ret)
		ops_probe_ingress(d);
	while (!ret && !d->stop) {
		bool held = l.ct_hold;
		int n = epoll_wait(held ? l.ep_noct : l.ep, evs, 8, held ? CT_HOLD_MS : 1000);

		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		/* The timer first: the lease must not wait behind a flood. */
		for (int i = 0; i < n; i++)
			if (evs[i].data.u32 == T_TIMER)
				dispatch(d, &l, T_TIMER);
		for (int i = 0; i < n; i++)
			if (evs[i].data.u32 != T_TIMER)
				dispatch(d, &l, evs[i].data.u32);
		/* The burst's millisecond is over (or no other fd woke us). */
		if (held && (n <= 0 || mono_ns() - l.ct_read_ns >= CT_HOLD_NS))
			ct_pass(d, &l);
		after_events(d);
		/* explain sees what this pass changed before the next wait */
		ops_export_flush(d);
	}
	loop_close(&l);
	return ret;
}
