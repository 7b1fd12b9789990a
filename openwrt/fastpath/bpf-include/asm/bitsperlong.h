/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* asm/ for the BPF target (see byteorder.h): BPF registers are 64-bit. */
#ifndef _FASTPATH_BPF_ASM_BITSPERLONG_H
#define _FASTPATH_BPF_ASM_BITSPERLONG_H

#define __BITS_PER_LONG 64
#include <asm-generic/bitsperlong.h>

#endif
