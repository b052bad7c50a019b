"""Load benchmark: concurrent scripted debtor conversations, through the gateway and bare Rasa.

For each number of Rasa replicas (default 1 and 2) the script starts the stack
on a fresh PostgreSQL database of its own (seeded with generated claims, one
per conversation, so conversations never collide) and Redis, then drives whole
conversations (greeting, claim reference, date of birth or postcode, a way to
pay with varied amounts, yes, thanks; German and English mixed) at 1, 20 and
50 conversations at once:

- through the gateway's REST channel (`POST /webhooks/rest/webhook`), and
- with the same traffic straight at the Rasa replicas' REST channel (same
  model, same action servers), spread over the replicas by the gateway's own
  rendezvous hashing.

It prints throughput (turns/s), p50/p95/p99 turn latency, the ratio gateway ÷
bare Rasa and the scaling from 1 to 2 replicas, and ends with one JSON line.

    .venv/bin/python scripts/bench_load.py [--levels 1,20,50] [--replicas 1,2]
        [--per-worker 1] [--min-conversations 6] [--profile DIR]

`--profile DIR` records py-spy profiles (if py-spy is installed) of a Rasa
replica, the gateway and the action server during the 20-conversation run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.db.migrate import upgrade  # noqa: E402
from api.launcher import Stack  # noqa: E402
from api.rasa.client import rendezvous_order  # noqa: E402
from domain.claims import service as claims_service  # noqa: E402
from domain.db import make_engine, session_scope  # noqa: E402
from domain.promises.models import Promise  # noqa: E402

POSTGRES_URL = os.environ.get(
    "QUITT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("QUITT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


# --- generated claims and the conversations about them -------------------------------


@dataclass(frozen=True)
class Debtor:
    """One generated claim with what a debtor says about it."""

    reference: str
    language: str
    birth: date
    postcode: str
    total: Decimal


def generate_claims(count: int, seed: int) -> tuple[dict[str, Any], list[Debtor]]:
    """Return a quitt-claims/1 document with `count` claims, each of its own debtor."""
    rng = random.Random(seed)
    creditors = [
        {
            "id": "bench-energie",
            "name": "Bench Energie GmbH",
            "address": "Am Kai 1, 20457 Hamburg",
            "policy": "default",
        },
        {
            "id": "bench-mode",
            "name": "Bench Mode AG",
            "address": "Marktplatz 2, 28195 Bremen",
            "policy": "default",
        },
    ]
    claims, debtors = [], []
    for number in range(count):
        reference = f"27{number:07d}"
        language = "de" if rng.random() < 0.6 else "en"
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 52))
        postcode = f"{rng.randrange(1067, 99999):05d}"
        principal = Decimal(rng.randrange(8000, 240000)) / 100
        interest = (principal * Decimal("0.02")).quantize(Decimal("0.01"))
        fees = Decimal(rng.choice(["15.00", "27.00", "39.00", "54.00"]))
        claims.append(
            {
                "reference": reference,
                "creditor": rng.choice(creditors)["id"],
                "subject": "Rechnung" if language == "de" else "Invoice",
                "contract_date": "2024-01-15",
                "invoice_date": "2026-03-01",
                "due_date": "2026-03-31",
                "currency": "EUR",
                "principal": str(principal),
                "interest": str(interest),
                "fees": str(fees),
                "status": "open",
                "debtor": {
                    "name": f"Bench Debtor {number}",
                    "date_of_birth": birth.isoformat(),
                    "postcode": postcode,
                    "language": language,
                },
            }
        )
        debtors.append(Debtor(reference, language, birth, postcode, principal + interest + fees))
    return {"format": "quitt-claims/1", "creditors": creditors, "claims": claims}, debtors


def script(debtor: Debtor, rng: random.Random) -> list[str]:
    """Return the messages of one verification-to-promise conversation, varied."""
    floor = max(Decimal("25"), (debtor.total / 24).quantize(Decimal("1"), rounding=ROUND_UP))
    monthly = int(floor) + rng.randrange(0, max(1, int(debtor.total / 3 - floor)))
    de = debtor.language == "de"
    by_birth = rng.random() < 0.5
    if de:
        hello = rng.choice(["Hallo", "Guten Tag", "Hallo, ich habe einen Brief bekommen"])
        reference = rng.choice(["{r}", "Aktenzeichen {r}", "mein Aktenzeichen ist {r}"])
        proof = debtor.birth.strftime("%d.%m.%Y") if by_birth else debtor.postcode
        way = rng.choice(
            [
                f"ich kann höchstens {monthly} im Monat",
                f"Ratenzahlung, {monthly} Euro monatlich",
                "ich zahle alles sofort",
            ]
        )
        return [hello, reference.format(r=debtor.reference), proof, way, "ja", "danke"]
    hello = rng.choice(["hello", "Hi there", "hello, I got a letter from you"])
    reference = rng.choice(["{r}", "my reference is {r}", "reference {r}"])
    proof = debtor.birth.strftime("%d/%m/%Y") if by_birth else f"my postcode is {debtor.postcode}"
    way = rng.choice(
        [f"I can pay {monthly} a month", f"instalments of {monthly} euros", "I'll pay it all now"]
    )
    return [hello, reference.format(r=debtor.reference), proof, way, "yes", "thanks"]


# --- driving the traffic ---------------------------------------------------------------


@dataclass
class Run:
    """The turns of one measured run."""

    target: str
    replicas: int
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    conversations: int = 0
    seconds: float = 0.0
    promises: int = 0

    def percentile(self, p: float) -> float:
        """Return the p-th percentile of the turn latency in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index] * 1000

    def summary(self) -> dict[str, Any]:
        """Return the run's numbers."""
        turns = len(self.latencies)
        return {
            "target": self.target,
            "replicas": self.replicas,
            "concurrency": self.concurrency,
            "conversations": self.conversations,
            "turns": turns,
            "errors": self.errors,
            "promises": self.promises,
            "seconds": round(self.seconds, 2),
            "turns_per_s": round(turns / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
        }


async def drive(
    run: Run,
    debtors: list[Debtor],
    urls: list[str],
    seed: int,
    prefix: str,
) -> None:
    """Run the conversations, `run.concurrency` at a time, and time every turn."""
    queue: asyncio.Queue[Debtor] = asyncio.Queue()
    for debtor in debtors:
        queue.put_nowait(debtor)
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=run.concurrency + 4)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            debtor = queue.get_nowait()
            sender = f"{prefix}-{debtor.reference}"
            url = rendezvous_order(urls, sender)[0]
            for message in script(debtor, rng):
                start = time.perf_counter()
                try:
                    response = await client.post(
                        f"{url}/webhooks/rest/webhook",
                        json={"sender": sender, "message": message, "metadata": {}},
                    )
                    ok = response.status_code == 200 and isinstance(response.json(), list)
                except httpx.HTTPError:
                    ok = False
                run.latencies.append(time.perf_counter() - start)
                run.errors += 0 if ok else 1
            run.conversations += 1

    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(run.concurrency)))
        run.seconds = time.perf_counter() - started


