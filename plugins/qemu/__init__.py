"""Built-in backend ``qemu``: the QEMU 7.2 command line that realizes a machine."""
