"""A local stand-in of the Telegram Bot API, as flowwatch uses it, that records every call.

Serves `/bot<token>/<method>` on 127.0.0.1 (ephemeral port) for JSON, form and multipart
bodies, like the real server: long-polled getUpdates, messages checked for length (after
parsing entities) and HTML, "message is not modified" on identical edits, and scripted
failures (429 with retry_after, 403 blocked, 400 too long) for the next N calls of a method.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import fakeredis
from aiohttp import web

from bot.app import App, build_app
from services.settings import Secrets, Settings, load_settings
from tests.helpers import serve_on_loopback
from tests.waiting import until

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-TOKEN"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "flowwatch",
            "username": "flowwatch_test_bot", "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False}
MIGRATED_TO = -1009876543210
FAILURES: dict[str, tuple[int, str, dict[str, Any]]] = {
    "429": (429, "Too Many Requests: retry after 1", {"retry_after": 1}),
    "403": (403, "Forbidden: bot was blocked by the user", {}),
    "400-long": (400, "Bad Request: message is too long", {}),
    "400-not-found": (400, "Bad Request: chat not found", {}),
    "migrated": (400, "Bad Request: group chat was upgraded to a supergroup chat",
                 {"migrate_to_chat_id": MIGRATED_TO}),
    "502": (502, "Bad Gateway", {}),
    # Every other answer a send can get from the Bot API (core.telegram.org/api/errors and
    # what bots see in practice), by what it proves.
    "403-kicked": (403, "Forbidden: bot was kicked from the supergroup chat", {}),
    "403-deactivated": (403, "Forbidden: user is deactivated", {}),
    "403-not-member": (403, "Forbidden: bot is not a member of the channel chat", {}),
    "403-no-text-rights": (403, "Forbidden: not enough rights to send text messages to the "
                                "chat", {}),
    "403-cant-initiate": (403, "Forbidden: bot can't initiate conversation with a user", {}),
    "400-photo-rights": (400, "Bad Request: not enough rights to send photos to the chat", {}),
    "400-deactivated": (400, "Bad Request: group chat was deactivated", {}),
    "400-no-rights": (400, "Bad Request: have no rights to send a message", {}),
    "400-write-forbidden": (400, "Bad Request: CHAT_WRITE_FORBIDDEN", {}),
    "400-topic-closed": (400, "Bad Request: TOPIC_CLOSED", {}),
    "400-entities": (400, "Bad Request: can't parse entities: Unsupported start tag", {}),
    "401": (401, "Unauthorized", {}),
    "409": (409, "Conflict: terminated by other getUpdates request", {}),
    "500": (500, "Internal Server Error", {}),
}
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "pre", "code", "a",
             "span", "tg-spoiler", "blockquote"}
BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
JSON_PARAMS = {"reply_markup", "commands", "allowed_updates", "link_preview_options",
               "reply_parameters", "entities", "scope", "caption_entities"}
INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id"}
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DESCRIPTION_LIMIT, SHORT_DESCRIPTION_LIMIT, COMMAND_DESCRIPTION_LIMIT = 512, 120, 256
COMMAND_SCOPES = {"default", "all_private_chats", "all_group_chats",
                  "all_chat_administrators", "chat", "chat_administrators", "chat_member"}
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                "upload_voice", "upload_document", "choose_sticker", "find_location",
                "record_video_note", "upload_video_note"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters or {}


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when received
    error: str = ""  # the error description answered, scripted or not
    files: dict[str, bytes] = field(default_factory=dict)  # multipart field -> uploaded bytes
    content_type: str = ""  # of the request body: application/json, multipart/form-data, ...


class _EntityParser(HTMLParser):
    """Telegram's HTML subset: known tags, properly nested; collects the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: Unsupported start tag "
                                f'"{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: Can't find end tag "
                                f'corresponding to start tag "{tag}"')
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_entities(text: str, parse_mode: str | None) -> str:
    """The plain text Telegram would show; ApiError 400 on bad HTML."""
    if (parse_mode or "").upper() != "HTML":
        return text
    if BARE_AMPERSAND.search(text):
        raise ApiError(400, "Bad Request: can't parse entities: Unsupported HTML entity")
    parser = _EntityParser()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise ApiError(400, f"Bad Request: can't parse entities: Can't find end tag "
                            f'corresponding to start tag "{parser.stack[-1]}"')
    return unescape("".join(parser.text))


def tg_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def chat_object(chat_id: int, chat_type: str = "") -> dict[str, Any]:
    chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": "Tester"}
    return {"id": chat_id, "type": chat_type, "title": "Test group"}


