// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * learn_vectors.c - the TC egress learning program through
 * BPF_PROG_TEST_RUN.
 *
 * Each case is a frame as the lowest egress device would send it, with
 * the tag the stack may have kept in skb metadata, and the L2 header the
 * program must report for it, or no report at all. The candidate is
 * installed first, under the egress tuple with ifindex 0 as the daemon
 * writes it; a report must consume it, a refusal must leave it.
 *
 * BPF_PROG_TEST_RUN cannot set the skb's VLAN metadata, so a metadata tag
 * comes from a two-instruction prelude: bpf_skb_vlan_push() on an
 * untagged skb stores the tag there, as the VLAN device does on transmit,
 * then a tail call enters fastpath_learn.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "fastpath.h"
#include "fastpath.skel.h"
#include "pkt.h"
#include "learn_vectors.h"

#pragma GCC diagnostic ignored "-Woverride-init"

#define E_SRC		"203.0.113.1"	/* after SNAT, as it leaves */
#define E_DST		"198.51.100.20"
#define E_SRC6		"2001:db8:ffff::1"
#define E_DST6		"2001:db8:2::20"
#define MAC_RTR		{ 0x02, 0x00, 0x00, 0x00, 0x02, 0x01 }
#define MAC_PEER	{ 0x02, 0x00, 0x00, 0x00, 0x02, 0x20 }
#define COOKIE		0x5eed0001ull

struct lcase {
	const char *name;
	struct pkt_desc frame;
	uint16_t hw_tpid, hw_tci;	/* the tag in skb metadata, 0 = none */
	bool learns;			/* a report is expected */
	uint16_t vlan[2], pppoe_sid;	/* what it must report */
	bool local;			/* no ingress_ifindex (ppp0 or the router) */
};

#define L4(...) { .family = 4, .proto = IPPROTO_TCP, .src = E_SRC,	\
	.dst = E_DST, .sport = 61000, .dport = 443, .ttl = 63,		\
	.tcp_flags = TH_ACK, .payload = 40, .smac = MAC_RTR,		\
	.dmac = MAC_PEER, __VA_ARGS__ }
#define L6(...) { .family = 6, .proto = IPPROTO_UDP, .src = E_SRC6,	\
	.dst = E_DST6, .sport = 61000, .dport = 443, .ttl = 63,		\
	.payload = 40, .smac = MAC_RTR, .dmac = MAC_PEER, __VA_ARGS__ }
#define TAG(t, tci_)	{ .tpid = (t), .tci = (tci_) }
#define LEARNS		.learns = true

