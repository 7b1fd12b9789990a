// SPDX-License-Identifier: GPL-2.0-only
/*
 * fp_main.c - fastpath.ko: fastpath's flow table entries handed to the
 * packet processing engines of SoCs through the kernel's flow offload API
 * (DESIGN.md, "Hardware tier (kmod)"), under the daemon's lease.
 *
 * Each ingress device is bound the way nf_flowtable binds one: a flow
 * block at CLSACT ingress through ndo_setup_tc(TC_SETUP_FT), or through
 * the indirect block drivers for a device without ndo_setup_tc. Each
 * direction becomes one flow_cls_offload REPLACE on its ingress device's
 * block (cookie = the direction), withdrawn with DESTROY and polled with
 * STATS. Driver callbacks may sleep, so all three run from a workqueue.
 *
 * Nothing stays in the hardware on stale state (DESIGN.md, "Safety
 * rules", 2): the daemon renews a lease per namespace every second, and
 * when it lapses every direction of that namespace is withdrawn; and a
 * direction whose hardware counters stood still for the idle expiry is
 * withdrawn, whatever the daemon does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/netns/generic.h>
#include <net/netns/hash.h>
#include <net/pkt_cls.h>

#include "fp_kmod.h"

#define FPK_HASH_BITS	12

static unsigned int stats_interval_ms = 1000;
module_param(stats_interval_ms, uint, 0644);
MODULE_PARM_DESC(stats_interval_ms, "how often hardware counters are read (ms)");

static unsigned int idle_timeout_s = 300;
module_param(idle_timeout_s, uint, 0644);
MODULE_PARM_DESC(idle_timeout_s,
		 "withdraw a direction whose hardware counters stood still this long (s, 0 = never); FP_CMD_LEASE sets it per namespace");

/*
 * How long FLOW_ADD waits for the driver's answer. It waits holding
 * genl_mutex, which every generic netlink family shares, so the wait is
 * bounded (and a fatal signal ends it).
 */
#define FPK_ADD_WAIT_MS	5000

DEFINE_MUTEX(fpk_lock);
atomic_t fpk_live[FPK_OBJ_MAX];
static LIST_HEAD(fpk_devs);
static DEFINE_HASHTABLE(fpk_flows, FPK_HASH_BITS);

/* REPLACE and DESTROY waiting for the workqueue, in order. */
struct fpk_op {
	struct list_head list;
	struct fpk_flow *flow;
	enum flow_cls_command cmd;
	struct fpk_waiter *waiter;	/* FLOW_ADD waiting for the result */
};

/* On the stack of a FLOW_ADD: the driver's answer to its REPLACE. */
struct fpk_waiter {
	struct completion done;
	int err;
	char msg[FPK_MSG_LEN];
};
static LIST_HEAD(fpk_ops);

static struct workqueue_struct *fpk_wq;
static void fpk_op_work_fn(struct work_struct *work);
static DECLARE_WORK(fpk_op_work, fpk_op_work_fn);
static void fpk_stats_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(fpk_stats_work, fpk_stats_work_fn);

static void fpk_indr_cleanup(struct flow_block_cb *block_cb);

static unsigned int fpk_net_id __read_mostly;

static struct fpk_net *fpk_net(struct net *net)
{
	return net_generic(net, fpk_net_id);
}

static bool fpk_lease_lapsed(const struct fpk_net *fn)
{
	return fn->lease_ms &&
	       (fn->lapsed || time_after_eq(jiffies, fn->lease_expires));
}

static u32 fpk_idle_s(const struct fpk_net *fn)
{
	return fn->idle_set ? fn->idle_s : READ_ONCE(idle_timeout_s);
}

/* Devices */

static struct fpk_dev *fpk_dev_find(struct net *net, int ifindex)
{
	struct fpk_dev *fd;

	list_for_each_entry(fd, &fpk_devs, list)
		if (fd->ifindex == ifindex && net_eq(read_pnet(&fd->net), net))
			return fd;
	return NULL;
}

static void fpk_bo_init(struct flow_block_offload *bo, struct fpk_dev *fd,
			struct net_device *dev, enum flow_block_command cmd,
			struct netlink_ext_ack *extack)
{
	memset(bo, 0, sizeof(*bo));
	bo->net = dev_net(dev);
	bo->block = &fd->block;
	bo->command = cmd;
	bo->binder_type = FLOW_BLOCK_BINDER_TYPE_CLSACT_INGRESS;
	bo->extack = extack;
	/* where a later indirect driver's replay adds its callbacks */
	bo->cb_list_head = &fd->block.cb_list;
	INIT_LIST_HEAD(&bo->cb_list);
}

