/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * siphash.h - SipHash-2-4, keyed per run: the daemon's tables hash what
 * the network sends (tuples, neighbour addresses), so nobody may choose
 * keys that share a bucket (docs/DESIGN.md, "Safety rules" 10).
 */
#ifndef FP_LIB_SIPHASH_H
#define FP_LIB_SIPHASH_H

#include <stddef.h>
#include <linux/types.h>

__u64 siphash(const void *data, size_t len, const __u64 key[2]);

#endif /* FP_LIB_SIPHASH_H */
