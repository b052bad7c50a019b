"""Child processes started, restarted after a crash (backoff 1, 2, 4 … 30 s) and stopped.

On one machine the launcher is the supervisor; in production the orchestrator is.
Each child runs in a session of its own, so killing it kills its whole process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


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


def backoff(restarts: int) -> float:
    """Return the delay before the n-th restart in a row (1, 2, 4 … 30 s)."""
    return float(min(30, 2 ** max(0, restarts - 1)))


class Supervisor:
    """The children of one launcher: started in `cwd`, logged to `log_dir` (if given)."""

    def __init__(self, cwd: Path, log_dir: Path | None = None) -> None:
        self.cwd = cwd
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.children: dict[str, Supervised] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def popen(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start one process (not yet supervised), its output in `log_dir/<name>.log`."""
        if not self.log_dir:
            return subprocess.Popen(argv, cwd=self.cwd, env=env, start_new_session=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            # The child keeps its own copy of the descriptor.
            return subprocess.Popen(
                argv,
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        """Start a child and keep it under supervision."""
        process = self.popen(name, argv, env)
        with self._lock:
            self.children[name] = Supervised(name, argv, env, process, time.monotonic())
            self.processes[name] = process

    def start(self) -> None:
        """Start watching the children in a background thread."""
        self._thread = threading.Thread(
            target=self._supervise, name="quitt-supervisor", daemon=True
        )
        self._thread.start()

    def kill(self, name: str) -> int:
        """Kill -9 one child (its whole process group), as a crash would; return its pid."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        return process.pid

    def restarts(self, name: str) -> int:
        """Return how often a child was restarted."""
        return self.children[name].restarts

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
            delay = backoff(child.streak + 1)
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
            child.process = self.popen(child.name, child.argv, child.env)
            child.started, child.restart_at = now, None
            child.restarts += 1
            child.streak += 1
            self.processes[child.name] = child.process

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after a grace period)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
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
        """Keep the children running until Ctrl-C, then stop them.

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
