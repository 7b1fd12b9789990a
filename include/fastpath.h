/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fastpath.h - the one flow table, defined once.
 *
 * Users: bpf/fastpath.bpf.c (datapath), user/ (the fastpath command),
 * selftests/unit (packet vectors), selftests/bench (benchmark loader),
 * and kmod/ (the genetlink attributes of fastpath_genl.h mirror these fields).
 *
 * Only fixed-width UAPI types are used, so the same header compiles for
 * the BPF target, for userspace and for the kernel module unchanged.
 */
#ifndef FASTPATH_H
#define FASTPATH_H

#include <linux/types.h>
#include <linux/bpf.h>

#define FP_PIN_DIR	"/sys/fs/bpf/fastpath"
#define FP_DEFAULT_CAPACITY	65536
#define FP_MAX_PORTS	64

/* VLAN ids in the key and value are host-order VIDs, 0 meaning "no tag".
 * The outer tag of an 802.1ad (QinQ) frame carries FP_VLAN_8021AD, so a
 * 0x88a8 and a 0x8100 outer tag never alias. Only the outer tag ([0]) may
 * carry the flag: an inner tag is always 802.1Q. A second tag ([1]) is
 * only valid under a first one. PCP and DEI are not part of either: the
 * datapath ignores them on ingress and writes them as 0 on egress.
 *
 * PPPoE session ids are host order too, 0 meaning "no PPPoE" (a session
 * never uses 0 or 0xffff, RFC 2516).
 */
#define FP_VLAN_VID_MASK	0x0fff
#define FP_VLAN_8021AD		0x8000

/*
 * One direction of a connection, as it arrives on the ingress device.
 * Addresses are 16 bytes for both families; IPv4 uses the first 4 and
 * leaves the rest zero, so lookups never read uninitialised bytes.
 */
struct fp_flow_key {
	__u32 ifindex;		/* ingress device */
	__u8 family;		/* AF_INET or AF_INET6 */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u16 pppoe_sid;	/* ingress PPPoE session (host order), 0 = none */
	__be16 sport;
	__be16 dport;
	__u16 vlan[2];		/* ingress VLAN ids, outer first, 0 = none */
	__be32 saddr[4];
	__be32 daddr[4];
};

/* Not "fp_state": 32-bit ARM's kernel has a union of that name (asm/fpstate.h). */
enum fp_flow_state {
	FP_STATE_XDP = 0,	/* forwarded by the XDP program */
	FP_STATE_HW_PENDING,	/* handed to the PPE; XDP passes it up so it binds */
	FP_STATE_HW,		/* bound in the PPE; the CPU should not see it */
	FP_STATE_TEARDOWN,	/* FIN/RST seen or removed by policy: slow path */
	FP_STATE_TC,		/* forwarded by the TC ingress program (skb level):
				 * XDP passes it up, so the egress qdisc applies
				 * and the skb keeps its checksum state */
	FP_STATE_MAX,
};

/* fp_flow.flags */
#define FP_F_SNAT	(1U << 0)	/* rewrite source address and port */
#define FP_F_DNAT	(1U << 1)	/* rewrite destination address and port */
#define FP_F_STATIC	(1U << 2)	/* added by hand; the daemon leaves it alone */

