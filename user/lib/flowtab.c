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
 * taking one: before an insert or a replace, if an element was freed
 * since the last wait, it waits first.
 *
 * The wait is an update of a private map-in-map: the kernel then waits
 * for every running non-sleepable BPF program to finish
 * (maybe_wait_bpf_programs(), synchronize_rcu()), on every kernel since
 * 4.20, whatever its configuration. A new process starts out owing a
 * wait, since another process may have freed an element just before.
 */
#include <errno.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lib/flowtab.h"
#include "lib/log.h"

static bool owed = true;	/* an element may have been freed since the last wait */
static int gp_outer = -1, gp_inner = -1;

int fp_flows_quiesce(void)
{
	__u32 zero = 0;

	if (gp_outer < 0) {
		LIBBPF_OPTS(bpf_map_create_opts, opts);

		gp_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fp_gp_inner", 4, 4, 1, NULL);
		if (gp_inner < 0)
			return -errno;
		opts.inner_map_fd = gp_inner;
		gp_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "fp_gp", 4, 4, 1, &opts);
		if (gp_outer < 0) {
			int err = -errno;

			close(gp_inner);
			gp_inner = -1;
			return err;
		}
	}
	/* Returns once every BPF program running now has finished. */
	if (bpf_map_update_elem(gp_outer, &zero, &gp_inner, BPF_ANY))
		return -errno;
	owed = false;
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

	if (owed) {
		err = fp_flows_quiesce();
		if (err) {
			pr_warn("cannot wait for the datapath's readers: %s", strerror(-err));
			return err;
		}
	}
	if (flags != BPF_EXIST) {
		if (!bpf_map_update_elem(flows_fd, k, v, BPF_NOEXIST))
			return 0;
		if (errno != EEXIST || flags == BPF_NOEXIST)
			return -errno;
	}
	if (bpf_map_update_elem(flows_fd, k, v, BPF_EXIST))
		return -errno;
	owed = true;
	return 0;
}

/* Delete an entry. Returns 0 or -errno (-ENOENT when there was none). */
int fp_flow_delete(int flows_fd, const struct fp_flow_key *k)
{
	if (bpf_map_delete_elem(flows_fd, k))
		return -errno;
	owed = true;
	return 0;
}
