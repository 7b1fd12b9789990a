// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * headroom.bpf.c - l2_push() with no headroom, for headroom.c.
 *
 * BPF_PROG_TEST_RUN gives every frame XDP_PACKET_HEADROOM (256 bytes, less
 * at most 32 of metadata), and the datapath never pushes more than 16, so
 * the FP_R_HEADROOM branch of l2_push() cannot be reached through
 * fastpath_xdp there. This program first takes the headroom down to under
 * 4 bytes (moving the head back, then leaving the frame where it is), then
 * runs l2_push() for an entry that adds a VLAN tag, then moves the head
 * back onto the frame. l2_push()'s verdict goes to hr_result.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fastpath.h"
#include "parse.h"
#include "l2.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_flow);
} hr_flow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s32);
} hr_result SEC(".maps");

int eat;	/* 1: no headroom left for the push; 0: the control */

SEC("xdp")
int headroom_push(struct xdp_md *ctx)
{
	struct pkt p = { .l2_len = ETH_HLEN };
	__u32 zero = 0, ate = 0;
	struct fp_flow *f;
	__s32 *res;

	f = bpf_map_lookup_elem(&hr_flow, &zero);
	res = bpf_map_lookup_elem(&hr_result, &zero);
	if (!f || !res)
		return XDP_ABORTED;
	if (eat) {
#pragma unroll
		for (int step = 256; step >= 4; step >>= 1)
			if (!bpf_xdp_adjust_head(ctx, -step))
				ate += step;
	}
	p.l3_len = ctx->data_end - ctx->data - ate - ETH_HLEN;
	*res = l2_push(ctx, &p, f, IPPROTO_UDP, AF_INET);
	if (ate && bpf_xdp_adjust_head(ctx, ate))
		return XDP_ABORTED;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
