"""A redis-server of the test's own, on a free 127.0.0.1 port and a temporary directory, that
the test can stop (gracefully, or by SIGKILL), freeze and start again on the same port and
directory. The shared Redis on 6379 is never touched.

Persistence is chosen per test, as in production:
  aof  appendonly yes, appendfsync always: every write is on disk before Redis answers it,
       so even SIGKILL (a crash, an OOM kill) loses nothing;
  rdb  a snapshot written on a graceful shutdown (SIGTERM): a clean restart loses nothing,
       a crash loses everything since the last snapshot;
  none the default of `redis-server --save ''`: a restart loses everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.waiting import until_async

PERSISTENCE = {
    "aof": ["--appendonly", "yes", "--appendfsync", "always", "--save", ""],
    "rdb": ["--appendonly", "no", "--save", "3600 1"],
    "none": ["--appendonly", "no", "--save", ""],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    def __init__(self, directory: Path, persistence: str) -> None:
        binary = shutil.which("redis-server")
        if binary is None:  # the restart tests prove nothing without one: never skip them
            pytest.fail("redis-server is not installed (Debian package redis-server)")
        self.binary = binary
        self.directory = directory
        self.persistence = persistence
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
                str(self.directory), "--logfile", str(self.directory / "redis.log"),
                "--daemonize", "no", *PERSISTENCE[self.persistence]]
        self.process = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        process = self.process

        async def up_or_exited() -> bool:
            return process.returncode is not None or await self._answers()

        with contextlib.suppress(TimeoutError):
            await until_async(up_or_exited, within=30)
        if process.returncode is not None or not await self._answers():
            log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"redis-server did not start on port {self.port}:\n{log}")

    async def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM: graceful (an rdb snapshot is written when configured); SIGKILL: a crash."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(how)
        await asyncio.wait_for(self.process.wait(), 10)

    def freeze(self) -> None:
        """SIGSTOP: the port stays open but nothing answers (a hung server, a partition)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    async def _answers(self) -> bool:
        client = Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5,
                       socket_connect_timeout=0.5)
        try:
            return bool(await client.ping())
        except (RedisError, OSError):
            return False
        finally:
            await client.aclose()


@asynccontextmanager
async def running_server(directory: Path, persistence: str) -> AsyncIterator[RedisServer]:
    """A started RedisServer, killed on the way out (thawed first, should a test fail while
    it is frozen)."""
    server = RedisServer(directory, persistence)
    await server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.returncode is None:
            server.thaw()
        await server.stop(signal.SIGKILL)