static const struct lcase lcases[] = {
	{ .name = "learn-plain", .frame = L4(), LEARNS },
	{ .name = "learn-plain-v6", .frame = L6(), LEARNS },
	{ .name = "learn-vlan-in-bytes", .frame = L4(.tag = { TAG(0x8100, 10) }),
	  LEARNS, .vlan = { 10 } },
	{ .name = "learn-qinq-in-bytes",
	  .frame = L6(.tag = { TAG(0x88a8, 100), TAG(0x8100, 10) }),
	  LEARNS, .vlan = { 100 | FP_VLAN_8021AD, 10 } },
	{ .name = "learn-pppoe", .frame = L4(.pppoe_sid = 0x0042),
	  LEARNS, .pppoe_sid = 0x0042 },
	{ .name = "learn-pppoe-v6-over-vlan-in-bytes",
	  .frame = L6(.tag = { TAG(0x8100, 7) }, .pppoe_sid = 0x0042),
	  LEARNS, .vlan = { 7 }, .pppoe_sid = 0x0042 },
	/* eth0.7 under ppp0: the VLAN device leaves its tag in metadata. */
	{ .name = "learn-metadata-vlan-pppoe", .frame = L4(.pppoe_sid = 0x0042),
	  .hw_tpid = 0x8100, .hw_tci = 7, LEARNS, .vlan = { 7 },
	  .pppoe_sid = 0x0042 },
	{ .name = "learn-metadata-vlan-pcp-dropped", .frame = L6(),
	  .hw_tpid = 0x8100, .hw_tci = 0xa000 | 35, LEARNS, .vlan = { 35 } },
	/* The metadata tag is the outer one; a tag in the bytes is inner. */
	{ .name = "learn-metadata-8021ad-outer-bytes-inner",
	  .frame = L4(.tag = { TAG(0x8100, 10) }),
	  .hw_tpid = 0x88a8, .hw_tci = 100, LEARNS,
	  .vlan = { 100 | FP_VLAN_8021AD, 10 } },
	{ .name = "learn-metadata-8021ad-single", .frame = L6(),
	  .hw_tpid = 0x88a8, .hw_tci = 100, LEARNS,
	  .vlan = { 100 | FP_VLAN_8021AD } },

	/* Headers the datapath could not write, or must not. */
	{ .name = "learn-refuses-three-tags-in-bytes",
	  .frame = L4(.tag = { TAG(0x88a8, 100), TAG(0x8100, 10),
			       TAG(0x8100, 5) }) },
	{ .name = "learn-refuses-metadata-plus-two-tags",
	  .frame = L4(.tag = { TAG(0x8100, 10), TAG(0x8100, 5) }),
	  .hw_tpid = 0x8100, .hw_tci = 100 },
	{ .name = "learn-refuses-inner-8021ad",
	  .frame = L4(.tag = { TAG(0x88a8, 10) }),
	  .hw_tpid = 0x8100, .hw_tci = 100 },
	{ .name = "learn-refuses-metadata-vid0", .frame = L4(),
	  .hw_tpid = 0x8100, .hw_tci = 0x6000 },
	{ .name = "learn-refuses-vid4095-in-bytes",
	  .frame = L4(.tag = { TAG(0x8100, 4095) }) },
	{ .name = "learn-refuses-pppoe-lcp",
	  .frame = L4(.pppoe_sid = 0x0042, .ethertype = 0xc021) },
	{ .name = "learn-refuses-pppoe-bad-version",
	  .frame = L4(.pppoe_sid = 0x0042, .pppoe_ver_type = 0x21) },
	{ .name = "learn-refuses-pppoe-sid-0", .frame = L4(.pppoe_sid0 = 1) },
	{ .name = "learn-refuses-pppoe-syn",
	  .frame = L4(.pppoe_sid = 0x0042, .tcp_flags = TH_SYN) },
	{ .name = "learn-refuses-vlan-fin",
	  .frame = L4(.tag = { TAG(0x8100, 10) },
		      .tcp_flags = TH_FIN | TH_ACK) },
	/* Out through ppp0, whose xmit clears skb->ingress_ifindex (or the
	 * router's own packet): reported with iif 0, the daemon decides.
	 */
	{ .name = "learn-no-ingress-pppoe", .frame = L4(.pppoe_sid = 0x0042),
	  .local = true, LEARNS, .pppoe_sid = 0x0042 },
};

struct lenv {
	struct fastpath_bpf *skel;
	int iif, oif;
	int prog_array;			/* slot 0: fastpath_learn */
	struct ring_buffer *rb;
	int nev;
	struct fp_learn_event ev;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct lenv *le = ctx;

	if (len >= sizeof(le->ev))
		memcpy(&le->ev, data, sizeof(le->ev));
	le->nev++;
	return 0;
}

/* Just enough of the instruction encoding for the prelude. */
#define I(c, d, s, o, i)	((struct bpf_insn){ .code = (c), .dst_reg = (d), \
				  .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_X(d, s)	I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_K(d, k)	I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define CALL(f)		I(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define JNE_K(d, k, o)	I(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, k)
#define EXIT()		I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/*
 * skb_vlan_push(tpid, tci), then the tail call. Returns 100 when the push
 * failed and 101 when the tail call did, so neither passes for a refusal.
 */
static int load_prelude(int prog_array, uint16_t tpid, uint16_t tci)
{
	struct bpf_insn insns[] = {
		MOV_X(6, 1),
		MOV_K(2, htons(tpid)),
		MOV_K(3, tci),
		CALL(BPF_FUNC_skb_vlan_push),
		JNE_K(0, 0, 7),
		MOV_X(1, 6),
		I(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, prog_array),
		I(0, 0, 0, 0, 0),
		MOV_K(3, 0),
		CALL(BPF_FUNC_tail_call),
		MOV_K(0, 101),
		EXIT(),
		MOV_K(0, 100),
		EXIT(),
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "learn_vlan_md", "GPL",
			     insns, sizeof(insns) / sizeof(insns[0]), NULL);
}

static int egress_key(const struct pkt_desc *d, struct fp_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = d->family == 4 ? AF_INET : AF_INET6;
	k->proto = d->proto;
	k->sport = htons(d->sport);
	k->dport = htons(d->dport);
	if (pkt_addr(d->family, d->src, (uint8_t *)k->saddr) ||
	    pkt_addr(d->family, d->dst, (uint8_t *)k->daddr))
		return -1;
	return 0;
}

#define LCHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			snprintf(why, whylen, __VA_ARGS__);		\
			goto out;					\
		}							\
	} while (0)

