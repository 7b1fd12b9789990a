// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * headroom.c - the FP_R_HEADROOM vector (headroom.bpf.c says why it needs
 * its own program): with no room in front, l2_push() must answer
 * FP_R_HEADROOM and leave the frame as it came; with room (the control),
 * the same entry gets its tagged header.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>

#include "fastpath.h"
#include "headroom.skel.h"
#include "pkt.h"
#include "headroom.h"

static int run(struct headroom_bpf *hs, int eat, const uint8_t *in, size_t len,
	       uint8_t *out, __u32 *out_len, __s32 *res, __u32 *retval)
{
	__u32 zero = 0;
	__s32 none = -1;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len,
		    .data_out = out, .data_size_out = PKT_MAX + 64, .repeat = 1);

	hs->bss->eat = eat;
	if (bpf_map_update_elem(bpf_map__fd(hs->maps.hr_result), &zero, &none, BPF_ANY) ||
	    bpf_prog_test_run_opts(bpf_program__fd(hs->progs.headroom_push), &opts) ||
	    bpf_map_lookup_elem(bpf_map__fd(hs->maps.hr_result), &zero, res))
		return -errno;
	*out_len = opts.data_size_out;
	*retval = opts.retval;
	return 0;
}

int headroom_run(void)
{
	static uint8_t in[PKT_MAX], out[PKT_MAX + 64];
	struct pkt_desc d = {
		.family = 4, .proto = IPPROTO_UDP, .src = "192.168.1.10",
		.dst = "198.51.100.20", .sport = 40000, .dport = 443, .ttl = 64,
		.payload = 100, .smac = { 2, 0, 0, 0, 1, 0x10 },
		.dmac = { 2, 0, 0, 0, 1, 1 },
	};
	struct fp_flow f = { .state = FP_STATE_XDP, .mtu = 1500,
			     .out_vlan = { 20 }, .dmac = { 2, 0, 0, 0, 2, 0x20 },
			     .smac = { 2, 0, 0, 0, 2, 1 } };
	struct headroom_bpf *hs;
	__u32 zero = 0, out_len, retval;
	int err, failed = 0;
	__s32 res;
	size_t len;

	len = pkt_build(&d, in, NULL);
	hs = headroom_bpf__open_and_load();
	if (!len || !hs ||
	    bpf_map_update_elem(bpf_map__fd(hs->maps.hr_flow), &zero, &f, BPF_ANY)) {
		printf("FAIL headroom-setup: cannot load headroom.bpf.o: %s\n", strerror(errno));
		headroom_bpf__destroy(hs);
		return 1;
	}

	err = run(hs, 1, in, len, out, &out_len, &res, &retval);
	if (err)
		printf("FAIL headroom-push-passes-untouched: BPF_PROG_TEST_RUN: %s\n",
		       strerror(-err));
	else if (retval != XDP_PASS || res != FP_R_HEADROOM)
		printf("FAIL headroom-push-passes-untouched: l2_push() said %d "
		       "(retval %u), want FP_R_HEADROOM (%d)\n", res, retval, FP_R_HEADROOM);
	else if (out_len != len || memcmp(out, in, len))
		printf("FAIL headroom-push-passes-untouched: the frame changed "
		       "(%u bytes, was %zu)\n", out_len, len);
	else
		printf("PASS headroom-push-passes-untouched\n");
	failed += err || retval != XDP_PASS || res != FP_R_HEADROOM ||
		  out_len != len || memcmp(out, in, len);

	/* The control: with the headroom there, the tag goes in front. */
	err = run(hs, 0, in, len, out, &out_len, &res, &retval);
	if (err || res != FP_R_REDIRECT || out_len != len + 4 ||
	    get16(out + 12) != 0x8100 || (get16(out + 14) & 0xfff) != 20 ||
	    memcmp(out + 18, in + 14, len - 14)) {
		printf("FAIL headroom-push-control: err %d, l2_push() said %d, "
		       "%u bytes (want %zu, tagged 20)\n", err, res, out_len, len + 4);
		failed++;
	} else {
		printf("PASS headroom-push-control\n");
	}
	headroom_bpf__destroy(hs);
	return failed;
}
