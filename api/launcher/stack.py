"""The processes that make a running Quitt, on which ports, and when it is ready.

Action servers behind their balancer, the Rasa replicas and the gateway; the
`Supervisor` keeps them running.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api.launcher.environment import quitt_settings_environment
from api.launcher.rasa_config import write_endpoints
from api.launcher.supervisor import Supervised, Supervisor, backoff
from domain.config import ROOT


def _port_or_free(host: str, preferred: int) -> int:
    """Return `preferred` if nothing listens there, else a free port the system picks."""
    with socket.socket() as probe:
        try:
            probe.bind((host, preferred))
            return preferred
        except OSError:
            probe.bind((host, 0))
            return int(probe.getsockname()[1])


@dataclass
class Stack:
    """The processes of a running Quitt, on configurable ports, supervised.

    `rasa_ports` and `action_ports` (the action servers behind the balancer on
    `action_port`) default to consecutive ports after `rasa_port` and `action_port`.
    """

    database_url: str
    redis_url: str | None = None
    host: str = "127.0.0.1"
    # Rasa and the action servers listen here only: they trust whoever reaches them (Rasa's
    # REST webhook has no QUITT_REST_TOKEN, the action webhook takes any slots), so only
    # the gateway may be published on `host`.
    internal_host: str = "127.0.0.1"
    gateway_port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    model: Path = ROOT / "models" / "quitt.tar.gz"
    root: Path = ROOT
    log_dir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    rasa_replicas: int = 1
    action_replicas: int = 1
    rasa_ports: list[int] = field(default_factory=list)
    action_ports: list[int] = field(default_factory=list)
    # Restart crashed children (backoff 1, 2, 4 … 30 s; reset after a minute up).
    supervise: bool = True
    # Rasa's Redis lock: a replica killed mid-turn blocks its conversation this long.
    lock_lifetime_seconds: int = 20
    # Gateway process name -> port ("gateway" and those of add_gateway).
    gateway_ports: dict[str, int] = field(default_factory=dict)
    supervisor: Supervisor = field(init=False)
    _token: str = ""

    def __post_init__(self) -> None:
        if not self.rasa_ports:
            self.rasa_ports = [self.rasa_port] + [
                _port_or_free(self.internal_host, self.rasa_port + i)
                for i in range(1, self.rasa_replicas)
            ]
        if not self.action_ports:
            self.action_ports = [
                _port_or_free(self.internal_host, self.action_port + 1 + i)
                for i in range(self.action_replicas)
            ]
        self.rasa_port = self.rasa_ports[0]
        self.rasa_replicas, self.action_replicas = len(self.rasa_ports), len(self.action_ports)
        self.supervisor = Supervisor(self.root, self.log_dir)

    @property
    def processes(self) -> dict[str, subprocess.Popen[bytes]]:
        """Return the running process of each child, by name."""
        return self.supervisor.processes

    @property
    def children(self) -> dict[str, Supervised]:
        """Return each supervised child, by name."""
        return self.supervisor.children

    @property
    def rasa_urls(self) -> list[str]:
        """Return the URLs of the Rasa replicas."""
        return [f"http://{self.internal_host}:{port}" for port in self.rasa_ports]

    @property
    def token(self) -> str:
        """Return the token of Rasa's HTTP API for this run."""
        return self._token

    def _env(self, token: str) -> dict[str, str]:
        # Every QUITT_ setting reaches every child (CONTRACT §1), from `.env` and the
        # environment alike; what the launcher decides for this run comes on top.
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("QUITT_")}
        env.update(quitt_settings_environment())
        env.update(
            QUITT_DATABASE_URL=self.database_url,
            QUITT_RASA_URL=self.rasa_urls[0],
            QUITT_RASA_URLS=",".join(self.rasa_urls),
            QUITT_RASA_TOKEN=token,
            PYTHONPATH=str(self.root),
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_ENABLE_ONEDNN_OPTS="0",
            TICKET_LOCK_LIFETIME=str(self.lock_lifetime_seconds),
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env["QUITT_REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def _endpoints(self, rasa_port: int) -> Path:
        return write_endpoints(
            self.root / "var" / "run" / f"endpoints-{rasa_port}.yml",
            action_url=f"http://{self.internal_host}:{self.action_port}/webhook",
            database_url=self.database_url,
            redis_url=self.redis_url,
            root=self.root,
        )

    def _python(self) -> str:
        return str(self.root / ".venv" / "bin" / "python")

    def _gateway_argv(self, port: int) -> list[str]:
        return [
            self._python(),
            "-m",
            "uvicorn",
            "api.main:create_app",
            "--factory",
            "--host",
            self.host,
            "--port",
            str(port),
        ]

    def _rasa_argv(self, port: int) -> list[str]:
        # nlu.server is Rasa's own CLI with the action-answer check compiled once.
        return [
            str(self.root / ".venv-rasa" / "bin" / "python"),
            "-m",
            "nlu.server",
            "run",
            "--enable-api",
            # One argument: a token_urlsafe token may begin with "-", which argparse
            # would read as an option (rasa then exits with "expected one argument").
            f"--auth-token={self._token}",
            "--model",
            str(self.model),
            "--endpoints",
            str(self._endpoints(port)),
            "--credentials",
            str(self.root / "bot" / "credentials.yml"),
            "--interface",
            self.internal_host,
            "--port",
            str(port),
        ]

    def _rasa_env(self, env: dict[str, str]) -> dict[str, str]:
        """Share the cores between the replicas instead of letting each TensorFlow take all."""
        if self.rasa_replicas < 2:
            return env
        cores = max(1, (os.cpu_count() or 1) // self.rasa_replicas)
        return {
            "TF_INTRA_OP_PARALLELISM_THREADS": str(cores),
            "TF_INTER_OP_PARALLELISM_THREADS": "1",
            **env,
        }

    @staticmethod
    def _gateway_env(env: dict[str, str]) -> dict[str, str]:
        """Keep the gateway's per-message CPU work (sentiment embeddings) on one thread.

        The OpenMP threads of the embedding engine spin while they wait for each
        other; next to busy Rasa processes one embedding took 350 ms instead of 20.
        Whisper sets its own thread count (CTranslate2's cpu_threads wins over this).
        """
        return {"OMP_NUM_THREADS": "1", **env}

    @staticmethod
    def _numbered(base: str, index: int) -> str:
        return base if index == 0 else f"{base}-{index + 1}"

    def start(self) -> None:
        """Start the action servers, their balancer, the Rasa replicas and the gateway."""
        if not self.model.exists():
            raise SystemExit(f"no Rasa model at {self.model}: run `make train` first")
        self._token = secrets.token_urlsafe(24)
        env = self._env(self._token)
        spawn = self.supervisor.spawn
        # rasa_sdk listens on SANIC_HOST (0.0.0.0 unless set).
        action_env = {**env, "SANIC_HOST": self.internal_host}
        for index, port in enumerate(self.action_ports):
            argv = [self._python(), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
            spawn(self._numbered("actions", index), argv, action_env)
        balancer = [self._python(), "-m", "api.rasa.balancer", "--host", self.internal_host]
        balancer += ["--port", str(self.action_port)]
        for port in self.action_ports:
            balancer += ["--backend", f"http://{self.internal_host}:{port}"]
        spawn("action-balancer", balancer, env)
        for index, port in enumerate(self.rasa_ports):
            spawn(self._numbered("rasa", index), self._rasa_argv(port), self._rasa_env(env))
        self.gateway_ports["gateway"] = self.gateway_port
        spawn("gateway", self._gateway_argv(self.gateway_port), self._gateway_env(env))
        if self.supervise:
            self.supervisor.start()

    def add_gateway(
        self, port: int, name: str = "gateway-2", extra_env: dict[str, str] | None = None
    ) -> None:
        """Start one more gateway process on `port`, sharing Rasa, database and bus.

        `extra_env` adds settings of its own (the voice tests point one at a Twilio stand-in).
        """
        self.gateway_ports[name] = port
        env = {**self._env(self._token), **(extra_env or {})}
        self.supervisor.spawn(name, self._gateway_argv(port), self._gateway_env(env))

    def kill(self, name: str) -> int:
        """Kill -9 one child (its whole process group), as a crash would; return its pid."""
        return self.supervisor.kill(name)

    def restarts(self, name: str) -> int:
        """Return how often the supervisor restarted a child."""
        return self.supervisor.restarts(name)

    @staticmethod
    def backoff(restarts: int) -> float:
        """Return the delay before the n-th restart in a row (1, 2, 4 … 30 s)."""
        return backoff(restarts)

    def _checks(self) -> dict[str, str]:
        checks = {"action-balancer": f"http://{self.internal_host}:{self.action_port}/health"}
        for name, port in self.gateway_ports.items():
            checks[name] = f"http://{self.host}:{port}/health"
        for index, port in enumerate(self.action_ports):
            checks[self._numbered("actions", index)] = f"http://{self.internal_host}:{port}/health"
        for index, url in enumerate(self.rasa_urls):
            checks[self._numbered("rasa", index)] = f"{url}/status?token={self._token}"
        return checks

    def ready(self, name: str) -> bool:
        """Tell whether one child answers its health check."""
        try:
            return httpx.get(self._checks()[name], timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 240.0, names: list[str] | None = None) -> None:
        """Block until every child (or those named) answers; raise on a crash loop or timeout."""
        deadline = time.monotonic() + timeout
        pending = set(names or self._checks())
        while pending:
            for name, child in self.children.items():
                crashed = child.process.poll() is not None
                if crashed and (not self.supervise or child.streak >= 3):
                    raise RuntimeError(
                        f"{name} exited with code {child.process.returncode} while starting"
                    )
            pending = {name for name in pending if not self.ready(name)}
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
            if pending:
                time.sleep(1.0)

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after a grace period)."""
        self.supervisor.stop()

    def watch(self) -> int:
        """Keep the children running (the supervisor restarts crashed ones) until Ctrl-C."""
        return self.supervisor.watch()
