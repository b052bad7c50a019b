"""The production container shape: docker-compose.yml, docker/ and .dockerignore.

No Docker engine runs where the tests run, so the files are checked by parsing
them. Each check is a function that lists problems; the tests assert that the
shipped files have none, and that a deliberately broken copy has one (so no
check passes vacuously).
"""

from __future__ import annotations

import copy
import fnmatch
import os
import re
import shlex
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.config import ROOT, Settings

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENDPOINTS_FILE = ROOT / "docker" / "endpoints.yml"
RASA_ENTRYPOINT = ROOT / "docker" / "rasa-entrypoint.sh"
DOCKERIGNORE = ROOT / ".dockerignore"

LONG_RUNNING = ("postgres", "redis", "actions", "rasa", "gateway")
ONE_OFF = ("migrate",)
APP_SERVICES = ("migrate", "actions", "gateway")
EXPECTED_DEPENDS = {
    "gateway": {
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "rasa": "service_healthy",
        "actions": "service_healthy",
        "migrate": "service_completed_successfully",
    },
    "rasa": {
        "actions": "service_healthy",
        "postgres": "service_healthy",
        "redis": "service_healthy",
    },
    "actions": {
        "postgres": "service_healthy",
        "migrate": "service_completed_successfully",
    },
    "migrate": {"postgres": "service_healthy"},
}
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY", re.IGNORECASE)
REQUIRED_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}")
ANY_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")
URL_PASSWORD = re.compile(r"://[^/\s:@]+:(?P<password>.+?)@")
ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
TEST_SECRETS = {
    "POSTGRES_PASSWORD": "compose-test-password",
    "QUITT_SECRET_KEY": "compose-test-secret-0123456789abcdef0123",
    "QUITT_RASA_TOKEN": "compose-test-token",
    "QUITT_REST_TOKEN": "compose-test-rest-token",
}


# --- loading -------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    """Return docker-compose.yml as a mapping (YAML anchors and merge keys resolved)."""
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def environment(service: dict[str, Any]) -> dict[str, Any]:
    """Return a service's environment as a mapping; a bare name maps to None."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return dict(env)
    result: dict[str, Any] = {}
    for item in env:
        name, sep, value = str(item).partition("=")
        result[name] = value if sep else None
    return result


def dockerfile(path: Path) -> list[tuple[str, str]]:
    """Parse a Dockerfile into (INSTRUCTION, arguments), continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, rest = pending.partition(" ")
        instructions.append((keyword.upper(), " ".join(rest.split())))
        pending = ""
    return instructions


def build_dockerfile(service: dict[str, Any]) -> Path:
    """Return the Dockerfile a service builds from."""
    build = service["build"]
    if isinstance(build, str):
        return ROOT / build / "Dockerfile"
    context, name = str(build.get("context", ".")), str(build.get("dockerfile", "Dockerfile"))
    return ROOT / context / name


# --- checks ----------------------------------------------------------------------


def service_problems(compose: dict[str, Any]) -> list[str]:
    """The five services exist; the file is Compose spec (no `version:`)."""
    problems = []
    if "version" in compose:
        problems.append("obsolete top-level `version:` key")
    services = compose.get("services") or {}
    problems += [f"service {name} missing" for name in LONG_RUNNING if name not in services]
    problems += [f"service {name} missing" for name in ONE_OFF if name not in services]
    return problems


def port_problems(compose: dict[str, Any]) -> list[str]:
    """The gateway publishes port 8000 on 8000; nothing else is published."""
    problems = []
    for name, service in compose["services"].items():
        published = set()
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                published.add((str(port.get("published")), str(port.get("target"))))
            else:
                parts = str(port).split(":")
                if len(parts) >= 2:
                    published.add((parts[-2], parts[-1].split("/")[0]))
                else:
                    published.add(("", parts[0]))
        if name == "gateway":
            if ("8000", "8000") not in published:
                problems.append(f"gateway publishes {sorted(published)}, not 8000:8000")
        elif published:
            problems.append(f"{name} publishes {sorted(published)}")
    return problems


