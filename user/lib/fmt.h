/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fmt.h - parsing and printing of the command line's words.
 */
#ifndef FP_LIB_FMT_H
#define FP_LIB_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <net/if.h>

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

#endif /* FP_LIB_FMT_H */
