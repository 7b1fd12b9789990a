/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fastpath_genl.h - the generic netlink family "fastpath" of the companion
 * module (kmod/fastpath.ko): the hardware tier, its lease, and conntrack
 * accounting.
 *
 * Users: kmod/fp_genl.c (the family), user/ppe.c (the daemon's client),
 * selftests/vm/fpgenl.py (the tests' client). This header is the only
 * description of the family: fpgenl.py reads the enums below (commands,
 * attributes, fp_dev_bind, fp_hw_state) from it, so keep each enumerator
 * on a line of its own, and add new ones at the end of their enum.
 *
 * The flow attributes mirror struct fp_flow_key and struct fp_flow of
 * fastpath.h one field each, in the same byte order: what the daemon
 * writes into the BPF flow table is what it hands to the module. Every
 * command needs CAP_NET_ADMIN.
 */
#ifndef FASTPATH_GENL_H
#define FASTPATH_GENL_H

#define FP_GENL_NAME		"fastpath"
#define FP_GENL_VERSION		1

enum fp_genl_cmd {
	FP_CMD_UNSPEC,
	FP_CMD_DEV_GET,		/* do: capability of FP_A_IFINDEX; dump: every device seen */
	FP_CMD_FLOW_ADD,	/* offload one direction (key + value attributes) */
	FP_CMD_FLOW_DEL,	/* withdraw one direction (key attributes) */
	FP_CMD_FLOW_GET,	/* dump: hardware state and counters of every direction */
	FP_CMD_FLUSH,		/* withdraw every direction and release every device */
	FP_CMD_LEASE,		/* renew or end the lease (FP_A_LEASE_MS), set the
				 * idle expiry (FP_A_IDLE_S); answers the lease state */
	FP_CMD_CT_ACCT,		/* add packets and bytes to a conntrack entry's counters */
	__FP_CMD_MAX,
};
#define FP_CMD_MAX (__FP_CMD_MAX - 1)

enum fp_genl_attr {
	FP_A_UNSPEC,
	FP_A_PAD,

	/* devices (FP_CMD_DEV_GET) */
	FP_A_IFINDEX,		/* u32 */
	FP_A_DEV_PROBE,		/* flag: bind the device if it is not bound yet */
	FP_A_DEV_NAME,		/* string */
	FP_A_DEV_BIND,		/* u8 enum fp_dev_bind */
	FP_A_DEV_ERR,		/* s32: -errno of the bind when FP_BIND_NONE */
	FP_A_DEV_FLOWS,		/* u32: directions offloaded with this ingress */
	FP_A_DEV_DRIVER,	/* string: the driver's name, when known */

	/* struct fp_flow_key */
	FP_A_KEY_IFINDEX,	/* u32 */
	FP_A_KEY_FAMILY,	/* u8: AF_INET or AF_INET6 */
	FP_A_KEY_PROTO,		/* u8: IPPROTO_TCP or IPPROTO_UDP */
	FP_A_KEY_PPPOE_SID,	/* u16 */
	FP_A_KEY_SPORT,		/* be16 */
	FP_A_KEY_DPORT,		/* be16 */
	FP_A_KEY_VLAN0,		/* u16: outer VID (| FP_VLAN_8021AD) */
	FP_A_KEY_VLAN1,		/* u16: inner VID */
	FP_A_KEY_SADDR,		/* binary, 16 bytes */
	FP_A_KEY_DADDR,		/* binary, 16 bytes */

	/* struct fp_flow */
	FP_A_FLOW_FLAGS,	/* u8: FP_F_* */
	FP_A_FLOW_MTU,		/* u16 */
	FP_A_FLOW_OIF,		/* u32 */
	FP_A_FLOW_NAT_SADDR,	/* binary, 16 bytes */
	FP_A_FLOW_NAT_DADDR,	/* binary, 16 bytes */
	FP_A_FLOW_NAT_SPORT,	/* be16 */
	FP_A_FLOW_NAT_DPORT,	/* be16 */
	FP_A_FLOW_DMAC,		/* binary, 6 bytes */
	FP_A_FLOW_SMAC,		/* binary, 6 bytes */
	FP_A_FLOW_OUT_VLAN0,	/* u16 */
	FP_A_FLOW_OUT_VLAN1,	/* u16 */
	FP_A_FLOW_OUT_PPPOE_SID, /* u16 */

	/* hardware side of a direction (FP_CMD_FLOW_GET) */
	FP_A_HW_STATE,		/* u8 enum fp_hw_state */
	FP_A_HW_ERR,		/* s32: -errno the driver answered (FP_HW_FAILED) */
	FP_A_HW_MSG,		/* string: the driver's message with it, if any */
	FP_A_HW_PACKETS,	/* u64: packets the hardware forwarded */
	FP_A_HW_BYTES,		/* u64: their L3 bytes */
	FP_A_HW_IDLE_MS,	/* u64: since the hardware last forwarded one */

	/*
	 * The lease (FP_CMD_LEASE). Once a namespace has a lease, the module
	 * withdraws every direction of that namespace when it lapses, and
	 * refuses FLOW_ADD until it is renewed. Without one (never set, or
	 * ended with 0) nothing is withdrawn: a client that does not renew
	 * a lease, such as a test, keeps its directions until FLOW_DEL.
	 */
	FP_A_LEASE_MS,		/* u32: lease length; 0 ends the lease */
	FP_A_LEASE_LEFT_MS,	/* u32 (reply): until it lapses; 0 when lapsed */
	FP_A_LEASE_LAPSES,	/* u32 (reply): lapses in this namespace */
	FP_A_IDLE_S,		/* u32: withdraw a direction whose hardware
				 * counters stood still this long; 0 = never.
				 * Default: the module parameter idle_timeout_s */

	/*
	 * Conntrack accounting (FP_CMD_CT_ACCT): the entry is found by the
	 * tuple FP_A_KEY_FAMILY, _PROTO, _SADDR, _DADDR, _SPORT, _DPORT (the
	 * one a direction's flow key holds, either of the entry's two) in
	 * zone FP_A_CT_ZONE. The counters of that tuple's direction grow by
	 * FP_A_ACCT_PACKETS/BYTES, those of the other direction by
	 * FP_A_ACCT_REV_PACKETS/BYTES. Each value is at most 2^40.
	 */
	FP_A_CT_ZONE,		/* u16: the conntrack zone; default 0 */
	FP_A_ACCT_PACKETS,	/* u64 */
	FP_A_ACCT_BYTES,	/* u64: L3 bytes, as conntrack counts them */
	FP_A_ACCT_REV_PACKETS,	/* u64 */
	FP_A_ACCT_REV_BYTES,	/* u64 */

	__FP_A_MAX,
};
#define FP_A_MAX (__FP_A_MAX - 1)

/* Bounds of the lease and of one accounting value. */
#define FP_LEASE_MS_MIN		100
#define FP_LEASE_MS_MAX		3600000
#define FP_IDLE_S_MAX		86400
#define FP_ACCT_MAX		(1ULL << 40)

/* How the module reaches a device's flow offload. */
enum fp_dev_bind {
	FP_BIND_NONE = 0,	/* not bound: see FP_A_DEV_ERR */
	FP_BIND_DIRECT,		/* ndo_setup_tc(TC_SETUP_FT) */
	FP_BIND_INDIRECT,	/* an indirect block driver (flow_indr_dev_register) */
};

/* A direction's life in the module. */
enum fp_hw_state {
	FP_HW_QUEUED = 0,	/* waits for the workqueue */
	FP_HW_OFFLOADED,	/* the driver took the rule; not seen forwarding yet */
	FP_HW_BOUND,		/* the hardware forwards it */
	FP_HW_FAILED,		/* the driver refused it: FP_A_HW_ERR */
	FP_HW_MAX,
};

#endif /* FASTPATH_GENL_H */
