/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * compat.h - every kernel-version difference the modules meet, in one place.
 *
 * Targets: 5.15 (OpenWrt 22.03), 6.1 (OpenWrt 23.05, Debian 12), 6.6
 * (OpenWrt 24.10) and 6.12. Built and tested on 6.1 and on 6.12
 * (bookworm-backports: "make kmod KVER=6.12...", selftests/vm/
 * test_kmod_612.sh); the other branches follow the upstream API changes
 * named next to each shim, as far as we know them, and have not been
 * compiled here.
 *
 * Unchanged across the range, so used directly: flow_block_cb_alloc(),
 * flow_indr_dev_register() and flow_indr_dev_setup_offload() (with the
 * Qdisc argument since 5.12), flow_indr_block_cb_alloc(),
 * flow_block_offload.cb_list_head (5.14), flow_stats_update() (with drops
 * and hw stats since 5.9), the genl small_ops, NLA_BE16.
 */
#ifndef FP_KMOD_COMPAT_H
#define FP_KMOD_COMPAT_H

#include <linux/version.h>
#include <linux/netdevice.h>
#include <linux/filter.h>
#include <net/netlink.h>
#include <net/rtnetlink.h>

/* <asm/unaligned.h> moved to <linux/unaligned.h> in 6.12. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* 6.1 dropped netif_napi_add()'s weight argument. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#define fp_napi_add(dev, napi, poll) \
	netif_napi_add(dev, napi, poll, NAPI_POLL_WEIGHT)
#else
#define fp_napi_add(dev, napi, poll) netif_napi_add(dev, napi, poll)
#endif

/*
 * Tracked device references: dev_hold_track() in 5.17, renamed
 * netdev_hold() in 6.0. Before 5.17 a reference carries no tracker.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 0, 0)
typedef netdevice_tracker fp_tracker_t;
#define fp_dev_hold(dev, t, gfp) netdev_hold(dev, t, gfp)
#define fp_dev_put(dev, t) netdev_put(dev, t)
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 17, 0)
typedef netdevice_tracker fp_tracker_t;
#define fp_dev_hold(dev, t, gfp) dev_hold_track(dev, t, gfp)
#define fp_dev_put(dev, t) dev_put_track(dev, t)
#else
typedef struct {} fp_tracker_t;
#define fp_dev_hold(dev, t, gfp) dev_hold(dev)
#define fp_dev_put(dev, t) dev_put(dev)
#endif

/*
 * do_xdp_generic() takes the skb by reference since 6.9 (generic XDP
 * with skb frags), so it can hand back a copy in its place.
 */
static inline int fp_do_xdp_generic(struct bpf_prog *prog, struct sk_buff **pskb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	return do_xdp_generic(prog, pskb);
#else
	return do_xdp_generic(prog, *pskb);
#endif
}

/* Per-device drop counters moved to dev->core_stats in 5.18. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 18, 0)
#define fp_rx_dropped_inc(dev) atomic_long_inc(&(dev)->rx_dropped)
#define fp_tx_dropped_inc(dev) atomic_long_inc(&(dev)->tx_dropped)
#else
#define fp_rx_dropped_inc(dev) dev_core_stats_rx_dropped_inc(dev)
#define fp_tx_dropped_inc(dev) dev_core_stats_tx_dropped_inc(dev)
#endif

/* Drivers advertise what their XDP supports since 6.3. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define fp_xdp_set_features(dev) \
	((dev)->xdp_features = NETDEV_XDP_ACT_BASIC | NETDEV_XDP_ACT_REDIRECT)
#else
#define fp_xdp_set_features(dev) do { } while (0)
#endif

/* Pointing at the missing attribute in an extack came with 6.0. */
#ifndef NL_SET_ERR_ATTR_MISS
#define NL_SET_ERR_ATTR_MISS(extack, nest, type) do { } while (0)
#endif

/*
 * rtnl_link_ops.newlink() takes its arguments packed in struct
 * rtnl_newlink_params since 6.15. FP_NEWLINK_ARGS declares the
 * parameters; fp_newlink_net()/fp_newlink_tb() read them back.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
#define FP_NEWLINK_ARGS struct net_device *dev, \
	struct rtnl_newlink_params *params, struct netlink_ext_ack *extack
#define fp_newlink_net() (params->src_net)
#define fp_newlink_tb() (params->tb)
#else
#define FP_NEWLINK_ARGS struct net *src_net, struct net_device *dev, \
	struct nlattr *tb[], struct nlattr *data[], \
	struct netlink_ext_ack *extack
#define fp_newlink_net() (src_net)
#define fp_newlink_tb() (tb)
#endif

/*
 * Since 6.2 an extack holds a buffer for a formatted message
 * (NL_SET_ERR_MSG_FMT); before, _msg must point at a string that outlives
 * the request, since netlink_ack() reads it after the command returned.
 */
#ifdef NL_SET_ERR_MSG_FMT
#define FP_HAVE_EXTACK_FMT 1
#endif

/*
 * Conntrack accounting: nf_conntrack_find_get() and nf_ct_acct_add()
 * (5.7, when nf_flowtable gained counters) take the same arguments
 * from 5.15 to 6.12; the counts are unsigned int, so larger ones are
 * added in parts. Without conntrack the operation answers EOPNOTSUPP.
 */
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
#define FP_HAVE_CT 1
#endif

/*
 * flow_dissector.used_keys widened to unsigned long long in 6.6, when the
 * key ids outgrew 32 bits; BIT_ULL() fits both widths.
 */
#define FP_KEY_BIT(id) BIT_ULL(id)

#endif /* FP_KMOD_COMPAT_H */