/*
 * What to do with a matching packet. The first 76 bytes are read on every
 * packet and written only by userspace; the counters follow, written on
 * every packet by the one CPU that forwards the flow. @last_pass and
 * @passed sit with them, in the same cache line: written only on the pass
 * path, so that "fastpath explain" can say why this flow's packets go up
 * (TTL, MTU, ...) rather than only what passes over all flows.
 *
 * The kernel's hash element is a 48-byte header (struct htab_elem on a
 * 64-bit kernel), the 48-byte key and this value: 48 + 48 + 104 = 200
 * bytes. docs/PERF.md measured 192 (three whole cache lines) against 184;
 * the ingress MACs (issue 11, L1) took the padding that gave 192.
 *
 * @mtu is the MTU of the device the frame leaves on (@oif, the lowest
 * device: eth0, not eth0.7 or ppp0), as `ip link` shows it. The datapath
 * derives the L3 limit from it: VLAN tags do not count against the MTU,
 * a PPPoE session takes 8 bytes of it (6 header + 2 PPP protocol), so a
 * PPPoE flow on a 1500-byte link forwards IP packets up to 1492 bytes.
 *
 * The egress L2 header is written whole from @dmac, @smac, @out_vlan and
 * @out_pppoe_sid: Ethernet, then the tags outer first (TPID 0x88a8 for
 * an outer tag with FP_VLAN_8021AD, else 0x8100), then a PPPoE session
 * header when @out_pppoe_sid is set, then the IP packet.
 *
 * @in_dmac is the destination MAC a frame of this direction must carry:
 * the address the router itself sends from on the link it arrives on
 * (the port, or the VLAN, bridge or PPPoE device above it). The stack
 * would not route a frame addressed elsewhere. For a key with a PPPoE
 * session the frame must also come from @in_smac, the concentrator: the
 * kernel's PPPoE driver binds a session to the pair of MACs and the id
 * (RFC 2516). All zeros matches no frame: such an entry forwards nothing.
 */
struct fp_flow {
	__u8 state;		/* enum fp_flow_state */
	__u8 flags;		/* FP_F_* */
	__u16 mtu;		/* egress link MTU (see above) */
	__u32 oif;		/* egress ifindex, must be in the devmap */
	__be32 nat_saddr[4];	/* new source address when FP_F_SNAT */
	__be32 nat_daddr[4];	/* new destination address when FP_F_DNAT */
	__be16 nat_sport;	/* new source port when FP_F_SNAT */
	__be16 nat_dport;	/* new destination port when FP_F_DNAT */
	__u8 dmac[6];		/* next hop */
	__u8 smac[6];		/* egress device */
	__u16 out_vlan[2];	/* egress VLAN ids, outer first, 0 = none */
	__u16 out_pppoe_sid;	/* egress PPPoE session (host order), 0 = none */
	__u16 pad;
	__u8 in_dmac[6];	/* ingress: the router's MAC on that link */
	__u8 in_smac[6];	/* ingress PPPoE: the concentrator's MAC */
	__u8 last_pass;		/* datapath: enum fp_reason of the last packet
				 * it passed up after matching this entry,
				 * 0 (FP_R_REDIRECT) for none; read by explain */
	__u8 pad2;
	__u16 passed;		/* datapath: packets passed up after a match
				 * (wraps: explain takes differences) */
	__u64 packets;		/* updated by the datapath (and from the PPE) */
	__u64 bytes;		/* L3 bytes, as conntrack counts them */
	__u64 last_seen;	/* bpf_ktime_get_ns() of the last packet */
};

/*
 * Why a packet got the verdict it got. FP_R_REDIRECT is the fast path;
 * every other reason is a pass to the slow path. user/ prints the names
 * from fp_reason_names[], so keep the two in the same order.
 */