static int fpk_indr_cmd(struct fpk_dev *fd, struct net_device *dev,
			enum flow_block_command cmd, struct netlink_ext_ack *extack,
			struct flow_block_offload *bo)
{
	fpk_bo_init(bo, fd, dev, cmd, extack);
	return flow_indr_dev_setup_offload(dev, NULL, TC_SETUP_FT, fd, bo,
					   fpk_indr_cleanup);
}

static void fpk_free_cbs(struct list_head *cbs)
{
	struct flow_block_cb *block_cb, *next;

	list_for_each_entry_safe(block_cb, next, cbs, list) {
		list_del(&block_cb->list);
		flow_block_cb_free(block_cb);
	}
}

static int fpk_dev_bind(struct fpk_dev *fd, struct net_device *dev,
			struct netlink_ext_ack *extack)
{
	struct flow_block_offload bo;
	u8 how;
	int err;

	flow_block_init(&fd->block);
	if (dev->netdev_ops->ndo_setup_tc) {
		how = FP_BIND_DIRECT;
		fpk_bo_init(&bo, fd, dev, FLOW_BLOCK_BIND, extack);
		err = dev->netdev_ops->ndo_setup_tc(dev, TC_SETUP_FT, &bo);
	} else {
		how = FP_BIND_INDIRECT;
		err = fpk_indr_cmd(fd, dev, FLOW_BLOCK_BIND, extack, &bo);
	}
	if (err >= 0 && list_empty(&bo.cb_list))
		err = -EOPNOTSUPP;
	if (err < 0) {
		fpk_free_cbs(&bo.cb_list);
		/* The core remembers every indirect bind until its unbind. */
		if (how == FP_BIND_INDIRECT) {
			fpk_indr_cmd(fd, dev, FLOW_BLOCK_UNBIND, NULL, &bo);
			fpk_free_cbs(&bo.cb_list);
		}
		return err;
	}
	list_splice(&bo.cb_list, &fd->block.cb_list);
	fd->bind = how;
	return 0;
}

static void fpk_dev_unbind(struct fpk_dev *fd)
{
	struct net_device *dev = fd->dev;
	struct flow_block_offload bo;

	if (!fd->bind)
		return;
	if (fd->bind == FP_BIND_DIRECT) {
		fpk_bo_init(&bo, fd, dev, FLOW_BLOCK_UNBIND, NULL);
		dev->netdev_ops->ndo_setup_tc(dev, TC_SETUP_FT, &bo);
	} else {
		fpk_indr_cmd(fd, dev, FLOW_BLOCK_UNBIND, NULL, &bo);
	}
	fpk_free_cbs(&bo.cb_list);
	if (!list_empty(&fd->block.cb_list))
		pr_warn("%s: driver kept callbacks in an unbound block\n",
			dev->name);
	fd->bind = FP_BIND_NONE;
	fd->dev = NULL;
	fp_dev_put(dev, &fd->tracker);
}

static void fpk_dev_describe(struct fpk_dev *fd, struct net_device *dev)
{
	const struct device_driver *drv;

	strscpy(fd->name, dev->name, sizeof(fd->name));
	drv = dev->dev.parent ? dev->dev.parent->driver : NULL;
	if (drv)
		strscpy(fd->driver, drv->name, sizeof(fd->driver));
	else if (dev->rtnl_link_ops)
		strscpy(fd->driver, dev->rtnl_link_ops->kind, sizeof(fd->driver));
	else
		fd->driver[0] = '\0';
}

/*
 * The entry of device @ifindex, bound to our block if @bind and the driver
 * lets us. When it cannot be bound, fd->bind is FP_BIND_NONE and fd->err
 * says why. NULL when the device was never seen and does not exist now.
 */
struct fpk_dev *fpk_dev_probe(struct net *net, int ifindex, bool bind,
			      struct netlink_ext_ack *extack)
{
	struct net_device *dev;
	struct fpk_dev *fd;
	int err;