def liveness_problems(compose: dict[str, Any]) -> list[str]:
    """Long-running services: a healthcheck and restart unless-stopped; one-offs: no restart."""
    problems = []
    services = compose["services"]
    for name in LONG_RUNNING:
        service = services.get(name, {})
        check = service.get("healthcheck") or {}
        if check.get("disable") or not check.get("test") or check["test"] == ["NONE"]:
            problems.append(f"{name} has no healthcheck")
        if service.get("restart") not in ("unless-stopped", "always"):
            problems.append(f"{name} restart is {service.get('restart')!r}")
        if "container_name" in service:
            problems.append(f"{name} has a container_name (breaks replicas)")
    for name in ONE_OFF:
        if services.get(name, {}).get("restart") != "no":
            problems.append(f"one-off {name} must have restart: 'no'")
    return problems


def dependency_problems(compose: dict[str, Any]) -> list[str]:
    """depends_on uses conditions, and the expected ones."""
    problems = []
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            problems.append(f"{name}: depends_on without conditions")
            continue
        for dependency, spec in depends.items():
            condition = (spec or {}).get("condition")
            wanted = (
                "service_completed_successfully" if dependency in ONE_OFF else "service_healthy"
            )
            if condition != wanted:
                problems.append(f"{name} waits for {dependency} with {condition}, not {wanted}")
        for dependency, condition in EXPECTED_DEPENDS.get(name, {}).items():
            got = (depends.get(dependency) or {}).get("condition")
            if got != condition:
                problems.append(f"{name} must wait for {dependency} ({condition}), has {got}")
    return problems


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def secret_problems(compose: dict[str, Any]) -> list[str]:
    """No hard-coded secret: each is a required ${VAR:?…} reference or passed through."""
    problems = []
    for name, service in compose["services"].items():
        for key, value in environment(service).items():
            secret = SECRET_NAME.search(key) and value is not None
            if secret and not REQUIRED_REF.fullmatch(str(value)):
                problems.append(f"{name}: {key} is not a ${{VAR:?…}} reference")
            for match in URL_PASSWORD.finditer(str(value or "")):
                if not REQUIRED_REF.fullmatch(match["password"]):
                    problems.append(f"{name}: {key} has a password in its URL")
    # Anywhere in the file: a secret variable never gets a default.
    for text in _strings(compose):
        for variable, operator in ANY_REF.findall(text):
            if SECRET_NAME.search(variable) and not operator.startswith(":?"):
                problems.append(f"${{{variable}{operator}}} gives a secret a default")
    return problems


def settings_problems(compose: dict[str, Any]) -> list[str]:
    """App services run in production and set only settings that api/config.py knows."""
    problems = []
    fields = {f"QUITT_{field.upper()}" for field in Settings.model_fields}
    expected = {
        "QUITT_ENVIRONMENT": "production",
        "QUITT_REDIS_URL": "redis://redis:6379/0",
    }
    for name in APP_SERVICES:
        env = environment(compose["services"].get(name, {}))
        for key in env:
            if key.startswith("QUITT_") and key not in fields:
                problems.append(f"{name}: {key} is no setting of api/config.py")
        for key, value in expected.items():
            if env.get(key) != value:
                problems.append(f"{name}: {key}={env.get(key)!r}, want {value!r}")
        url = str(env.get("QUITT_DATABASE_URL", ""))
        if not url.startswith("postgresql+psycopg://") or "@postgres:5432/quitt" not in url:
            problems.append(f"{name}: QUITT_DATABASE_URL={url!r}")
    gateway = environment(compose["services"].get("gateway", {}))
    if gateway.get("QUITT_RASA_URL") != "http://rasa:5005":
        problems.append("gateway: QUITT_RASA_URL must be http://rasa:5005")
    if not REQUIRED_REF.fullmatch(str(gateway.get("QUITT_RASA_TOKEN"))):
        problems.append("gateway: QUITT_RASA_TOKEN must be required")
    if not str(gateway.get("QUITT_ACTION_SERVER_URL", "")).startswith("http://actions:5055/"):
        problems.append("gateway: QUITT_ACTION_SERVER_URL must point at actions:5055")
    return problems