enum fp_reason {
	FP_R_REDIRECT = 0,	/* forwarded on the fast path */
	FP_R_NO_ENTRY,		/* no exact match in the table */
	FP_R_TEARDOWN,		/* entry is in teardown */
	FP_R_HW_PENDING,	/* entry waits for the PPE to bind it */
	FP_R_HW,		/* entry is bound in the PPE */
	FP_R_L2_PROTO,		/* ethertype not IPv4/IPv6 */
	FP_R_VLAN,		/* VLAN tags we do not parse: a third tag, an
				 * 802.1ad inner tag, VID 0 (priority) or 4095 */
	FP_R_PPPOE,		/* PPPoE session header we do not parse: bad
				 * version/type/code, session id 0 or 0xffff */
	FP_R_MALFORMED,		/* truncated or inconsistent header */
	FP_R_FRAGMENT,		/* IPv4 fragment */
	FP_R_IP_OPTIONS,	/* IPv4 header with options */
	FP_R_IPV6_EXT,		/* IPv6 extension header */
	FP_R_L4_PROTO,		/* neither TCP nor UDP */
	FP_R_TTL,		/* TTL or hop limit <= 1 */
	FP_R_MTU,		/* longer than the egress MTU */
	FP_R_TCP_SYN,		/* SYN on an offloaded tuple */
	FP_R_TCP_FIN_RST,	/* FIN or RST: entry marked teardown */
	FP_R_NO_EGRESS,		/* egress device not in the devmap */
	FP_R_LEASE,		/* daemon lease expired */
	FP_R_PPP_PROTO,		/* PPPoE session frame carrying neither IPv4
				 * nor IPv6: LCP, IPCP, ... (the PPP daemon's) */
	FP_R_HEADROOM,		/* no headroom to push the egress L2 header;
				 * TC: the kernel could not make room (ENOMEM) */
	FP_R_OTHER_HOST,	/* destination MAC is not the router's on that
				 * link, or a PPPoE frame not from the
				 * concentrator (fp_flow.in_dmac, in_smac) */
	FP_R_TCP_NO_ACK,	/* TCP segment without ACK (and without SYN or
				 * RST), no flags at all included */
	FP_R_TRAILING,		/* bytes after the IP packet: trailing bytes
				 * or Ethernet padding (the stack trims them) */
	FP_R_TIER_TC,		/* XDP: the entry is on the TC tier */
	FP_R_TIER_XDP,		/* TC: the entry is on another tier (XDP) */
	FP_R_TC_L2,		/* TC: the egress L2 header is shorter than the
				 * ingress one without its tags (PPPoE removed):
				 * the skb helpers only shrink IP frames */
	FP_R_MULTIBUF,		/* XDP: a multi-buffer (jumbo) frame */
	FP_R_MAX,
};

/* Per-CPU counters, one array slot per reason: "fp_stats" for the XDP
 * program, "fp_tc_stats" for the TC ingress program. */
struct fp_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * Runtime configuration, one slot in the "fp_config" array. The daemon
 * renews lease_expires (a bpf_ktime_get_ns() time); 0 turns the lease off,
 * which is the state without a daemon.
 */
struct fp_config {
	__u64 lease_expires;
	__u64 lease_ns;		/* the daemon's lease length, for status */
	__u64 learn_key[2];	/* fp_learn_hash()'s key, the daemon's per run */
	__u32 learn_buckets;	/* buckets of FP_LEARN_WAYS slots in fp_learn;
				 * 0: nothing is learned */
	__u32 pad;
};

/*
 * The datapath's clock, one slot of "fp_clock". A BPF timer stores
 * bpf_ktime_get_ns() into @now every FP_CLOCK_PERIOD_NS, so the per-packet
 * path reads the time with a plain load instead of a helper call (the
 * helper costs about a third of a redirect on a mitigated CPU). last_seen
 * and the lease use it; 100 ms is far finer than either needs.
 */
#define FP_CLOCK_PERIOD_NS	100000000ULL

struct fp_clock {
	__u64 now;
	struct bpf_timer timer;
};

/*
 * Learning (DESIGN.md, "Offload: learn from the slow path"). The daemon puts
 * the tuple a candidate direction has when it LEAVES the router (post-NAT,
 * ifindex 0) into "fp_learn"; the TC egress program records what the kernel
 * did with the next such packet and reports it on the "fp_events" ring.
 *
 * The program runs on the lowest device, where the frame leaves: the
 * event's @oif is that device and its L2 fields are the header there,
 * VLAN tags (from skb metadata or the bytes) and PPPoE session included,
 * ready to be copied into fp_flow. The key never carries encapsulation:
 * it is the inner IP tuple, with ifindex 0, as the daemon wrote it.
 */