	lockdep_assert_held(&fpk_lock);
	fd = fpk_dev_find(net, ifindex);
	if (fd && (fd->bind || !bind))
		return fd;
	dev = dev_get_by_index(net, ifindex);
	if (!dev) {
		if (fd)
			fd->err = -ENODEV;
		return fd;
	}
	if (!fd) {
		fd = fpk_zalloc(sizeof(*fd), FPK_OBJ_DEV);
		if (!fd)
			goto out;
		write_pnet(&fd->net, net);
		fd->ifindex = ifindex;
		fd->err = -EAGAIN;
		flow_block_init(&fd->block);
		list_add_tail(&fd->list, &fpk_devs);
	}
	fpk_dev_describe(fd, dev);
	if (!bind)
		goto out;
	/*
	 * A device past its NETDEV_UNREGISTER (or DOWN) notification must not
	 * be bound: nothing would unbind it, and its unregistration would wait
	 * for our reference forever. The notifier takes fpk_lock, which we
	 * hold, so the state cannot change under us.
	 */
	if (dev->reg_state != NETREG_REGISTERED)
		err = -ENODEV;
	else if (!netif_running(dev))
		err = -ENETDOWN;
	else
		err = fpk_dev_bind(fd, dev, extack);
	fd->err = err;
	if (!err) {
		fd->dev = dev;
		fp_dev_hold(dev, &fd->tracker, GFP_KERNEL);
	}
out:
	dev_put(dev);
	return fd;
}

struct fpk_dev *fpk_dev_at(struct net *net, long idx)
{
	struct fpk_dev *fd;

	lockdep_assert_held(&fpk_lock);
	list_for_each_entry(fd, &fpk_devs, list) {
		if (!net_eq(read_pnet(&fd->net), net))
			continue;
		if (idx-- == 0)
			return fd;
	}
	return NULL;
}

/* Flows */

static u32 fpk_key_hash(struct net *net, const struct fp_flow_key *k)
{
	return jhash2((const u32 *)k, sizeof(*k) / sizeof(u32), net_hash_mix(net));
}

static struct fpk_flow *fpk_flow_find(struct net *net, const struct fp_flow_key *k)
{
	struct fpk_flow *fl;

	hash_for_each_possible(fpk_flows, fl, node, fpk_key_hash(net, k))
		if (net_eq(read_pnet(&fl->net), net) &&
		    !memcmp(&fl->key, k, sizeof(*k)))
			return fl;
	return NULL;
}

struct fpk_flow *fpk_flow_at(struct net *net, long *bkt, long *idx)
{
	struct fpk_flow *fl;
	long i;

	lockdep_assert_held(&fpk_lock);
	for (; *bkt < HASH_SIZE(fpk_flows); (*bkt)++, *idx = 0) {
		i = 0;
		hlist_for_each_entry(fl, &fpk_flows[*bkt], node) {
			if (!net_eq(read_pnet(&fl->net), net))
				continue;
			if (i++ == *idx) {
				(*idx)++;
				return fl;
			}
		}
	}
	return NULL;
}

static void fpk_flow_release(struct kref *ref)
{
	fpk_free(container_of(ref, struct fpk_flow, ref), FPK_OBJ_FLOW);
}

/* Calls every driver callback of the flow's ingress block with @cmd. */
static int fpk_flow_cls(struct fpk_flow *fl, enum flow_cls_command cmd,
			struct flow_rule *rule, struct flow_stats *stats,
			struct netlink_ext_ack *extack)
{
	struct flow_cls_offload cls = {};
	struct flow_block_cb *block_cb;
	int err, first_err = 0, ok = 0;

	/* As nf_flowtable: every protocol, the cookie names the direction. */
	cls.common.protocol = htons(ETH_P_ALL);
	cls.common.extack = extack;
	cls.command = cmd;
	cls.cookie = (unsigned long)fl;
	cls.rule = rule;
	list_for_each_entry(block_cb, &fl->idev->block.cb_list, list) {
		err = block_cb->cb(TC_SETUP_CLSFLOWER, &cls, block_cb->cb_priv);
		if (err < 0) {
			if (!first_err)
				first_err = err;
			continue;
		}
		ok++;
	}
	if (stats)
		*stats = cls.stats;
	if (ok)
		return 0;
	return first_err ?: -EOPNOTSUPP;
}

static void fpk_flow_hw_destroy(struct fpk_flow *fl)
{
	if (!fl->in_hw)
		return;
	fpk_flow_cls(fl, FLOW_CLS_DESTROY, NULL, NULL, NULL);
	fl->in_hw = false;
}

static void fpk_flow_unlink(struct fpk_flow *fl)
{
	if (!fl->linked)
		return;
	hash_del(&fl->node);
	fl->linked = false;
	fl->idev->flows--;
	kref_put(&fl->ref, fpk_flow_release);
}

