/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* asm/ for the BPF target (see byteorder.h): __u64 is unsigned long long. */
#ifndef _FASTPATH_BPF_ASM_TYPES_H
#define _FASTPATH_BPF_ASM_TYPES_H

#include <asm-generic/types.h>

#endif
