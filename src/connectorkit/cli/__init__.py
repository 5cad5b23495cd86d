"""The ``connectorkit`` command line."""