static int fpk_queue_op(struct fpk_flow *fl, enum flow_cls_command cmd,
			struct fpk_waiter *waiter)
{
	struct fpk_op *op = fpk_zalloc(sizeof(*op), FPK_OBJ_OP);

	if (!op)
		return -ENOMEM;
	op->flow = fl;
	op->cmd = cmd;
	op->waiter = waiter;
	kref_get(&fl->ref);
	list_add_tail(&op->list, &fpk_ops);
	queue_work(fpk_wq, &fpk_op_work);
	return 0;
}

static int fpk_op_replace(struct fpk_flow *fl)
{
	struct netlink_ext_ack extack = {};
	struct fpk_rule *r;
	int err;

	if (!fl->linked)
		return -ENOENT;	/* withdrawn before its turn */
	r = fpk_rule_build(read_pnet(&fl->net), fl, &err);
	if (r) {
		err = fpk_flow_cls(fl, FLOW_CLS_REPLACE, fpk_rule_get(r), NULL,
				   &extack);
		fpk_rule_free(r);
	}
	if (err) {
		fl->state = FP_HW_FAILED;
		fl->err = err;
		strscpy(fl->msg, extack._msg ?: "", sizeof(fl->msg));
		return err;
	}
	fl->state = FP_HW_OFFLOADED;
	fl->in_hw = true;
	fl->moved = jiffies;
	return 0;
}

static void fpk_op_work_fn(struct work_struct *work)
{
	struct fpk_op *op;
	int err = 0;

	mutex_lock(&fpk_lock);
	while ((op = list_first_entry_or_null(&fpk_ops, struct fpk_op, list))) {
		list_del(&op->list);
		if (op->cmd == FLOW_CLS_REPLACE)
			err = fpk_op_replace(op->flow);
		else
			fpk_flow_hw_destroy(op->flow);
		if (op->waiter) {
			/* A refused direction leaves with the answer. */
			if (err)
				fpk_flow_unlink(op->flow);
			op->waiter->err = err;
			strscpy(op->waiter->msg, op->flow->msg, sizeof(op->waiter->msg));
			complete(&op->waiter->done);
		}
		kref_put(&op->flow->ref, fpk_flow_release);
		fpk_free(op, FPK_OBJ_OP);
	}
	mutex_unlock(&fpk_lock);
}

/*
 * Runs the withdrawals still queued for flows entering @fd, before its
 * block loses the driver's callbacks: a direction deleted just before
 * (FLOW_DEL queues its DESTROY) would otherwise find nobody to remove it
 * and stay in the hardware. The notifier that unbinds a device going down
 * can run right after the daemon deleted that device's flows.
 */
static void fpk_ops_flush_dev(struct fpk_dev *fd)
{
	struct fpk_op *op, *tmp;

	lockdep_assert_held(&fpk_lock);
	list_for_each_entry_safe(op, tmp, &fpk_ops, list) {
		if (op->flow->idev != fd || op->cmd != FLOW_CLS_DESTROY)
			continue;
		list_del(&op->list);
		fpk_flow_hw_destroy(op->flow);
		if (op->waiter) {
			op->waiter->err = 0;
			complete(&op->waiter->done);
		}
		kref_put(&op->flow->ref, fpk_flow_release);
		fpk_free(op, FPK_OBJ_OP);
	}
}

/*
 * Drivers report counters since their last report (MediaTek's MIB reads
 * clear), so they add up here. A direction the hardware has forwarded
 * packets of is bound.
 */
static void fpk_stats_work_fn(struct work_struct *work)
{
	struct hlist_node *tmp;
	struct flow_stats st;
	struct fpk_flow *fl;
	u32 idle;
	int bkt;

	mutex_lock(&fpk_lock);
	hash_for_each_safe(fpk_flows, bkt, tmp, fl, node) {
		if (!fl->in_hw)
			continue;
		memset(&st, 0, sizeof(st));
		if (!fpk_flow_cls(fl, FLOW_CLS_STATS, NULL, &st, NULL)) {
			fl->packets += st.pkts;
			fl->bytes += st.bytes;
			if (st.pkts)
				fl->moved = jiffies;
			if (st.lastused &&
			    time_after((unsigned long)st.lastused, fl->lastused))
				fl->lastused = st.lastused;
			if (fl->packets && fl->state == FP_HW_OFFLOADED)
				fl->state = FP_HW_BOUND;
		}
		/*
		 * Idle expiry: a rule nobody uses, or that the daemon forgot,
		 * leaves the hardware. The daemon notices it gone on its next
		 * tick and carries the connection on a lower tier.
		 */
		idle = min(fpk_idle_s(fpk_net(read_pnet(&fl->net))), FP_IDLE_S_MAX);
		if (idle && time_after(jiffies, fl->moved + (unsigned long)idle * HZ)) {
			fpk_flow_hw_destroy(fl);
			fpk_flow_unlink(fl);
		}
	}
	mutex_unlock(&fpk_lock);
	queue_delayed_work(fpk_wq, &fpk_stats_work,
			   msecs_to_jiffies(max(stats_interval_ms, 10U)));
}

