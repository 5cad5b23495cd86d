"""What a venue tells the replay engine about its captures: the replay adapter and its registry.

``connectorkit replay`` and ``connectorkit record`` are venue-neutral: the engine
(:mod:`connectorkit.cli.replay`) and the transport that stands in for the network
(:mod:`connectorkit.cli.transport`) know nothing of any exchange's URLs or frames. Each connector
registers, beside itself, a :class:`ReplayAdapter` that reads its venue's capture lines:

- which captures it serves: the header ``exchange`` names it registers under;
- which recorded REST requests it answers: :meth:`ReplayAdapter.snapshot_symbol` picks the book
  snapshots out of the recorded answers and out of the connector's live requests;
- how a recorded connection maps to the connector's subscriptions: the streams a connection URL
  carries (:meth:`ReplayAdapter.subscriptions_of_url`) and those a client frame adds or removes
  (:meth:`ReplayAdapter.subscription_change`, for venues that subscribe by message);
- which frames are its book, its trades and its top-of-book ticker
  (:meth:`ReplayAdapter.describe_frame`), the ticker being the engine's independent check of the
  rebuilt book.

Registration is lazy, as for connectors: an exchange package calls
:func:`register_replay_adapter` with a loader, and the adapter's module is imported only when a
replay or recording first asks for it. This module imports nothing heavy.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from connectorkit.connector.capture_reader import CaptureRecord


class FrameRole(enum.Enum):
    """What a recorded frame is to the replay engine."""

    BOOK = "book"
    """A book update (a diff, or a snapshot sent on the socket)."""
    TRADE = "trade"
    TOP_OF_BOOK = "top_of_book"
    """A best bid/ask ticker the connector does not subscribe to: the independent check."""
    ANSWER = "answer"
    """The venue's answer to a client frame (a subscription acknowledgement). Not replayed: the
    replayed client's own frames get their answers from :meth:`ReplayAdapter.acknowledgement`."""
    OTHER = "other"
    """Anything else (candles, funding...)."""


@dataclass(frozen=True, slots=True)
class BookUpdateSpan:
    """The update ids a book update covers: after it the book is in the state of update ``last``
    until the next update, which starts at its own ``first``."""

    first: int
    last: int


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """A recorded ticker: the best bid and ask as of book update ``update_id``."""

    update_id: int
    bid: Decimal
    ask: Decimal


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """What the adapter reads in one received frame. Never raises for a frame it cannot parse:
    such a frame is still delivered (``stream`` known, nothing else), so the connector's own parser
    meets it and counts it as malformed."""

    stream: str | None
    """The subscription the frame belongs to (delivered to the connections subscribed to it);
    None: no subscription (an acknowledgement, an answer), delivered to every connection."""
    role: FrameRole = FrameRole.OTHER
    symbol: str | None = None
    """The exchange symbol it concerns, as the recorded snapshots name it."""
    book_update: BookUpdateSpan | None = None
    top_of_book: TopOfBook | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionChange:
    """Subscriptions a client frame adds and removes on its connection."""

    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()


class ReplayAdapter(ABC):
    """One venue's reading of its captures (see the module docs). Stateless; pure functions of
    the lines they are given."""

    TOP_OF_BOOK_NAME: ClassVar[str] = "ticker"
    """What the venue calls the ticker frames the report compares the book with."""

    @abstractmethod
    def subscriptions_of_url(self, url: str) -> set[str]:
        """The subscriptions a connection URL carries by itself (empty for a venue whose clients
        subscribe by message)."""

    @abstractmethod
    def subscription_change(self, frame: str) -> SubscriptionChange | None:
        """The subscriptions a frame the client sent adds or removes; None for a frame that is
        not a (un)subscription (a ping, a login)."""

    @abstractmethod
    def describe_frame(self, frame: str) -> RecordedFrame:
        """Which subscription a received frame belongs to, and whether it is the venue's book,
        trades or top-of-book ticker (never raises)."""

    @abstractmethod
    def snapshot_symbol(self, url: str, params: Mapping[str, object]) -> str | None:
        """The exchange symbol of a REST book snapshot request, None for any other request.

        Called for each recorded answer (``params`` from its URL's query) and for each request the
        connector makes during a replay: requests it names are answered with the recording's
        snapshots of that symbol, in order; any other request fails as the network would."""

    @abstractmethod
    def pairs_from_instruments(
        self, records: Sequence[CaptureRecord], symbols: Sequence[str]
    ) -> dict[str, str]:
        """Exchange symbol -> ``BASE-QUOTE`` trading pair for ``symbols``, from the recorded
        instrument list, for captures whose header does not carry the map (public captures)."""

    def acknowledgement(self, frame: str) -> str | None:
        """The frame the venue answers a client frame with, delivered back to the client during a
        replay (a subscription's acknowledgement, with the client's own request id); None: no
        answer. Recorded answers (:attr:`FrameRole.ANSWER`) are not replayed, so that the client
        gets each answer once, to the request it made."""
        return None

    def stream_substitutes(self, recorded_streams: Iterable[str]) -> dict[str, str]:
        """Recorded stream -> the connector's stream to deliver its frames on, when the recording
        holds only an equivalent of what the connector subscribes to. None by default."""
        return {}

    def stream_kind(self, stream: str) -> str:
        """A stream's name without its symbol, for the report's counts (default: the stream)."""
        return stream


