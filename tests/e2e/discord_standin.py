"""A local stand-in of Discord (REST + gateway) for end-to-end tests of the discord.py client.

Serves, on 127.0.0.1 and an ephemeral port, the REST routes the client uses under /api/v10
and a gateway websocket speaking the real protocol (HELLO, IDENTIFY -> READY, heartbeat ->
ACK, dispatches, zlib-stream compression when asked). It records every REST call, keeps the
messages each interaction produced (a follow-up after a defer replaces the "thinking"
message and keeps the defer's visibility, as Discord does), and can answer 429 to the next
N calls of a route.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.helpers import serve_on_loopback

API = "/api/v10"
APP_ID = "1300000000000000001"
BOT_USER = {"id": APP_ID, "username": "flowwatch", "discriminator": "0", "global_name": None,
            "avatar": None, "bot": True, "flags": 0, "public_flags": 0}
EPHEMERAL = 64
LOADING = 128
MANAGE_GUILD = 1 << 5
HEARTBEAT_MS = 41250
LIMITS = {"content": 2000, "embeds": 10, "title": 256, "description": 4096, "fields": 25,
          "field_name": 256, "field_value": 1024, "footer": 2048, "author": 256, "total": 6000}


@dataclass
class Call:
    method: str
    route: str  # the canonical route, e.g. /api/v10/channels/{channel_id}/messages
    path: str
    query: dict[str, str]
    body: Any
    status: int = 200
    files: dict[str, str] = field(default_factory=dict)  # multipart field -> file name
    file_bytes: dict[str, bytes] = field(default_factory=dict)  # multipart field -> content


@dataclass
class InteractionLog:
    """What one interaction produced: the original response and any follow-ups."""

    callbacks: list[dict[str, Any]] = field(default_factory=list)
    original: dict[str, Any] | None = None
    original_deleted: bool = False
    followups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def visible(self) -> list[dict[str, Any]]:
        """Messages the users see now: finished (not "thinking") and not deleted."""
        msgs = [] if self.original is None or self.original_deleted else [self.original]
        return [m for m in [*msgs, *self.followups] if not m["flags"] & LOADING]


class DiscordStandin:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.identifies: list[dict[str, Any]] = []
        self.heartbeats = 0
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id -> synced
        self.interactions: dict[str, InteractionLog] = {}
        self.channel_messages: dict[str, list[dict[str, Any]]] = {}
        self._faults: dict[tuple[str, str], tuple[int, Callable[[], web.Response]]] = {}
        self._file_refusals: dict[tuple[str, str], int] = {}
        self._sessions: list[_Session] = []
        self._seq = 0
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/gateway", self._gateway)
        api = [
            ("GET", "/gateway/bot", self._gateway_bot),
            ("GET", "/users/@me", lambda _: BOT_USER),
            ("GET", "/oauth2/applications/@me", lambda _: self._application()),
            ("GET", "/applications/@me", lambda _: self._application()),
            ("PUT", "/applications/{app_id}/commands", self._sync),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._sync),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app_id}/{token}", self._followup),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/@original", self._edit_original),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/@original", self._delete_original),
            ("POST", "/channels/{channel_id}/messages", self._channel_message),
        ]
        for method, path, handler in api:
            app.router.add_route(method, API + path, _json_handler(handler))
        self._runner, port = await serve_on_loopback(app)
        self.base_url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        for session in list(self._sessions):
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return self.base_url + API

    # -- test controls -------------------------------------------------------------------

    def rate_limit(self, method: str, route: str, times: int = 1,
                   retry_after: float = 0.3) -> None:
        """Answer 429 to the next `times` calls of `route` (relative to /api/v10)."""
        self._faults[(method, API + route)] = (times, lambda: _rate_limited(retry_after))

    def reject(self, method: str, route: str, times: int = 1) -> None:
        """Answer 400 Invalid Form Body to the next `times` calls of `route`."""
        self._faults[(method, API + route)] = (times, lambda: _invalid(["rejected by test"]))

    def fail(self, method: str, route: str, status: int, times: int = 1,
             code: int | None = None) -> None:
        """Answer `status` (e.g. 403, 404, 502) and a JSON error `code` (default 50001 for a
        403, else 0) to the next `times` calls of `route`."""
        code = (50001 if status == 403 else 0) if code is None else code
        body = {"message": f"{status}: failed by test", "code": code}
        self._faults[(method, API + route)] = (times, lambda: _json(body, status=status))

    def refuse_files(self, method: str, route: str, code: int = 50013) -> None:
        """Answer 403 `code` (Missing Permissions) to every call of `route` that uploads a
        file, as Discord does in a channel where the bot lacks Attach Files."""
        self._file_refusals[(method, API + route)] = code

    async def wait_for(self, check: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until check() is truthy (re-checked on every recorded event); return it."""
        async with asyncio.timeout(within), self._changed:
            while not (result := check()):
                await self._changed.wait()
            return result

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway dispatch (op 0) to the session of the shard that owns its guild."""
        guild_id = int(data.get("guild_id") or 0)
        for session in list(self._sessions):
            if (guild_id >> 22) % session.shard_count == session.shard_id:
                self._seq += 1
                await session.send({"op": 0, "t": event, "s": self._seq, "d": data})

    async def invoke(self, name: str, options: Mapping[str, str | bool] | None = None, *,
                     guild_id: str | None = "900", channel_id: str = "700",
                     user_id: str = "800", permissions: int = MANAGE_GUILD,
                     kind: int = 2, focused: str | None = None,
                     message: dict[str, Any] | None = None, subcommand: str | None = None
                     ) -> str:
        """Push an INTERACTION_CREATE for /name; returns the interaction token. A bool option
        value is sent as a BOOLEAN option (type 5), anything else as a STRING (type 3);
        with `subcommand`, the options are that subcommand's (/name subcommand ...).
        With `message`, a button click (type 3) on it: `name` is the button's custom id."""
        token = f"itoken-{next(self._ids)}"
        self.interactions[token] = InteractionLog()
        opts: list[dict[str, Any]] = [
            {"name": k, "type": 5 if isinstance(v, bool) else 3, "value": v,
             **({"focused": True} if k == focused else {})}
            for k, v in (options or {}).items()]
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        synced = {c["name"]: c for cs in self.commands.values() for c in cs}
        data: dict[str, Any] = {
            "id": self._snowflake(), "application_id": APP_ID, "type": kind, "token": token,
            "version": 1, "channel_id": channel_id, "app_permissions": str((1 << 41) - 1),
            "locale": "en-US", "entitlements": [], "attachment_size_limit": 10 * 1024 * 1024,
            "data": {"id": synced.get(name, {}).get("id", "1"), "name": name, "type": 1,
                     "options": opts},
        }
        if message is not None:
            data |= {"type": 3, "message": message,
                     "data": {"custom_id": name, "component_type": 2}}
        user = {"id": user_id, "username": "analyst", "discriminator": "0",
                "global_name": "Analyst", "avatar": None}
        if guild_id is None:
            data |= {"user": user, "context": 1, "authorizing_integration_owners": {"1": user_id},
                     "channel": {"id": channel_id, "type": 1, "recipients": [user]}}
        else:
            data |= {
                "guild_id": guild_id, "guild_locale": "en-US", "context": 0,
                "authorizing_integration_owners": {"0": guild_id},
                "member": {"user": user, "roles": [], "joined_at": _now(), "deaf": False,
                           "mute": False, "flags": 0, "pending": False, "nick": None,
                           "permissions": str(permissions)},
                "channel": {"id": channel_id, "type": 0, "name": "markets", "guild_id": guild_id,
                            "position": 0, "permission_overwrites": [], "nsfw": False,
                            "parent_id": None, "flags": 0},
            }
        await self.dispatch("INTERACTION_CREATE", data)
        return token

    def rest_calls(self, method: str, route: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.route == API + route]

    # -- REST ----------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route.resource
        canonical = route.canonical if route is not None else request.path
        body = await _body(request)
        call = Call(request.method, canonical, request.path, dict(request.query), body,
                    files=await _files(request), file_bytes=await _file_bytes(request))
        self.calls.append(call)
        times, fault = self._faults.get((request.method, canonical), (0, _no_fault))
        if request.path.startswith(API) and request.headers.get("Authorization") \
                not in (None, f"Bot {self.token}"):
            response: web.StreamResponse = _json({"message": "401: Unauthorized", "code": 0},
                                                 status=401)
            call.status = 401
        elif call.files and (request.method, canonical) in self._file_refusals:
            code = self._file_refusals[(request.method, canonical)]
            response = _json({"message": "Missing Permissions", "code": code}, status=403)
            call.status = 403
        elif times > 0:
            self._faults[(request.method, canonical)] = (times - 1, fault)
            response = fault()
            call.status = response.status
        else:
            response = await handler(request)
            call.status = response.status
        await self._notify()
        return response

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _application(self) -> dict[str, Any]:
        return {"id": APP_ID, "name": "flowwatch", "description": "", "icon": None,
                "bot_public": True, "bot_require_code_grant": False, "owner": BOT_USER,
                "verify_key": "0" * 64, "flags": 0, "team": None, "bot": BOT_USER}

    async def _gateway_bot(self, _: web.Request) -> dict[str, Any]:
        ws_url = self.base_url.replace("http://", "ws://") + "/gateway"
        return {"url": ws_url, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}

    async def _sync(self, request: web.Request) -> list[dict[str, Any]]:
        scope = request.match_info.get("guild_id", "global")
        synced = [{**cmd, "id": self._snowflake(), "application_id": APP_ID, "version": "1",
                   "type": cmd.get("type", 1),
                   "default_member_permissions": cmd.get("default_member_permissions"),
                   **({"guild_id": scope} if scope != "global" else {})}
                  for cmd in await _body(request)]
        self.commands[scope] = synced
        return synced

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        log = self.interactions[request.match_info["token"]]
        payload = await _body(request)
        if log.callbacks:
            return _json({"message": "Interaction has already been acknowledged.",
                          "code": 40060}, status=400)
        log.callbacks.append(payload)
        kind, data = payload["type"], payload.get("data") or {}
        flags = data.get("flags", 0)
        if kind in (4, 5):  # a message now, or a deferred "thinking" message
            log.original = self._message(data, flags | (LOADING if kind == 5 else 0))
        interaction = {"id": request.match_info["interaction_id"], "type": 2,
                       "response_message_loading": kind == 5,
                       "response_message_ephemeral": bool(flags & EPHEMERAL)}
        if "with_response" not in request.query:
            return web.Response(status=204)
        return _json({"interaction": interaction, "resource": {"type": kind}})

    async def _followup(self, request: web.Request) -> web.StreamResponse:
        log = self.interactions[request.match_info["token"]]
        data = await _body(request)
        if problems := message_problems(data):
            return _invalid(problems)
        if log.original is not None and not log.original_deleted and \
                log.original["flags"] & LOADING:
            # The first follow-up after a defer becomes the original, visibility included.
            keep = log.original["flags"] & EPHEMERAL
            log.original = self._message(data, keep) | {"id": log.original["id"]}
            message = log.original
        else:
            message = self._message(data, data.get("flags", 0))
            log.followups.append(message)
        if request.query.get("wait") in ("true", "1", "True"):
            return _json(message)
        return web.Response(status=204)

    async def _edit_original(self, request: web.Request) -> dict[str, Any]:
        log = self.interactions[request.match_info["token"]]
        old = log.original or {"flags": 0, "id": self._snowflake()}
        log.original = self._message(await _body(request), old["flags"] & ~LOADING)
        return log.original

    async def _delete_original(self, request: web.Request) -> web.StreamResponse:
        log = self.interactions[request.match_info["token"]]
        if log.original is None or log.original_deleted:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        log.original_deleted = True
        return web.Response(status=204)

    async def _channel_message(self, request: web.Request) -> web.StreamResponse:
        channel_id = request.match_info["channel_id"]
        data = await _body(request)
        if problems := message_problems(data):
            return _invalid(problems)
        message = self._message(data, 0, channel_id)
        self.channel_messages.setdefault(channel_id, []).append(message)
        return _json(message)

    def _message(self, data: dict[str, Any], flags: int,
                 channel_id: str = "700") -> dict[str, Any]:
        return {"id": self._snowflake(), "channel_id": channel_id, "author": BOT_USER,
                "content": data.get("content") or "", "embeds": data.get("embeds") or [],
                "attachments": [self._attachment(a) for a in data.get("attachments") or []],
                "flags": flags, "type": 0,
                "timestamp": _now(), "edited_timestamp": None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [],
                "pinned": False, "components": data.get("components") or []}

    def _attachment(self, sent: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/attachments/{sent['filename']}"
        return {"id": self._snowflake(), "filename": sent["filename"], "size": 0, "url": url,
                "proxy_url": url, "content_type": "image/png"}

    def _snowflake(self) -> str:
        return str((int(time.time() * 1000) - 1420070400000) << 22 | next(self._ids))

    # -- gateway -------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        zlib_stream = request.query.get("compress") == "zlib-stream"
        session = _Session(ws, zlib.compressobj() if zlib_stream else None)
        await session.send({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}})
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await self._on_gateway_message(session, json.loads(msg.data))
        self._sessions = [s for s in self._sessions if s is not session]
        return ws

    async def _on_gateway_message(self, session: _Session, msg: dict[str, Any]) -> None:
        op, data = msg.get("op"), msg.get("d") or {}
        if op == 1:
            self.heartbeats += 1
            await session.send({"op": 11})
        elif op == 2:
            if data["token"] != self.token:
                await session.ws.close(code=4004, message=b"Authentication failed.")
                return
            self.identifies.append(data)
            session.shard_id, session.shard_count = data.get("shard", (0, 1))
            self._sessions.append(session)
            self._seq += 1
            ready = {"v": 10, "user": BOT_USER, "guilds": [], "session_id": f"s{self._seq}",
                     "resume_gateway_url": self.base_url.replace("http", "ws") + "/gateway",
                     "application": {"id": APP_ID, "flags": 0}, "private_channels": [],
                     **({"shard": data["shard"]} if "shard" in data else {})}
            await session.send({"op": 0, "t": "READY", "s": self._seq, "d": ready})
        await self._notify()