def user_object(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}


def command_update(text: str, message_id: int, chat_id: int = 1001, user_id: int = 501,
                   chat_type: str = "") -> dict[str, Any]:
    """The body of an update carrying a user's command message (no update_id)."""
    command = text.split(maxsplit=1)[0]
    return {"message": {
        "message_id": message_id, "date": int(time.time()),
        "chat": chat_object(chat_id, chat_type), "from": user_object(user_id), "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}]}}


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BotApiStandIn:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[ApiCall] = []
        self.paths: list[str] = []  # every request's path, refused ones (401, 404) included
        self.updates: list[dict[str, Any]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.members: dict[tuple[int, int], str] = {}  # (chat, user) -> status
        self.commands: list[dict[str, Any]] = []  # the default scope's menu
        self.scoped_commands: dict[str, list[dict[str, Any]]] = {}  # scope type -> menu
        self.descriptions: dict[str, str] = {}  # "description" / "short_description"
        self.chat_actions: list[tuple[int, str]] = []  # (chat, action), in order
        self.webhook: dict[str, Any] = {}
        self.rejected: list[str] = []  # methods called with a token that is not ours (401)
        self._failures: dict[str, deque[str]] = defaultdict(deque)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0
        # Seconds each call of a method takes before it is answered (a slow Bot API).
        self.delays: dict[str, float] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record_path])
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner, self.port = await serve_on_loopback(app)

    async def stop(self) -> None:
        self._closing = True
        async with self._new_update:
            self._new_update.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- scripting -------------------------------------------------------------------------

    def fail_next(self, method: str, kind: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with a failure from FAILURES."""
        self._failures[method].extend([kind] * times)

    async def push_update(self, body: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        async with self._new_update:
            self.updates.append({"update_id": update_id, **body})
            self._new_update.notify_all()
        return update_id

    async def push_command(self, text: str, chat_id: int = 1001, user_id: int = 501,
                           chat_type: str = "") -> int:
        return await self.push_update(
            command_update(text, next(self._message_ids), chat_id, user_id, chat_type))

    async def push_callback(self, message: dict[str, Any], data: str, user_id: int = 501) -> int:
        return await self.push_update({"callback_query": {
            "id": f"cb{next(self._message_ids)}", "from": user_object(user_id),
            "chat_instance": "42", "data": data, "message": message}})

    # -- inspection ------------------------------------------------------------------------

    def calls_of(self, method: str, ok_only: bool = True) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method and not (ok_only and c.error)]

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages successfully sent to a chat, in order."""
        return [m for (chat, _), m in sorted(self.messages.items()) if chat == chat_id]

    # -- the API ---------------------------------------------------------------------------

    @web.middleware
    async def _record_path(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.paths.append(request.path)
        return await handler(request)

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self.rejected.append(method)
            return _error(ApiError(401, "Unauthorized"))
        files: dict[str, bytes] = {}
        params = await _read_params(request, files)
        call = ApiCall(method, params, time.monotonic(), files=files,
                       content_type=request.content_type)
        self.calls.append(call)
        if delay := self.delays.get(method):
            await asyncio.sleep(delay)  # the stand-in models a slow platform here
        try:
            if self._failures[method]:
                raise ApiError(*FAILURES[self._failures[method].popleft()])
            handler = getattr(self, f"api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as exc:
            call.error = exc.description
            return _error(exc)
        return web.json_response({"ok": True, "result": result})

    async def api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        async with self._new_update:
            with suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._new_update.wait_for(lambda: bool(self.updates) or self._closing)
        return self.updates[: int(params.get("limit") or 100)]

    def _store_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": chat_object(chat_id), "from": BOT_USER, **content}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        text = _checked_text(params)
        return self._store_message(params, text=text, parse_mode=params.get("parse_mode"))

    async def api_sendPhoto(self, params: dict[str, Any]) -> Any:
        caption = str(params.get("caption") or "")
        if tg_len(parse_entities(caption, params.get("parse_mode"))) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 800, "height": 600}]
        return self._store_message(params, photo=photo, caption=caption)

    async def api_editMessageText(self, params: dict[str, Any]) -> Any:
        text = _checked_text(params)
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        message = self.messages[key]
        if message.get("text") == text and message.get("reply_markup") == params.get(
                "reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same")
        message.update(text=text, edit_date=int(time.time()))
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def api_getChatMember(self, params: dict[str, Any]) -> Any:
        user_id = int(params["user_id"])
        status = self.members.get((int(params["chat_id"]), user_id), "member")
        member: dict[str, Any] = {"status": status, "user": user_object(user_id)}
        if status == "creator":
            member["is_anonymous"] = False
        if status == "administrator":
            member.update({flag: False for flag in (
                "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                "can_change_info", "can_invite_users", "can_post_stories",
                "can_edit_stories", "can_delete_stories")})
        return member

    async def api_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = list(params.get("commands") or [])
        scope = (params.get("scope") or {}).get("type", "default")
        if scope not in COMMAND_SCOPES:
            raise ApiError(400, "Bad Request: can't parse BotCommandScope")
        for command in commands:
            if not 1 <= len(command.get("description", "")) <= COMMAND_DESCRIPTION_LIMIT:
                raise ApiError(400, "Bad Request: command description is invalid")
        self.scoped_commands[scope] = commands
        if scope == "default":
            self.commands = commands
        return True

    async def api_getMyCommands(self, params: dict[str, Any]) -> Any:
        scope = (params.get("scope") or {}).get("type", "default")
        return self.scoped_commands.get(scope, [])

    async def api_setMyDescription(self, params: dict[str, Any]) -> Any:
        return self._describe(params, "description", DESCRIPTION_LIMIT)

    async def api_setMyShortDescription(self, params: dict[str, Any]) -> Any:
        return self._describe(params, "short_description", SHORT_DESCRIPTION_LIMIT)

    def _describe(self, params: dict[str, Any], name: str, limit: int) -> Any:
        text = str(params.get(name) or "")
        if len(text) > limit:
            raise ApiError(400, f"Bad Request: {name.replace('_', ' ')} is too long")
        self.descriptions[name] = text
        return True

    async def api_sendChatAction(self, params: dict[str, Any]) -> Any:
        action = str(params.get("action", ""))
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((int(params["chat_id"]), action))
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": 0}

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def api_logOut(self, params: dict[str, Any]) -> Any:
        return True


def _checked_text(params: dict[str, Any]) -> str:
    text = str(params.get("text") or "")
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if tg_len(parse_entities(text, params.get("parse_mode"))) > TEXT_LIMIT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _error(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.code)


async def _read_params(request: web.Request,
                       files: dict[str, bytes] | None = None) -> dict[str, Any]:
    """The call's parameters; uploaded files show as "<file N bytes>", their bytes go to
    `files` when given."""
    if request.content_type == "application/json":
        return dict(await request.json()) if request.can_read_body else {}
    params: dict[str, Any] = {}
    for key, value in (await request.post()).items():
        if not isinstance(value, str):  # an uploaded file
            content = value.file.read()
            params[key] = f"<file {len(content)} bytes>"
            if files is not None:
                files[key] = content
        elif key in JSON_PARAMS:
            params[key] = json.loads(value)
        elif key in INT_PARAMS and re.fullmatch(r"-?\d+", value):
            params[key] = int(value)
        else:
            params[key] = value
    return params


@asynccontextmanager
async def running_standin() -> AsyncIterator[BotApiStandIn]:
    standin = BotApiStandIn()
    await standin.start()
    try:
        yield standin
    finally:
        await standin.stop()


async def wait_for(condition: Callable[[], Any], within: float = 10.0,
                   what: str = "condition") -> Any:
    """Wait until `condition` returns something truthy (what a stand-in recorded); fail
    after `within` seconds (at least 30: a loaded machine is slow, not wrong)."""
    within = max(within, 30.0)
    try:
        return await until(condition, within)
    except TimeoutError:
        raise AssertionError(f"timed out after {within:.0f}s waiting for {what}") from None


# -- harness: the replay app and the secrets that point PTB at the stand-in ------------------

def telegram_secrets(standin: BotApiStandIn, webhook_secret: str | None = None) -> Secrets:
    return Secrets(telegram_bot_token=standin.token, telegram_api_base_url=standin.base_url,
                   telegram_webhook_secret=webhook_secret)


def replay_settings(**telegram: Any) -> Settings:
    """config.yaml, with `telegram` keys overridden (unvalidated, so port 0 is allowed)."""
    settings = load_settings(ROOT / "config.yaml")
    return settings.model_copy(update={"telegram": settings.telegram.model_copy(update=telegram)})


@asynccontextmanager
async def replay_app(settings: Settings | None = None) -> AsyncIterator[App]:
    """The app on the replay snapshot and an embedded store, collected once."""
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    app = await build_app(settings or replay_settings(), Secrets(), redis=redis)
    try:
        await app.refresh()
        yield app
    finally:
        await app.aclose()
