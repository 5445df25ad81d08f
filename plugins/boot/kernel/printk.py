"""setup_log_buf() (kernel/printk/printk.c): with many possible CPUs the log buffer grows
(log_buf_add_cpu) and is reallocated from memblock with its descriptor and info rings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Kernel

PRB_AVGBITS = 5
PRB_DESC_SIZE = 24      # sizeof(struct prb_desc)
PRINTK_INFO_SIZE = 88   # sizeof(struct printk_info)
LOG_ALIGN = 8


def setup_log_buf(k: Kernel) -> None:
    """setup_log_buf() (kernel/printk/printk.c) at start_kernel: log_buf_add_cpu() asks for
    (possible CPUs - 1) << CONFIG_LOG_CPU_MAX_BUF_SHIFT more when that exceeds half the static
    buffer; the new size is rounded up to a power of two."""
    n = len(k.cpus.cpu_node)
    base = 1 << k.build.log_buf_shift
    extra = (n - 1) << k.build.log_cpu_max_buf_shift
    if n <= 1 or extra <= base // 2:
        return
    size = 1 << (extra + base - 1).bit_length()
    count = size >> PRB_AVGBITS
    for what, sz in (("log_buf", size), ("descriptor ring", count * PRB_DESC_SIZE),
                     ("info ring", count * PRINTK_INFO_SIZE)):
        k.alloc("alloc_try_nid", f"printk {what} (setup_log_buf)", sz, LOG_ALIGN, 0, 0, -1)
