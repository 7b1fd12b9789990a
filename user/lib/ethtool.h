/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ethtool.h - device queries through ioctl: MAC, MTU and ethtool features.
 */
#ifndef FP_LIB_ETHTOOL_H
#define FP_LIB_ETHTOOL_H

#include <stddef.h>
#include <linux/types.h>

int link_info(const char *ifname, __u8 mac[6], __u32 *mtu);
int dev_rx_vlan_offload_off(const char *ifname, char *done, size_t len);
int dev_rx_vlan_active(const char *ifname);

#endif /* FP_LIB_ETHTOOL_H */
