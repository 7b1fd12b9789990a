// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * recycle.bpf.c - a slow reader of the flow table, for recycle.c.
 *
 * It looks the entry of rd_key up in "flows" (the datapath's map, shared
 * by fd) and keeps reading its NAT source address for a few microseconds,
 * as a datapath run that an interrupt holds up would. Nothing writes an
 * entry's value in place, so the address can only change under it if
 * the element went to another flow: rd_count[1] counts those runs,
 * rd_count[0] the others.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fastpath.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_DEFAULT_CAPACITY);
	__type(key, struct fp_flow_key);
	__type(value, struct fp_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_flow_key);
} rd_key SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} rd_count SEC(".maps");

SEC("xdp")
int recycle_reader(struct xdp_md *ctx)
{
	__u32 zero = 0, slot = 0;
	struct fp_flow_key *k;
	struct fp_flow *f;
	__u64 *c;
	__u32 a;

	k = bpf_map_lookup_elem(&rd_key, &zero);
	if (!k)
		return XDP_ABORTED;
	f = bpf_map_lookup_elem(&flows, k);
	if (!f)
		return XDP_PASS;
	a = *(volatile __u32 *)&f->nat_saddr[0];
	for (int i = 0; i < 20000; i++) {
		if (*(volatile __u32 *)&f->nat_saddr[0] != a) {
			slot = 1;
			break;
		}
	}
	c = bpf_map_lookup_elem(&rd_count, &slot);
	if (c)
		__sync_fetch_and_add(c, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
