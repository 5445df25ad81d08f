/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fwc memblock oracle: physical-memory shim.
 *
 * Force-included (gcc -include) when compiling the kernel's unmodified
 * mm/memblock.c.  The kernel's tools/ harness makes __va()/__pa() the
 * identity, so the only two paths of memblock that write to "physical"
 * memory (memblock_double_array() and the zeroing memblock_alloc_try_nid())
 * would dereference arbitrary physical addresses.  Here every __va() /
 * phys_to_virt() hands out a fresh private anonymous mapping ("chunk") that
 * remembers the physical address it stands for, and __pa() maps a pointer
 * inside a chunk back to its physical address.  memset() on a chunk is
 * clamped so that zeroing a multi-GiB allocation costs nothing.
 * This file is fwc's own code; no kernel source is vendored.
 */
#ifndef FWC_PHYSMEM_SHIM_H
#define FWC_PHYSMEM_SHIM_H

#include <string.h>
#include <linux/types.h>
#include <linux/mm.h>

void *fwc_shim_va(unsigned long long phys, int temp);
unsigned long long fwc_shim_pa(const void *p);
void *fwc_shim_memset(void *p, int c, size_t n);

#undef __va
#undef __pa
#undef phys_to_virt
#define __va(x) fwc_shim_va((unsigned long long)(x), 0)
#define __pa(x) fwc_shim_pa((const void *)(x))
#define phys_to_virt(x) fwc_shim_va((unsigned long long)(x), 1)
#define memset(p, c, n) fwc_shim_memset((p), (c), (n))

#endif
