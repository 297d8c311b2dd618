"""PTB requests over lanes: many httpx clients of one kept-alive connection each.

The relay keeps up to 32 sends in flight. Through ONE httpx client (PTB's
``HTTPXRequest``) they share one httpcore pool of 36 connections, and httpcore walks
every connection of the pool, checking each socket, for every request it places and every
response it closes (``_assign_requests_to_connections``; its idle count is quadratic in
the connections): 0.6-1.9 million ``is_idle`` calls and 90,000 socket polls for 1,000
messages, which made the relay's cost vary from run to run. A lane is a client with a
pool of one connection, so placing a request looks at one socket; a free lane is taken
from a stack (the warmest connection first) and waited for, first come first served,
when all are busy. Lanes are made on first need, so an idle relay holds few. The
Application's bot sends over lanes too (bot/app.py): in a check-in rush hundreds of its
answers and edits are on their way at once.

A lane is our own small client rather than PTB's ``HTTPXRequest`` so that it can hand
httpx a parsed URL: given the string, httpx parses and checks every character of
``https://api.telegram.org/bot<token>/sendMessage`` for every request (~20 µs, a
twentieth of the relay's CPU a message); the few endpoints are parsed once here. It
sends what ``HTTPXRequest`` sends (the form fields or files of PTB's ``RequestData``,
PTB's User-Agent) and raises PTB's errors for httpx's (``TimedOut``, ``NetworkError``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from typing import TypeGuard

import httpx
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["LaneRequest"]


class LaneRequest(BaseRequest):
    """``lanes`` clients of one connection each (``Lane``), each request on a free one."""

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
        self._lanes: list[Lane] = []
        self._free: list[Lane] = []  # a stack: the most recently used on top
        self._waiting: deque[asyncio.Future[Lane]] = deque()
        self._urls: dict[str, httpx.URL] = {}  # parsed once: a bot calls a few endpoints

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
                self._url(url),
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
            )
        finally:
            self._give_back(lane)

    def _url(self, url: str) -> httpx.URL:
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _URLS_KEPT:  # file downloads: one URL each
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    async def _take(self, timeout: float | None) -> Lane:  # noqa: ASYNC109
        if self._free:
            return self._free.pop()
        if len(self._lanes) < self._size:
            lane = self._new_lane()
            self._lanes.append(lane)
            return lane
        waiter: asyncio.Future[Lane] = asyncio.get_running_loop().create_future()
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

    def _give_back(self, lane: Lane) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(lane)
                return
        self._free.append(lane)

    def _new_lane(self) -> Lane:
        if self._tls is None:  # used without initialize()
            self._tls = httpx.create_ssl_context()
        read, write, connect, pool = self._timeouts
        timeout = httpx.Timeout(connect=connect, read=read, write=write, pool=pool)
        return Lane(timeout, self._tls)


_URLS_KEPT = 64
# PTB's default write timeout for a request that uploads files (HTTPXRequest's too).
MEDIA_WRITE_TIMEOUT = 20.0


class Lane:
    """One kept-alive connection: an httpx client with a pool of one."""

    def __init__(self, timeout: httpx.Timeout, tls: ssl.SSLContext) -> None:
        self._timeout = timeout
        self._tls = tls
        self._headers = {"User-Agent": BaseRequest.USER_AGENT}
        self._client = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            verify=self._tls,
        )

    async def initialize(self) -> None:
        """Reopen the client a shutdown closed."""
        if self._client.is_closed:
            self._client = self._new_client()

    async def shutdown(self) -> None:
        """Close the connection."""
        await self._client.aclose()

    async def do_request(
        self,
        url: httpx.URL,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One request: PTB's form fields (or files), its status and body."""
        files = request_data.multipart_data if request_data is not None else None
        data = request_data.json_parameters if request_data is not None else None
        timeout = self._timeout
        if files or any(
            _is_given(given) for given in (read_timeout, write_timeout, connect_timeout)
        ):
            default_write = MEDIA_WRITE_TIMEOUT if files else timeout.write
            timeout = httpx.Timeout(
                connect=_given(connect_timeout, timeout.connect),
                read=_given(read_timeout, timeout.read),
                write=_given(write_timeout, default_write),
                pool=timeout.pool,
            )
        try:
            answer = await self._client.request(
                method, url, headers=self._headers, timeout=timeout, files=files, data=data
            )
        except httpx.PoolTimeout as exc:
            raise TimedOut("Pool timeout: the lane's connection is busy. Not sent.") from exc
        except httpx.TimeoutException as exc:
            raise TimedOut from exc
        except httpx.HTTPError as exc:
            raise NetworkError(f"httpx.{type(exc).__name__}: {exc}") from exc
        return answer.status_code, answer.content


def _is_given(value: ODVInput[float]) -> TypeGuard[float | None]:
    """Whether the caller gave this timeout (PTB passes ``DEFAULT_NONE`` when not)."""
    return value is None or isinstance(value, int | float)


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout the caller gave, or the lane's own."""
    return value if _is_given(value) else default
