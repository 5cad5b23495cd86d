"""Binance error answers: ``{"code": <int>, "msg": <str>}`` with the documented HTTP status.

Codes and messages: Binance Spot API docs, "Error codes" (errors.md) and "Filters" / "Failures during
order placement"; USD-M Futures docs, "Error Codes". Codes are shared between the two products.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectorkit.sandbox.errors import ApiError

__all__ = ["ApiError"]  # re-exported: skin modules raise errors.ApiError


def unknown_status() -> ApiError:
    # "-1007 TIMEOUT": the request may or may not have been executed.
    return ApiError(
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        http_status=503,
    )


@dataclass(frozen=True, slots=True)
class TooManyRequestsText:
    """One product's -1003 TOO_MANY_REQUESTS messages ("codes are universal, but messages can vary").

    ``weight`` is a ``str.format`` template with ``{limit}`` and ``{interval}`` (429); ``ban`` has
    ``{until}`` (418).
    """

    weight: str
    ban: str


# Spot "Error Codes", -1003 TOO_MANY_REQUESTS.
SPOT_TOO_MANY_REQUESTS = TooManyRequestsText(
    weight="Too much request weight used; current limit is {limit} request weight per {interval}. "
    "Please use WebSocket Streams for live updates to avoid polling the API.",
    ban="Way too much request weight used; IP banned until {until}. "
    "Please use WebSocket Streams for live updates to avoid bans.",
)


def too_much_weight(
    limit: int, interval: str, text: TooManyRequestsText = SPOT_TOO_MANY_REQUESTS
) -> ApiError:
    return ApiError(-1003, text.weight.format(limit=limit, interval=interval), http_status=429)


def ip_banned(until_ms: int, text: TooManyRequestsText = SPOT_TOO_MANY_REQUESTS) -> ApiError:
    return ApiError(-1003, text.ban.format(until=until_ms), http_status=418)


def too_many_orders(limit: int, interval: str) -> ApiError:
    return ApiError(-1015, f"Too many new orders; current limit is {limit} orders per {interval}.", 429)


def timestamp_outside_window() -> ApiError:
    return ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")


def timestamp_ahead() -> ApiError:
    return ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def bad_signature() -> ApiError:
    return ApiError(-1022, "Signature for this request is not valid.")


def bad_api_key_format() -> ApiError:
    return ApiError(-2014, "API-key format invalid.", http_status=401)


def rejected_api_key() -> ApiError:
    return ApiError(-2015, "Invalid API-key, IP, or permissions for action.", http_status=401)


def mandatory_param(name: str) -> ApiError:
    return ApiError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def one_of_params(a: str, b: str) -> ApiError:
    return ApiError(-1102, f"Param '{a}' or '{b}' must be sent, but both were empty/null!")


def illegal_chars(name: str, legal: str) -> ApiError:
    return ApiError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def duplicate_param() -> ApiError:
    return ApiError(-1101, "Duplicate values for a parameter detected.")


def not_required(name: str) -> ApiError:
    return ApiError(-1106, f"Parameter '{name}' sent when not required.")


def bad_recv_window() -> ApiError:
    return ApiError(-1131, "recvWindow must be less than 60000")


def lookup_interval_too_big(hours: int) -> ApiError:
    return ApiError(-1127, f"More than {hours} hours between startTime and endTime.")


def invalid_symbol() -> ApiError:
    return ApiError(-1121, "Invalid symbol.")


def invalid_side() -> ApiError:
    return ApiError(-1117, "Invalid side.")


def invalid_order_type() -> ApiError:
    return ApiError(-1116, "Invalid orderType.")


def invalid_tif() -> ApiError:
    return ApiError(-1115, "Invalid timeInForce.")


def bad_combo() -> ApiError:
    return ApiError(-1128, "Combination of optional parameters invalid.")


def filter_failure(name: str) -> ApiError:
    return ApiError(-1013, f"Filter failure: {name}")


def insufficient_balance() -> ApiError:
    return ApiError(-2010, "Account has insufficient balance for requested action.")


def would_take() -> ApiError:
    return ApiError(-2010, "Order would immediately match and take.")


def no_book_liquidity() -> ApiError:
    return ApiError(-2010, "Order book liquidity is less than symbol minimum quantity.")


def book_liquidity_below_lot_size() -> ApiError:
    return ApiError(-2010, "Order book liquidity is less than LOT_SIZE filter minimum quantity.")


def duplicate_order() -> ApiError:
    return ApiError(-2010, "Duplicate order sent.")


def cancel_unknown_order() -> ApiError:
    return ApiError(-2011, "Unknown order sent.")


def no_such_order() -> ApiError:
    return ApiError(-2013, "Order does not exist.")


def client_order_id_mismatch() -> ApiError:
    # Both orderId and origClientOrderId sent, and they name different orders.
    return ApiError(-2039, "Client order ID is not correct for this order ID.")


def unknown_listen_key() -> ApiError:
    return ApiError(-1125, "This listenKey does not exist.")


def server_error(status: int) -> ApiError:
    return ApiError(-1001, "Internal error; unable to process your request. Please try again.", status)


def invalid_interval() -> ApiError:
    """Spot / USD-M "Error codes" -1120 BAD_INTERVAL."""
    return ApiError(-1120, "Invalid interval.")


def not_found() -> ApiError:
    """Spot "Error codes" -1099 "Not found, authenticated, or authorized" (the docs' wording; it replaced
    -1999): the answer to a path the API does not have (HTTP 404)."""
    return ApiError(-1099, "Not found, authenticated, or authorized.", 404)
