/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * adapters.h - what turns the outside into events for conn_fsm(): conntrack
 * (ct.c), rtnetlink and nftables (netmon.c), fastpath.ko (hwtier.c), and
 * the daemon's real fsm_ops (ops.c).
 */
#ifndef FP_DAEMON_ADAPTERS_H
#define FP_DAEMON_ADAPTERS_H

#include "daemon/daemon.h"

/* ct.c */
int ct_open(struct daemon *d);
void ct_close(struct daemon *d);
int ct_event_fd(const struct daemon *d);
int ct_read_events(struct daemon *d);
int ct_dump(struct daemon *d);
int ct_set_liberal(struct daemon *d, const struct conn *c);
int ct_refresh(struct daemon *d, const struct conn *c, __u32 timeout_s);
int ct_assure(struct daemon *d, const struct conn *c, __u32 timeout_s);
int ct_recheck(struct daemon *d, const struct ct_tuple *orig);
__u32 ct_timeout_for(struct daemon *d, const struct conn *c);

/* netmon.c */
int netmon_open(struct daemon *d);
void netmon_close(struct daemon *d);
int netmon_rtnl_fd(const struct daemon *d);
int netmon_nft_fd(const struct daemon *d);
int netmon_read_rtnl(struct daemon *d);
int netmon_read_nft(struct daemon *d);

/* hwtier.c */
int hwtier_start(struct daemon *d);
void hwtier_stop(struct daemon *d);
void hwtier_poll(struct daemon *d);
int hwtier_offer(struct daemon *d, const struct fp_flow_key *k,
		 const struct fp_flow *f, char *msg, size_t msglen);
void hwtier_withdraw(struct daemon *d, const struct fp_flow_key *k);
void hwtier_renew_lease(struct daemon *d);
void hwtier_ct_acct(struct daemon *d, const struct fp_flow_key *k,
		    __u64 packets, __u64 bytes);
void hwtier_state(struct daemon *d, const struct fp_flow_key *k,
		  struct hw_answer *a);

/* ops.c: the daemon's fsm_ops. */
extern const struct fsm_ops daemon_ops;
void ops_probe_ingress(struct daemon *d);
int ops_learn_open(struct daemon *d);
void ops_learn_close(struct daemon *d);
void ops_export_flush(struct daemon *d);

#endif /* FP_DAEMON_ADAPTERS_H */
