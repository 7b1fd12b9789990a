/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * asm/ for the BPF target, which has no architecture directory of its own.
 *
 * The UAPI headers lay out bitfields (struct iphdr's ihl and version,
 * struct ipv6hdr's priority and version) by what <asm/byteorder.h> says.
 * The target CPU's own asm/ answers by that CPU's macros (__MIPSEB__,
 * __ARMEB__...), which clang -target bpfeb/bpfel does not define: MIPS's
 * stops with #error, x86's always says little-endian and would make a
 * big-endian object read the IP version from the wrong nibble. The BPF
 * target's byte order is the compiler's.
 */
#ifndef _FASTPATH_BPF_ASM_BYTEORDER_H
#define _FASTPATH_BPF_ASM_BYTEORDER_H

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#include <linux/byteorder/big_endian.h>
#elif __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <linux/byteorder/little_endian.h>
#else
#error "unknown byte order"
#endif

#endif
