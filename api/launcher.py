"""`quitt run`: start the Rasa server, the action server and the gateway together.

Each part runs in its own runtime (Rasa: .venv-rasa, Python 3.10; the rest:
.venv, Python 3.11), so they are separate processes; this module starts them,
waits until each answers, and stops all of them when one dies or on Ctrl-C.
The integration tests start the very same stack through `Stack`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
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


@dataclass
class Stack:
    """The three processes of a running Quitt, on configurable ports."""

    database_url: str
    redis_url: str | None = None
    host: str = "127.0.0.1"
    gateway_port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    model: Path = ROOT / "models" / "quitt.tar.gz"
    root: Path = ROOT
    log_dir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _token: str = ""

    def _env(self, token: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUITT_")}
        env.update(
            QUITT_DATABASE_URL=self.database_url,
            QUITT_RASA_URL=f"http://{self.host}:{self.rasa_port}",
            QUITT_RASA_TOKEN=token,
            PYTHONPATH=str(self.root),
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_ENABLE_ONEDNN_OPTS="0",
            PYTHONUNBUFFERED="1",
        )
        for key in ("environment", "secret_key", "timezone", "policy_file", "privacy_url"):
            value = os.environ.get(f"QUITT_{key.upper()}")
            if value:
                env[f"QUITT_{key.upper()}"] = value
        if self.redis_url:
            env["QUITT_REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def _endpoints(self) -> Path:
        run_dir = self.root / "var" / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        endpoints: dict[str, Any] = {
            "action_endpoint": {"url": f"http://{self.host}:{self.action_port}/webhook"},
            "tracker_store": tracker_store(self.database_url, self.root),
        }
        locks = lock_store(self.redis_url)
        if locks:
            endpoints["lock_store"] = locks
        path = run_dir / f"endpoints-{self.rasa_port}.yml"
        path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
        return path

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        if not self.log_dir:
            self.processes[name] = subprocess.Popen(
                argv, cwd=self.root, env=env, start_new_session=True
            )
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            # The child keeps its own copy of the descriptor.
            self.processes[name] = subprocess.Popen(
                argv,
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self) -> None:
        """Start Rasa, the action server and the gateway (not waiting for them)."""
        if not self.model.exists():
            raise SystemExit(f"no Rasa model at {self.model}: run `make train` first")
        self._token = secrets.token_urlsafe(24)
        env = self._env(self._token)
        rasa = self.root / ".venv-rasa" / "bin" / "rasa"
        python = self.root / ".venv" / "bin" / "python"
        self._spawn(
            "actions",
            [
                str(python),
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(self.action_port),
            ],
            env,
        )
        self._spawn(
            "rasa",
            [
                str(rasa),
                "run",
                "--enable-api",
                "--auth-token",
                self._token,
                "--model",
                str(self.model),
                "--endpoints",
                str(self._endpoints()),
                "--credentials",
                str(self.root / "bot" / "credentials.yml"),
                "--interface",
                self.host,
                "--port",
                str(self.rasa_port),
            ],
            env,
        )
        self._spawn(
            "gateway",
            [
                str(python),
                "-m",
                "uvicorn",
                "api.main:create_app",
                "--factory",
                "--host",
                self.host,
                "--port",
                str(self.gateway_port),
            ],
            env,
        )

    def add_gateway(self, port: int, name: str = "gateway-2") -> None:
        """Start one more gateway process on `port`, sharing Rasa, database and bus."""
        python = self.root / ".venv" / "bin" / "python"
        argv = [
            str(python),
            "-m",
            "uvicorn",
            "api.main:create_app",
            "--factory",
            "--host",
            self.host,
            "--port",
            str(port),
        ]
        self._spawn(name, argv, self._env(self._token))

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Block until all three answer; raise if one exits or time runs out."""
        checks = {
            "actions": f"http://{self.host}:{self.action_port}/health",
            "gateway": f"http://{self.host}:{self.gateway_port}/health",
        }
        deadline = time.monotonic() + timeout
        pending = set(checks)
        while pending:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {proc.returncode} while starting")
            for name in list(pending):
                try:
                    if httpx.get(checks[name], timeout=2.0).status_code == 200:
                        pending.discard(name)
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
            if pending:
                time.sleep(1.0)

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after a grace period)."""
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def watch(self) -> int:
        """Wait until a process exits or Ctrl-C; then stop the rest."""
        try:
            while True:
                for name, proc in self.processes.items():
                    if proc.poll() is not None:
                        print(
                            f"quitt: {name} exited with code {proc.returncode}; stopping",
                            file=sys.stderr,
                        )
                        return 1
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
    )
    stack.start()
    try:
        stack.wait_ready()
    except (RuntimeError, TimeoutError) as exc:
        stack.stop()
        print(f"quitt: {exc}", file=sys.stderr)
        return 1
    print(f"Quitt is up: http://{settings.host}:{settings.port}  (docs: /docs, Ctrl-C stops)")
    return stack.watch()


def register(subparsers: Subparsers) -> None:
    """Add `quitt run`."""
    parser = subparsers.add_parser("run", help="start Rasa, the action server and the gateway")
    parser.set_defaults(handler=_run)
