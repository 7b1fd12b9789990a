// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_dev.c - ppesim ports: pairs of Ethernet devices joined by a wire.
 *
 *   ip link add a type ppesim            an unpaired port (no carrier)
 *   ip link add b link a type ppesim     b joined to a
 *
 * iproute2 only parses "peer" for the kinds it knows, so the pairing rides
 * on the generic "link" attribute instead. Each port receives through a
 * NAPI queue and runs, in order, what a MediaTek GMAC does on receive: the
 * PPE (which may forward the frame itself), the XDP program, the PPE's
 * bind-on-hit check for frames XDP passed, then the stack.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/rtnetlink.h>

#include "ppe_sim.h"

#define PPESIM_RING	1024	/* frames waiting in a port's receive queue */

unsigned int ppesim_ways = 2;
module_param_named(ways, ppesim_ways, uint, 0444);
MODULE_PARM_DESC(ways, "ways per hash bucket: 2 (MT7621/MT7622) or 4 (MT7981/MT7986/MT7988)");

unsigned int ppesim_bind_hits = 1;
module_param_named(bind_hits, ppesim_bind_hits, uint, 0644);
MODULE_PARM_DESC(bind_hits, "CPU-path packets of a committed flow before the PPE binds it");

static bool indirect;
module_param(indirect, bool, 0444);
MODULE_PARM_DESC(indirect, "ports without ndo_setup_tc, reached through an indirect flow block");

struct ppesim_port {
	struct net_device *dev;
	struct net_device __rcu *peer;
	struct bpf_prog __rcu *xdp_prog;
	struct napi_struct napi;
	struct sk_buff_head rxq;
};

static const struct net_device_ops ppesim_ops;
static const struct net_device_ops ppesim_indr_ops;

bool ppesim_is_port(const struct net_device *dev)
{
	return dev->netdev_ops == &ppesim_ops ||
	       dev->netdev_ops == &ppesim_indr_ops;
}

/* @dev puts @skb on its wire: it arrives at the peer's receive queue. */
int ppesim_wire_xmit(struct net_device *dev, struct sk_buff *skb)
{
	struct ppesim_port *p = netdev_priv(dev), *pp;
	unsigned int len = skb->len;
	struct net_device *peer;

	rcu_read_lock();
	peer = rcu_dereference(p->peer);
	if (unlikely(!peer || !netif_running(peer)))
		goto drop;
	pp = netdev_priv(peer);
	if (unlikely(skb_queue_len(&pp->rxq) >= PPESIM_RING ||
		     skb_orphan_frags(skb, GFP_ATOMIC) ||
		     !is_skb_forwardable(peer, skb))) {
		fp_rx_dropped_inc(peer);
		goto drop;
	}
	skb_scrub_packet(skb, !net_eq(dev_net(dev), dev_net(peer)));
	skb->dev = peer;
	skb_queue_tail(&pp->rxq, skb);
	napi_schedule(&pp->napi);
	rcu_read_unlock();
	dev_sw_netstats_tx_add(dev, 1, len);
	return NET_XMIT_SUCCESS;

drop:
	rcu_read_unlock();
	fp_tx_dropped_inc(dev);
	kfree_skb(skb);
	return NET_XMIT_DROP;
}

static netdev_tx_t ppesim_xmit(struct sk_buff *skb, struct net_device *dev)
{
	ppesim_wire_xmit(dev, skb);
	return NETDEV_TX_OK;
}

static void ppesim_rx(struct ppesim_port *p, struct sk_buff *skb)
{
	struct net_device *dev = p->dev;
	struct bpf_prog *prog;
	struct ppe_pkt pk;
	bool candidate;
	int act = XDP_PASS;

	dev_sw_netstats_rx_add(dev, skb->len);
	candidate = !ppe_parse(skb, &pk);
	if (candidate && ppe_forward(dev, skb, &pk))
		return;

	skb->protocol = eth_type_trans(skb, dev);
	rcu_read_lock();
	prog = rcu_dereference(p->xdp_prog);
	if (prog)
		act = fp_do_xdp_generic(prog, &skb);
	rcu_read_unlock();
	if (act != XDP_PASS)
		return;

	/*
	 * As in mtk_poll_rx(): only a frame that XDP passed up reaches the
	 * bind check, so a flow that XDP redirects never binds.
	 */
	if (candidate) {
		if (pk.unbound_hit)
			ppe_cpu_path(dev, &pk);
		atomic64_inc(&ppe_cnt.to_cpu);
	}
	netif_receive_skb(skb);
}

