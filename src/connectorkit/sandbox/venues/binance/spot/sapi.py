"""The few ``/sapi`` (wallet / margin) endpoints that general clients call before trading spot.

ccxt's ``load_markets`` asks for the coin list (``fetchCurrencies``) and the margin pairs when it has an
API key; ``fetch_trading_fees`` and ``fetch_status`` use the other two. Sections: Binance "Wallet" →
"Capital" → "All Coins' Information (USER_DATA)", "Account" → "Trade Fee (USER_DATA)", "System" →
"System Status (System)"; "Margin Trading" → "Get All Cross Margin Pairs (MARKET_DATA)" and
"Get All Isolated Margin Symbol (MARKET_DATA)".
The sandbox has no deposits, withdrawals or margin trading: networks are reported disabled and the
margin pair list is empty.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from connectorkit.sandbox.engine import ZERO
from connectorkit.sandbox.venues.binance.http import ApiGateway, ApiRequest
from connectorkit.sandbox.venues.binance.spot.exchange import SpotExchange
from connectorkit.sandbox.venues.binance.spot.format import fmt


class SpotSapi:
    def __init__(self, exchange: SpotExchange, gateway: ApiGateway) -> None:
        self.ex = exchange
        self.gw = gateway

    def mount(self, app: web.Application) -> None:
        gw = self.gw
        r = app.router
        r.add_get("/sapi/v1/capital/config/getall", gw.endpoint(weight=10, security="SIGNED")(self.coins))
        r.add_get(
            "/sapi/v1/margin/allPairs", gw.endpoint(weight=1, security="MARKET_DATA")(self.margin_pairs)
        )
        r.add_get(
            "/sapi/v1/margin/isolated/allPairs",
            gw.endpoint(weight=10, security="MARKET_DATA")(self.isolated_margin_pairs),
        )
        r.add_get("/sapi/v1/asset/tradeFee", gw.endpoint(weight=1, security="SIGNED")(self.trade_fee))
        r.add_get("/sapi/v1/system/status", gw.endpoint(weight=1)(self.system_status))

    def _assets(self) -> list[str]:
        return sorted(
            {m.base for m in self.ex.markets.values()} | {m.quote for m in self.ex.markets.values()}
        )

    async def coins(self, req: ApiRequest) -> Any:
        """Wallet → "All Coins' Information (USER_DATA)": GET /sapi/v1/capital/config/getall (weight 10)."""
        balances = self.ex.ledger.balances[req.acct.account_id]
        out = []
        for asset in self._assets():
            b = balances.get(asset)
            out.append(
                {
                    "coin": asset,
                    "depositAllEnable": False,
                    "free": fmt(b.free if b else ZERO),
                    "freeze": "0",
                    "ipoable": "0",
                    "ipoing": "0",
                    "isLegalMoney": False,
                    "locked": fmt(b.locked if b else ZERO),
                    "name": asset,
                    "networkList": [
                        {
                            "addressRegex": "",
                            "coin": asset,
                            "depositDesc": "Sandbox: no deposits",
                            "depositEnable": False,
                            "isDefault": True,
                            "memoRegex": "",
                            "minConfirm": 0,
                            "name": "Sandbox",
                            "network": "SANDBOX",
                            "specialTips": "",
                            "unLockConfirm": 0,
                            "withdrawDesc": "Sandbox: no withdrawals",
                            "withdrawEnable": False,
                            "withdrawFee": "0",
                            "withdrawIntegerMultiple": "0.00000001",
                            "withdrawMax": "0",
                            "withdrawMin": "0",
                            "withdrawInternalMin": "0",
                            "depositDust": "0",
                            "sameAddress": False,
                            "estimatedArrivalTime": 0,
                            "busy": False,
                            "contractAddressUrl": "",
                            "contractAddress": "",
                        }
                    ],
                    "storage": "0",
                    "trading": True,
                    "withdrawAllEnable": False,
                    "withdrawing": "0",
                }
            )
        return out

    async def margin_pairs(self, req: ApiRequest) -> Any:
        """Margin Trading → "Get All Cross Margin Pairs (MARKET_DATA)": none (no margin trading here)."""
        return []

    async def isolated_margin_pairs(self, req: ApiRequest) -> Any:
        """Margin Trading → "Get All Isolated Margin Symbol (MARKET_DATA)" (weight 10): none here."""
        return []

    async def trade_fee(self, req: ApiRequest) -> Any:
        """Wallet → Account → "Trade Fee (USER_DATA)": GET /sapi/v1/asset/tradeFee (weight 1)."""
        acct = req.acct
        symbol = req.get("symbol")
        symbols = [self.ex.market(symbol).symbol] if symbol is not None else list(self.ex.markets)
        return [
            {
                "symbol": s,
                "makerCommission": format(acct.maker_commission.normalize(), "f"),
                "takerCommission": format(acct.taker_commission.normalize(), "f"),
            }
            for s in symbols
        ]

    async def system_status(self, req: ApiRequest) -> Any:
        """Wallet → System → "System Status (System)": 0 = normal."""
        return {"status": 0, "msg": "normal"}
