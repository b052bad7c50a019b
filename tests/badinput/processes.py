"""Real outside processes the fault and bad-input tests control: Redis, a TCP cut, a gateway.

Each can be stopped and started again by the test, so an outage is a real one
(a refused connection), never a mock; the shared PostgreSQL and Redis servers
are never touched.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from domain.config import ROOT
from tests.support.stack import twilio_env
from tests.support.twilio_standin import TwilioStandIn, running_standin, sign
from tests.whatsapp.helpers import WEBHOOK


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: object, timeout: float = 30.0, interval: float = 0.2) -> None:
    """Poll `check()` until it is true; fail after `timeout` seconds."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met after {timeout:.0f}s")
        time.sleep(interval)


@dataclass
class RedisServer:
    """A throw-away `redis-server` on its own port that a test may stop and restart."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the server's URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (no persistence) and wait until it answers."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=10)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server, as an outage would (its clients see refused connections)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


class TcpCut:
    """A TCP forwarder to a real server that a test can cut (refuse and drop) and mend."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._thread.start()

    def _call(self, coro: object) -> object:
        future: Future[object] = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        return future.result(timeout=10)

    def open(self) -> None:
        """Accept and forward connections."""
        self._call(self._open())

    def cut(self) -> None:
        """Stop listening and drop every forwarded connection."""
        self._call(self._cut())

    def close(self) -> None:
        """Cut and stop the forwarder's thread."""
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _open(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._links.difference_update((writer, up_writer))


@dataclass
class GatewayProcess:
    """One more real gateway process (uvicorn) in front of the session stack's Rasa."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """Return the gateway's URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        """Start uvicorn with the gateway app and wait until `/health` answers."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUITT_")}
        env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **self.env)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "python"),
                    "-m",
                    "uvicorn",
                    "api.main:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self._up, timeout=timeout, interval=0.5)

    def _up(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"gateway exited with {self.process.returncode}; see {self.log}")
        try:
            return httpx.get(f"{self.base_url}/health", timeout=5).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Stop the gateway (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def stack_gateway_env(stack: object, **extra: str) -> dict[str, str]:
    """Return the settings of a gateway that talks to the session stack's Rasa and database."""
    rasa_urls = list(getattr(stack, "rasa_urls", None) or [])
    rasa_port = getattr(stack, "rasa_port", None)
    rasa_url = rasa_urls[0] if rasa_urls else f"http://127.0.0.1:{rasa_port}"
    token = getattr(stack, "token", None) or getattr(stack, "_token", "")
    env = {
        "QUITT_DATABASE_URL": str(getattr(stack, "database_url", "")),
        "QUITT_RASA_URL": rasa_url,
        "QUITT_RASA_URLS": ",".join(rasa_urls or [rasa_url]),
        "QUITT_RASA_TOKEN": str(token),
        "QUITT_ENVIRONMENT": "test",
        "QUITT_SENTIMENT_BACKEND": "off",
    }
    env.update(extra)
    return env


@contextmanager
def whatsapp_gateway(stack: object, log: Path) -> Iterator[tuple[GatewayProcess, TwilioStandIn]]:
    """Run a gateway on the session stack with WhatsApp on, Twilio played by the stand-in."""
    with running_standin() as standin:
        gateway = GatewayProcess(env={}, log=log)
        gateway.env = stack_gateway_env(stack, **twilio_env(standin, gateway.base_url))
        gateway.start()
        try:
            yield gateway, standin
        finally:
            gateway.stop()


@pytest.fixture(scope="module")
def whatsapp(
    stack: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, TwilioStandIn]]:
    """Run one more gateway with WhatsApp on, in front of the session stack."""
    with whatsapp_gateway(stack, tmp_path_factory.mktemp("whatsapp") / "gateway.log") as running:
        yield running


def post_whatsapp(
    http: httpx.Client, gateway: GatewayProcess, form: dict[str, str], *, signed: bool = True
) -> httpx.Response:
    """Post a WhatsApp webhook to the gateway, signed with Twilio's real validator."""
    headers = {"X-Twilio-Signature": sign(f"{gateway.base_url}{WEBHOOK}", form)} if signed else {}
    return http.post(f"{gateway.base_url}{WEBHOOK}", data=form, headers=headers)
