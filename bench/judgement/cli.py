"""``python -m bench.judgement``: a fresh stack, the items, the report."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.judgement.clones import build_clones, import_clones, load_demo
from bench.judgement.constants import (
    BENCH_AGENT_EMAIL,
    BENCH_AGENT_PASSWORD,
    DEFAULT_WORKERS,
    DEMO_CLAIMS,
    LOG_DIR,
    MODEL,
    RESULTS_DIR,
    ROOT,
    SPLITS,
    BenchError,
)
from bench.judgement.items import (
    Conversation,
    Message,
    domain_intents,
    limit_items,
    load_conversations,
    load_messages,
    message_kind,
)
from bench.judgement.run import item_personas, run_all
from bench.judgement.scores import failures_text, score, table
from bench.judgement.target import Target
from domain.claims import service as claims_service
from domain.db import make_engine, session_scope

# --- the stack --------------------------------------------------------------------------


def seed(database_url: str) -> None:
    """Migrate, load the demo claims and create the bench's agent (as the test stack does)."""
    from api.db.migrate import upgrade
    from domain.agents import service as agents_service

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            claims_service.import_file(db_session=db_session, path=DEMO_CLAIMS)
            agents_service.create_agent(
                db_session=db_session,
                email=BENCH_AGENT_EMAIL,
                password=BENCH_AGENT_PASSWORD,
                role="supervisor",
            )
    finally:
        engine.dispose()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _select(
    args: argparse.Namespace,
) -> tuple[list[Message], list[Conversation]]:
    messages = [] if args.only == "conversations" else load_messages()
    conversations = [] if args.only == "messages" else load_conversations()
    if args.split != "all":
        messages = [m for m in messages if m.split == args.split]
        conversations = [c for c in conversations if c.split == args.split]
    if args.prefix:
        prefixes = tuple(args.prefix)
        messages = [m for m in messages if m.id.startswith(prefixes)]
        conversations = [c for c in conversations if c.id.startswith(prefixes)]
    if args.id:
        wanted = set(args.id)
        messages = [m for m in messages if m.id in wanted]
        conversations = [c for c in conversations if c.id in wanted]
    messages = limit_items(messages, args.limit, message_kind)
    conversations = limit_items(conversations, args.limit, lambda c: "conversation")
    return messages, conversations


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on a fresh stack and report."""
    from api.launcher import Stack

    parser = argparse.ArgumentParser(prog="python -m bench.judgement")
    parser.add_argument("--split", choices=("dev", "sealed", "all"), default="all")
    parser.add_argument("--only", choices=("messages", "conversations"))
    parser.add_argument("--limit", type=int, help="at most N items per language and kind")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--id", action="append", help="only this item (repeatable; dev items!)")
    parser.add_argument(
        "--prefix",
        action="append",
        help="only items whose id starts so, e.g. one round's authors: dec- enc- cvc- (repeatable)",
    )
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    if not args.model.exists():
        raise BenchError(f"no trained model at {args.model}: run `make train` first")

    messages, conversations = _select(args)
    intents = domain_intents()
    demo = load_demo()
    document, clones = build_clones(item_personas(messages, conversations), demo=demo)
    print(
        f"blind sets: {len(messages)} messages, {len(conversations)} conversations "
        f"(split {args.split}); {len(document['claims'])} cloned claims; model {args.model}",
        file=sys.stderr,
    )
    # SIGTERM unwinds like Ctrl-C, so the stack's processes are stopped, not orphaned.
    signal.signal(signal.SIGTERM, _terminate)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="quitt-judgement-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'quitt.db'}"
        seed(url)
        import_clones(url, document)
        stack = Stack(
            database_url=url,
            gateway_port=_free_port(),
            rasa_port=_free_port(),
            action_port=_free_port(),
            model=args.model,
            log_dir=Path(workdir) / "logs",
            extra_env={"QUITT_ENVIRONMENT": "test", "QUITT_REST_TOKEN": ""},
        )
        stack.start()
        try:
            stack.wait_ready(timeout=300)
            ready = time.perf_counter()
            print(f"stack ready in {ready - started:.0f} s", file=sys.stderr)
            target = Target(
                gateway_url=f"http://127.0.0.1:{stack.gateway_port}",
                rasa_url=stack.rasa_urls[0],
                rasa_token=stack.token,
                database_url=url,
                agent_email=BENCH_AGENT_EMAIL,
                agent_password=BENCH_AGENT_PASSWORD,
            )

            def progress(done: int, total: int) -> None:
                if done % 50 == 0 or done == total:
                    elapsed = time.perf_counter() - ready
                    print(f"  {done}/{total} items, {elapsed:.0f} s", file=sys.stderr)

            try:
                message_results, conversation_results = run_all(
                    target,
                    messages,
                    conversations,
                    clones,
                    workers=args.workers,
                    progress=progress,
                )
            finally:
                target.close()
        except Exception:
            for log in sorted((Path(workdir) / "logs").glob("*.log")):
                tail = log.read_text(errors="replace")[-3000:]
                print(f"\n--- {log.name} (tail) ---\n{tail}", file=sys.stderr)
            raise
        finally:
            stack.stop()
            # The stack's logs outlive the temporary directory: a silent turn is explained there.
            shutil.rmtree(LOG_DIR, ignore_errors=True)
            if (Path(workdir) / "logs").is_dir():
                shutil.copytree(Path(workdir) / "logs", LOG_DIR)
    seconds = time.perf_counter() - started

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {
        "bench": "judgement",
        "split": args.split,
        "messages": len(message_results),
        "conversations": len(conversation_results),
        "limit": args.limit,
        "seconds": round(seconds, 1),
    }
    splits = SPLITS if args.split == "all" else (args.split,)
    for split in splits:
        in_split_m = [r for r in message_results if r.item.split == split]
        in_split_c = [c for c in conversation_results if c.item.split == split]
        summary[split] = score(in_split_m, in_split_c, intents)
        print(table(f"\n== split {split} ==", summary[split]))
        path = RESULTS_DIR / f"failures-{split}.txt"
        path.write_text(failures_text(split, in_split_m, in_split_c, intents), encoding="utf-8")
        print(f"failures: {path.relative_to(ROOT)}")
    if args.split == "all":
        summary["all"] = score(message_results, conversation_results, intents)
        print(table("\n== all (dev + sealed) ==", summary["all"]))
    print(f"\n{seconds:.0f} s in all")
    print(json.dumps(summary, sort_keys=False))
    return 0
