"""One discord.py client on its own API base URL (DISCORD_API_BASE_URL), no other client changed.

discord.py builds every REST URL from one class attribute (`Route.BASE`) and dials one
class-wide gateway (`DiscordWebSocket.DEFAULT_GATEWAY`); setting those would move every
client in the process. Instead a based client's HTTP client rewrites the URLs it is given:
its REST routes onto `api_base`, and the default gateway onto the one GET /gateway/bot on
that base names. Interaction responses and follow-ups go out through discord.py's webhook
adapter, which it looks up in a context variable: `webhooks_on` sets a rewriting adapter for
the task that runs the client (and the tasks it starts), not for the process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, cast

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context


def rebase(url: str, base: str) -> str:
    """`url` (built on discord.py's default base) on `base` instead."""
    if base and url.startswith(Route.BASE):
        return base + url[len(Route.BASE):]
    return url


class ApiBaseHTTPClient(HTTPClient):
    """discord.py's HTTP client, sending this client's REST calls and gateway connection to
    `api_base` (and the gateway it names)."""

    api_base: str = ""
    gateway: yarl.URL | None = None  # from GET /gateway/bot on the base, once asked

    @classmethod
    def adopt(cls, http: HTTPClient, api_base: str) -> ApiBaseHTTPClient:
        """Make a client's HTTP client (before login) a based one, in place: the client, its
        connection state and its command tree all hold that one object."""
        if type(http) is not HTTPClient:
            raise TypeError(f"expected discord.py's HTTPClient, got {type(http).__name__}")
        http.__class__ = cls
        based = cast(ApiBaseHTTPClient, http)
        based.api_base = api_base.rstrip("/")
        return based

    async def request(self, route: Route, **kwargs: Any) -> Any:
        route.url = rebase(route.url, self.api_base)
        return await super().request(route, **kwargs)

    async def ws_connect(self, url: str, *, compress: int = 0) -> Any:
        return await super().ws_connect(self.on_gateway(url), compress=compress)

    def on_gateway(self, url: str) -> str:
        """The default gateway's URL (its query kept) on this client's gateway."""
        target = yarl.URL(url)
        if self.gateway is None or target.host != DiscordWebSocket.DEFAULT_GATEWAY.host:
            return url
        return str(self.gateway.with_query(target.query))

    async def use_gateway_of_api(self) -> str:
        """Connect to the gateway that GET /gateway/bot on the base names (discord.py's plain
        Client otherwise dials the hard-coded wss://gateway.discord.gg)."""
        _, url, _ = await self.get_bot_gateway()
        self.gateway = yarl.URL(url)
        return url


class ApiBaseWebhookAdapter(AsyncWebhookAdapter):
    """discord.py's webhook adapter (interaction responses, follow-ups) on `api_base`."""

    def __init__(self, api_base: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.api_base = api_base.rstrip("/")

    async def request(self, route: Route, *args: Any, **kwargs: Any) -> Any:
        route.url = rebase(route.url, self.api_base)
        return await super().request(route, *args, **kwargs)


@contextlib.contextmanager
def webhooks_on(api_base: str | None) -> Iterator[None]:
    """Within this context (the current task, and the tasks it starts meanwhile), send
    interaction responses and follow-ups to `api_base`."""
    if not api_base:
        yield
        return
    token = async_context.set(ApiBaseWebhookAdapter(api_base))
    try:
        yield
    finally:
        async_context.reset(token)
