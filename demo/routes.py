"""The sandbox's own HTTP controls under ``/_sandbox``, served beside the emulator's.

Composition (with bot/app.py, bot/cli.py and demo/app.py): the routes reach the
emulator's World (sandbox/), the roster and the shared clock, so this module may import
sandbox/. The emulator's page calls them; they exist only in `partybot sandbox`, which
listens on loopback for someone trying partybot out.

- ``GET  /_sandbox/state``: the clock, the next due reminder, the demo people
- ``GET  /_sandbox/roster``: every active member, for the person picker
- ``POST /_sandbox/people {member_id, language_code?}``: the chat of a roster member
- ``GET  /_sandbox/people/{user_id}``: who an emulator user is (name, role, branch)
- ``POST /_sandbox/visitors {language_code?}``: someone on no roster yet
- ``POST /_sandbox/clock {jump: hour | day | next}``: move time forward
- ``GET  /_sandbox/commands/{user_id}``: the command menu that person sees
- ``GET  /_sandbox/files/{file_id}``: redirect to the emulator's file route
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from demo.county import DemoPerson
from demo.people import SandboxPeople
from demo.time_control import Jump, TimeControl
from sandbox.api import json_response
from storage.members import AlreadyLinked

Handler = Callable[[Request], Awaitable[Any]]


class SandboxRoutes:
    """The ``/_sandbox`` routes over the sandbox's people and clock."""

    def __init__(
        self,
        people: SandboxPeople,
        time: TimeControl,
        cast: list[DemoPerson],
        timezone: str,
    ) -> None:
        self.people = people
        self.time = time
        self.cast = cast
        self.timezone = timezone

    def routes(self) -> list[Route]:
        """All routes, with their full paths."""
        table: list[tuple[str, Handler, str]] = [
            ("/_sandbox/state", self.state, "GET"),
            ("/_sandbox/roster", self.roster, "GET"),
            ("/_sandbox/people", self.open_person, "POST"),
            ("/_sandbox/people/{user_id:int}", self.person, "GET"),
            ("/_sandbox/visitors", self.new_visitor, "POST"),
            ("/_sandbox/clock", self.jump, "POST"),
            ("/_sandbox/commands/{user_id:int}", self.commands, "GET"),
        ]
        routes = [Route(path, _json(handler), methods=[method]) for path, handler, method in table]
        routes.append(Route("/_sandbox/files/{file_id}", self.file, methods=["GET"]))
        return routes

    async def state(self, request: Request) -> dict[str, Any]:
        """What the page shows at the top, and the chats it opens first."""
        world = self.people.world
        cast = [
            await self.people.describe(world.users[person.telegram_user_id])
            for person in self.cast
            if person.telegram_user_id in world.users
        ]
        return {
            **self._clock(await self.time.next_due()),
            "timezone": self.timezone,
            "bot_username": world.bot_username,
            "people": cast,
        }

    async def roster(self, request: Request) -> list[dict[str, Any]]:
        """The person picker's list."""
        return [entry.view() for entry in await self.people.roster()]

    async def open_person(self, request: Request) -> dict[str, Any]:
        """The chat of a roster member (linked to an emulator user on first use)."""
        body = await _body(request)
        member_id = body.get("member_id")
        if not isinstance(member_id, int):
            raise ValueError("member_id (a number) is required")
        user = await self.people.open_member(member_id, _language(body))
        return await self.people.describe(user)

    async def person(self, request: Request) -> dict[str, Any]:
        """Who an emulator user is, for a chat the page reopens after a reload."""
        user = self.people.world.users.get(int(request.path_params["user_id"]))
        if user is None:
            raise LookupError("no such user")
        return await self.people.describe(user)

    async def new_visitor(self, request: Request) -> dict[str, Any]:
        """A newcomer who is on no roster yet."""
        user = self.people.new_visitor(_language(await _body(request)))
        return await self.people.describe(user)

    async def jump(self, request: Request) -> dict[str, Any]:
        """Move the clock forward and let the scheduled jobs look."""
        body = await _body(request)
        try:
            how = Jump(str(body.get("jump", "")))
        except ValueError:
            raise ValueError("jump must be one of: hour, day, next") from None
        result = await self.time.jump(how)
        return {
            **self._clock(result.next_due),
            "moved_seconds": int(result.moved.total_seconds()),
            "jobs_woken": result.jobs_woken,
        }

    async def commands(self, request: Request) -> list[dict[str, str]]:
        """The command menu (the "/" button) of one person."""
        user_id = int(request.path_params["user_id"])
        if user_id not in self.people.world.users:
            raise LookupError(f"no user {user_id}")
        return self.people.world.commands_for(user_id)

    async def file(self, request: Request) -> Response:
        """A photo or document by file_id, through the emulator's own file route."""
        world = self.people.world
        stored = world.files.get(str(request.path_params["file_id"]))
        if stored is None:
            return json_response({"error": "no such file"}, 404)
        return RedirectResponse(f"/file/bot{world.token}/{stored.file_path}", status_code=307)

    def _clock(self, due: datetime | None) -> dict[str, Any]:
        return {
            "now": self.time.clock.now().isoformat(),
            "offset_seconds": int(self.time.clock.offset.total_seconds()),
            "next_due": due.isoformat() if due else None,
        }


def _json(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """JSON out; refusals as ``{"error": ...}`` with 400, 404 or 409, like the control API."""

    async def endpoint(request: Request) -> Response:
        try:
            return json_response(await handler(request))
        except AlreadyLinked as error:
            return json_response({"error": str(error)}, 409)
        except LookupError as error:
            return json_response({"error": str(error).strip("'\"")}, 404)
        except ValueError as error:
            return json_response({"error": str(error)}, 400)

    return endpoint


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValueError("body must be a JSON object") from None
    if not isinstance(value, dict):
        raise ValueError("body must be a JSON object")
    return value


def _language(body: dict[str, Any]) -> str:
    code = body.get("language_code", "zh-hans")
    if code not in ("zh-hans", "en"):
        raise ValueError("language_code must be zh-hans or en")
    return str(code)