/*
 * fp_learn is an array of buckets (fastpath.h, struct fp_learn): the
 * candidate goes into the last slot of its bucket under a test key, after
 * decoys with a neighbouring tuple in the others, so the program must
 * find it by walking the bucket and comparing the whole key.
 */
static const __u64 test_learn_key[2] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };

static int learn_place(struct lenv *le, const struct fp_flow_key *k,
		       const struct fp_learn *cand, __u32 *slot)
{
	int learn_fd = bpf_map__fd(le->skel->maps.fp_learn);
	int cfg_fd = bpf_map__fd(le->skel->maps.fp_config);
	struct fp_config cfg = {};
	__u32 zero = 0, base;

	if (bpf_map_lookup_elem(cfg_fd, &zero, &cfg))
		return -1;
	memcpy(cfg.learn_key, test_learn_key, sizeof(cfg.learn_key));
	cfg.learn_buckets = bpf_map__max_entries(le->skel->maps.fp_learn) / FP_LEARN_WAYS;
	if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
		return -1;
	base = fp_learn_hash(k, test_learn_key) % cfg.learn_buckets * FP_LEARN_WAYS;
	for (__u32 i = 0; i < FP_LEARN_WAYS - 1; i++) {
		struct fp_learn decoy = { .key = *k, .cookie = COOKIE + 1 + i };
		__u32 idx = base + i;

		decoy.key.sport ^= htons(1 + i);
		if (bpf_map_update_elem(learn_fd, &idx, &decoy, BPF_ANY))
			return -1;
	}
	*slot = base + FP_LEARN_WAYS - 1;
	return bpf_map_update_elem(learn_fd, slot, cand, BPF_ANY);
}

/* The slot as the daemon would find it: NULL-like (false) once freed. */
static bool learn_get(struct lenv *le, __u32 slot, struct fp_learn *out)
{
	int learn_fd = bpf_map__fd(le->skel->maps.fp_learn);

	return !bpf_map_lookup_elem(learn_fd, &slot, out) && out->cookie;
}

static void learn_clear(struct lenv *le, __u32 slot)
{
	int learn_fd = bpf_map__fd(le->skel->maps.fp_learn);
	struct fp_learn none = {};
	__u32 base = slot / FP_LEARN_WAYS * FP_LEARN_WAYS;

	for (__u32 i = base; i < base + FP_LEARN_WAYS; i++)
		bpf_map_update_elem(learn_fd, &i, &none, BPF_ANY);
}