static int ppesim_poll(struct napi_struct *napi, int budget)
{
	struct ppesim_port *p = container_of(napi, struct ppesim_port, napi);
	struct sk_buff *skb;
	int done = 0;

	while (done < budget && (skb = skb_dequeue(&p->rxq))) {
		ppesim_rx(p, skb);
		done++;
	}
	/* A frame queued after the last dequeue found NAPI still scheduled. */
	if (done < budget && napi_complete_done(napi, done) &&
	    !skb_queue_empty(&p->rxq))
		napi_schedule(napi);
	return done;
}

static int ppesim_open(struct net_device *dev)
{
	struct ppesim_port *p = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(p->peer);

	napi_enable(&p->napi);
	if (peer && (peer->flags & IFF_UP)) {
		netif_carrier_on(dev);
		netif_carrier_on(peer);
	}
	return 0;
}

static int ppesim_stop(struct net_device *dev)
{
	struct ppesim_port *p = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(p->peer);

	netif_carrier_off(dev);
	if (peer)
		netif_carrier_off(peer);
	napi_disable(&p->napi);
	skb_queue_purge(&p->rxq);
	return 0;
}

static int ppesim_init(struct net_device *dev)
{
	struct ppesim_port *p = netdev_priv(dev);

	dev->tstats = netdev_alloc_pcpu_stats(struct pcpu_sw_netstats);
	if (!dev->tstats)
		return -ENOMEM;
	p->dev = dev;
	skb_queue_head_init(&p->rxq);
	fp_napi_add(dev, &p->napi, ppesim_poll);
	return 0;
}

static void ppesim_uninit(struct net_device *dev)
{
	struct ppesim_port *p = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(p->peer);

	if (peer) {
		struct ppesim_port *pp = netdev_priv(peer);

		RCU_INIT_POINTER(pp->peer, NULL);
		RCU_INIT_POINTER(p->peer, NULL);
		netif_carrier_off(peer);
	}
	ppe_purge_dev(dev);
	netif_napi_del(&p->napi);
	skb_queue_purge(&p->rxq);
}

/* Runs after the last RCU reader that could still queue a frame is gone. */
static void ppesim_destructor(struct net_device *dev)
{
	struct ppesim_port *p = netdev_priv(dev);

	skb_queue_purge(&p->rxq);
	free_percpu(dev->tstats);
}

static int ppesim_get_iflink(const struct net_device *dev)
{
	struct ppesim_port *p = netdev_priv(dev);
	struct net_device *peer;
	int iflink;

	rcu_read_lock();
	peer = rcu_dereference(p->peer);
	iflink = peer ? peer->ifindex : 0;
	rcu_read_unlock();
	return iflink;
}

static int ppesim_bpf(struct net_device *dev, struct netdev_bpf *bpf)
{
	struct ppesim_port *p = netdev_priv(dev);
	struct bpf_prog *old;

	switch (bpf->command) {
	case XDP_SETUP_PROG:
		/* The core moved a reference into bpf->prog for us. */
		old = rtnl_dereference(p->xdp_prog);
		rcu_assign_pointer(p->xdp_prog, bpf->prog);
		if (old)
			bpf_prog_put(old);
		return 0;
	default:
		return -EINVAL;
	}
}

static const struct net_device_ops ppesim_ops = {
	.ndo_init		= ppesim_init,
	.ndo_uninit		= ppesim_uninit,
	.ndo_open		= ppesim_open,
	.ndo_stop		= ppesim_stop,
	.ndo_start_xmit		= ppesim_xmit,
	.ndo_get_stats64	= dev_get_tstats64,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_get_iflink		= ppesim_get_iflink,
	.ndo_bpf		= ppesim_bpf,
	.ndo_setup_tc		= ppesim_setup_tc,
};

