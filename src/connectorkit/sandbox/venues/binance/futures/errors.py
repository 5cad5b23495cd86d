"""Binance USD-M Futures error codes and messages used by the sandbox.

Source: Binance USDⓈ-M Futures API docs, "Error Codes"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code).
Codes are universal; where the docs list a message template we use it verbatim.
"""

from __future__ import annotations

from connectorkit.sandbox.venues.binance.errors import ApiError, TooManyRequestsText

__all__ = ["ApiError"]

# 10xx: -1003 TOO_MANY_REQUESTS, USD-M wording ("Error Codes" page of the USDⓈ-M docs,
# https://developers.binance.com/en/docs/products/derivatives-trading-usds-futures/error-code):
# "Too many requests; current limit is %s requests per minute. Please use the websocket for live
# updates to avoid polling the API." / "Way too many requests; IP banned until %s. Please use the
# websocket for live updates to avoid bans." The limit is the REQUEST_WEIGHT rule's (per minute).
USDM_TOO_MANY_REQUESTS = TooManyRequestsText(
    weight="Too many requests; current limit is {limit} requests per minute. "
    "Please use the websocket for live updates to avoid polling the API.",
    ban="Way too many requests; IP banned until {until}. "
    "Please use the websocket for live updates to avoid bans.",
)


# 11xx - request issues
MANDATORY_PARAM = -1102
PARAM_NOT_REQUIRED = -1106
BAD_SYMBOL = -1121
INVALID_LISTEN_KEY = -1125
# 20xx - processing issues
CANCEL_REJECTED = -2011
NO_SUCH_ORDER = -2013
MARGIN_NOT_SUFFICIENT = -2019
REDUCE_ONLY_REJECT = -2022
USER_IN_LIQUIDATION = -2023
MIN_LEVERAGE_RATIO = -2028
# 40xx - filters and other issues
QTY_LESS_THAN_ZERO = -4003
PRICE_NOT_INCREASED_BY_TICK_SIZE = -4014
INVALID_CL_ORD_ID_LEN = -4015
INVALID_DEPTH_LIMIT = -4021
QTY_NOT_INCREASED_BY_STEP_SIZE = -4023
INVALID_LEVERAGE = -4028
NO_NEED_TO_CHANGE_POSITION_SIDE = -4059
INVALID_POSITION_SIDE = -4060
POSITION_SIDE_NOT_MATCH = -4061
POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS = -4067
POSITION_SIDE_CHANGE_EXISTS_QUANTITY = -4068
DUPLICATED_CLIENT_ORDER_ID = -4116
MIN_NOTIONAL = -4164
# 50xx - order execution issues
FOK_ORDER_REJECT = -5021
GTX_ORDER_REJECT = -5022


def mandatory(param: str) -> ApiError:
    return ApiError(
        MANDATORY_PARAM, f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed."
    )


def invalid_listen_key() -> ApiError:
    return ApiError(
        INVALID_LISTEN_KEY,
        "This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate `listenKey`",
    )


def not_required(param: str) -> ApiError:
    return ApiError(PARAM_NOT_REQUIRED, f"Parameter '{param}' sent when not required.")


def bad_symbol() -> ApiError:
    return ApiError(BAD_SYMBOL, "Invalid symbol.")


def margin_insufficient() -> ApiError:
    return ApiError(MARGIN_NOT_SUFFICIENT, "Margin is insufficient.")


def reduce_only_rejected() -> ApiError:
    return ApiError(REDUCE_ONLY_REJECT, "ReduceOnly Order is rejected.")


def position_side_mismatch() -> ApiError:
    return ApiError(POSITION_SIDE_NOT_MATCH, "Order's position side does not match user's setting.")


def invalid_position_side() -> ApiError:
    return ApiError(INVALID_POSITION_SIDE, "Invalid position side.")


def invalid_leverage(leverage: object) -> ApiError:
    return ApiError(INVALID_LEVERAGE, f"Leverage {leverage} is not valid")


def no_need_to_change_position_side() -> ApiError:
    return ApiError(NO_NEED_TO_CHANGE_POSITION_SIDE, "No need to change position side.")


def position_side_change_open_orders() -> ApiError:
    return ApiError(
        POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS,
        "Position side cannot be changed if there exists open orders.",
    )


def position_side_change_quantity() -> ApiError:
    return ApiError(
        POSITION_SIDE_CHANGE_EXISTS_QUANTITY, "Position side cannot be changed if there exists position."
    )
