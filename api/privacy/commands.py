"""`quitt privacy export | erase | retention`: data subject rights from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.config import get_settings
from domain.db import get_engine, session_scope
from domain.db.columns import utcnow
from domain.privacy import erase as erase_service
from domain.privacy.flows import open_export
from domain.privacy.person import find_person, holdings
from domain.privacy.retention import RetentionReport, run_retention
from domain.privacy.scan import identity_needles, scan
from policy.config import load_policies
from policy.masking import mask_phone

ACTOR = "cli"


def _person(parser: argparse.ArgumentParser) -> None:
    """Add the two ways of naming a person, one of them required."""
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--debtor-id", type=int, metavar="ID", help="the debtor's id")
    who.add_argument("--reference", metavar="REF", help="the reference of one of their claims")


def _export(args: argparse.Namespace) -> int:
    """Write everything held about one person as JSON (unmasked: it is for them)."""
    with session_scope() as db_session:
        document = open_export(
            db_session=db_session,
            actor=ACTOR,
            debtor_id=args.debtor_id,
            reference=args.reference,
            masked=False,
        )
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"export of debtor {document['debtor']['id']} written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _erase(args: argparse.Namespace) -> int:
    """Erase one person, or say why not (and what --force would override)."""
    with session_scope(immediate=not args.dry_run) as db_session:
        debtor = find_person(
            db_session=db_session, debtor_id=args.debtor_id, reference=args.reference
        )
        held = holdings(db_session=db_session, debtor=debtor)
        if args.dry_run:
            planned = erase_service.plan(db_session=db_session, holdings=held)
            db_session.rollback()
        else:
            needles = identity_needles(debtor)
            report = erase_service.erase_person(
                db_session=db_session, holdings=held, actor=ACTOR, now=utcnow(), force=args.force
            )
    # Said once committed: a closed pipe must not undo the erasure.
    if args.dry_run:
        print(_plan_text(planned))
        return 0
    print(_report_text(report))
    if args.scan:
        with get_engine().connect() as connection:
            traces = scan(connection, needles)
        if traces:
            print(f"scan: {len(traces)} trace(s) left:")
            for trace in traces:
                print(f"  {trace}")
        else:
            print("scan: no name, phone, e-mail or date of birth of theirs left anywhere")
    return 0


def _plan_text(planned: erase_service.ErasurePlan) -> str:
    """Say what an erasure would do."""
    lines = [
        f"dry run: debtor {planned.debtor_id}, nothing changed",
        f"  claims kept under a pseudonym: {', '.join(planned.claims) or 'none'}",
        f"  conversations to anonymise: {len(planned.conversations)}"
        f" ({planned.messages} messages with text)",
    ]
    if planned.not_touched:
        lines.append(
            f"  not touched, another debtor's conversations: {len(planned.not_touched)}"
            f" ({', '.join(map(_masked_id, planned.not_touched))})"
        )
    if planned.already_erased_at is not None:
        lines.append(f"  already erased on {planned.already_erased_at:%Y-%m-%d}: would be refused")
    elif planned.blockers:
        lines.append("  refused without --force:")
        lines += [f"    {blocker}" for blocker in planned.blockers]
    else:
        lines.append("  nothing stands in the way")
    return "\n".join(lines)


def _masked_id(conversation_id: str) -> str:
    """Name a conversation without another person's phone number in it."""
    bare = conversation_id.removeprefix("whatsapp:")
    return mask_phone(conversation_id) if bare.startswith("+") else conversation_id


def _report_text(report: erase_service.ErasureReport) -> str:
    """Say what an erasure did."""
    counts = ", ".join(f"{key} {value}" for key, value in report.counts.items())
    lines = [f"erased debtor {report.debtor_id}, now {report.pseudonym}: {counts}"]
    if report.forced:
        lines.append("forced past:")
        lines += [f"  {blocker}" for blocker in report.blockers]
    lines.append("kept under the pseudonym: claims, promises and instalments, the audit log")
    return "\n".join(lines)


def _when(text: str) -> datetime:
    """Read an ISO 8601 time (a date means its midnight UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _retention(args: argparse.Namespace) -> int:
    """Anonymise the transcripts whose retention has passed."""
    book = load_policies(get_settings().policy_file)
    with session_scope(immediate=not args.dry_run) as db_session:
        report = run_retention(
            db_session=db_session, book=book, now=args.now or utcnow(), dry_run=args.dry_run
        )
        if args.dry_run:
            db_session.rollback()
    print(_retention_text(report))
    return 0


def _retention_text(report: RetentionReport) -> str:
    """Say what the retention job did (or would do)."""
    verb = "would anonymise" if report.dry_run else "anonymised"
    lines = [
        f"{'dry run: ' if report.dry_run else ''}{verb} {len(report.anonymised)} transcript(s),"
        f" kept {report.kept} whose time is not up"
    ]
    for item in report.anonymised:
        basis = ", ".join(item.claims) or "no claim"
        lines.append(
            f"  {item.conversation_id}: {item.messages} messages ({basis};"
            f" {item.decision.retention_days} days, {item.decision.policy_version})"
        )
    lines += [f"  skipped {reason}" for reason in report.skipped]
    done = "would delete" if report.dry_run else "deleted"
    lines.append(f"{done} {report.replay_answers} channel answer(s) kept for retries")
    return "\n".join(lines)


def register(subparsers: Any) -> None:
    """Add the `privacy` subcommands."""
    privacy = subparsers.add_parser("privacy", help="data subject rights (GDPR)")
    actions = privacy.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)

    export = actions.add_parser(
        "export",
        help="everything held about one person, as JSON (Art. 15)",
        description="Write everything Quitt holds about one person as JSON, unmasked, for "
        "that person: debtor data, claims, promises, disputes, handoffs, conversations with "
        "their transcripts, privacy requests and audit entries. Audited.",
    )
    _person(export)
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(handler=_export)

    erase = actions.add_parser(
        "erase",
        help="erase one person's data (Art. 17)",
        description="Anonymise one person's contact data and transcripts; claims, promises "
        "and the audit log stay under a pseudonym. Refused while a claim of theirs is not "
        "paid or a person handles one of their conversations, unless --force. Audited.",
    )
    _person(erase)
    erase.add_argument(
        "--force", action="store_true", help="erase although a claim is open or held"
    )
    erase.add_argument("--dry-run", action="store_true", help="say what would happen only")
    erase.add_argument(
        "--scan",
        action="store_true",
        help="afterwards search every table for their name, phone, e-mail and date of birth",
    )
    erase.set_defaults(handler=_erase)

    retention = actions.add_parser(
        "retention",
        help="anonymise transcripts of settled claims whose retention has passed",
        description="Anonymise the transcripts of conversations whose claims are all paid "
        "once the creditor policy's transcript_retention_days have passed (and of "
        "conversations that never reached a claim, after the default policy's period). "
        "Audited. Run it daily.",
    )
    retention.add_argument("--dry-run", action="store_true", help="say what would happen only")
    retention.add_argument(
        "--now", type=_when, metavar="TIME", help="pretend it is TIME (ISO 8601), e.g. to preview"
    )
    retention.set_defaults(handler=_retention)
