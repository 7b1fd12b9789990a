// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_debugfs.c - /sys/kernel/debug/ppe_sim/:
 *   table   every used entry, one line of key=value pairs
 *   stats   table use and counters
 *   rules   the canonical text of the last REPLACE rules; a write clears it
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/if_vlan.h>
#include <linux/jiffies.h>
#include <linux/seq_file.h>

#include "ppe_sim.h"

static struct dentry *sim_dir;

static const char *const sim_state_names[] = {
	[PPE_FREE] = "free",
	[PPE_UNBIND] = "unbind",
	[PPE_BIND] = "bind",
};

static void sim_show_tuple(struct seq_file *m, u8 family,
			   const struct ppe_tuple *t)
{
	if (family == AF_INET)
		seq_printf(m, "%pI4:%u->%pI4:%u", &t->src[0], ntohs(t->sport),
			   &t->dst[0], ntohs(t->dport));
	else
		seq_printf(m, "[%pI6c]:%u->[%pI6c]:%u", t->src, ntohs(t->sport),
			   t->dst, ntohs(t->dport));
}

static int sim_table_show(struct seq_file *m, void *v)
{
	unsigned int i;

	spin_lock_bh(&ppe_lock);
	for (i = 0; i < PPE_ENTRIES; i++) {
		const struct ppe_entry *e = &ppe_table[i];

		if (e->state == PPE_FREE)
			continue;
		seq_printf(m, "hash=%u way=%u state=%s type=%s proto=%s in=%s orig=",
			   e->hash, i - e->hash, sim_state_names[e->state],
			   ppe_type_name(e->type),
			   e->l4proto == IPPROTO_TCP ? "tcp" : "udp",
			   e->idev->name);
		sim_show_tuple(m, e->family, &e->orig);
		seq_puts(m, " new=");
		sim_show_tuple(m, e->family, &e->new);
		seq_printf(m, " out=%s smac=%pM dmac=%pM vlan_in=%u vlan_out=%u pppoe_out=%u",
			   e->odev->name, e->h_source, e->h_dest,
			   e->in_vlan & VLAN_VID_MASK, e->out_vlan & VLAN_VID_MASK,
			   e->out_pppoe_push ? e->out_pppoe : 0);
		seq_printf(m, " packets=%llu bytes=%llu hits=%u idle_ms=%u\n",
			   e->packets, e->bytes, e->hits,
			   jiffies_to_msecs(jiffies - (e->last_hit ?: e->created)));
	}
	spin_unlock_bh(&ppe_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_table);

static int sim_stats_show(struct seq_file *m, void *v)
{
	unsigned int i, used = 0, bound = 0;

	spin_lock_bh(&ppe_lock);
	for (i = 0; i < PPE_ENTRIES; i++) {
		used += ppe_table[i].state != PPE_FREE;
		bound += ppe_table[i].state == PPE_BIND;
	}
	spin_unlock_bh(&ppe_lock);
	seq_printf(m, "entries=%u ways=%u bind_hits=%u used=%u bound=%u\n",
		   PPE_ENTRIES, ppesim_ways, ppesim_bind_hits, used, bound);
	seq_printf(m, "forwarded=%lld to_cpu=%lld binds=%lld rules_ok=%lld rules_rejected=%lld bucket_full=%lld\n",
		   atomic64_read(&ppe_cnt.forwarded), atomic64_read(&ppe_cnt.to_cpu),
		   atomic64_read(&ppe_cnt.binds), atomic64_read(&ppe_cnt.rules_ok),
		   atomic64_read(&ppe_cnt.rules_rejected),
		   atomic64_read(&ppe_cnt.bucket_full));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_stats);

static int sim_rules_seq_show(struct seq_file *m, void *v)
{
	return ppesim_rules_show(m);
}

static int sim_rules_open(struct inode *inode, struct file *file)
{
	return single_open(file, sim_rules_seq_show, inode->i_private);
}

static ssize_t sim_rules_write(struct file *file, const char __user *buf,
			       size_t count, loff_t *ppos)
{
	ppesim_rules_clear();
	return count;
}

static const struct file_operations sim_rules_fops = {
	.owner		= THIS_MODULE,
	.open		= sim_rules_open,
	.read		= seq_read,
	.write		= sim_rules_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

int ppesim_debugfs_init(void)
{
	sim_dir = debugfs_create_dir("ppe_sim", NULL);
	debugfs_create_file("table", 0400, sim_dir, NULL, &sim_table_fops);
	debugfs_create_file("stats", 0400, sim_dir, NULL, &sim_stats_fops);
	debugfs_create_file("rules", 0600, sim_dir, NULL, &sim_rules_fops);
	return 0;
}

void ppesim_debugfs_exit(void)
{
	debugfs_remove_recursive(sim_dir);
}