struct fp_learn {
	struct fp_flow_key key;	/* the egress tuple, valid while @cookie is set */
	__u64 cookie;		/* the daemon's reference to the connection;
				 * 0: the slot is free */
	__u64 packets;		/* packets of the direction the learner saw since
				 * it was armed: the slow path's share of the
				 * learning window (the daemon reads it as it
				 * takes the entry out) */
	__u32 reported;		/* the event went out: count, do not report */
	__u32 pad;
};

/*
 * "fp_learn" is an array the daemon writes in place through mmap()
 * (BPF_F_MMAPABLE): arming or disarming a candidate costs no system call
 * (docs/PERF.md, "Daemon"). A tuple lives in one bucket of FP_LEARN_WAYS
 * consecutive slots, bucket fp_learn_hash(key) % fp_config.learn_buckets;
 * a full bucket is a full learning map for that tuple (learn_full), and
 * the candidate is retried later (hold not_learned). The hash is keyed
 * per daemon run, so nobody can choose tuples that share a bucket.
 * A reader may see a slot while the daemon rewrites it: the event
 * carries the packet's own tuple and the slot's cookie, which the daemon
 * checks, so a torn read costs at most one report.
 */
#define FP_LEARN_WAYS		8
/* Slots for a table of @cap entries: twice as many, whole buckets. */
#define FP_LEARN_SLOTS(cap)	((((cap) * 2) + FP_LEARN_WAYS - 1) / FP_LEARN_WAYS * FP_LEARN_WAYS)

#define FP_ROTL64(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))
#define FP_SIPROUND(v0, v1, v2, v3) do {				\
	v0 += v1; v1 = FP_ROTL64(v1, 13); v1 ^= v0; v0 = FP_ROTL64(v0, 32); \
	v2 += v3; v3 = FP_ROTL64(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = FP_ROTL64(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = FP_ROTL64(v1, 17); v1 ^= v2; v2 = FP_ROTL64(v2, 32); \
} while (0)
#define FP_SIPWORD(m) do {						\
	v3 ^= (m); FP_SIPROUND(v0, v1, v2, v3); v0 ^= (m);		\
} while (0)

/* SipHash-1-3 of the 48-byte key under @k: the same in BPF and userspace. */
static inline __u32 fp_learn_hash(const struct fp_flow_key *key, const __u64 k[2])
{
	__u64 v0 = k[0] ^ 0x736f6d6570736575ULL, v1 = k[1] ^ 0x646f72616e646f6dULL;
	__u64 v2 = k[0] ^ 0x6c7967656e657261ULL, v3 = k[1] ^ 0x7465646279746573ULL;
	__u64 w[6];

	__builtin_memcpy(w, key, sizeof(w));
	FP_SIPWORD(w[0]);
	FP_SIPWORD(w[1]);
	FP_SIPWORD(w[2]);
	FP_SIPWORD(w[3]);
	FP_SIPWORD(w[4]);
	FP_SIPWORD(w[5]);
	FP_SIPWORD((__u64)48 << 56);
	v2 ^= 0xff;
	FP_SIPROUND(v0, v1, v2, v3);
	FP_SIPROUND(v0, v1, v2, v3);
	FP_SIPROUND(v0, v1, v2, v3);
	return (__u32)(v0 ^ v1 ^ v2 ^ v3);
}

struct fp_learn_event {
	struct fp_flow_key key;	/* egress tuple, as in fp_learn */
	__u64 cookie;
	__u32 iif;		/* skb->ingress_ifindex; 0 for the router's
				 * own packets and after a PPP device (scrubbed) */
	__u32 oif;		/* skb->ifindex at egress */
	__u8 dmac[6];		/* the L2 header the kernel wrote */
	__u8 smac[6];
	__u16 out_vlan[2];	/* its tags, as fp_flow.out_vlan */
	__u16 out_pppoe_sid;	/* its PPPoE session, as fp_flow.out_pppoe_sid */
	__u16 pad[3];
	__u64 ts;		/* bpf_ktime_get_ns() */
};