static int run_lcase(struct lenv *le, const struct lcase *lc, char *why,
		     size_t whylen)
{
	static uint8_t frame[PKT_MAX];
	struct __sk_buff skb = {};
	struct fp_learn cand = { .cookie = COOKIE }, left;
	struct fp_flow_key k;
	struct pkt_layout lo;
	int prog = bpf_program__fd(le->skel->progs.fastpath_learn);
	int prelude = -1, err, ret = -1;
	__u32 slot = (__u32)-1;
	bool present;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	LCHECK(pkt_build(&lc->frame, frame, &lo), "cannot build the frame");
	LCHECK(!egress_key(&lc->frame, &k), "bad addresses");
	cand.key = k;
	LCHECK(!learn_place(le, &k, &cand, &slot),
	       "install the candidate: %s", strerror(errno));
	if (lc->hw_tpid) {
		prelude = load_prelude(le->prog_array, lc->hw_tpid, lc->hw_tci);
		LCHECK(prelude >= 0, "load the VLAN metadata prelude: %s",
		       strerror(errno));
		prog = prelude;
	}
	skb.ingress_ifindex = lc->local ? 0 : le->iif;
	skb.ifindex = le->oif;
	opts.data_in = frame;
	opts.data_size_in = lo.len;
	opts.ctx_in = &skb;
	opts.ctx_size_in = sizeof(skb);
	opts.repeat = 1;
	le->nev = 0;
	memset(&le->ev, 0, sizeof(le->ev));
	err = bpf_prog_test_run_opts(prog, &opts);
	LCHECK(!err, "BPF_PROG_TEST_RUN: %s", strerror(errno));
	LCHECK(opts.retval == (__u32)TC_ACT_UNSPEC,
	       "returned %d, want TC_ACT_UNSPEC (-1)%s", (int)opts.retval,
	       opts.retval == 100 || opts.retval == 101 ?
	       " (the prelude failed)" : "");
	LCHECK(ring_buffer__consume(le->rb) >= 0, "read fp_events: %s",
	       strerror(errno));
	present = learn_get(le, slot, &left);

	if (!lc->learns) {
		LCHECK(le->nev == 0, "reported a header it must refuse "
		       "(vlan %#x/%#x, pppoe %#x)", le->ev.out_vlan[0],
		       le->ev.out_vlan[1], le->ev.out_pppoe_sid);
		LCHECK(present, "the candidate vanished without a report");
		LCHECK(!left.packets && !left.reported, "counted a packet it refused");
		ret = 0;
		goto out;
	}
	LCHECK(le->nev == 1, "%d reports, want 1", le->nev);
	/* It stays, counting the slow path's packets, until the daemon takes
	 * it out: a second packet is counted, not reported.
	 */
	LCHECK(present && left.packets == 1 && left.reported,
	       "after its report the candidate is %s, packets %llu",
	       present ? "there" : "gone", (unsigned long long)left.packets);
	le->nev = 0;
	err = bpf_prog_test_run_opts(prog, &opts);
	LCHECK(!err && ring_buffer__consume(le->rb) >= 0, "second run: %s", strerror(errno));
	LCHECK(le->nev == 0, "a second packet reported again");
	LCHECK(learn_get(le, slot, &left) && left.packets == 2,
	       "second packet not counted (%llu)", (unsigned long long)left.packets);
	LCHECK(!memcmp(&le->ev.key, &k, sizeof(k)), "key is not the egress tuple");
	LCHECK(le->ev.cookie == COOKIE, "cookie %#llx",
	       (unsigned long long)le->ev.cookie);
	LCHECK(le->ev.iif == (lc->local ? 0 : (__u32)le->iif) &&
	       le->ev.oif == (__u32)le->oif, "iif %u oif %u, want %d %d",
	       le->ev.iif, le->ev.oif, lc->local ? 0 : le->iif, le->oif);
	LCHECK(!memcmp(le->ev.dmac, lc->frame.dmac, 6) &&
	       !memcmp(le->ev.smac, lc->frame.smac, 6), "MACs differ");
	LCHECK(le->ev.out_vlan[0] == lc->vlan[0] &&
	       le->ev.out_vlan[1] == lc->vlan[1] &&
	       le->ev.out_pppoe_sid == lc->pppoe_sid,
	       "reported vlan %#x/%#x pppoe %#x, want %#x/%#x %#x",
	       le->ev.out_vlan[0], le->ev.out_vlan[1], le->ev.out_pppoe_sid,
	       lc->vlan[0], lc->vlan[1], lc->pppoe_sid);
	ret = 0;
out:
	if (slot != (__u32)-1)
		learn_clear(le, slot);
	if (prelude >= 0)
		close(prelude);
	return ret;
}

int learn_vectors_run(struct fastpath_bpf *skel, int iif, int oif)
{
	struct lenv le = { .skel = skel, .iif = iif, .oif = oif,
			   .prog_array = -1 };
	char why[256];
	int failed = 0, zero = 0, fd;
	size_t i;

	le.prog_array = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "learn_tail",
				       4, 4, 1, NULL);
	le.rb = ring_buffer__new(bpf_map__fd(skel->maps.fp_events), on_event,
				 &le, NULL);
	if (le.prog_array < 0 || !le.rb) {
		printf("FAIL learn-setup: %s\n", strerror(errno));
		failed++;
		goto out;
	}
	/* A program that uses the array must exist before the array takes
	 * a program: the first user decides the array's program type.
	 */
	fd = load_prelude(le.prog_array, 0x8100, 1);
	if (fd < 0 || bpf_map_update_elem(le.prog_array, &zero,
			&(int){ bpf_program__fd(skel->progs.fastpath_learn) },
			BPF_ANY)) {
		printf("FAIL learn-setup: the tail call into fastpath_learn: %s\n",
		       strerror(errno));
		failed++;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);

	for (i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++) {
		if (run_lcase(&le, &lcases[i], why, sizeof(why))) {
			printf("FAIL %s: %s\n", lcases[i].name, why);
			failed++;
		} else {
			printf("PASS %s\n", lcases[i].name);
		}
	}
out:
	ring_buffer__free(le.rb);
	if (le.prog_array >= 0)
		close(le.prog_array);
	return failed;
}
