/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * asm/ for the BPF target (see byteorder.h): no arch byte swaps, so
 * <linux/swab.h> uses its generic ones (clang folds them to BPF's bswap).
 */
#ifndef _FASTPATH_BPF_ASM_SWAB_H
#define _FASTPATH_BPF_ASM_SWAB_H
#endif
