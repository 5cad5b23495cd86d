"""The base class of every exchange's authentication: the only place credentials live."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from connectorkit.net.redaction import MASK
from connectorkit.net.rest_request import RESTRequest
from connectorkit.net.ws_request import WSJSONRequest


class AuthBase(ABC):
    """Signs requests for one account.

    A subclass keeps the API key and secret as attributes and implements the two ``*_authenticate``
    methods (return a changed copy of the request: added headers, params, signature). The web layer
    asks it which parameter names (:attr:`secret_param_names`) and which values
    (:meth:`secret_values`) must never be shown, and strips/masks them from every URL, error and log
    line it produces. ``repr``/``str`` of an auth show only its attribute names, never values.
    """

    #: Parameter names (besides the common ones like ``signature`` and ``apiKey``) that carry a
    #: secret for this exchange and must be dropped from any URL shown in errors or logs.
    secret_param_names: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        """Return ``request`` signed for this account."""

    @abstractmethod
    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        """Return the WebSocket message signed for this account."""

    @abstractmethod
    def secret_values(self) -> tuple[str, ...]:
        """The raw credentials (API key, secret, passphrase...), used only to mask them in texts."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # Put the masked repr in the subclass itself: ``@dataclass`` (or a similar decorator) then
        # keeps it instead of generating one that prints every field. A ``__repr__`` written in the
        # subclass body is left alone.
        for name in ("__repr__", "__str__"):
            if name not in cls.__dict__:
                setattr(cls, name, AuthBase.__repr__)

    def __repr__(self) -> str:
        names = sorted(getattr(self, "__dict__", {}))
        return f"{type(self).__name__}({', '.join(f'{name}={MASK}' for name in names)})"

    __str__ = __repr__