def count_promises(database_url: str, prefix: str) -> int:
    """Count the promises recorded by the conversations of one run."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        stmt = (
            select(func.count())
            .select_from(Promise)
            .where(Promise.conversation_id.like(f"{prefix}-%"))
        )
        found = int(conn.execute(stmt).scalar_one())
    engine.dispose()
    return found


# --- the database and the stack ----------------------------------------------------------


def create_database(document: dict[str, Any]) -> tuple[str, str]:
    """Create, migrate and seed a database of the benchmark's own; return (url, name)."""
    name = f"quitt_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as db_session:
        claims_service.import_claims(db_session=db_session, data=document)
    engine.dispose()
    return url, name


def drop_database(name: str) -> None:
    """Drop the benchmark's database."""
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def free_port() -> int:
    """Return a free TCP port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_stack(database_url: str, replicas: int, log_dir: Path, gateways: int = 1) -> Stack:
    """Start the stack with `replicas` Rasa replicas and `gateways` gateways; wait for it."""
    stack = Stack(
        database_url=database_url,
        redis_url=REDIS_URL,
        gateway_port=free_port(),
        rasa_ports=[free_port() for _ in range(replicas)],
        action_port=free_port(),
        action_ports=[free_port()],
        log_dir=log_dir,
        extra_env={"QUITT_ENVIRONMENT": "test", "QUITT_REST_TOKEN": ""},
    )
    stack.start()
    try:
        for number in range(2, gateways + 1):
            stack.add_gateway(free_port(), name=f"gateway-{number}")
        stack.wait_ready(timeout=400)
    except BaseException:
        stack.stop()
        raise
    return stack


def profile(stack: Stack, out: Path, seconds: int) -> list[subprocess.Popen[bytes]]:
    """Start py-spy on the first Rasa replica, the gateway and the action server."""
    spy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    if not Path(spy).exists():
        print("py-spy not installed: no profiles", file=sys.stderr)
        return []
    out.mkdir(parents=True, exist_ok=True)
    recorders = []
    for name in ("rasa", "gateway", "actions"):
        pid = stack.processes[name].pid
        argv = [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--subprocesses"]
        argv += ["--format", "raw", "--output", str(out / f"{name}.txt"), "--nonblocking"]
        recorders.append(
            subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    return recorders


def top_frames(path: Path, limit: int = 8) -> list[tuple[str, float]]:
    """Return the functions with the most samples (self and children) in a raw py-spy file."""
    totals: dict[str, int] = {}
    samples = 0
    for line in path.read_text(errors="replace").splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples += int(count)
        for frame in set(stack_text.split(";")):
            totals[frame] = totals.get(frame, 0) + int(count)
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    interesting = [(f, n) for f, n in ranked if "(" in f and "threading.py" not in f]
    return [(f, round(100 * n / max(1, samples), 1)) for f, n in interesting[:limit]]


# --- the benchmark ---------------------------------------------------------------------


def conversations_for(concurrency: int, per_worker: int, minimum: int) -> int:
    """Return how many conversations a run at this concurrency drives."""
    return max(minimum, concurrency * per_worker)


def main() -> int:
    """Run the benchmark and print the table and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,20,50", help="concurrent conversations")
    parser.add_argument("--replicas", default="1,2", help="Rasa replica counts")
    parser.add_argument("--per-worker", type=int, default=1, help="conversations per worker")
    parser.add_argument("--min-conversations", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=4, help="unmeasured conversations")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--gateways", type=int, default=1, help="gateway processes (conversations sticky to one)"
    )
    parser.add_argument("--profile", type=Path, help="write py-spy profiles here")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    replica_counts = [int(x) for x in args.replicas.split(",")]

    per_run = {c: conversations_for(c, args.per_worker, args.min_conversations) for c in levels}
    needed = len(replica_counts) * 2 * (sum(per_run.values()) + args.warmup)
    document, debtors = generate_claims(needed, args.seed)
    pool = iter(debtors)
    url, name = create_database(document)
    print(f"bench-load: {len(debtors)} generated claims in database {name}", file=sys.stderr)
    runs: list[Run] = []
    profiles: dict[str, list[tuple[str, float]]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="quitt-bench-"))
    try:
        for replicas in replica_counts:
            stack = start_stack(url, replicas, workdir / f"logs-{replicas}", args.gateways)
            try:
                targets = {
                    "gateway": [f"http://127.0.0.1:{p}" for p in stack.gateway_ports.values()],
                    "rasa": stack.rasa_urls,
                }
                for target, urls in targets.items():
                    warm = [next(pool) for _ in range(args.warmup)]
                    asyncio.run(
                        drive(Run(target, replicas, 2), warm, urls, args.seed, f"warm{target}")
                    )
                    for concurrency in levels:
                        run = Run(target, replicas, concurrency)
                        batch = [next(pool) for _ in range(per_run[concurrency])]
                        prefix = f"b{replicas}{target[0]}{concurrency}-{uuid.uuid4().hex[:4]}"
                        spies = []
                        if args.profile and replicas == 1 and concurrency == 20:
                            spies = profile(stack, args.profile / target, 15)
                        asyncio.run(drive(run, batch, urls, args.seed + concurrency, prefix))
                        for spy in spies:
                            spy.wait(timeout=60)
                        run.promises = count_promises(url, prefix)
                        runs.append(run)
                        print(json.dumps(run.summary()), file=sys.stderr)
                if args.profile and replicas == 1:
                    for name_ in ("rasa", "gateway", "actions"):
                        path = args.profile / "gateway" / f"{name_}.txt"
                        if path.exists():
                            profiles[name_] = top_frames(path)
            finally:
                stack.stop()
    finally:
        drop_database(name)
        shutil.rmtree(workdir, ignore_errors=True)
    report(runs, levels, replica_counts, profiles, args.gateways)
    return 0