AdapterLoader = Callable[[], ReplayAdapter]


@dataclass(frozen=True, slots=True)
class ReplayAdapterRegistration:
    connector: str
    """The registered connector whose data source the frames are replayed through."""
    exchanges: tuple[str, ...]
    """Capture header ``exchange`` names it serves (upper case)."""
    load: AdapterLoader = field(compare=False)


class NoReplayAdapterError(LookupError):
    """No registered replay adapter serves the capture's venue or the requested connector."""


_ADAPTERS: dict[str, ReplayAdapterRegistration] = {}
_LOADED: dict[str, ReplayAdapter] = {}


def register_replay_adapter(connector: str, load: AdapterLoader, *, exchanges: Iterable[str]) -> None:
    """Register the replay adapter of ``connector``: ``load`` builds it (importing its module
    then, not now); ``exchanges`` are the capture header names it serves. Registering the same
    connector again replaces the entry."""
    names = tuple(sorted({name.upper() for name in exchanges}))
    taken = {name: reg.connector for reg in _ADAPTERS.values() if reg.connector != connector
             for name in reg.exchanges if name in names}
    if taken:
        raise ValueError(f"capture exchange names already served by another adapter: {taken}")
    _ADAPTERS[connector] = ReplayAdapterRegistration(connector, names, load)
    _LOADED.pop(connector, None)


def unregister_replay_adapter(connector: str) -> None:
    _ADAPTERS.pop(connector, None)
    _LOADED.pop(connector, None)


def _describe_registered() -> str:
    entries = [f"{reg.connector} ({', '.join(reg.exchanges)})" for _, reg in sorted(_ADAPTERS.items())]
    return ", ".join(entries) or "none"


def registered_replay_adapters() -> list[ReplayAdapterRegistration]:
    """Every adapter available (imports every exchange package, as listing connectors does)."""
    from connectorkit.connector.settings import registered_connectors

    registered_connectors()
    return [reg for _, reg in sorted(_ADAPTERS.items())]


def connector_for_exchange(exchange: str) -> str:
    """The connector whose adapter serves captures of header name ``exchange``."""
    wanted = exchange.upper()
    for reg in registered_replay_adapters():
        if wanted in reg.exchanges:
            return reg.connector
    raise NoReplayAdapterError(
        f"no replay adapter serves exchange {exchange!r}; registered adapters: {_describe_registered()}"
    )


def get_replay_adapter(connector: str) -> ReplayAdapter:
    """The replay adapter of ``connector`` (loaded once)."""
    loaded = _LOADED.get(connector)
    if loaded is not None:
        return loaded
    if connector not in _ADAPTERS:
        from connectorkit.connector.settings import get_registration

        get_registration(connector)  # imports its package (UnknownConnectorError if none)
    registration = _ADAPTERS.get(connector)
    if registration is None:
        registered_replay_adapters()  # the error lists them all
        raise NoReplayAdapterError(
            f"connector {connector!r} has no replay adapter; registered adapters: {_describe_registered()}"
        )
    adapter = registration.load()
    _LOADED[connector] = adapter
    return adapter
