/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fp.h - declarations shared by the files of the fastpath command.
 */
#ifndef FP_USER_H
#define FP_USER_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include <net/if.h>

#include "fastpath.h"
#include "fastpath_genl.h"

/* Exit statuses: ok, failed, bad usage. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* util.c: one logging layer; libbpf's messages go through it too. */
extern int fp_verbose;
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fp_setup_libbpf_log(void);

extern const char *const fp_reason_names[FP_R_MAX];
extern const char *const fp_state_names[FP_STATE_MAX];
extern const char *const fp_hold_names[FP_H_MAX];

__u64 mono_ns(void);
int parse_u32(const char *s, __u32 max, __u32 *out);
int parse_ifname(const char *name, __u32 *ifindex);
const char *ifname_or_index(__u32 ifindex, char buf[IF_NAMESIZE + 8]);
int parse_mac(const char *s, __u8 mac[6]);
void format_mac(const __u8 mac[6], char buf[18]);
int parse_addr(const char *s, __u8 *family, __be32 addr[4]);
int parse_endpoint(const char *s, __u8 *family, __be32 addr[4], __be16 *port,
		   bool port_required);
void format_addr(__u8 family, const __be32 addr[4], char *buf, size_t len);
void format_endpoint(__u8 family, const __be32 addr[4], __be16 port,
		     char *buf, size_t len);
int parse_proto(const char *s, __u8 *proto);
const char *proto_name(__u8 proto);

/* Minimal JSON writer for --json listings. */
struct json {
	FILE *f;
	int depth;
	bool first[16];
};
void json_begin(struct json *j, FILE *f, char open);
void json_end(struct json *j, char close);
void json_key(struct json *j, const char *key);
void json_obj_open(struct json *j, const char *key);
void json_arr_open(struct json *j, const char *key);
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, unsigned long long val);
void json_num(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);

/* attach.c: loading, pinning, re-adoption and XDP attachment. */
struct fp_maps {
	int prog;		/* XDP forward */
	int learn_prog;		/* TC egress learn */
	int clock_prog;		/* starts the coarse clock */
	int flows;
	int tx_ports;
	int stats;
	int config;
	int learn;
	int events;
	int rates;
	int daemon;
	int clock;
};

enum fp_mode { FP_MODE_AUTO, FP_MODE_NATIVE, FP_MODE_GENERIC };
int parse_mode(const char *s, enum fp_mode *mode);
int bad_option(const char *cmd, char **argv);
int listing_args(int argc, char **argv, const char *cmd, const char *usage,
		 bool *json);

const char *fp_pin_dir(void);
int fp_open_pinned(struct fp_maps *m);
int fp_load_or_adopt(struct fp_maps *m, __u32 capacity);
void fp_close(struct fp_maps *m);
int fp_attach(struct fp_maps *m, __u32 ifindex, const char *ifname,
	      enum fp_mode mode);
int fp_detach(struct fp_maps *m, __u32 ifindex, const char *ifname);
int fp_unpin_all(void);
const char *fp_attach_mode(__u32 ifindex, __u32 our_prog_id);
int fp_tc_attach(struct fp_maps *m, __u32 ifindex, const char *ifname);
void fp_tc_detach(__u32 ifindex);
__u32 fp_prog_id(int prog_fd);
int fp_clock_ensure(struct fp_maps *m);
__u32 fp_map_capacity(int map_fd);

/* flowtab.c: flow-table writes that wait out the datapath's readers. */
int fp_flows_quiesce(void);
int fp_flow_write(int flows_fd, const struct fp_flow_key *k,
		  const struct fp_flow *v, __u64 flags);
int fp_flow_delete(int flows_fd, const struct fp_flow_key *k);

/* netlink.c: rtnetlink queries. */
struct nlmsghdr;
int nl_route_query(struct nlmsghdr *nlh,
		   int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
int nl_neigh_lookup(__u32 ifindex, __u8 family, const __be32 addr[4],
		    __u8 mac[6]);
int link_info(const char *ifname, __u8 mac[6], __u32 *mtu);
int dev_rx_vlan_offload_off(const char *ifname, char *done, size_t len);

/* stack.c: stacked devices (VLAN, PPPoE, bridge) and the ports under them. */
int stack_load(void);
enum stack_change { STACK_SAME, STACK_PORTS, STACK_MOVED };
enum stack_change stack_link_msg(const struct nlmsghdr *nlh);
bool stack_is_stacked(__u32 ifindex);
bool stack_carries(__u32 dev, __u32 port, const __u16 vlan[2], __u16 sid);
int stack_egress_devs(__u32 oif, const __u16 vlan[2], __u16 sid, __u32 *devs,
		      int max);
__u16 stack_egress_mtu(__u32 oif, const __u16 vlan[2], __u16 sid);
int stack_resolve(char *const *names, int nnames, __u32 *ports, int *nports,
		  int max, const char *verb);
int stack_ports(char *const *names, int nnames, __u32 *ports, int *nports,
		int max, const char *verb);

/* table.c: flow-table commands. */
int cmd_flow(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int flow_count(int flows_fd);

/* ppe.c: the client of fastpath_ppe.ko's genetlink family. */
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
int ppe_flow_dump(int (*fn)(const struct ppe_flow_stat *s, void *arg), void *arg);
const char *ppe_dev_reason(int open_err, const struct ppe_dev *pd,
			   char *buf, size_t len);

/* cli.c */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* FP_USER_H */
