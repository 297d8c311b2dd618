"""The control API under ``/_control``: drive people and misbehaviour from other processes.

JSON in, JSON out; it mirrors the Python API (``SimUser`` actions, chats, call log, faults,
rate limits) and adds a long-polled event stream for the web chat page.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.api import json_response
from sandbox.params import UploadedFile, parse_multipart
from sandbox.users import SimUser
from sandbox.world import World

MAX_EVENT_WAIT = 60.0


class ControlError(Exception):
    """A refusal of the control API (not Telegram-shaped)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlApi:
    """Routes bound to one :class:`World`."""

    def __init__(self, world: World) -> None:
        self.world = world

    def routes(self) -> list[Route]:
        """All control routes, relative to the ``/_control`` mount."""
        user_actions = {
            "send": self.send,
            "tap": self.tap,
            "tap_data": self.tap_data,
            "contact": self.contact,
            "document": self.document,
            "block": self.block,
            "unblock": self.unblock,
            "press": self.press,
        }
        routes = [
            Route("/users", self._guard(self.create_user), methods=["POST"]),
            Route("/users", self._guard(self.list_users), methods=["GET"]),
            Route("/chats/{chat_id:int}", self._guard(self.chat), methods=["GET"]),
            Route("/calls", self._guard(self.calls), methods=["GET"]),
            Route("/faults", self._guard(self.faults), methods=["POST", "DELETE"]),
            Route("/rate_limits", self._guard(self.rate_limits), methods=["POST"]),
            Route("/events", self._guard(self.events), methods=["GET"]),
        ]
        for name, handler in user_actions.items():
            routes.append(
                Route(f"/users/{{user_id:int}}/{name}", self._guard(handler), methods=["POST"])
            )
        return routes

    def _guard(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return json_response(await handler(request))
            except ControlError as error:
                return json_response({"error": str(error)}, error.status)
            except LookupError as error:
                return json_response({"error": str(error).strip("'\"")}, 404)
            except (ValueError, TypeError) as error:
                return json_response({"error": str(error)}, 400)

        return endpoint

    # --- helpers --------------------------------------------------------------------------

    async def _json(self, request: Request) -> dict[str, Any]:
        body = await request.body()
        if not body.strip():
            return {}
        try:
            value = json.loads(body)
        except ValueError:
            raise ControlError(400, "body must be a JSON object") from None
        if not isinstance(value, dict):
            raise ControlError(400, "body must be a JSON object")
        return value

    def _user(self, request: Request) -> SimUser:
        user_id = int(request.path_params["user_id"])
        user = self.world.users.get(user_id)
        if user is None:
            raise ControlError(404, f"no user {user_id}")
        return user

    # --- users ----------------------------------------------------------------------------

    async def create_user(self, request: Request) -> Any:
        """POST /users {first_name, language_code?, phone?, username?, last_name?, id?}."""
        body = await self._json(request)
        if not isinstance(body.get("first_name"), str) or not body["first_name"]:
            raise ControlError(400, "first_name is required")
        user = self.world.add_user(
            body["first_name"],
            language_code=body.get("language_code", "zh-hans"),
            phone=body.get("phone"),
            username=body.get("username"),
            last_name=body.get("last_name"),
            user_id=body.get("id"),
        )
        return user.view()

    async def list_users(self, request: Request) -> Any:
        """GET /users."""
        return [user.view() for user in self.world.users.values()]

    async def send(self, request: Request) -> Any:
        """POST /users/{id}/send {text}."""
        body = await self._json(request)
        if not isinstance(body.get("text"), str) or not body["text"]:
            raise ControlError(400, "text is required")
        return await self._user(request).send(body["text"])

    async def press(self, request: Request) -> Any:
        """POST /users/{id}/press {label}: a reply keyboard button."""
        body = await self._json(request)
        return await self._user(request).press(str(body.get("label", "")))

    async def tap(self, request: Request) -> Any:
        """POST /users/{id}/tap {label, message_id?}."""
        body = await self._json(request)
        user = self._user(request)
        query_id = await user.tap(str(body.get("label", "")), message_id=body.get("message_id"))
        return {"callback_query_id": query_id}

    async def tap_data(self, request: Request) -> Any:
        """POST /users/{id}/tap_data {data, message_id}."""
        body = await self._json(request)
        if not isinstance(body.get("data"), str) or body.get("message_id") is None:
            raise ControlError(400, "data and message_id are required")
        query_id = await self._user(request).tap_data(
            body["data"], message_id=int(body["message_id"])
        )
        return {"callback_query_id": query_id}

    async def contact(self, request: Request) -> Any:
        """POST /users/{id}/contact {phone?, own?, first_name?, last_name?}."""
        body = await self._json(request)
        return await self._user(request).share_contact(
            body.get("phone"),
            own=bool(body.get("own", True)),
            first_name=body.get("first_name"),
            last_name=body.get("last_name"),
        )

    async def document(self, request: Request) -> Any:
        """POST /users/{id}/document: multipart part ``document`` (+ ``caption``), or JSON
        {filename, data_base64, mime_type?, caption?}."""
        user = self._user(request)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            fields, files = parse_multipart(content_type, await request.body())
            upload = files.get("document") or next(iter(files.values()), None)
            if upload is None:
                raise ControlError(400, "a file part named 'document' is required")
            return await self._send_upload(user, upload, fields.get("caption"))
        body = await self._json(request)
        try:
            data = base64.b64decode(str(body["data_base64"]), validate=True)
        except (KeyError, ValueError):
            raise ControlError(400, "data_base64 is required and must be base64") from None
        upload = UploadedFile(str(body.get("filename", "file")), body.get("mime_type"), data)
        return await self._send_upload(user, upload, body.get("caption"))

    async def _send_upload(self, user: SimUser, upload: UploadedFile, caption: Any) -> Any:
        return await user.send_document(
            upload.filename,
            upload.data,
            upload.content_type or "application/octet-stream",
            caption=caption if isinstance(caption, str) and caption else None,
        )

    async def block(self, request: Request) -> Any:
        """POST /users/{id}/block."""
        user = self._user(request)
        await user.block_bot()
        return user.view()

    async def unblock(self, request: Request) -> Any:
        """POST /users/{id}/unblock."""
        user = self._user(request)
        await user.unblock_bot()
        return user.view()

    # --- reading --------------------------------------------------------------------------

    async def chat(self, request: Request) -> Any:
        """GET /chats/{id}: every message in both directions, as people see them."""
        chat_id = int(request.path_params["chat_id"])
        chat = self.world.chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"no chat {chat_id}")
        user = self.world.users.get(chat_id)
        return {
            "chat": self.world.chat_dict(chat),
            "messages": [m.view() for m in chat.messages],
            "reply_keyboard": user.reply_keyboard if user else None,
            "callback_answers": [vars(a) for a in (user.callback_answers if user else [])],
        }

    async def calls(self, request: Request) -> Any:
        """GET /calls?method=&since=: the call log after sequence ``since``."""
        method = request.query_params.get("method", "").lower()
        since = int(request.query_params.get("since", "0"))
        return [
            call.view()
            for call in self.world.calls[max(since, 0) :]
            if not method or call.method.lower() == method
        ]

    async def events(self, request: Request) -> Any:
        """GET /events?since=N&timeout=T: events after N, waiting up to T seconds for one."""
        since = int(request.query_params.get("since", "0"))
        timeout = min(float(request.query_params.get("timeout", "0")), MAX_EVENT_WAIT)
        world = self.world
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not world.events_after(since) and not world.closing:
            remaining = deadline - loop.time()
            if remaining <= 0 or not await world.wait_changed(remaining):
                break
        events = world.events_after(since)
        return {"events": [event.view() for event in events], "last": world.mark()}

    # --- misbehaviour ---------------------------------------------------------------------

    async def faults(self, request: Request) -> Any:
        """POST /faults {kind, count?, methods?, retry_after?, hold_seconds?}; DELETE clears."""
        if request.method == "DELETE":
            self.world.clear_faults()
            return {"faults": []}
        body = await self._json(request)
        methods = body.get("methods")
        self.world.inject_faults(
            str(body.get("kind", "")),
            count=int(body.get("count", 1)),
            methods=[str(m) for m in methods] if isinstance(methods, list) else None,
            retry_after=int(body.get("retry_after", 3)),
            hold_seconds=float(body.get("hold_seconds", 2.0)),
        )
        armed = self.world.faults.faults
        return {"faults": [vars(f) | {"methods": _names(f.methods)} for f in armed]}

    async def rate_limits(self, request: Request) -> Any:
        """POST /rate_limits {enabled?, global_per_second?, per_chat_per_second?, ...}."""
        body = await self._json(request)
        self.world.set_rate_limits(
            enabled=bool(body.get("enabled", True)),
            global_per_second=int(body.get("global_per_second", 30)),
            per_chat_per_second=int(body.get("per_chat_per_second", 1)),
            per_group_per_minute=int(body.get("per_group_per_minute", 20)),
            count_edits=bool(body.get("count_edits", False)),
        )
        return vars(self.world.limiter.settings)


def _names(methods: frozenset[str] | None) -> list[str] | None:
    return sorted(methods) if methods is not None else None
