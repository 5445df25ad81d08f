"""Linux 6.12 x86_64 early boot: the steps that differ from 6.1, one module per kernel file.

The 6.1 simulator (:mod:`fwc_plugins.boot.kernel`) is the shared code; a 6.12 module here
overrides only what the 6.12 source does differently, and names the 6.12 file it models:

=====================  ==============================================================
module                 kernel source (Linux 6.12)
=====================  ==============================================================
``memblock``           mm/memblock.c (:class:`~.memblock.Memblock612` over 6.1's model)
=====================  ==============================================================
"""
