"""A stand-in for ``connectorkit.exchanges`` used to test lazy registration on import."""
