"""A real `python -m bot ...` process for a test: started, read, stopped, never left behind."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Running:
    process: asyncio.subprocess.Process
    output: asyncio.Task[tuple[bytes, bytes]]

    @property
    def gone(self) -> bool:
        return self.process.returncode is not None

    async def printed(self) -> str:
        """Everything it wrote (stdout and stderr), once it has exited."""
        stdout, _ = await asyncio.wait_for(asyncio.shield(self.output), 60)
        return stdout.decode(errors="replace")

    async def stop(self) -> str:
        """SIGTERM, as a process manager stops it; what it printed."""
        if not self.gone:
            self.process.send_signal(signal.SIGTERM)
        return await self.printed()


@asynccontextmanager
async def python_process(*argv: str, env: dict[str, str]) -> AsyncIterator[Running]:
    """`python <argv>` in the repository; killed on the way out if it is still running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    running = Running(process, asyncio.create_task(process.communicate()))
    try:
        yield running
    finally:
        if not running.gone:
            process.kill()
        await process.wait()
        await asyncio.gather(running.output, return_exceptions=True)
