/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* asm/ for the BPF target (see byteorder.h). */
#ifndef _FASTPATH_BPF_ASM_POSIX_TYPES_H
#define _FASTPATH_BPF_ASM_POSIX_TYPES_H

#include <asm-generic/posix_types.h>

#endif
