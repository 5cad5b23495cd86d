"""Bus URLs and connections: ``redis://[:password@]host:port[/db]`` or ``rediss://`` (TLS).

The password in a URL is never logged, never shown in a repr or an error: every text made from a
URL goes through :func:`mask_url`.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

MASK = "***"
SCHEMES = ("redis", "rediss")


class BusUrlError(ValueError):
    """Not a usable ``redis://`` / ``rediss://`` URL."""


class BusUnavailableError(ConnectionError):
    """The bus's Redis server cannot be reached (the message names the URL, password masked)."""


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (the user name, if any, is kept): the one in
    the authority and a ``password=`` query option (redis-py accepts both)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    query = "&".join(
        f"{name}={MASK}" if name.lower() == "password" else (f"{name}={value}" if sep else name)
        for name, sep, value in (item.partition("=") for item in parts.query.split("&") if item)
    )
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{parts.username or ''}:{MASK}@{host}" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def validate_url(url: str) -> str:
    """``url`` unchanged if it is a ``redis://`` or ``rediss://`` URL with a host, else
    :class:`BusUrlError`."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise BusUrlError(f"invalid bus URL {mask_url(url)}: {exc}") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise BusUrlError(f"bus URL must be redis://HOST:PORT[/DB] or rediss://..., got {mask_url(url)}")
    return url


READ_TIMEOUT_S = 10.0
"""No answer for this long is a lost connection (raised as a RedisError, so callers reconnect):
a half-open socket (a NAT drop, a failover without a reset) must not hang a consumer's read or a
shared-budget grant. Far above the longest blocking call made (``XREAD BLOCK`` of 100 ms)."""


def client_for(url: str, *, timeout: float = 5.0) -> aioredis.Redis:
    """A redis-py asyncio client for ``url`` (bytes replies; no connection is made yet)."""
    return aioredis.Redis.from_url(
        validate_url(url), socket_connect_timeout=timeout, socket_timeout=READ_TIMEOUT_S,
        decode_responses=False,
    )


async def connect(url: str, *, connect_timeout: float = 5.0) -> aioredis.Redis:
    """A connected client (PING answered), or :class:`BusUnavailableError` naming the masked URL."""
    client = client_for(url, timeout=connect_timeout)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        raise BusUnavailableError(f"cannot reach Redis at {mask_url(url)}: {describe(exc)}") from None
    except (TypeError, ValueError) as exc:  # an option in the query string that redis-py refuses
        await client.aclose()
        raise BusUrlError(f"invalid bus URL {mask_url(url)}: {describe(exc)}") from None
    return client


async def unreachable_reason(url: str) -> str | None:
    """Why the bus at ``url`` cannot be used (a text naming the masked URL), or None if it answers."""
    try:
        client = await connect(url)
    except (BusUrlError, BusUnavailableError) as exc:
        return str(exc)
    await client.aclose()
    return None


def describe(exc: BaseException) -> str:
    """An exception as ``Type: message`` for a log line (redis-py's texts never carry passwords)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
