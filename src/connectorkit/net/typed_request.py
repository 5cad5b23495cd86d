"""One REST call decoded into a typed answer, with the signed-timestamp retry every venue needs.

:func:`typed_request` is the path a connector's REST calls take: the factory's
:class:`~connectorkit.net.rest_assistant.RESTAssistant` throttles, signs, sends and classifies
the call, and the 2xx body is decoded by msgspec straight into the wire schema (no intermediate
dicts; a body that breaks the schema raises
:class:`~connectorkit.net.errors.ResponseDecodeError`). A signed call the exchange refuses for
its timestamp is retried once after a clock resync
(:func:`~connectorkit.net.time_synchronizer.call_with_time_resync`); the venue says which
errors those are (Binance: -1021).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.time_synchronizer import TimeSynchronizer, call_with_time_resync
from connectorkit.net.web_assistants_factory import WebAssistantsFactory

T = TypeVar("T")


async def typed_request(
    factory: WebAssistantsFactory,
    url: str,
    response_type: type[T],
    *,
    method: RESTMethod = RESTMethod.GET,
    params: Mapping[str, Any] | None = None,
    limit_id: str,
    signed: bool = False,
    synchronizer: TimeSynchronizer | None = None,
    time_provider: Callable[[], Awaitable[float]] | None = None,
    is_timestamp_error: Callable[[BaseException], bool] | None = None,
) -> T:
    """One REST call on ``url`` under throttler limit ``limit_id``, decoded into ``response_type``.

    A signed call needs ``synchronizer``, ``time_provider`` (the exchange's clock, in seconds) and
    ``is_timestamp_error`` (the venue's classification); when the exchange rejects its timestamp
    it is retried once after resyncing ``synchronizer``, and the retry is signed anew. An unsigned
    call is never retried.
    """
    rest = await factory.get_rest_assistant()

    async def call() -> T:
        return await rest.execute_request(
            url, method=method, params=params, is_auth_required=signed, throttler_limit_id=limit_id,
            response_type=response_type,
        )

    if not signed:
        return await call()
    if synchronizer is None or time_provider is None or is_timestamp_error is None:
        raise ValueError("a signed call needs the synchronizer, time provider and timestamp error test")
    return await call_with_time_resync(
        call, synchronizer=synchronizer, time_provider=time_provider, is_timestamp_error=is_timestamp_error
    )
