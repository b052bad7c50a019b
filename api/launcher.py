"""`quitt run`: start the Rasa replicas, the action servers and the gateway together.

Each part runs in its own runtime (Rasa: .venv-rasa, Python 3.10; the rest:
.venv, Python 3.11), so they are separate processes; this module starts them,
waits until each answers, restarts a crashed one with backoff (on one machine
the launcher is the supervisor; in production the orchestrator is), and stops
all of them on Ctrl-C. The integration tests start the very same stack through
`Stack`.

The shape: N Rasa replicas share the tracker store (the database) and the Redis
lock store; every replica calls the action balancer (api/rasa/balancer.py),
which spreads calls over M stateless action servers and retries a refused one;
the gateway spreads conversations over the replicas (api/rasa/client.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from dotenv import dotenv_values
from sqlalchemy.engine import make_url

from api.cli import Subparsers
from api.config import ROOT, get_settings


def tracker_store(database_url: str, root: Path) -> dict[str, Any]:
    """Return Rasa's tracker store settings for the configured database."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        store: dict[str, Any] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": url.host or "127.0.0.1",
            "port": url.port or 5432,
            "db": url.database,
            "username": url.username or "postgres",
        }
        if url.password:
            store["password"] = url.password
        return store
    # Embedded default: a SQLite file next to the app database.
    database = Path(url.database or root / "var" / "quitt.db")
    return {"type": "SQL", "dialect": "sqlite", "db": str(database.with_name("rasa-tracker.db"))}


