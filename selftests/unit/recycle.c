// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * recycle.c - a flow entry must never turn into another flow's under a
 * reader (L6, docs/DESIGN.md "Recycled elements").
 *
 * A reader thread runs recycle.bpf.c's slow reader on flow A's entry in
 * the datapath's own "flows" map, over and over: it holds the element a
 * few microseconds, as a datapath run held up by an interrupt would, and
 * counts the runs in which A's NAT address changed under it. Meanwhile a
 * writer thread deletes A, inserts flow B (another address), deletes B
 * and inserts A again. A value is never written in place, so a change
 * means the element went to B while the reader held it.
 *
 * Twice: with plain map writes, where the kernel hands A's freed element
 * to B at once (this shows the hazard is real here; SKIP if the threads
 * never met), and with the writers of user/lib/flowtab.c, which wait for
 * an RCU grace period between freeing and taking an element: there, no
 * reader may ever see a change.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>

#include "fastpath.h"
#include "fastpath.skel.h"
#include "recycle.skel.h"
#include "lib/flowtab.h"
#include "recycle.h"

#define STRESS_NS	1500000000ull	/* per mode */

struct stress {
	int prog_fd, flows_fd, count_fd;
	struct fp_flow_key ka, kb;
	struct fp_flow va, vb;
	volatile bool stop;
	bool flowtab;
	unsigned long cycles, runs;
	unsigned long long held;	/* reads that found A's entry */
	int err;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Reader and writer on different CPUs where there are two. */
static void pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void pin_all(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *reader(void *arg)
{
	struct stress *s = arg;
	__u8 frame[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 16);

	pin(0);
	while (!s->stop) {
		if (bpf_prog_test_run_opts(s->prog_fd, &opts)) {
			s->err = errno;
			break;
		}
		s->runs += 16;
	}
	return NULL;
}

static int del(struct stress *s, const struct fp_flow_key *k)
{
	if (s->flowtab)
		return fp_flow_delete(s->flows_fd, k);
	return bpf_map_delete_elem(s->flows_fd, k) ? -errno : 0;
}

static int ins(struct stress *s, const struct fp_flow_key *k, const struct fp_flow *v)
{
	if (s->flowtab)
		return fp_flow_write(s->flows_fd, k, v, BPF_NOEXIST);
	return bpf_map_update_elem(s->flows_fd, k, v, BPF_NOEXIST) ? -errno : 0;
}

/* Returns the reads that saw the element change, or -1 with @why set. */
static long stress_once(struct stress *s, char *why, size_t wlen)
{
	__u64 seen[2] = {}, zero64 = 0;
	__u32 i;
	pthread_t t;
	uint64_t end;
	int err = 0;

	s->stop = false;
	s->cycles = s->runs = 0;
	s->err = 0;
	for (i = 0; i < 2; i++)
		bpf_map_update_elem(s->count_fd, &i, &zero64, BPF_ANY);
	bpf_map_delete_elem(s->flows_fd, &s->ka);
	bpf_map_delete_elem(s->flows_fd, &s->kb);
	if (bpf_map_update_elem(s->flows_fd, &s->ka, &s->va, BPF_NOEXIST)) {
		snprintf(why, wlen, "setup: %s", strerror(errno));
		return -1;
	}
	if (pthread_create(&t, NULL, reader, s)) {
		snprintf(why, wlen, "cannot start the reader");
		return -1;
	}
	pin(1);
	end = now_ns() + STRESS_NS;
	while (!err && now_ns() < end) {
		err = del(s, &s->ka) ?: ins(s, &s->kb, &s->vb) ?:
		      del(s, &s->kb) ?: ins(s, &s->ka, &s->va);
		s->cycles++;
		/* Leave A in place a moment, so readers hold it when it goes. */
		for (uint64_t t = now_ns() + 20000; now_ns() < t;)
			;
	}
	s->stop = true;
	pthread_join(t, NULL);
	pin_all();
	if (err || s->err) {
		snprintf(why, wlen, "%s: %s", err ? "writer" : "BPF_PROG_TEST_RUN",
			 strerror(err ? -err : s->err));
		return -1;
	}
	for (i = 0; i < 2; i++)
		if (bpf_map_lookup_elem(s->count_fd, &i, &seen[i])) {
			snprintf(why, wlen, "read rd_count: %s", strerror(errno));
			return -1;
		}
	snprintf(why, wlen, "%lu delete/insert cycles, %lu reads, %llu of A's entry, "
		 "%llu saw it turn into B's", s->cycles, s->runs,
		 (unsigned long long)seen[0], (unsigned long long)seen[1]);
	s->held = seen[0];
	return seen[1];
}

int recycle_run(struct fastpath_bpf *skel, int iif, int oif)
{
	static struct stress s;
	struct recycle_bpf *rs;
	char why[512];
	__u32 zero = 0;
	int failed = 0;
	long changed;

	memset(&s, 0, sizeof(s));
	s.flows_fd = bpf_map__fd(skel->maps.flows);
	s.ka.ifindex = iif;
	s.ka.family = AF_INET;
	s.ka.proto = IPPROTO_UDP;
	s.ka.sport = htons(40000);
	s.ka.dport = htons(443);
	s.ka.saddr[0] = htonl(0xc0a8010a);
	s.ka.daddr[0] = htonl(0xc6336414);
	s.kb = s.ka;
	s.kb.dport = htons(444);
	s.va.state = s.vb.state = FP_STATE_XDP;
	s.va.flags = s.vb.flags = FP_F_SNAT;
	s.va.oif = s.vb.oif = oif;
	s.va.mtu = s.vb.mtu = 1500;
	s.va.nat_saddr[0] = htonl(0x0a090901);
	s.vb.nat_saddr[0] = htonl(0x0a080801);

	rs = recycle_bpf__open();
	if (!rs || bpf_map__reuse_fd(rs->maps.flows, s.flows_fd) ||
	    recycle_bpf__load(rs)) {
		printf("FAIL recycle-setup: cannot load the reader: %s\n", strerror(errno));
		recycle_bpf__destroy(rs);
		return 1;
	}
	s.prog_fd = bpf_program__fd(rs->progs.recycle_reader);
	s.count_fd = bpf_map__fd(rs->maps.rd_count);
	if (bpf_map_update_elem(bpf_map__fd(rs->maps.rd_key), &zero, &s.ka, BPF_ANY)) {
		printf("FAIL recycle-setup: rd_key: %s\n", strerror(errno));
		recycle_bpf__destroy(rs);
		return 1;
	}

	s.flowtab = false;
	changed = stress_once(&s, why, sizeof(why));
	if (changed < 0) {
		printf("FAIL recycle-plain-writes: %s\n", why);
		failed++;
	} else if (changed == 0) {
		printf("SKIP recycle-plain-writes: the threads never met: %s\n", why);
	} else {
		printf("PASS recycle-plain-writes (the kernel reuses at once: %s)\n", why);
	}

	s.flowtab = true;
	changed = stress_once(&s, why, sizeof(why));
	if (changed != 0) {
		printf("FAIL recycle-flowtab-writes: %s\n", why);
		failed++;
	} else if (!s.held) {
		printf("SKIP recycle-flowtab-writes: no read found A's entry: %s\n", why);
	} else {
		printf("PASS recycle-flowtab-writes (%s)\n", why);
	}
	bpf_map_delete_elem(s.flows_fd, &s.ka);
	bpf_map_delete_elem(s.flows_fd, &s.kb);
	recycle_bpf__destroy(rs);
	return failed;
}
