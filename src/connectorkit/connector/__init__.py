"""Connector layer: the connector class hierarchy, trackers and the connector registry."""
