"""Claims import benchmark: 100,000 claims from CSV and JSON, on SQLite and PostgreSQL.

Run in the app runtime: ``python -m bench.importer`` (``make bench-import``). It
generates, from a seed, a claims file as a German spreadsheet exports it
(Windows-1252, ``;``, decimal comma, ``DD.MM.YYYY``) with its creditors in a CSV
file of their own, and the same claims as one ``quitt-claims/1`` JSON file. Some
people owe several claims, and some of those rows carry another phone number or
email (real data; the import warns). Then, on a fresh SQLite file and on a fresh
PostgreSQL database of its own (dropped afterwards), it runs ``quitt claims
import`` as a separate process:

* the CSV file into the empty database (wall time, peak memory);
* the same CSV file again (nothing changes: the re-import time);
* the JSON file into another empty database.

Wall time is the whole command, interpreter start-up included; CPU time is the
command's and its validating child's (an import of a large file validates in a
forked child while it writes). Memory: the peak resident set of the larger of
the two (``wait4``), and the peak of their proportional set sizes added up
(sampled from ``/proc`` every 50 ms; pages they share count once). Targets
(issue 11): 100,000 claims in at most 15 s on SQLite and 10 s on PostgreSQL, at
most 250 MB, a re-import of an unchanged file in at most 5 s. Wall times depend
on the two cores being free: the CPU column shows the work whatever the load.
The last stdout line is one JSON object.

    python -m bench.importer [--claims 100000] [--seed 11] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api.db.migrate import upgrade
from domain.claims import csvfile
from domain.config import ROOT
from domain.db import make_engine

POSTGRES_URL = os.environ.get(
    "QUITT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGETS = {
    "sqlite": {"seconds": 15.0, "reimport_seconds": 5.0, "peak_mb": 250.0},
    "postgresql": {"seconds": 10.0, "reimport_seconds": 5.0, "peak_mb": 250.0},
}

CREDITORS = [
    ("stadtwerke-musterstadt", "Stadtwerke Musterstadt GmbH", "Hafenstraße 12, 20457 Hamburg"),
    ("modehaus-nord", "Modehaus Nord Online GmbH", "Speicherweg 3, 28195 Bremen"),
    ("fitline-studios", "FitLine Studios AG", "Leopoldstraße 77, 80802 München"),
    ("telco-süd", "Telco Süd GmbH", "Königstraße 1, 70173 Stuttgart"),
]
# Names a Windows-1252 file can hold (no ş or ı: German Excel loses them too).
FIRST = ["Jana", "Murat", "Sabine", "Jörg", "Aylin", "Lukas", "Zoë", "Grzegorz", "Anna", "Élodie"]
LAST = ["Becker", "Yildiz", "Krüger", "Müller", "Schäfer", "Nowak", "Weiß", "Öztürk", "Groß"]
SUBJECTS = [
    "Stromabrechnung {n}",
    "Bestellung {n}-A",
    "Mitgliedsbeitrag Vertrag {n}",
    "Mobilfunkrechnung {n}",
]
# The CSV header the importer reads (CONTRACT §2): claim columns, then the debtor's.
COLUMNS = [*csvfile.CLAIM_COLUMNS, *csvfile.DEBTOR_COLUMNS]


# --- the files -----------------------------------------------------------------------


def _people(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Make `count` distinct people (name plus date of birth)."""
    people = []
    for index in range(count):
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(60 * 365))
        people.append(
            {
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {index}",
                "date_of_birth": born,
                "postcode": f"{rng.randrange(1000, 99999):05d}",
                "phone": f"+4915{rng.randrange(10**9, 10**10)}",
                "email": f"person{index}@example.de",
                "language": rng.choice(("de", "de", "de", "en")),
                "external_id": f"D{index:07d}",  # the creditor's own debtor id
            }
        )
    return people


