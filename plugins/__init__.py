"""Built-in fwc backends, each registered through the ``fwc.backends`` entry-point group."""
