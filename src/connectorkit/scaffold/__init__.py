"""The connector scaffold: ``connectorkit new-connector`` and the markers its stubs use.

Only the markers are imported here (generated packages import them); the writer lives in
:mod:`connectorkit.scaffold.writer`.
"""

from connectorkit.scaffold.unwritten import first_unwritten_method, unwritten

__all__ = ["first_unwritten_method", "unwritten"]