def lock_store(redis_url: str | None) -> dict[str, Any] | None:
    """Return Rasa's Redis lock store settings, or None for the in-memory default."""
    if not redis_url:
        return None
    url = make_url(redis_url.replace("redis://", "redis+x://", 1))
    store: dict[str, Any] = {
        "type": "redis",
        "url": url.host or "127.0.0.1",
        "port": url.port or 6379,
        "db": int(url.database or 0),
    }
    if url.password:
        store["password"] = url.password
    return store


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
class Supervised:
    """One child process and what it takes to start it again."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    started: float
    restarts: int = 0  # in all
    streak: int = 0  # in a row, without a minute up in between: sets the backoff
    restart_at: float | None = None


def quitt_settings_environment(env_file: Path | None = None) -> dict[str, str]:
    """Return every `QUITT_` setting this process was given, as environment variables.

    Read the way `Settings` reads them: `.env` in the working directory, then the
    environment, which wins. Names are upper-cased (pydantic-settings matches them
    case-insensitively), so a child reads exactly what the launcher read.
    """
    path = env_file if env_file is not None else Path.cwd() / ".env"
    found: dict[str, str] = {}
    if path.is_file():
        for key, value in dotenv_values(path).items():
            if key.upper().startswith("QUITT_") and value is not None:
                found[key.upper()] = value
    for key, value in os.environ.items():
        if key.upper().startswith("QUITT_"):
            found[key.upper()] = value
    return found


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
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Gateway process name -> port ("gateway" and those of add_gateway).
    gateway_ports: dict[str, int] = field(default_factory=dict)
    children: dict[str, Supervised] = field(default_factory=dict)
    _token: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _supervisor: threading.Thread | None = None

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
        run_dir = self.root / "var" / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        endpoints: dict[str, Any] = {
            "action_endpoint": {"url": f"http://{self.internal_host}:{self.action_port}/webhook"},
            "tracker_store": tracker_store(self.database_url, self.root),
        }
        locks = lock_store(self.redis_url)
        if locks:
            endpoints["lock_store"] = locks
        path = run_dir / f"endpoints-{rasa_port}.yml"
        path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
        return path

    def _popen(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        if not self.log_dir:
            return subprocess.Popen(argv, cwd=self.root, env=env, start_new_session=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            # The child keeps its own copy of the descriptor.
            return subprocess.Popen(
                argv,
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        process = self._popen(name, argv, env)
        with self._lock:
            self.children[name] = Supervised(name, argv, env, process, time.monotonic())
            self.processes[name] = process

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
        # rasa_sdk listens on SANIC_HOST (0.0.0.0 unless set).
        action_env = {**env, "SANIC_HOST": self.internal_host}
        for index, port in enumerate(self.action_ports):
            argv = [self._python(), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
            self._spawn(self._numbered("actions", index), argv, action_env)
        balancer = [self._python(), "-m", "api.rasa.balancer", "--host", self.internal_host]
        balancer += ["--port", str(self.action_port)]
        for port in self.action_ports:
            balancer += ["--backend", f"http://{self.internal_host}:{port}"]
        self._spawn("action-balancer", balancer, env)
        for index, port in enumerate(self.rasa_ports):
            self._spawn(self._numbered("rasa", index), self._rasa_argv(port), self._rasa_env(env))
        self.gateway_ports["gateway"] = self.gateway_port
        self._spawn("gateway", self._gateway_argv(self.gateway_port), self._gateway_env(env))
        if self.supervise:
            self._supervisor = threading.Thread(
                target=self._supervise, name="quitt-supervisor", daemon=True
            )
            self._supervisor.start()

    def add_gateway(
        self, port: int, name: str = "gateway-2", extra_env: dict[str, str] | None = None
    ) -> None:
        """Start one more gateway process on `port`, sharing Rasa, database and bus.

        `extra_env` adds settings of its own (the voice tests point one at a Twilio stand-in).
        """
        self.gateway_ports[name] = port
        env = {**self._env(self._token), **(extra_env or {})}
        self._spawn(name, self._gateway_argv(port), self._gateway_env(env))

    def kill(self, name: str) -> int:
        """Kill -9 one child (its whole process group), as a crash would; return its pid."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        return process.pid

    def restarts(self, name: str) -> int:
        """Return how often the supervisor restarted a child."""
        return self.children[name].restarts

    @staticmethod
    def backoff(restarts: int) -> float:
        """Return the delay before the n-th restart in a row (1, 2, 4 … 30 s)."""
        return float(min(30, 2 ** max(0, restarts - 1)))

    def _supervise(self) -> None:
        while not self._stopping.wait(0.2):
            for child in list(self.children.values()):
                self._tend(child)

    def _tend(self, child: Supervised) -> None:
        """Schedule a restart of a dead child, or restart it when its delay is over."""
        now = time.monotonic()
        if child.process.poll() is None:
            if child.streak and now - child.started > 60:
                child.streak = 0  # it stayed up: the next crash starts the backoff over
            return
        if child.restart_at is None:
            delay = self.backoff(child.streak + 1)
            child.restart_at = now + delay
            print(
                f"quitt: {child.name} exited with code {child.process.returncode}; "
                f"restarting in {delay:.0f}s",
                file=sys.stderr,
            )
            return
        if now < child.restart_at or self._stopping.is_set():
            return
        with self._lock:
            if self._stopping.is_set():
                return
            child.process = self._popen(child.name, child.argv, child.env)
            child.started, child.restart_at = now, None
            child.restarts += 1
            child.streak += 1
            self.processes[child.name] = child.process

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
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        with self._lock:
            processes = list(self.processes.values())
        for proc in processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in processes:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def watch(self) -> int:
        """Keep the children running (the supervisor restarts crashed ones) until Ctrl-C.

        SIGTERM (an init system, `docker stop`) stops them too: the children run in
        sessions of their own and would otherwise outlive the launcher.
        """

        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, interrupt)
            # A launcher started in the background inherits an ignored SIGINT.
            signal.signal(signal.SIGINT, interrupt)
        try:
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()


def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    stack = Stack(
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        host=settings.host,
        gateway_port=settings.port,
        rasa_port=settings.rasa_port,
        action_port=settings.action_port,
        model=settings.model_path,
        rasa_replicas=settings.rasa_replicas,
        action_replicas=settings.action_replicas,
    )
    problem = settings.rest_channel_problem()
    if problem is not None:
        print(f"quitt: {problem}", file=sys.stderr)
        return 2
    if stack.rasa_replicas > 1 and not settings.redis_url:
        print(
            "quitt: several Rasa replicas need QUITT_REDIS_URL (the shared lock store)",
            file=sys.stderr,
        )
        return 2
    stack.start()
    try:
        stack.wait_ready()
    except (RuntimeError, TimeoutError) as exc:
        stack.stop()
        print(f"quitt: {exc}", file=sys.stderr)
        return 1
    print(
        f"Quitt is up: http://{settings.host}:{settings.port}  "
        f"({stack.rasa_replicas} Rasa, {stack.action_replicas} action servers; "
        "docs: /docs, Ctrl-C stops)"
    )
    return stack.watch()


def register(subparsers: Subparsers) -> None:
    """Add `quitt run`."""
    parser = subparsers.add_parser("run", help="start Rasa, the action server and the gateway")
    parser.set_defaults(handler=_run)
