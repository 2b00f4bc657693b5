"""The Bot API transport: PTB's HTTPXRequest, except that calls without files go as JSON.

Telegram accepts application/json bodies. Encoding a ~1 kB HTML reply as JSON is one C call;
the form encoding PTB uses quotes it byte by byte in Python, which was a tenth of the bot's
CPU per command (bench.command_path). Calls with files stay multipart, as PTB sends them.
`plain_call` carries parameters that are already JSON values, for the reply hot path,
without building PTB's RequestParameter objects (an internal module): it is what
`JsonRequest.do_request` reads of a RequestData (`parameters`, `contains_files`), and only
this transport ever receives it. Bot.do_api_request, the public route, warns for methods PTB
implements (sendMessage), an error under -W error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

# Timeouts that agree (one Bot API call, each phase): a slow Bot API (answers in 6 s) must
# still answer inside them, or PTB raises TimedOut for a message that does arrive, the
# notifier retries it and a chat gets it five times. PTB's own read default is 5 s. The
# notifier's send timeout (NotifierSettings.send_timeout_s) must exceed their sum, so the
# platform client, not the notifier, decides a call has failed.
CONNECT_TIMEOUT_S = 5.0
WRITE_TIMEOUT_S = 10.0  # a chart upload
READ_TIMEOUT_S = 20.0
POOL_TIMEOUT_S = 5.0  # a send waits this long for a free connection before failing
CALL_TIMEOUT_S = CONNECT_TIMEOUT_S + WRITE_TIMEOUT_S + READ_TIMEOUT_S + POOL_TIMEOUT_S
JSON_HEADERS = {"User-Agent": HTTPXRequest.USER_AGENT, "Content-Type": "application/json"}
DEFAULT = BaseRequest.DEFAULT_NONE


@dataclass(frozen=True)
class PlainCall:
    """The two things JsonRequest.do_request reads of a RequestData."""

    parameters: dict[str, Any]
    contains_files: bool = False


def plain_call(params: dict[str, Any]) -> RequestData:
    """A Bot API call's parameters, given as plain JSON values (no PTB objects in them), for
    a JsonRequest (bot_request) only."""
    return cast(RequestData, PlainCall(params))


def bot_request(connections: int) -> JsonRequest:
    """The transport of every Bot (front-end and standalone sender), with the timeouts above."""
    return JsonRequest(connection_pool_size=connections, connect_timeout=CONNECT_TIMEOUT_S,
                       write_timeout=WRITE_TIMEOUT_S, media_write_timeout=WRITE_TIMEOUT_S,
                       read_timeout=READ_TIMEOUT_S, pool_timeout=POOL_TIMEOUT_S)


class JsonRequest(HTTPXRequest):
    """HTTPXRequest sending JSON bodies; timeouts and errors mapped as HTTPXRequest maps them."""

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = DEFAULT, write_timeout: Any = DEFAULT,
                         connect_timeout: Any = DEFAULT, pool_timeout: Any = DEFAULT,
                         ) -> tuple[int, bytes]:
        if request_data is None or request_data.contains_files:
            return await super().do_request(url, method, request_data, read_timeout,
                                            write_timeout, connect_timeout, pool_timeout)
        configured = self._client.timeout
        timeout = httpx.Timeout(connect=_given(connect_timeout, configured.connect),
                                read=_given(read_timeout, configured.read),
                                write=_given(write_timeout, configured.write),
                                pool=_given(pool_timeout, configured.pool))
        body = json.dumps(request_data.parameters).encode()  # ASCII: lone surrogates too
        try:
            response = await self._client.request(method=method, url=url, headers=JSON_HEADERS,
                                                  timeout=timeout, content=body)
        except httpx.TimeoutException as exc:  # as HTTPXRequest maps them
            raise TimedOut from exc
        except httpx.HTTPError as exc:
            raise NetworkError(f"httpx.{type(exc).__name__}: {exc}") from exc
        return response.status_code, response.content


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, type(DEFAULT)) else value
