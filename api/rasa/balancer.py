"""A small retrying load balancer in front of the action servers.

Rasa's endpoints.yml names exactly one action server URL, and Rasa does not
retry a failed action call: the turn goes on without the action's events, so
the debtor gets no answer. `quitt run` therefore puts this balancer between
every Rasa replica and the M stateless action servers. It takes turns over the
action servers and, when one refuses the connection (crashed, restarting), it
sends the call to the next one; when none accepts, it keeps trying until the
launcher's supervisor has restarted one, up to `retry_seconds`. Only calls that
never reached an action server are repeated, so no action runs twice.

Why our own: no reverse proxy (nginx, HAProxy) is installed where Quitt runs
from a checkout, and the job needs retry-on-refused and nothing else, which is a
few lines on uvicorn and httpx that the app runtime already has. In Kubernetes
or Compose, a Service in front of the action server replicas takes its place.

    python -m api.rasa.balancer --port 5055 --backend http://127.0.0.1:5056 ...
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

logger = logging.getLogger(__name__)

# Headers that belong to one hop and must not be forwarded.
_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding"}


class Balancer:
    """Round-robin over backends; repeat a request only if no backend received it."""

    def __init__(
        self, backends: Sequence[str], *, timeout: float = 60.0, retry_seconds: float = 15.0
    ) -> None:
        if not backends:
            raise ValueError("at least one backend is needed")
        self.backends = [b.rstrip("/") for b in backends]
        self.retry_seconds = retry_seconds
        self._next = itertools.cycle(range(len(self.backends)))
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=2.0))

    async def forward(self, request: Request) -> Response:
        """Send the request to a backend that accepts it and return that backend's answer."""
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        deadline = time.monotonic() + self.retry_seconds
        while True:
            start = next(self._next)
            for offset in range(len(self.backends)):
                backend = self.backends[(start + offset) % len(self.backends)]
                try:
                    answer = await self._http.request(
                        request.method, backend + path, content=body, headers=headers
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    logger.warning("action server %s refused (%s)", backend, type(exc).__name__)
                    continue
                except httpx.HTTPError as exc:
                    # It may have run the action: never repeat, tell Rasa it failed.
                    logger.error("action server %s failed mid-call: %r", backend, exc)
                    return JSONResponse({"error": "action server failed"}, status_code=502)
                kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
                kept.pop("content-encoding", None)
                return Response(answer.content, status_code=answer.status_code, headers=kept)
            if time.monotonic() > deadline:
                return JSONResponse({"error": "no action server reachable"}, status_code=503)
            await asyncio.sleep(0.25)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()


def create_app(balancer: Balancer) -> Starlette:
    """Build the ASGI app that forwards every path through `balancer`."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await balancer.aclose()

    methods = ["GET", "POST", "PUT", "DELETE"]
    return Starlette(
        routes=[Route("/{path:path}", balancer.forward, methods=methods)], lifespan=lifespan
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the balancer (the launcher starts it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", action="append", required=True, help="an action server URL")
    parser.add_argument("--retry-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    balancer = Balancer(args.backend, retry_seconds=args.retry_seconds)
    uvicorn.run(create_app(balancer), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