def endpoint_variables() -> set[str]:
    """Return the environment variables docker/endpoints.yml refers to."""
    document = yaml.safe_load(ENDPOINTS_FILE.read_text(encoding="utf-8"))
    return {name for text in _strings(document) for name in ENV_REF.findall(text)}


def rasa_environment_problems(compose: dict[str, Any]) -> list[str]:
    """The rasa service gives the endpoints template every variable, secrets required."""
    env = environment(compose["services"].get("rasa", {}))
    problems = [f"rasa: {var} is not set" for var in sorted(endpoint_variables() - set(env))]
    if not REQUIRED_REF.fullmatch(str(env.get("QUITT_RASA_TOKEN"))):
        problems.append("rasa: QUITT_RASA_TOKEN must be required")
    if not str(env.get("QUITT_ACTION_SERVER_URL", "")).startswith("http://actions:5055/"):
        problems.append("rasa: QUITT_ACTION_SERVER_URL must point at actions:5055")
    return problems


def endpoints_problems(text: str) -> list[str]:
    """The Rasa endpoints template: stores from the environment, secrets interpolated."""
    problems = []
    document = yaml.safe_load(text)
    action = document.get("action_endpoint") or {}
    if action.get("url") != "${QUITT_ACTION_SERVER_URL}":
        problems.append("action_endpoint.url must be ${QUITT_ACTION_SERVER_URL}")
    tracker = document.get("tracker_store") or {}
    if (tracker.get("type"), tracker.get("dialect")) != ("SQL", "postgresql"):
        problems.append("tracker_store must be type SQL, dialect postgresql")
    # Rasa passes `url` as the host: a `host` key collides with it (TypeError).
    if "host" in tracker:
        problems.append("tracker_store must name its host `url`, not `host`")
    for key in ("url", "port", "db", "username", "password"):
        if not ENV_REF.fullmatch(str(tracker.get(key))):
            problems.append(f"tracker_store.{key} is not an environment variable")
    locks = document.get("lock_store") or {}
    if locks.get("type") != "redis":
        problems.append("lock_store must be type redis")
    for key in ("url", "port", "db"):
        if not ENV_REF.fullmatch(str(locks.get(key))):
            problems.append(f"lock_store.{key} is not an environment variable")
    # Every secret-looking value is interpolated.
    for section in document.values():
        for key, value in (section or {}).items():
            if SECRET_NAME.search(key) and not ENV_REF.fullmatch(str(value)):
                problems.append(f"{key} is hard-coded")
    # Rasa expands ${VAR} only in plain (unquoted) scalars.
    node = yaml.compose(text)
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            stack += [value for _, value in current.value]
        elif isinstance(current, yaml.ScalarNode) and "${" in current.value and current.style:
            problems.append(f"{current.value} is quoted: Rasa would not expand it")
    return problems


def _makefile_train_arguments() -> str:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"scripts/rasa\.sh train([^\n]*)", makefile)
    assert match, "the Makefile has no `scripts/rasa.sh train` command"
    return " ".join(match[1].split())


def _last(instructions: list[tuple[str, str]], keyword: str) -> str | None:
    found = [args for kind, args in instructions if kind == keyword]
    return found[-1] if found else None