/*
 * The egress must be up: NETDEV_DOWN withdraws the flows through a device
 * under fpk_lock, so a flow added after it would stay in the hardware,
 * forwarding with NAT that conntrack may already have forgotten.
 */
static int fpk_egress_check(struct net *net, int oif, struct netlink_ext_ack *extack)
{
	struct net_device *dev = dev_get_by_index(net, oif);
	int err = 0;

	if (!dev) {
		NL_SET_ERR_MSG(extack, "no such egress device");
		return -ENODEV;
	}
	if (!netif_running(dev)) {
		NL_SET_ERR_MSG(extack, "the egress device is down");
		err = -ENETDOWN;
	}
	dev_put(dev);
	return err;
}

/*
 * The driver's message with a refused FLOW_ADD, for the request's extack.
 * netlink_ack() reads extack->_msg after the command has returned and
 * genl_mutex is released, so the text can live neither on our stack nor
 * in a buffer the next request overwrites. Since 6.2 the extack carries a
 * buffer of its own (NL_SET_ERR_MSG_FMT): the text goes there, with the
 * request. Before, each distinct text is kept once, never changed, until
 * unload; drivers' messages are literals, so there are few of them.
 */
#ifndef FP_HAVE_EXTACK_FMT
#define FPK_MSGS_MAX	32
static const char *fpk_msgs[FPK_MSGS_MAX];

static const char *fpk_msg_intern(const char *msg)
{
	size_t len = strlen(msg) + 1;
	char *p;
	int i;

	lockdep_assert_held(&fpk_lock);
	for (i = 0; i < FPK_MSGS_MAX && fpk_msgs[i]; i++)
		if (!strcmp(fpk_msgs[i], msg))
			return fpk_msgs[i];
	if (i == FPK_MSGS_MAX)
		return NULL;
	p = fpk_zalloc(len, FPK_OBJ_MSG);
	if (p)
		memcpy(p, msg, len);
	fpk_msgs[i] = p;
	return p;
}

static void fpk_msgs_free(void)
{
	int i;

	for (i = 0; i < FPK_MSGS_MAX; i++) {
		fpk_free((void *)fpk_msgs[i], FPK_OBJ_MSG);
		fpk_msgs[i] = NULL;
	}
}
#else
static void fpk_msgs_free(void)
{
}
#endif

static void fpk_set_msg(struct netlink_ext_ack *extack, const char *msg)
{
	lockdep_assert_held(&fpk_lock);
	if (!extack || !msg[0])
		return;
#ifdef FP_HAVE_EXTACK_FMT
	NL_SET_ERR_MSG_FMT(extack, "%s", msg);
#else
	extack->_msg = fpk_msg_intern(msg);
	if (!extack->_msg)
		NL_SET_ERR_MSG(extack, "the driver refused the rule");
#endif
}

/*
 * A FLOW_ADD gave up waiting: its REPLACE is still queued (the work takes
 * an op off the list and completes its waiter under fpk_lock). The op
 * forgets the waiter, whose stack goes away, and the direction leaves
 * the table, so the REPLACE will not run.
 */
static void fpk_op_cancel(struct fpk_waiter *w)
{
	struct fpk_op *op;

	lockdep_assert_held(&fpk_lock);
	list_for_each_entry(op, &fpk_ops, list) {
		if (op->waiter != w)
			continue;
		op->waiter = NULL;
		fpk_flow_unlink(op->flow);
		return;
	}
	WARN_ONCE(1, "a FLOW_ADD waiter is neither completed nor queued\n");
}

