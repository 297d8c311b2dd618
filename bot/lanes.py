"""PTB requests over lanes: many httpx clients of one kept-alive connection each.

The relay keeps up to 32 sends in flight. Through ONE httpx client (PTB's
``HTTPXRequest``) they share one httpcore pool of 36 connections, and httpcore walks
every connection of the pool, checking each socket, for every request it places and every
response it closes (``_assign_requests_to_connections``; its idle count is quadratic in
the connections): 0.6-1.9 million ``is_idle`` calls and 90,000 socket polls for 1,000
messages, which made the relay's cost vary from run to run. A lane is a client with a
pool of one connection, so placing a request looks at one socket; a free lane is taken
from a stack (the warmest connection first) and waited for, first come first served,
when all are busy. Lanes are made on first need, so an idle relay holds few.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque

import httpx
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

__all__ = ["LaneRequest"]


class LaneRequest(BaseRequest):
    """``lanes`` one-connection ``HTTPXRequest``s, each request on a free one."""

    def __init__(
        self,
        lanes: int,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        if lanes < 1:
            raise ValueError("a LaneRequest needs at least one lane")
        self._size = lanes
        self._timeouts = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        self._pool_timeout = pool_timeout
        self._tls: ssl.SSLContext | None = None  # one for all lanes: loading CAs is costly
        self._lanes: list[HTTPXRequest] = []
        self._free: list[HTTPXRequest] = []  # a stack: the most recently used on top
        self._waiting: deque[asyncio.Future[HTTPXRequest]] = deque()

    @property
    def lanes(self) -> int:
        """Lanes made so far (at most the size given)."""
        return len(self._lanes)

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, as PTB asks of a request class."""
        return self._timeouts[0]

    async def initialize(self) -> None:
        """Load the TLS context (tens of ms: not during the first send) and reopen the
        lanes a shutdown closed (a relay stopped and started again)."""
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        for lane in self._lanes:
            await lane.initialize()

    async def shutdown(self) -> None:
        """Close every lane's connection."""
        for lane in self._lanes:
            await lane.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send on a free lane (waiting at most the pool timeout for one), then free it."""
        wait = self._pool_timeout  # a default (PTB's DefaultValue): ours
        if pool_timeout is None or isinstance(pool_timeout, int | float):
            wait = pool_timeout
        lane = await self._take(wait)
        try:
            return await lane.do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
            )
        finally:
            self._give_back(lane)

    async def _take(self, timeout: float | None) -> HTTPXRequest:  # noqa: ASYNC109
        if self._free:
            return self._free.pop()
        if len(self._lanes) < self._size:
            lane = self._new_lane()
            self._lanes.append(lane)
            return lane
        waiter: asyncio.Future[HTTPXRequest] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())  # handed over just as we gave up
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiting.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise TimedOut(
                    "Pool timeout: every lane is busy. The request was not sent."
                ) from exc
            raise

    def _give_back(self, lane: HTTPXRequest) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(lane)
                return
        self._free.append(lane)

    def _new_lane(self) -> HTTPXRequest:
        if self._tls is None:  # used without initialize()
            self._tls = httpx.create_ssl_context()
        read, write, connect, pool = self._timeouts
        return HTTPXRequest(
            connection_pool_size=1,
            read_timeout=read,
            write_timeout=write,
            connect_timeout=connect,
            pool_timeout=pool,
            httpx_kwargs={"verify": self._tls},
        )
