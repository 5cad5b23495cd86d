"""Exchange connectors: one package per venue (``exchanges/<name>/``)."""