int fpk_flow_add(struct net *net, const struct fp_flow_key *k,
		 const struct fp_flow *v, struct netlink_ext_ack *extack)
{
	struct fpk_waiter w;
	struct fpk_flow *fl;
	struct fpk_dev *fd;
	long left;
	int err;

	if (k->pppoe_sid) {
		NL_SET_ERR_MSG(extack, "an ingress PPPoE session cannot be matched in a flow_rule");
		return -EOPNOTSUPP;
	}

	mutex_lock(&fpk_lock);
	if (fpk_lease_lapsed(fpk_net(net))) {
		NL_SET_ERR_MSG(extack, "the lease has lapsed: renew it (FP_CMD_LEASE) first");
		err = -EKEYEXPIRED;
		goto out;
	}
	if (fpk_flow_find(net, k)) {
		NL_SET_ERR_MSG(extack, "the direction is already offloaded");
		err = -EEXIST;
		goto out;
	}
	err = fpk_egress_check(net, v->oif, extack);
	if (err)
		goto out;
	fd = fpk_dev_probe(net, k->ifindex, true, extack);
	if (!fd || !fd->bind) {
		if (!fd)
			NL_SET_ERR_MSG(extack, "no such ingress device");
		else if (!extack || !extack->_msg)
			NL_SET_ERR_MSG(extack, "the ingress device offers no flow offload");
		err = fd ? fd->err : -ENODEV;
		goto out;
	}
	fl = fpk_zalloc(sizeof(*fl), FPK_OBJ_FLOW);
	if (!fl) {
		err = -ENOMEM;
		goto out;
	}
	kref_init(&fl->ref);
	write_pnet(&fl->net, net);
	fl->key = *k;
	fl->val = *v;
	fl->idev = fd;
	fl->state = FP_HW_QUEUED;
	fl->linked = true;
	fd->flows++;
	hash_add(fpk_flows, &fl->node, fpk_key_hash(net, k));
	init_completion(&w.done);
	err = fpk_queue_op(fl, FLOW_CLS_REPLACE, &w);
	if (err) {
		fpk_flow_unlink(fl);
		goto out;
	}
	mutex_unlock(&fpk_lock);

	/*
	 * The REPLACE runs on the workqueue like every driver call; the
	 * caller waits for it, so a refusal comes back as the answer, with
	 * the driver's message.
	 */
	left = wait_for_completion_killable_timeout(&w.done,
						    msecs_to_jiffies(FPK_ADD_WAIT_MS));
	mutex_lock(&fpk_lock);
	if (left <= 0 && !completion_done(&w.done)) {
		fpk_op_cancel(&w);
		if (left) {
			err = -EINTR;
		} else {
			NL_SET_ERR_MSG(extack, "the driver did not answer in time; the direction is withdrawn");
			err = -ETIMEDOUT;
		}
	} else {
		err = w.err;
		if (err)
			fpk_set_msg(extack, w.msg);
	}
out:
	mutex_unlock(&fpk_lock);
	return err;
}

int fpk_flow_del(struct net *net, const struct fp_flow_key *k)
{
	struct fpk_flow *fl;
	int err = 0;

	mutex_lock(&fpk_lock);
	fl = fpk_flow_find(net, k);
	if (!fl) {
		err = -ENOENT;
		goto out;
	}
	/* Out of memory for the op: withdraw it right here instead. */
	if (fpk_queue_op(fl, FLOW_CLS_DESTROY, NULL))
		fpk_flow_hw_destroy(fl);
	fpk_flow_unlink(fl);
out:
	mutex_unlock(&fpk_lock);
	return err;
}

/*
 * Withdraws every flow through @dev (as ingress or egress) at once, or
 * every flow of @net when @ifindex is 0; returns how many.
 */
static int fpk_flows_drop(struct net *net, int ifindex, struct fpk_dev *fd)
{
	struct hlist_node *tmp;
	struct fpk_flow *fl;
	int bkt, n = 0;

	lockdep_assert_held(&fpk_lock);
	hash_for_each_safe(fpk_flows, bkt, tmp, fl, node) {
		if (!net_eq(read_pnet(&fl->net), net))
			continue;
		if (ifindex && fl->idev != fd && (int)fl->val.oif != ifindex)
			continue;
		fpk_flow_hw_destroy(fl);
		fpk_flow_unlink(fl);
		n++;
	}
	return n;
}

