"""A crowd of members acting on a timetable inside the emulator process, timed there.

Thousands of people driven from the measured process would cost it CPU (and one waiter
per person, re-checked on every change of the world, grows with the square of the crowd).
So the emulator itself pushes each update at its moment (`POST /_crowd/run`) and notes, as
the bot's calls come in, which update each call answers: a tap's answerCallbackQuery, and
the first message or edit in that chat after an update (a tap's follow-up, a typed code's
reply). Everything is timed on the emulator's clock; `GET /_crowd/results` hands the
timings over at the end. A member told to check in types the current code as soon as the
bot asks for it: in the tap's answer (its toast) or in a message, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.checkin import current_code
from sandbox.api import json_response
from sandbox.methods import EDITING, SENDING
from sandbox.models import CallRecord, Content
from sandbox.world import World

__all__ = ["Crowd"]

#: Chat-bound calls that show a person something in their chat.
_SHOWING = SENDING | EDITING


@dataclass
class Step:
    """One update a member sent, and when the bot answered it (emulator seconds)."""

    user: int
    kind: str  # "tap" or "code"
    label: str  # the button's label, or the code typed
    pushed: float
    query_id: str | None = None
    answered: float | None = None  # a tap's answerCallbackQuery; a code's reply
    toast: str | None = None  # a tap's answer text
    followed: float | None = None  # a tap's first message or edit in the chat after it
    text: str | None = None  # a code's reply


@dataclass
class _Run:
    follow: bool  # the bot shows something in the chat after every tap
    key: bytes
    steps: list[Step] = field(default_factory=list)
    by_query: dict[str, Step] = field(default_factory=dict)
    waiting: dict[int, deque[Step]] = field(default_factory=dict)  # chat -> steps to show
    code_for: dict[str, int] = field(default_factory=dict)  # query id -> session id
    outstanding: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Crowd:
    """The crowd's control routes (under ``/_crowd``) for one `World`."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._run: _Run | None = None
        record = world.record_call

        def recorded(call: CallRecord) -> None:
            record(call)
            self._on_call(call)

        world.record_call = recorded  # type: ignore[method-assign,assignment]

    def routes(self) -> list[Route]:
        return [
            Route("/_crowd/plant", self.plant, methods=["POST"]),
            Route("/_crowd/run", self.run, methods=["POST"]),
            Route("/_crowd/wait", self.wait, methods=["GET"]),
            Route("/_crowd/results", self.results, methods=["GET"]),
        ]

    async def plant(self, request: Request) -> Response:
        """{users, labels}: a bot message with these buttons in each chat (for a bare bot
        that sent nothing itself)."""
        body = await request.json()
        markup = {
            "inline_keyboard": [
                [{"text": label, "callback_data": f"bare:{label}"}] for label in body["labels"]
            ]
        }
        for user in body["users"]:
            chat = self.world.chat(int(user))
            self.world.store_message(chat, Content(text="…", reply_markup=markup))
        return json_response({"planted": len(body["users"])})

    async def run(self, request: Request) -> Response:
        """{actions, follow, key}: start a run; each action {user, at, tap, code?} taps
        the button ``tap`` at ``at`` seconds from now and, with ``code`` (a session id),
        then types that session's current check-in code when asked for it."""
        body = await request.json()
        actions = sorted(body["actions"], key=lambda action: float(action["at"]))
        run = _Run(follow=bool(body.get("follow")), key=bytes.fromhex(body.get("key", "")))
        run.outstanding = sum(
            1 + run.follow + (2 if action.get("code") is not None else 0) for action in actions
        )
        self._run = run
        asyncio.get_running_loop().create_task(self._act(run, actions))
        return json_response({"actions": len(actions)})

    async def wait(self, request: Request) -> Response:
        """Until every update of the run is answered (or ``timeout`` seconds)."""
        run = self._run
        timeout = float(request.query_params.get("timeout", "60"))
        if run is not None and run.outstanding:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.done.wait(), timeout)
        return json_response({"outstanding": run.outstanding if run is not None else 0})

    async def results(self, request: Request) -> Response:
        run = self._run
        steps = [asdict(step) for step in run.steps] if run is not None else []
        return json_response({"steps": steps})

    # --- the crowd acting -----------------------------------------------------------------

    async def _act(self, run: _Run, actions: list[dict[str, Any]]) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for action in actions:
            delay = start + float(action["at"]) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._run is not run:
                return
            user = self.world.user(int(action["user"]))
            query_id = await user.tap(str(action["tap"]))
            step = Step(user.id, "tap", str(action["tap"]), self.world.monotonic(), query_id)
            self._expect(run, step)
            run.by_query[query_id] = step
            if action.get("code") is not None:
                run.code_for[query_id] = int(action["code"])

    def _expect(self, run: _Run, step: Step) -> None:
        run.steps.append(step)
        if step.kind == "code" or run.follow:
            run.waiting.setdefault(step.user, deque()).append(step)

    def _type_code(self, run: _Run, query_id: str) -> None:
        session_id = run.code_for.pop(query_id, None)
        if session_id is None:
            return
        user = run.by_query[query_id].user
        asyncio.get_running_loop().create_task(self._send_code(run, user, session_id))

    async def _send_code(self, run: _Run, user: int, session_id: int) -> None:
        if self._run is not run:
            return
        code = current_code(run.key, session_id, self.world.now()).code
        await self.world.user(user).send(code)
        self._fulfil(run)  # the code was typed
        self._expect(run, Step(user, "code", code, self.world.monotonic()))

    def _fulfil(self, run: _Run) -> None:
        run.outstanding -= 1
        if run.outstanding <= 0:
            run.done.set()

    def _on_call(self, call: CallRecord) -> None:
        run = self._run
        if run is None or call.status != 200:
            return
        if call.method == "answerCallbackQuery":
            query_id = str(call.params.get("callback_query_id"))
            step = run.by_query.get(query_id)
            if step is not None and step.answered is None:
                step.answered, step.toast = call.at_monotonic, call.params.get("text")
                self._fulfil(run)
                if step.toast:
                    self._type_code(run, query_id)
            return
        if call.method not in _SHOWING:
            return
        try:
            chat = int(call.params.get("chat_id", 0))
        except (TypeError, ValueError):
            return
        waiting = run.waiting.get(chat)
        if not waiting:
            return
        step = waiting.popleft()
        self._fulfil(run)
        if step.kind == "tap":
            step.followed = call.at_monotonic
            if step.query_id is not None:
                self._type_code(run, step.query_id)
        else:
            step.answered = call.at_monotonic
            result = call.result if isinstance(call.result, dict) else {}
            step.text = str(result.get("text") or result.get("caption") or "")
