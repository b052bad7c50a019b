"""Do the lock files still agree with what the project asks for?

`make test` runs this: a requirement added to or changed in `pyproject.toml` or
`requirements/rasa.txt` without `make lock` fails here, naming it, instead of on
the next fresh machine. Each lock records a digest of its inputs (the parsed
requirement lists, so comments and formatting do not count), and every input
requirement must be satisfied by a version the lock pins.

    python scripts/check_locks.py            # check all locks, exit 1 on a mismatch
    python scripts/check_locks.py --digest app   # print one lock's input digest
    python scripts/check_locks.py --inputs build # print one lock's input requirements
"""

from __future__ import annotations

import hashlib
import re
import sys
import tomllib
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # a venv with nothing but pip
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
REQS = ROOT / "requirements"
PYTHON = {"app": "3.11", "rasa": "3.10", "build": "3.11"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def inputs(name: str) -> list[str]:
    """The requirement strings a lock is resolved from."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    if name == "app":
        project = pyproject["project"]
        return [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    if name == "build":
        return list(pyproject["build-system"]["requires"])
    lines = (REQS / "rasa.txt").read_text(encoding="utf-8").splitlines()
    return [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]


def digest(name: str) -> str:
    canon = sorted(str(Requirement(r)) for r in inputs(name))
    return hashlib.sha256("\n".join(canon).encode()).hexdigest()[:16]


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        m = PIN.match(line)
        if m:
            found[canonicalize_name(m.group(1))] = m.group(2)
    return found


def check(name: str) -> list[str]:
    path = REQS / f"{name}.lock"
    if not path.exists():
        return [f"{path.relative_to(ROOT)} is missing: run `make lock`"]
    text = path.read_text(encoding="utf-8")
    problems = []
    m = re.search(r"^# inputs: (\w+)$", text, re.M)
    if not m or m.group(1) != digest(name):
        problems.append(
            f"{path.relative_to(ROOT)} was locked from other requirements than "
            f"{'pyproject.toml' if name != 'rasa' else 'requirements/rasa.txt'} "
            "now lists: run `make lock`"
        )
    pinned = pins(text)
    env = {"python_version": PYTHON[name], "python_full_version": PYTHON[name] + ".0",
           "sys_platform": "linux", "platform_system": "Linux", "extra": ""}
    for raw in inputs(name):
        req = Requirement(raw)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        version = pinned.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{path.relative_to(ROOT)}: {raw!r} is not pinned")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{path.relative_to(ROOT)}: pins {req.name}=={version}, "
                            f"but {raw!r} is required")
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["--digest"]:
        print(digest(argv[1]))
        return 0
    if argv[:1] == ["--inputs"]:
        print("\n".join(inputs(argv[1])))
        return 0
    problems = [p for name in PYTHON for p in check(name)]
    for p in problems:
        print(f"lock check: {p}", file=sys.stderr)
    if not problems:
        print("lock check: requirements/app.lock, rasa.lock and build.lock agree with their inputs")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