/* Slow-path reasons of the daemon: why a connection is not offloaded. */
enum fp_hold {
	FP_H_NOT_READY = 0,	/* not ESTABLISHED / no UDP reply yet */
	FP_H_POLICY,		/* the policy (ct mark) does not select it */
	FP_H_HELPER,		/* has a conntrack helper, SEQ_ADJUST or NAT_CLASH */
	FP_H_LEARNING,		/* candidate: waits for its next slow-path packet */
	FP_H_NOT_ATTACHED,	/* ingress or egress device not attached */
	FP_H_SQM,		/* egress device shapes: keep the qdisc in charge */
	FP_H_TABLE_FULL,	/* --max-flows reached */
	FP_H_SQM_INGRESS,	/* the ingress device redirects to an ifb that
				 * shapes: XDP and TC ingress would bypass it */
	FP_H_NOT_LEARNED,	/* a candidate whose next packet did not come
				 * within 10 s, or the learning map was full:
				 * tried again later, with a growing delay */
	FP_H_LOCAL,		/* it ends on the router itself (a local or
				 * loopback address): nothing to forward */
	FP_H_MAX,
};

/*
 * The daemon's counters, one slot of the "fp_daemon" array, so "fastpath
 * status" shows them next to the datapath's. Written only by the daemon.
 */
struct fp_daemon_stats {
	__u32 pid;		/* the running daemon, 0 when none */
	__u32 conns;		/* connections tracked */
	__u64 hold[FP_H_MAX];	/* connections currently kept slow, per reason */
	__u64 offloaded;	/* directions in the table now */
	__u64 learned;		/* directions learned, total */
	__u64 torn_down;	/* connections taken off the fast path, total */
	__u64 ct_events;	/* conntrack events handled */
	__u64 events_lost;	/* ENOBUFS on the event socket */
	__u64 resyncs;		/* full conntrack dumps after a loss or change */
	__u64 refreshes;	/* conntrack timeouts refreshed */
	__u64 table_full;	/* offloads refused for --max-flows */
	__u64 latency_p50_ns;	/* ESTABLISHED event -> entry in the table */
	__u64 latency_p99_ns;
	__u32 hw_mode;		/* enum fp_hw_mode */
	__u32 hw_dirs;		/* directions bound in the PPE now */
	__u32 hw_pending;	/* directions waiting for the PPE to bind them */
	__u32 hw_pad;
	__u64 hw_offered;	/* directions handed to the kmod, total */
	__u64 hw_fallbacks;	/* ... that went back to the XDP tier, total */
	__u64 learn_packets;	/* slow-path packets of learned directions in
				 * their learning window (armed -> learned), total */
	__u64 tc_dirs;		/* directions on the TC tier now */
	__u64 learn_full;	/* candidates refused by a full learning map, total */
	__u64 not_learned;	/* candidates not learned within 10 s, total */
	__u64 rechecks;		/* conntrack asked after a FIN/RST teardown, total */
	__u64 recheck_relearned;	/* ... and found still ESTABLISHED:
					 * learned again (a forged RST), total */
	__u64 events_discarded;	/* conntrack events read and dropped before a
				 * resync dump (older than it), total */
};

/* The daemon's hardware tier (kmod/fastpath.ko, user/ppe.c). */
enum fp_hw_mode {
	FP_HWM_OFF = 0,		/* "fastpath run --no-hw", or no daemon */
	FP_HWM_NO_KMOD,		/* fastpath.ko is not loaded */
	FP_HWM_ON,		/* PPE-capable devices get their flows offloaded */
};

/* Per-direction rates the daemon measures, in "fp_rates" by flow key. */
struct fp_rate {
	__u64 pps;
	__u64 bps;
};

/*
 * One connection as the daemon sees it, in "fp_conns" keyed by the
 * conntrack id (__u32), so "fastpath explain" (user/cli/explain.c) and
 * bpftool can say why a connection is or is not offloaded without talking
 * to the daemon. Writer: the daemon, through fsm_ops.conn_export, called
 * by conn_fsm() (user/daemon/conn_fsm.c, the only writer of the states
 * and the hold reason) when the record changes; removed when conntrack
 * forgets the connection or the daemon stops. The map is sized like the
 * flow table: past that, connections are simply not exported. The
 * datapath never reads it.
 */