def _final_user_problems(instructions: list[tuple[str, str]], label: str) -> list[str]:
    kinds = [kind for kind, _ in instructions]
    last_from = max((i for i, kind in enumerate(kinds) if kind == "FROM"), default=-1)
    users = [args for kind, args in instructions[last_from:] if kind == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        return [f"{label}: the final stage runs as root"]
    return []


def _copy_sources(instructions: list[tuple[str, str]]) -> list[str]:
    sources = []
    for kind, args in instructions:
        if kind not in ("COPY", "ADD"):
            continue
        words = [word for word in shlex.split(args) if not word.startswith("--")]
        if any(word.startswith("--from") for word in shlex.split(args)):
            continue
        sources += words[:-1]
    return sources


def dockerfile_common_problems(instructions: list[tuple[str, str]], label: str) -> list[str]:
    """Non-root, a healthcheck, every COPY source in the repo and in the build context."""
    problems = _final_user_problems(instructions, label)
    if not _last(instructions, "HEALTHCHECK"):
        problems.append(f"{label}: no HEALTHCHECK")
    ignored = dockerignore_patterns()
    for source in _copy_sources(instructions):
        if source.startswith("models/"):
            continue  # the optional pre-built model (MODEL=prebuilt)
        if not (ROOT / source).exists():
            problems.append(f"{label}: COPY {source} does not exist")
        if any(fnmatch.fnmatch(source.rstrip("/"), pattern) for pattern in ignored):
            problems.append(f"{label}: COPY {source} is excluded by .dockerignore")
    return problems


def app_dockerfile_problems(instructions: list[tuple[str, str]]) -> list[str]:
    """Python 3.11, the project installed with pip."""
    problems = dockerfile_common_problems(instructions, "app")
    images = [args.split()[0] for kind, args in instructions if kind == "FROM"]
    if not images or not all(image.startswith("python:3.11") for image in images):
        problems.append(f"app: base images {images}, want python:3.11")
    runs = [args for kind, args in instructions if kind == "RUN"]
    if not any(re.search(r"pip install (--?\S+ )*\.(\s|$)", run) for run in runs):
        problems.append("app: the project is not installed with `pip install .`")
    return problems


def rasa_dockerfile_problems(instructions: list[tuple[str, str]]) -> list[str]:
    """Python 3.10, requirements/rasa.txt, the Makefile's training command, the entrypoint."""
    problems = dockerfile_common_problems(instructions, "rasa")
    images = [args.split()[0] for kind, args in instructions if kind == "FROM"]
    python_images = [image for image in images if image.startswith("python:")]
    if not python_images or not all(image.startswith("python:3.10") for image in python_images):
        problems.append(f"rasa: base images {python_images}, want python:3.10")
    runs = [args for kind, args in instructions if kind == "RUN"]
    if not any(re.search(r"pip install (-\S+ )*-r \S*requirements/rasa\.txt", r) for r in runs):
        problems.append("rasa: requirements/rasa.txt is not installed")
    train = "rasa train " + _makefile_train_arguments()
    if not any(train in run for run in runs):
        problems.append(f"rasa: no `{train}` like the Makefile's")
    env = " ".join(args for kind, args in instructions if kind == "ENV")
    if "PYTHONPATH=/app" not in env:
        problems.append("rasa: PYTHONPATH=/app is not set (the nlu/ components)")
    entrypoint = _last(instructions, "ENTRYPOINT") or ""
    if "docker/rasa-entrypoint.sh" not in entrypoint:
        problems.append("rasa: the entrypoint is not docker/rasa-entrypoint.sh")
    return problems


def dockerignore_patterns() -> list[str]:
    """Return the exclusions of .dockerignore (negations left out)."""
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [
        line.strip().rstrip("/")
        for line in lines
        if line.strip() and not line.startswith("#") and not line.startswith("!")
    ]


def scaling_problems(compose: dict[str, Any]) -> list[str]:
    """Rasa and the action server run as replicas; a dead replica's lock expires soon."""
    problems = []
    services = compose["services"]
    for name in ("rasa", "actions"):
        replicas = ((services.get(name) or {}).get("deploy") or {}).get("replicas", 1)
        if int(replicas) < 2:
            problems.append(f"{name} runs {replicas} replica(s), not 2 or more")
        if (services.get(name) or {}).get("ports"):
            problems.append(f"{name} publishes ports (replicas would clash)")
    lifetime = environment(services.get("rasa", {})).get("TICKET_LOCK_LIFETIME")
    if lifetime is None or not str(lifetime).isdigit():
        problems.append("rasa: TICKET_LOCK_LIFETIME is not set to a number of seconds")
    elif not 5 <= int(str(lifetime)) < 30:
        # The gateway waits 30 s for an answer (QUITT_RASA_TIMEOUT_SECONDS).
        problems.append(f"rasa: TICKET_LOCK_LIFETIME={lifetime} is not within 5..29 s")
    return problems


# --- the shipped files -------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


CHECKS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "services": service_problems,
    "ports": port_problems,
    "liveness": liveness_problems,
    "dependencies": dependency_problems,
    "secrets": secret_problems,
    "settings": settings_problems,
    "rasa_environment": rasa_environment_problems,
    "scaling": scaling_problems,
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_compose_file_has_the_production_shape(compose: dict[str, Any], check: str) -> None:
    assert CHECKS[check](compose) == []


def test_services_build_from_existing_dockerfiles(compose: dict[str, Any]) -> None:
    built = {name: build_dockerfile(s) for name, s in compose["services"].items() if "build" in s}
    assert set(built) == {"migrate", "actions", "gateway", "rasa"}
    assert all(path.is_file() for path in built.values()), built
    app = {built[name] for name in APP_SERVICES}
    assert app == {ROOT / "docker" / "app.Dockerfile"}, "one app image for all app services"
    assert built["rasa"] == ROOT / "docker" / "rasa.Dockerfile"


def test_app_dockerfile() -> None:
    assert app_dockerfile_problems(dockerfile(ROOT / "docker" / "app.Dockerfile")) == []


def test_rasa_dockerfile() -> None:
    assert rasa_dockerfile_problems(dockerfile(ROOT / "docker" / "rasa.Dockerfile")) == []


def test_endpoints_template() -> None:
    assert endpoints_problems(ENDPOINTS_FILE.read_text(encoding="utf-8")) == []


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = dockerignore_patterns()
    for path in (".git", ".venv", ".venv-rasa", "var", ".env"):
        assert path in patterns, f"{path} would be sent to the Docker build"


def _stub_rasa(tmp_path: Path) -> Path:
    """Put a `python` on PATH that prints the `-m nlu.server` arguments and endpoint variables."""
    lines = ["#!/bin/sh", '[ "$1 $2" = "-m nlu.server" ] || exit 3', "shift 2"]
    lines += ['printf "arg %s\\n" "$@"']
    lines += [
        f"printf 'env %s=%s\\n' {name} \"${{{name}:-}}\"" for name in sorted(endpoint_variables())
    ]
    stub = tmp_path / "python"
    stub.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def _run_entrypoint(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": f"{_stub_rasa(tmp_path)}:{os.environ['PATH']}"}
    return subprocess.run(
        ["sh", str(RASA_ENTRYPOINT), "--debug"],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_rasa_entrypoint_runs_rasa_with_the_endpoints(tmp_path: Path) -> None:
    result = _run_entrypoint(
        tmp_path, {"QUITT_RASA_TOKEN": "t0k", "QUITT_TRACKER_DB_PASSWORD": "pw"}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    args = [line[4:] for line in lines if line.startswith("arg ")]
    assert args[0] == "run"
    joined = " ".join(args)
    for expected in (
        "--endpoints /app/docker/endpoints.yml",
        "--credentials bot/credentials.yml",
        "--enable-api",
        "--auth-token=t0k",
        "--port 5005",
    ):
        assert expected in joined
    assert args[-1] == "--debug", "extra arguments go on to rasa run"
    values = dict(line[4:].split("=", 1) for line in lines if line.startswith("env "))
    assert set(values) == endpoint_variables()
    assert all(values.values()), f"endpoint variables left empty: {values}"
    assert values["QUITT_TRACKER_DB_PASSWORD"] == "pw"


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
@pytest.mark.parametrize("missing", ["QUITT_RASA_TOKEN", "QUITT_TRACKER_DB_PASSWORD"])
def test_rasa_entrypoint_refuses_to_start_without_a_secret(tmp_path: Path, missing: str) -> None:
    env = {"QUITT_RASA_TOKEN": "t0k", "QUITT_TRACKER_DB_PASSWORD": "pw"}
    del env[missing]
    result = _run_entrypoint(tmp_path, env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "arg run" not in result.stdout


def _docker_compose() -> list[str]:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI")
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        pytest.skip("the docker CLI has no compose plugin")
    return [docker, "compose", "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE)]


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    """`docker compose config` needs no engine: it parses and interpolates."""
    command = _docker_compose()
    empty = tmp_path / "empty.env"
    empty.write_text("", encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if k not in TEST_SECRETS}
    ok = subprocess.run(
        [*command, "--env-file", str(empty), "config", "-q"],
        env=clean | TEST_SECRETS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    for missing in TEST_SECRETS:
        env = clean | {k: v for k, v in TEST_SECRETS.items() if k != missing}
        refused = subprocess.run(
            [*command, "--env-file", str(empty), "config", "-q"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode != 0, f"compose starts without {missing}"
        assert missing in refused.stderr


# --- every check can fail ------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = document
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return mutate


_DELETE = object()
GW = "services.gateway"
COMPOSE_MUTATIONS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "version key": ("services", lambda d: d.update(version="3.8")),
    "no redis": ("services", _set("services.redis", _DELETE)),
    "no migrate": ("services", _set("services.migrate", _DELETE)),
    "gateway on 8080": ("ports", _set(f"{GW}.ports", ["8080:8000"])),
    "postgres published": ("ports", _set("services.postgres.ports", ["5432:5432"])),
    "actions unchecked": ("liveness", _set("services.actions.healthcheck", _DELETE)),
    "rasa check off": ("liveness", _set("services.rasa.healthcheck", {"disable": True})),
    "gateway no restart": ("liveness", _set(f"{GW}.restart", "no")),
    "migrate restarts": ("liveness", _set("services.migrate.restart", "always")),
    "rasa pinned name": ("liveness", _set("services.rasa.container_name", "rasa")),
    "gateway only started": (
        "dependencies",
        _set(f"{GW}.depends_on.rasa", {"condition": "service_started"}),
    ),
    "rasa not waiting for actions": (
        "dependencies",
        _set("services.rasa.depends_on.actions", _DELETE),
    ),
    "list depends_on": ("dependencies", _set("services.actions.depends_on", ["postgres"])),
    "hard-coded password": (
        "secrets",
        _set("services.postgres.environment.POSTGRES_PASSWORD", "hunter2"),
    ),
    "secret with default": (
        "secrets",
        _set(f"{GW}.environment.QUITT_SECRET_KEY", "${QUITT_SECRET_KEY:-changeme}"),
    ),
    "optional token": (
        "secrets",
        _set(f"{GW}.environment.QUITT_TWILIO_AUTH_TOKEN", "${QUITT_TWILIO_AUTH_TOKEN}"),
    ),
    "password in url": (
        "secrets",
        _set(f"{GW}.environment.QUITT_DATABASE_URL", "postgresql+psycopg://q:pw@postgres/q"),
    ),
    "unknown setting": ("settings", _set(f"{GW}.environment.QUITT_RASA_ULR", "x")),
    "development mode": ("settings", _set(f"{GW}.environment.QUITT_ENVIRONMENT", "development")),
    "sqlite": ("settings", _set("services.actions.environment.QUITT_DATABASE_URL", "sqlite://")),
    "rasa on localhost": (
        "settings",
        _set(f"{GW}.environment.QUITT_RASA_URL", "http://127.0.0.1:5005"),
    ),
    "one rasa replica": ("scaling", _set("services.rasa.deploy", {"replicas": 1})),
    "one action server": ("scaling", _set("services.actions.deploy", _DELETE)),
    "rasa's minute-long lock": (
        "scaling",
        _set("services.rasa.environment.TICKET_LOCK_LIFETIME", "60"),
    ),
    "no lock lifetime": (
        "scaling",
        _set("services.rasa.environment.TICKET_LOCK_LIFETIME", _DELETE),
    ),
    "tracker host unset": (
        "rasa_environment",
        _set("services.rasa.environment.QUITT_TRACKER_DB_HOST", _DELETE),
    ),
}


@pytest.mark.parametrize("mutation", sorted(COMPOSE_MUTATIONS))
def test_compose_checks_catch(compose: dict[str, Any], mutation: str) -> None:
    check, mutate = COMPOSE_MUTATIONS[mutation]
    broken = copy.deepcopy(compose)
    mutate(broken)
    assert CHECKS[check](broken), f"{check} missed: {mutation}"


ENDPOINT_MUTATIONS = {
    "quoted": ("${QUITT_TRACKER_DB_PASSWORD}", '"${QUITT_TRACKER_DB_PASSWORD}"'),
    "hard-coded password": ("${QUITT_TRACKER_DB_PASSWORD}", "hunter2"),
    "host key": ("  url: ${QUITT_TRACKER_DB_HOST}", "  host: ${QUITT_TRACKER_DB_HOST}"),
    "sqlite": ("dialect: postgresql", "dialect: sqlite"),
    "in-memory locks": ("type: redis", "type: in_memory"),
    "fixed action server": ("${QUITT_ACTION_SERVER_URL}", "http://localhost:5055/webhook"),
}


@pytest.mark.parametrize("mutation", sorted(ENDPOINT_MUTATIONS))
def test_endpoints_check_catches(mutation: str) -> None:
    old, new = ENDPOINT_MUTATIONS[mutation]
    text = ENDPOINTS_FILE.read_text(encoding="utf-8")
    assert old in text
    assert endpoints_problems(text.replace(old, new, 1))


DOCKERFILE_MUTATIONS = {
    "app": {
        "python 3.10": ("FROM python:3.11-slim", "FROM python:3.10-slim"),
        "no pip install .": ("pip install .", "pip install -r requirements.txt"),
        "root": ("USER 10001:10001", "USER root"),
        "no healthcheck": ("HEALTHCHECK ", "# HEALTHCHECK "),
        "missing source": ("COPY api/ api/", "COPY apps/ api/"),
    },
    "rasa": {
        "python 3.11": ("FROM python:3.10-slim AS base", "FROM python:3.11-slim AS base"),
        "no rasa.txt": ("-r /tmp/requirements/rasa.txt", "rasa==3.6.21"),
        "other training": ("--fixed-model-name quitt", "--fixed-model-name bot"),
        "no PYTHONPATH": ("PYTHONPATH=/app", "PYTHONPATH=/srv"),
        "root": ("USER 10001:10001\nEXPOSE", "USER 0\nEXPOSE"),
        "ignored source": ("COPY bot/ bot/", "COPY .venv/ bot/"),
    },
}


@pytest.mark.parametrize(
    ("image", "mutation"),
    [(image, name) for image, cases in DOCKERFILE_MUTATIONS.items() for name in sorted(cases)],
)
def test_dockerfile_checks_catch(tmp_path: Path, image: str, mutation: str) -> None:
    old, new = DOCKERFILE_MUTATIONS[image][mutation]
    text = (ROOT / "docker" / f"{image}.Dockerfile").read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "Dockerfile"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    check = app_dockerfile_problems if image == "app" else rasa_dockerfile_problems
    assert check(dockerfile(broken))