void fpk_flush(struct net *net)
{
	struct fpk_dev *fd, *tmp;

	mutex_lock(&fpk_lock);
	fpk_flows_drop(net, 0, NULL);
	list_for_each_entry_safe(fd, tmp, &fpk_devs, list) {
		if (!net_eq(read_pnet(&fd->net), net))
			continue;
		fpk_ops_flush_dev(fd);
		fpk_dev_unbind(fd);
		list_del(&fd->list);
		fpk_free(fd, FPK_OBJ_DEV);
	}
	mutex_unlock(&fpk_lock);
}

/*
 * The lease lapsed: the daemon died, hangs or was stopped. Its directions
 * leave the hardware now, before conntrack can forget their NAT while the
 * hardware still applies it; their packets meet the slow path again.
 */
static void fpk_lease_work_fn(struct work_struct *work)
{
	struct fpk_net *fn = container_of(to_delayed_work(work), struct fpk_net,
					  lease_work);
	int n;

	mutex_lock(&fpk_lock);
	if (fpk_lease_lapsed(fn) && !fn->lapsed) {
		n = fpk_flows_drop(fn->net, 0, NULL);
		fn->lapsed = true;
		fn->lapses++;
		pr_warn("the lease (%u ms) lapsed: withdrew %d directions\n",
			fn->lease_ms, n);
	}
	mutex_unlock(&fpk_lock);
}

/*
 * FP_CMD_LEASE: renew (or end, with 0) the lease of @net when @lease_ms is
 * given, set its idle expiry when @idle_s is, and report both.
 */
int fpk_lease_set(struct net *net, const u32 *lease_ms, const u32 *idle_s,
		  struct fpk_lease_info *info, struct netlink_ext_ack *extack)
{
	struct fpk_net *fn = fpk_net(net);

	if (lease_ms && *lease_ms &&
	    (*lease_ms < FP_LEASE_MS_MIN || *lease_ms > FP_LEASE_MS_MAX)) {
		NL_SET_ERR_MSG(extack, "a lease lasts 100 ms to 1 hour (0 ends it)");
		return -ERANGE;
	}
	if (idle_s && *idle_s > FP_IDLE_S_MAX) {
		NL_SET_ERR_MSG(extack, "the idle expiry is at most one day (0: never)");
		return -ERANGE;
	}
	mutex_lock(&fpk_lock);
	if (lease_ms) {
		fn->lease_ms = *lease_ms;
		fn->lapsed = false;
		if (*lease_ms) {
			fn->lease_expires = jiffies + msecs_to_jiffies(*lease_ms);
			mod_delayed_work(fpk_wq, &fn->lease_work,
					 msecs_to_jiffies(*lease_ms));
		} else {
			/* not _sync: the work takes fpk_lock, and finds no lease */
			cancel_delayed_work(&fn->lease_work);
		}
	}
	if (idle_s) {
		fn->idle_s = *idle_s;
		fn->idle_set = true;
	}
	info->lease_ms = fn->lease_ms;
	info->left_ms = 0;
	if (fn->lease_ms && !fpk_lease_lapsed(fn))
		info->left_ms = jiffies_to_msecs(fn->lease_expires - jiffies);
	info->lapses = fn->lapses;
	info->idle_s = fpk_idle_s(fn);
	mutex_unlock(&fpk_lock);
	return 0;
}

static void fpk_dev_gone(struct net_device *dev, bool unregister)
{
	struct net *net = dev_net(dev);
	struct fpk_dev *fd;

	lockdep_assert_held(&fpk_lock);
	fd = fpk_dev_find(net, dev->ifindex);
	fpk_flows_drop(net, dev->ifindex, fd);
	if (!fd)
		return;
	fpk_ops_flush_dev(fd);
	fpk_dev_unbind(fd);
	fd->err = unregister ? -ENODEV : -ENETDOWN;
	if (unregister) {
		list_del(&fd->list);
		fpk_free(fd, FPK_OBJ_DEV);
	}
}

/*
 * An indirect driver is going away (flow_indr_dev_unregister): its
 * callback leaves our block, after the flows it holds are withdrawn.
 */
static void fpk_indr_cleanup(struct flow_block_cb *block_cb)
{
	struct fpk_dev *fd = block_cb->indr.data;
	struct flow_block_offload bo;
	struct net_device *dev;

	mutex_lock(&fpk_lock);
	fpk_flows_drop(read_pnet(&fd->net), fd->ifindex, fd);
	fpk_ops_flush_dev(fd);
	list_del(&block_cb->list);
	list_del(&block_cb->driver_list);
	flow_block_cb_free(block_cb);
	if (list_empty(&fd->block.cb_list) && fd->bind) {
		dev = fd->dev;
		/* forget the bind record the core keeps for replays */
		fpk_indr_cmd(fd, dev, FLOW_BLOCK_UNBIND, NULL, &bo);
		fpk_free_cbs(&bo.cb_list);
		fd->bind = FP_BIND_NONE;
		fd->err = -EOPNOTSUPP;
		fd->dev = NULL;
		fp_dev_put(dev, &fd->tracker);
	}
	mutex_unlock(&fpk_lock);
}