def _claims(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """Generate the claims: about 85 people per 100 claims, a few with changing details."""
    rng = random.Random(seed)
    people = _people(rng, max(1, count * 85 // 100))
    for index in range(count):
        # The first claim of each person first, then repeats of earlier people.
        person = dict(people[index] if index < len(people) else rng.choice(people))
        if index >= len(people) and rng.random() < 0.3:
            person["phone"] = f"+4917{rng.randrange(10**9, 10**10)}"  # a new number
        invoice = date(2025, 1, 1) + timedelta(days=rng.randrange(400))
        yield {
            "reference": f"{300000000 + index}",
            "creditor": CREDITORS[index % len(CREDITORS)][0],
            "subject": rng.choice(SUBJECTS).format(n=rng.randrange(10000, 99999)),
            "contract_date": invoice - timedelta(days=rng.randrange(30, 900)),
            "invoice_date": invoice,
            "due_date": invoice + timedelta(days=30),
            "currency": "EUR",
            "principal": f"{rng.randrange(500, 500000) / 100:.2f}",
            "interest": f"{rng.randrange(0, 5000) / 100:.2f}",
            "fees": f"{rng.choice((0, 500, 1500, 5400)) / 100:.2f}",
            "status": rng.choice(("open",) * 17 + ("disputed", "insolvency", "paid")),
            "debtor": person,
        }


def write_files(directory: Path, count: int, seed: int) -> dict[str, Path]:
    """Write the claims CSV (German spreadsheet), its creditors CSV and the JSON file."""
    paths = {
        "csv": directory / "claims.csv",
        "creditors": directory / "creditors.csv",
        "json": directory / "claims.json",
    }
    with paths["creditors"].open("w", encoding="cp1252", newline="") as stream:
        writer = csv.writer(stream, delimiter=";")
        writer.writerow(["id", "name", "address"])
        writer.writerows(CREDITORS)
    with (
        paths["csv"].open("w", encoding="cp1252", newline="") as csv_stream,
        paths["json"].open("w", encoding="utf-8") as json_stream,
    ):
        writer = csv.writer(csv_stream, delimiter=";")
        writer.writerow(COLUMNS)
        creditors = [{"id": i, "name": n, "address": a} for i, n, a in CREDITORS]
        json_stream.write(
            '{"format": "quitt-claims/1",\n"creditors": '
            + json.dumps(creditors, ensure_ascii=False)
            + ',\n"claims": [\n'
        )
        for index, claim in enumerate(_claims(count, seed)):
            person = claim["debtor"]
            writer.writerow(
                [
                    *(_german(claim[c]) for c in csvfile.CLAIM_COLUMNS),
                    person["name"],
                    _german(person["date_of_birth"]),
                    *(person[c] for c in ("postcode", "phone", "email", "language")),
                    person["external_id"],
                ]
            )
            entry = {
                **{k: v.isoformat() if isinstance(v, date) else v for k, v in claim.items()},
                "debtor": {**person, "date_of_birth": person["date_of_birth"].isoformat()},
            }
            json_stream.write(("," if index else "") + json.dumps(entry, ensure_ascii=False) + "\n")
        json_stream.write("]}\n")
    return paths


def _german(value: Any) -> str:
    """Write a value as a German spreadsheet exports it."""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, str) and value.replace(".", "", 1).isdigit() and "." in value:
        return value.replace(".", ",")
    return str(value)


# --- the databases -------------------------------------------------------------------


@contextmanager
def sqlite_database(directory: Path, name: str) -> Iterator[str]:
    """Yield the URL of a fresh, migrated SQLite file."""
    url = f"sqlite:///{directory / f'{name}.db'}"
    upgrade(url)
    yield url


@contextmanager
def postgresql_database() -> Iterator[str]:
    """Yield the URL of a fresh, migrated PostgreSQL database of our own; drop it after."""
    name = f"quitt_bench_import_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_available() -> bool:
    """Tell whether the PostgreSQL server answers."""
    engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


# --- one run -------------------------------------------------------------------------


@dataclass
class Run:
    """One `quitt claims import` process: wall time, CPU time, memory and its summary."""

    seconds: float
    cpu_seconds: float  # user + system, the import and its validating child together
    peak_mb: float  # the largest resident set of the import's processes (wait4)
    peak_pss_mb: float  # the peak of their proportional set sizes added up (sampled)
    output: str


def _tree_pss_kb(pid: int) -> int:
    """Add up the proportional set size of a process and its children (shared pages split)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total


def run_import(url: str, args: list[str]) -> Run:
    """Run `quitt claims import ARGS` on the database at `url` in a child process."""
    env = {**os.environ, "QUITT_DATABASE_URL": url}
    command = [sys.executable, "-m", "api.cli", "claims", "import", *args]
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        peak_pss = 0
        while True:
            # wait4 (not Popen.poll, which would reap the child and lose its rusage).
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            peak_pss = max(peak_pss, _tree_pss_kb(child.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read()
    if child.returncode != 0:
        raise SystemExit(f"import failed ({child.returncode}):\n{text}")
    cpu = usage.ru_utime + usage.ru_stime
    # ru_maxrss is in KiB on Linux.
    return Run(seconds, cpu, usage.ru_maxrss / 1024, peak_pss / 1024, text)


def _count(output: str, kind: str, outcome: str) -> int:
    """Read one count from the import's summary (`claims: 3 created, …`)."""
    for line in output.splitlines():
        if line.startswith(f"{kind}:"):
            for part in line.split(":", 1)[1].split(","):
                number, word = part.split()
                if word == outcome:
                    return int(number)
    raise ValueError(f"no {kind} {outcome} in the output:\n{output}")


def bench_backend(backend: str, paths: dict[str, Path], workdir: Path) -> dict[str, Any]:
    """Import the CSV, re-import it, and import the JSON on fresh databases of one backend."""

    def database(name: str) -> Any:
        if backend == "sqlite":
            return sqlite_database(workdir, f"{name}-{uuid.uuid4().hex[:6]}")
        return postgresql_database()

    csv_args = [str(paths["csv"]), "--creditors", str(paths["creditors"])]
    with database("csv") as url:
        first = run_import(url, csv_args)
        again = run_import(url, csv_args)
    with database("json") as url:
        from_json = run_import(url, [str(paths["json"])])
    result: dict[str, Any] = {}
    for name, run in (("csv", first), ("reimport", again), ("json", from_json)):
        result[f"{name}_seconds"] = round(run.seconds, 2)
        result[f"{name}_cpu_seconds"] = round(run.cpu_seconds, 2)
        result[f"{name}_peak_mb"] = round(run.peak_mb, 1)
        result[f"{name}_peak_pss_mb"] = round(run.peak_pss_mb, 1)
    result.update(
        claims_created=_count(first.output, "claims", "created"),
        debtors_created=_count(first.output, "debtors", "created"),
        warnings=_count_warnings(first.output),
        reimport_unchanged=_count(again.output, "claims", "unchanged"),
        reimport_changed=_count(again.output, "claims", "created")
        + _count(again.output, "claims", "updated"),
        json_claims_created=_count(from_json.output, "claims", "created"),
    )
    target = TARGETS[backend]
    result["meets_targets"] = (
        max(first.seconds, from_json.seconds) <= target["seconds"]
        and again.seconds <= target["reimport_seconds"]
        and max(r.peak_mb for r in (first, again, from_json)) <= target["peak_mb"]
        and max(r.peak_pss_mb for r in (first, again, from_json)) <= target["peak_mb"]
        and result["reimport_changed"] == 0
    )
    return result


def _count_warnings(output: str) -> int:
    for line in output.splitlines():
        if line.startswith("warnings:"):
            return int(line.split(":", 1)[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    """Generate the files, run the imports, print a table and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    if "postgresql" in backends and not postgres_available():
        print(f"PostgreSQL not reachable at {make_url(POSTGRES_URL).host}: skipped")
        backends.remove("postgresql")

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="quitt-bench-import-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        paths = write_files(workdir, args.claims, args.seed)
        sizes = {k: round(p.stat().st_size / 2**20, 1) for k, p in paths.items()}
        print(
            f"{args.claims:,} claims (seed {args.seed}) written in "
            f"{time.perf_counter() - started:.1f} s: CSV {sizes['csv']} MB "
            f"(Windows-1252, ';', decimal comma), JSON {sizes['json']} MB"
        )
        for backend in backends:
            results[backend] = bench_backend(backend, paths, workdir)

    header = (
        f"{'backend':<11} {'file':<9} {'seconds':>8} {'target':>7} {'cpu s':>6} "
        f"{'peak MB':>8} {'PSS MB':>7}"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    for backend, r in results.items():
        t = TARGETS[backend]
        for name, label, target in (
            ("csv", "CSV", t["seconds"]),
            ("reimport", "re-import", t["reimport_seconds"]),
            ("json", "JSON", t["seconds"]),
        ):
            print(
                f"{backend:<11} {label:<9} {r[f'{name}_seconds']:>8.2f} {target:>7.0f} "
                f"{r[f'{name}_cpu_seconds']:>6.1f} {r[f'{name}_peak_mb']:>8.1f} "
                f"{r[f'{name}_peak_pss_mb']:>7.1f}"
            )
    print(
        "(seconds: wall time of the whole command; cpu s: user + system of the import and its "
        "validating child; peak MB: the larger process's peak RSS; PSS MB: both processes' "
        "proportional set sizes added up, sampled every 50 ms)"
    )
    for backend, r in results.items():
        print(
            f"{backend}: {r['claims_created']:,} claims and {r['debtors_created']:,} debtors "
            f"created, {r['warnings']:,} warnings; re-import: {r['reimport_unchanged']:,} "
            f"unchanged, {r['reimport_changed']} changed; targets "
            f"{'met' if r['meets_targets'] else 'MISSED'}"
        )
    print(json.dumps({"claims": args.claims, "seed": args.seed, **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
