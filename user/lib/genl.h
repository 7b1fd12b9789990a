/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * genl.h - the client of fastpath.ko's genetlink family; the family is
 * described once, in include/fastpath_genl.h.
 */
#ifndef FP_LIB_GENL_H
#define FP_LIB_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "fastpath.h"
#include "fastpath_genl.h"

struct ppe_dev {
	__u8 bind;		/* enum fp_dev_bind */
	int err;		/* why not bound */
	__u32 flows;
	char driver[32];
};

struct ppe_flow_stat {
	struct fp_flow_key key;	/* first: the poll sorts and searches by it */
	__u8 state;		/* enum fp_hw_state */
	int err;
	char msg[80];
	__u64 packets, bytes;
	__u64 idle_ms;
	bool has_idle;
};

int ppe_open(void);
void ppe_close(void);
int ppe_dev_get(__u32 ifindex, bool probe, struct ppe_dev *pd);
int ppe_flow_add(const struct fp_flow_key *k, const struct fp_flow *f,
		 char *msg, size_t msglen);
int ppe_flow_del(const struct fp_flow_key *k);
int ppe_flush(void);
int ppe_lease(__u32 lease_ms, int idle_s);
int ppe_ct_acct(const struct fp_flow_key *k, __u64 packets, __u64 bytes);
int ppe_flow_dump(int (*fn)(const struct ppe_flow_stat *s, void *arg), void *arg);
const char *ppe_dev_reason(int open_err, const struct ppe_dev *pd,
			   char *buf, size_t len);

#endif /* FP_LIB_GENL_H */
