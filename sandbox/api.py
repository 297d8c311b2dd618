"""The Bot API over HTTP: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``.

Each call goes through the same gate in Telegram's order: token, method, injected fault,
flood limit, then the method itself; the outcome is recorded whatever it is.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import errors as e
from sandbox.errors import ApiError, too_many_requests
from sandbox.faults import Fault
from sandbox.messaging import chat_of_call
from sandbox.methods import EDITING, METHODS, SENDING
from sandbox.models import CallRecord
from sandbox.params import Params, parse_body
from sandbox.world import World

log = logging.getLogger(__name__)


def json_response(payload: Any, status: int = 200) -> Response:
    """A JSON body as Telegram sends it."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


class BotApi:
    """Routes bound to one :class:`World`."""

    def __init__(self, world: World) -> None:
        self.world = world

    def routes(self) -> list[Route]:
        """The Bot API and file download routes."""
        return [
            Route("/bot{token}/{method}", self.call, methods=["GET", "POST"]),
            Route("/file/bot{token}/{file_path:path}", self.download, methods=["GET"]),
        ]

    async def call(self, request: Request) -> Response:
        """One Bot API call."""
        world = self.world
        at_monotonic, at_wall = world.monotonic(), world.now()
        requested = str(request.path_params["method"])
        known = METHODS.get(requested.lower())
        name = known[0] if known else requested
        params = Params({})
        fault: Fault | None = None
        try:
            if request.path_params["token"] != world.token:
                raise ApiError(401, e.UNAUTHORIZED)
            params = parse_body(
                request.headers.get("content-type", ""),
                await request.body(),
                list(request.query_params.multi_items()),
            )
            if known is None:
                raise ApiError(404, e.NOT_FOUND)
            fault = world.faults.take(name)
            if fault is not None:
                raise _fault_error(fault)
            counted = name in SENDING or (name in EDITING and world.limiter.settings.count_edits)
            chat_id = chat_of_call(params) if counted else None
            if chat_id is not None:
                retry_after = world.limiter.check(chat_id)
                if retry_after is not None:
                    raise too_many_requests(retry_after)
            result = await known[1](world, params)
            if chat_id is not None:
                world.limiter.record(chat_id)
        except ApiError as error:
            self._record(name, params, error.error_code, at_monotonic, at_wall, error, fault)
            if fault is not None and fault.kind == "timeout":
                await world.sleep(fault.hold_seconds)
            return json_response(error.payload(), error.error_code)
        except Exception:
            log.exception("emulator failed in %s", name)
            failure = ApiError(500, "Internal Server Error")
            self._record(name, params, 500, at_monotonic, at_wall, failure, None)
            return json_response(failure.payload(), 500)
        self._record(name, params, 200, at_monotonic, at_wall, result, None)
        return json_response({"ok": True, "result": result})

    async def download(self, request: Request) -> Response:
        """A file's bytes, for uploads by the bot and by users alike."""
        world = self.world
        path = str(request.path_params["file_path"])
        at_monotonic, at_wall = world.monotonic(), world.now()
        params = Params({"file_path": path})
        stored = world.files.by_path(path)
        refusal: ApiError | None = None
        if request.path_params["token"] != world.token:
            refusal = ApiError(401, e.UNAUTHORIZED)
        elif stored is None:
            refusal = ApiError(404, e.NOT_FOUND)
        if refusal is not None or stored is None:
            refusal = refusal or ApiError(404, e.NOT_FOUND)
            code = refusal.error_code
            self._record("downloadFile", params, code, at_monotonic, at_wall, refusal)
            return json_response(refusal.payload(), code)
        self._record("downloadFile", params, 200, at_monotonic, at_wall, len(stored.data))
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")

    def _record(
        self,
        method: str,
        params: Params,
        status: int,
        at_monotonic: float,
        at_wall: Any,
        outcome: Any,
        fault: Fault | None = None,
    ) -> None:
        world = self.world
        error = outcome if isinstance(outcome, ApiError) else None
        world.record_call(
            CallRecord(
                seq=len(world.calls) + 1,
                method=method,
                params=params.decoded(),
                status=status,
                at_monotonic=at_monotonic,
                at_wall=at_wall,
                result=None if error else outcome,
                description=error.description if error else None,
                retry_after=(error.parameters or {}).get("retry_after") if error else None,
                fault=fault.kind if fault else None,
            )
        )


def _fault_error(fault: Fault) -> ApiError:
    if fault.kind == "429":
        return too_many_requests(fault.retry_after)
    return ApiError(502, e.BAD_GATEWAY)
