// SPDX-License-Identifier: GPL-2.0-only
/*
 * flowtab.c - writes to the flow table that never hand a reader another
 * flow's entry (docs/design-l6.md).
 *
 * The kernel recycles the elements of a BPF hash map at once: a deleted
 * element goes back on a free list, and an update of an existing key
 * swaps in a spare element and keeps the old one as the next spare, all
 * without waiting for an RCU grace period. An XDP program that looked the
 * old element up a moment earlier may still be reading it, and would read
 * (and count into) whatever flow the element now holds. So every writer
 * here lets a grace period pass between giving an element back and
 * taking one.
 *
 * The wait is an update of a private map-in-map: the kernel then waits
 * for every running non-sleepable BPF program to finish
 * (maybe_wait_bpf_programs(), synchronize_rcu()), on every kernel since
 * 4.20, whatever its configuration. Under load that takes from a few
 * milliseconds to hundreds, so it starts when an element is freed, on a
 * thread of its own, and an insert only waits for what is left of it: a
 * flow learned a while after the last delete does not wait at all. A new
 * process starts out owing a wait, since another process may have freed
 * an element just before.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lib/flowtab.h"
#include "lib/log.h"

/*
 * Frees are numbered: every element freed up to @freed has been given
 * back; every one up to @done has had its grace period. The thread waits
 * them out while done < freed.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static __u64 freed = 1, done;
static bool thread_on, thread_failed;
static int gp_outer = -1, gp_inner = -1;

/* One grace period, now. Takes @lock only to make the maps. */
static int grace_period(void)
{
	__u32 zero = 0;
	int outer, inner;

	pthread_mutex_lock(&lock);
	if (gp_outer < 0) {
		LIBBPF_OPTS(bpf_map_create_opts, opts);

		gp_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fp_gp_inner", 4, 4, 1, NULL);
		if (gp_inner >= 0) {
			opts.inner_map_fd = gp_inner;
			gp_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "fp_gp", 4, 4, 1,
						  &opts);
			if (gp_outer < 0) {
				close(gp_inner);
				gp_inner = -1;
			}
		}
	}
	outer = gp_outer;
	inner = gp_inner;
	pthread_mutex_unlock(&lock);
	if (outer < 0)
		return -errno;
	/* Returns once every BPF program running now has finished. */
	if (bpf_map_update_elem(outer, &zero, &inner, BPF_ANY))
		return -errno;
	return 0;
}

static void *gp_thread(void *arg)
{
	__u64 target;
	int err;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (done >= freed)
			pthread_cond_wait(&cond, &lock);
		target = freed;
		pthread_mutex_unlock(&lock);
		err = grace_period();
		pthread_mutex_lock(&lock);
		if (err) {
			/* The writers wait for themselves from now on. */
			thread_failed = true;
			thread_on = false;
			pthread_cond_broadcast(&cond);
			break;
		}
		if (done < target)
			done = target;
		pthread_cond_broadcast(&cond);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* An element went back to the kernel: its grace period starts now. */
static void element_freed(void)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;

	pthread_mutex_lock(&lock);
	freed++;
	if (!thread_on && !thread_failed && !pthread_attr_init(&attr)) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		/* The thread inherits this mask: it must never be the one a
		 * SIGTERM or SIGINT is delivered to, even when it starts
		 * before the daemon blocks them for its signalfd (a restart
		 * frees elements first), or the default action would kill
		 * the daemon instead of stopping it cleanly.
		 */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		thread_on = !pthread_create(&t, &attr, gp_thread, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* Returns once every element freed so far has had its grace period. */
int fp_flows_quiesce(void)
{
	__u64 want;
	int err;

	pthread_mutex_lock(&lock);
	want = freed;
	while (thread_on && done < want)
		pthread_cond_wait(&cond, &lock);
	if (done >= want) {
		pthread_mutex_unlock(&lock);
		return 0;
	}
	pthread_mutex_unlock(&lock);

	/* No thread (yet, or any more): wait here. */
	err = grace_period();
	if (err)
		return err;
	pthread_mutex_lock(&lock);
	if (done < want)
		done = want;
	pthread_mutex_unlock(&lock);
	return 0;
}

/*
 * Insert or replace an entry; @flags as bpf_map_update_elem(). Returns 0
 * or -errno. A replace is tried as an insert first, so only a real
 * replace counts as freeing an element.
 */
int fp_flow_write(int flows_fd, const struct fp_flow_key *k,
		  const struct fp_flow *v, __u64 flags)
{
	int err;

	err = fp_flows_quiesce();
	if (err) {
		pr_warn("cannot wait for the datapath's readers: %s", strerror(-err));
		return err;
	}
	if (flags != BPF_EXIST) {
		if (!bpf_map_update_elem(flows_fd, k, v, BPF_NOEXIST))
			return 0;
		if (errno != EEXIST || flags == BPF_NOEXIST)
			return -errno;
	}
	if (bpf_map_update_elem(flows_fd, k, v, BPF_EXIST))
		return -errno;
	element_freed();
	return 0;
}

/* Delete an entry. Returns 0 or -errno (-ENOENT when there was none). */
int fp_flow_delete(int flows_fd, const struct fp_flow_key *k)
{
	if (bpf_map_delete_elem(flows_fd, k))
		return -errno;
	element_freed();
	return 0;
}
