"""Built-in backend ``boot``: Linux 6.1 x86_64 early boot, memblock and zones (in progress)."""