enum fp_conn_state {		/* one direction; the daemon's enum dir_state */
	FP_CS_SLOW = 0,		/* slow path: see fp_conn_info.hold */
	FP_CS_LEARNING,		/* waits for its next slow-path packet */
	FP_CS_WAITING,		/* learned; waits for the other direction */
	FP_CS_XDP,		/* in the flow table, XDP tier */
	FP_CS_TC,		/* in the flow table, TC tier */
	FP_CS_HW_PENDING,	/* offered to the PPE, not bound yet */
	FP_CS_HW,		/* bound in the PPE */
	FP_CS_TEARDOWN,		/* FIN/RST seen: slow until conntrack says more */
	FP_CS_MAX,
};

struct fp_conn_tuple {		/* a conntrack tuple (original or reply) */
	__u8 family;
	__u8 proto;
	__be16 sport;
	__be16 dport;
	__u16 pad;
	__be32 saddr[4];
	__be32 daddr[4];
};

struct fp_conn_info {
	struct fp_conn_tuple tuple[2];	/* original, reply */
	__u32 id;		/* conntrack id (the key) */
	__u32 mark;		/* ct mark, as the policy read it */
	__u32 status;		/* conntrack status bits (IPS_*) */
	__u8 hold;		/* enum fp_hold; FP_H_MAX when offloaded */
	__u8 tcp_state;		/* conntrack's TCP state, 0 for UDP */
	__u8 state[2];		/* enum fp_conn_state per direction */
	__u32 iif[2];		/* ingress device per direction, 0 = not learned */
	__u32 oif[2];		/* egress device per direction, 0 = not learned */
	__u64 latency_ns[2];	/* first packet after ESTABLISHED -> in the table */
	__u64 learn_packets[2];	/* slow-path packets while it was learned */
};

/* Layout is ABI between BPF, userspace and the kmod: pin it. */
#define FP_OFF(t, m) __builtin_offsetof(struct t, m)
_Static_assert(sizeof(struct fp_flow_key) == 48, "fp_flow_key size");
_Static_assert(FP_OFF(fp_flow_key, saddr) == 16, "fp_flow_key.saddr");
_Static_assert(FP_OFF(fp_flow_key, daddr) == 32, "fp_flow_key.daddr");
_Static_assert(sizeof(struct fp_flow) == 104, "fp_flow size");
_Static_assert(FP_OFF(fp_flow, dmac) == 44, "fp_flow.dmac");
_Static_assert(FP_OFF(fp_flow, in_dmac) == 64, "fp_flow.in_dmac");
_Static_assert(FP_OFF(fp_flow, last_pass) == 76, "fp_flow.last_pass");
_Static_assert(FP_OFF(fp_flow, packets) == 80, "fp_flow.packets");
_Static_assert(sizeof(struct fp_counter) == 16, "fp_counter size");
_Static_assert(sizeof(struct fp_config) == 40, "fp_config size");
_Static_assert(sizeof(struct fp_learn_event) == 96, "fp_learn_event size");
_Static_assert(FP_OFF(fp_learn_event, out_vlan) == 76, "fp_learn_event.out_vlan");
_Static_assert(sizeof(struct fp_conn_tuple) == 40, "fp_conn_tuple size");
_Static_assert(FP_OFF(fp_conn_info, id) == 80, "fp_conn_info.id");
_Static_assert(FP_OFF(fp_conn_info, latency_ns) == 112, "fp_conn_info.latency_ns");
_Static_assert(sizeof(struct fp_conn_info) == 144, "fp_conn_info size");
_Static_assert(sizeof(struct fp_flow_key) == 48, "fp_flow_key size");
_Static_assert(sizeof(struct fp_learn) == 72, "fp_learn size");
#undef FP_OFF

#endif /* FASTPATH_H */
