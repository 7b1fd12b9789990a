// SPDX-License-Identifier: GPL-2.0-only
/*
 * names.c - the names of verdict reasons, entry states and hold reasons, as
 * "status", "flows" and their --json print them. The unit tests link this
 * file too, so their reports use the same words.
 */
#include "lib/names.h"

const char *const fp_reason_names[FP_R_MAX] = {
	[FP_R_REDIRECT] = "redirect",
	[FP_R_NO_ENTRY] = "no_entry",
	[FP_R_TEARDOWN] = "teardown",
	[FP_R_HW_PENDING] = "hw_pending",
	[FP_R_HW] = "hw",
	[FP_R_L2_PROTO] = "l2_proto",
	[FP_R_VLAN] = "vlan",
	[FP_R_PPPOE] = "pppoe",
	[FP_R_MALFORMED] = "malformed",
	[FP_R_FRAGMENT] = "fragment",
	[FP_R_IP_OPTIONS] = "ip_options",
	[FP_R_IPV6_EXT] = "ipv6_ext",
	[FP_R_L4_PROTO] = "l4_proto",
	[FP_R_TTL] = "ttl",
	[FP_R_MTU] = "mtu",
	[FP_R_TCP_SYN] = "tcp_syn",
	[FP_R_TCP_FIN_RST] = "tcp_fin_rst",
	[FP_R_NO_EGRESS] = "no_egress",
	[FP_R_LEASE] = "lease",
	[FP_R_PPP_PROTO] = "ppp_proto",
	[FP_R_HEADROOM] = "headroom",
	[FP_R_OTHER_HOST] = "other_host",
	[FP_R_TCP_NO_ACK] = "tcp_no_ack",
	[FP_R_TRAILING] = "trailing",
	[FP_R_TIER_TC] = "tier_tc",
	[FP_R_TIER_XDP] = "tier_xdp",
	[FP_R_TC_L2] = "tc_l2",
	[FP_R_MULTIBUF] = "multibuf",
};

const char *const fp_hold_names[FP_H_MAX] = {
	[FP_H_NOT_READY] = "not_established",
	[FP_H_POLICY] = "policy",
	[FP_H_HELPER] = "helper",
	[FP_H_LEARNING] = "learning",
	[FP_H_NOT_ATTACHED] = "not_attached",
	[FP_H_SQM] = "sqm",
	[FP_H_SQM_INGRESS] = "sqm_ingress",
	[FP_H_TABLE_FULL] = "table_full",
	[FP_H_NOT_LEARNED] = "not_learned",
	[FP_H_LOCAL] = "local",
};

const char *const fp_state_names[FP_STATE_MAX] = {
	[FP_STATE_XDP] = "xdp",
	[FP_STATE_HW_PENDING] = "hw_pending",
	[FP_STATE_HW] = "hw",
	[FP_STATE_TEARDOWN] = "teardown",
	[FP_STATE_TC] = "tc",
};