static int fpk_netdev_event(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event != NETDEV_DOWN && event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	mutex_lock(&fpk_lock);
	fpk_dev_gone(dev, event == NETDEV_UNREGISTER);
	mutex_unlock(&fpk_lock);
	return NOTIFY_DONE;
}

static struct notifier_block fpk_netdev_nb = {
	.notifier_call = fpk_netdev_event,
};

static void fpk_cleanup_all(void)
{
	struct fpk_dev *fd, *tmp;
	struct hlist_node *htmp;
	struct fpk_flow *fl;
	int bkt;

	mutex_lock(&fpk_lock);
	hash_for_each_safe(fpk_flows, bkt, htmp, fl, node) {
		fpk_flow_hw_destroy(fl);
		fpk_flow_unlink(fl);
	}
	list_for_each_entry_safe(fd, tmp, &fpk_devs, list) {
		fpk_ops_flush_dev(fd);
		fpk_dev_unbind(fd);
		list_del(&fd->list);
		fpk_free(fd, FPK_OBJ_DEV);
	}
	mutex_unlock(&fpk_lock);
}

static int __net_init fpk_net_init(struct net *net)
{
	struct fpk_net *fn = fpk_net(net);

	fn->net = net;
	INIT_DELAYED_WORK(&fn->lease_work, fpk_lease_work_fn);
	return 0;
}

/* The namespace's devices, and so its flows, are gone already. */
static void __net_exit fpk_net_exit(struct net *net)
{
	cancel_delayed_work_sync(&fpk_net(net)->lease_work);
}

static struct pernet_operations fpk_net_ops = {
	.init	= fpk_net_init,
	.exit	= fpk_net_exit,
	.id	= &fpk_net_id,
	.size	= sizeof(struct fpk_net),
};

static void fpk_leak_check(void)
{
	static const char *const names[FPK_OBJ_MAX] = {
		[FPK_OBJ_DEV] = "devices", [FPK_OBJ_FLOW] = "flows",
		[FPK_OBJ_OP] = "operations", [FPK_OBJ_RULE] = "rules",
		[FPK_OBJ_MSG] = "messages",
	};
	int i, n;

	for (i = 0; i < FPK_OBJ_MAX; i++) {
		n = atomic_read(&fpk_live[i]);
		if (n)
			pr_err("leaked %d %s\n", n, names[i]);
	}
}

static int __init fpk_init(void)
{
	int err;

	fpk_wq = alloc_ordered_workqueue("fastpath", 0);
	if (!fpk_wq)
		return -ENOMEM;
	err = register_pernet_subsys(&fpk_net_ops);
	if (err)
		goto err_wq;
	err = register_netdevice_notifier(&fpk_netdev_nb);
	if (err)
		goto err_pernet;
	err = fpk_genl_init();
	if (err)
		goto err_notifier;
	queue_delayed_work(fpk_wq, &fpk_stats_work,
			   msecs_to_jiffies(stats_interval_ms));
	pr_info("generic netlink family \"%s\" ready\n", FP_GENL_NAME);
	return 0;

err_notifier:
	unregister_netdevice_notifier(&fpk_netdev_nb);
err_pernet:
	unregister_pernet_subsys(&fpk_net_ops);
err_wq:
	destroy_workqueue(fpk_wq);
	return err;
}

static void __exit fpk_exit(void)
{
	fpk_genl_exit();
	/* no renewal can come now: each lease work is cancelled */
	unregister_pernet_subsys(&fpk_net_ops);
	cancel_delayed_work_sync(&fpk_stats_work);
	flush_workqueue(fpk_wq);
	/* The ops are done: what is left is linked or bound. */
	fpk_cleanup_all();
	unregister_netdevice_notifier(&fpk_netdev_nb);
	destroy_workqueue(fpk_wq);
	fpk_msgs_free();
	fpk_leak_check();
}

module_init(fpk_init);
module_exit(fpk_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("fastpath companion: flow offload to SoC packet engines (TC_SETUP_FT), conntrack accounting");