/* The same port for a driver that offloads only through indirect blocks. */
static const struct net_device_ops ppesim_indr_ops = {
	.ndo_init		= ppesim_init,
	.ndo_uninit		= ppesim_uninit,
	.ndo_open		= ppesim_open,
	.ndo_stop		= ppesim_stop,
	.ndo_start_xmit		= ppesim_xmit,
	.ndo_get_stats64	= dev_get_tstats64,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_get_iflink		= ppesim_get_iflink,
	.ndo_bpf		= ppesim_bpf,
};

static void ppesim_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = indirect ? &ppesim_indr_ops : &ppesim_ops;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	/*
	 * No checksum or segmentation offload: every frame on the wire is
	 * complete, as on a real one, so the PPE and XDP see what a NIC sees.
	 */
	dev->hw_features = NETIF_F_HW_TC;
	dev->features = NETIF_F_HW_TC;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = ETH_MAX_MTU;
	dev->needs_free_netdev = true;
	dev->priv_destructor = ppesim_destructor;
	fp_xdp_set_features(dev);
	eth_hw_addr_random(dev);
}

static int ppesim_validate(struct nlattr *tb[], struct nlattr *data[],
			   struct netlink_ext_ack *extack)
{
	if (tb[IFLA_ADDRESS]) {
		if (nla_len(tb[IFLA_ADDRESS]) != ETH_ALEN ||
		    !is_valid_ether_addr(nla_data(tb[IFLA_ADDRESS]))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS],
					    "invalid Ethernet address");
			return -EADDRNOTAVAIL;
		}
	}
	return 0;
}

static int ppesim_newlink(FP_NEWLINK_ARGS)
{
	struct nlattr **attrs = fp_newlink_tb();
	struct ppesim_port *p = netdev_priv(dev), *pp;
	struct net_device *peer = NULL;
	int err;

	if (attrs[IFLA_LINK]) {
		peer = __dev_get_by_index(fp_newlink_net(),
					  nla_get_u32(attrs[IFLA_LINK]));
		if (!peer || !ppesim_is_port(peer)) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[IFLA_LINK],
					    "the link must be a ppesim port");
			return -EINVAL;
		}
		pp = netdev_priv(peer);
		if (rtnl_dereference(pp->peer)) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[IFLA_LINK],
					    "that ppesim port is already paired");
			return -EBUSY;
		}
	}

	err = register_netdevice(dev);
	if (err)
		return err;
	netif_carrier_off(dev);
	if (peer) {
		rcu_assign_pointer(p->peer, peer);
		rcu_assign_pointer(pp->peer, dev);
	}
	return 0;
}

static struct rtnl_link_ops ppesim_link_ops __read_mostly = {
	.kind		= "ppesim",
	.priv_size	= sizeof(struct ppesim_port),
	.setup		= ppesim_setup,
	.validate	= ppesim_validate,
	.newlink	= ppesim_newlink,
};

static int __init ppesim_module_init(void)
{
	int err;

	if (ppesim_ways != 2 && ppesim_ways != 4) {
		pr_err("ways=%u: a bucket has 2 or 4 ways\n", ppesim_ways);
		return -EINVAL;
	}
	err = ppe_init();
	if (err)
		return err;
	err = ppesim_offload_init(indirect);
	if (err)
		goto err_ppe;
	err = rtnl_link_register(&ppesim_link_ops);
	if (err)
		goto err_offload;
	ppesim_debugfs_init();
	pr_info("%u entries, %u-way buckets, %s offload\n", PPE_ENTRIES,
		ppesim_ways, indirect ? "indirect" : "ndo_setup_tc");
	return 0;

err_offload:
	ppesim_offload_exit(indirect);
err_ppe:
	ppe_exit();
	return err;
}

static void __exit ppesim_module_exit(void)
{
	ppesim_debugfs_exit();
	ppesim_offload_exit(indirect);
	rtnl_link_unregister(&ppesim_link_ops);
	ppe_exit();
	ppesim_offload_leak_check();
}

module_init(ppesim_module_init);
module_exit(ppesim_module_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated PPE-equipped NIC (MediaTek-like flow offload) for fastpath tests");
MODULE_ALIAS_RTNL_LINK("ppesim");