@dataclass
class _Session:
    """One identified gateway connection; zlib-stream compressed when the client asked."""

    ws: web.WebSocketResponse
    compressor: Any
    shard_id: int = 0
    shard_count: int = 1

    async def send(self, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        if self.compressor is None:
            await self.ws.send_str(raw.decode())
        else:
            flushed = self.compressor.compress(raw) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(flushed)


def message_problems(data: dict[str, Any]) -> list[str]:
    """Every way a message payload breaks Discord's limits (Discord answers these with 400)."""
    problems = []
    embeds = data.get("embeds") or []
    if len(data.get("content") or "") > LIMITS["content"]:
        problems.append("content over 2000")
    if len(embeds) > LIMITS["embeds"]:
        problems.append(f"{len(embeds)} embeds")
    if not (data.get("content") or embeds or data.get("attachments")):
        problems.append("empty message")
    total = 0
    for i, embed in enumerate(embeds):
        fields = embed.get("fields") or []
        parts = {"title": embed.get("title") or "", "description": embed.get("description") or "",
                 "footer": (embed.get("footer") or {}).get("text") or "",
                 "author": (embed.get("author") or {}).get("name") or ""}
        problems += [f"embed {i} {k} over {LIMITS[k]}" for k, v in parts.items()
                     if len(v) > LIMITS[k]]
        if len(fields) > LIMITS["fields"]:
            problems.append(f"embed {i} has {len(fields)} fields")
        for f in fields:
            if len(f["name"]) > LIMITS["field_name"] or len(f["value"]) > LIMITS["field_value"]:
                problems.append(f"embed {i} field over limits")
        total += sum(map(len, parts.values())) + sum(len(f["name"]) + len(f["value"])
                                                      for f in fields)
    if total > LIMITS["total"]:
        problems.append(f"embeds total {total} over 6000")
    return problems


def _no_fault() -> web.Response:
    raise AssertionError("no fault injected")


def _invalid(problems: list[str]) -> web.Response:
    return _json({"message": "Invalid Form Body", "code": 50035, "errors": problems}, status=400)


def _json_handler(fn: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.StreamResponse:
        result = fn(request)
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, web.StreamResponse):
            return result
        return _json(result)

    return handle


async def _body(request: web.Request) -> Any:
    """JSON bodies as sent; multipart (files) reduced to its payload_json part."""
    if request.content_type == "application/json":
        return json.loads(await request.read() or b"null")
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        return json.loads(str(form.get("payload_json", "null")))
    return None


async def _files(request: web.Request) -> dict[str, str]:
    if not request.content_type.startswith("multipart/"):
        return {}
    form = await request.post()
    return {k: v.filename for k, v in form.items() if isinstance(v, web.FileField)}


async def _file_bytes(request: web.Request) -> dict[str, bytes]:
    if not request.content_type.startswith("multipart/"):
        return {}
    form = await request.post()
    content = {}
    for k, v in form.items():
        if isinstance(v, web.FileField):
            content[k] = v.file.read()
            v.file.seek(0)
    return content


def _rate_limited(retry_after: float) -> web.Response:
    headers = {"Retry-After": str(max(1, round(retry_after))), "X-RateLimit-Limit": "5",
               "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": str(retry_after),
               "X-RateLimit-Bucket": "standin-bucket", "X-RateLimit-Scope": "user",
               "Via": "1.1 google"}
    body = {"message": "You are being rate limited.", "retry_after": retry_after,
            "global": False}
    return _json(body, status=429, headers=headers)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Discord answers exactly "application/json" (discord.py compares the header verbatim).
    return web.Response(body=json.dumps(body).encode(), status=status,
                        headers={**(headers or {}), "Content-Type": "application/json"})


def _now() -> str:
    return datetime.now(UTC).isoformat()
