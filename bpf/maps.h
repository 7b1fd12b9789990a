/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * maps.h - the datapath's maps. All are pinned by name under
 * /sys/fs/bpf/fastpath, so a restarted daemon or CLI re-adopts them.
 */
#ifndef FP_MAPS_H
#define FP_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fastpath.h"

/* The one flow table: one entry per direction. Sized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_DEFAULT_CAPACITY);
	__type(key, struct fp_flow_key);
	__type(value, struct fp_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

/* Attached devices, the only redirect targets. Key and value: ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, FP_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tx_ports SEC(".maps");

/* Per-CPU packets/bytes per enum fp_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FP_R_MAX);
	__type(key, __u32);
	__type(value, struct fp_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fp_stats SEC(".maps");

/* The same, for the TC ingress program (fastpath_tc). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FP_R_MAX);
	__type(key, __u32);
	__type(value, struct fp_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fp_tc_stats SEC(".maps");

/* Runtime configuration: the lease. One slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fp_config SEC(".maps");

/* The coarse clock (fastpath.h); never written from userspace, since an
 * update would cancel its timer.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_clock);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fp_clock SEC(".maps");

/* Candidate directions by egress (post-NAT) tuple, written by the daemon
 * in place (fastpath.h, struct fp_learn). Sized by the loader.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FP_LEARN_SLOTS(FP_DEFAULT_CAPACITY));
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fp_learn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fp_learn SEC(".maps");

/* What the TC egress program learned, for the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fp_events SEC(".maps");

/* The daemon's counters, for "fastpath status". */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_daemon_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fp_daemon SEC(".maps");

/* Rates per flow-table key, measured by the daemon for "fastpath flows". */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_DEFAULT_CAPACITY);
	__type(key, struct fp_flow_key);
	__type(value, struct fp_rate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fp_rates SEC(".maps");

/* The daemon's view of each connection, for "fastpath explain" (fastpath.h,
 * struct fp_conn_info). Allocated on use: most routers track far fewer
 * connections than the table holds. Sized by the loader like the table.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_DEFAULT_CAPACITY);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct fp_conn_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fp_conns SEC(".maps");

#endif /* FP_MAPS_H */