def report(
    runs: list[Run],
    levels: list[int],
    replica_counts: list[int],
    profiles: dict[str, list[tuple[str, float]]],
    gateways: int = 1,
) -> None:
    """Print the table, the ratios and the JSON line."""
    by = {(r.target, r.replicas, r.concurrency): r.summary() for r in runs}
    header = f"{'target':8} {'rasa':>4} {'conc':>4} {'turns':>6} {'err':>4} {'prom':>5}"
    header += f" {'turns/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    print(header)
    for s in by.values():
        print(
            f"{s['target']:8} {s['replicas']:>4} {s['concurrency']:>4} {s['turns']:>6} "
            f"{s['errors']:>4} {s['promises']:>5} {s['turns_per_s']:>8} {s['p50_ms']:>8} "
            f"{s['p95_ms']:>8} {s['p99_ms']:>8}"
        )
    ratios: dict[str, float] = {}
    for replicas in replica_counts:
        for concurrency in levels:
            gateway, rasa = (
                by.get(("gateway", replicas, concurrency)),
                by.get(("rasa", replicas, concurrency)),
            )
            if gateway and rasa and rasa["turns_per_s"]:
                key = f"gateway_over_rasa_r{replicas}_c{concurrency}"
                ratios[key] = round(gateway["turns_per_s"] / rasa["turns_per_s"], 3)
    scaling: dict[str, float] = {}
    if 1 in replica_counts and 2 in replica_counts:
        for target in ("gateway", "rasa"):
            for concurrency in levels:
                one, two = by.get((target, 1, concurrency)), by.get((target, 2, concurrency))
                if one and two and one["turns_per_s"]:
                    scaling[f"{target}_2_over_1_c{concurrency}"] = round(
                        two["turns_per_s"] / one["turns_per_s"], 3
                    )
    print("\ngateway ÷ bare Rasa (throughput):")
    for key, value in ratios.items():
        print(f"  {key}: {value}")
    print("2 replicas ÷ 1 replica (throughput):")
    for key, value in scaling.items():
        print(f"  {key}: {value}")
    for process, frames in profiles.items():
        print(f"\nprofile of {process} under load through the gateway (share of samples):")
        for frame, share in frames:
            print(f"  {share:5.1f}%  {frame}")
    load = os.getloadavg()
    print(
        json.dumps(
            {
                "benchmark": "load",
                "cpus": os.cpu_count(),
                "gateways": gateways,
                "load_average": [round(x, 2) for x in load],
                "runs": list(by.values()),
                "gateway_over_rasa": ratios,
                "two_over_one_replica": scaling,
                "median_gateway_over_rasa": round(statistics.median(ratios.values()), 3)
                if ratios
                else None,
            }
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
