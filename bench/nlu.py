"""NLU benchmark: held-out intent scores per language, entity accuracy, parse latency.

Run in the app runtime: ``python -m bench.nlu`` (``make bench-nlu``). Rasa itself runs only
in its own runtime (``.venv-rasa``), through subprocesses:

* ``scripts/rasa.sh test nlu`` once per language on ``bot/heldout/nlu_<lang>.yml``; its
  ``intent_report.json`` gives accuracy, weighted and macro F1 and per-intent F1. Note that
  ``rasa test nlu`` undoes the FallbackClassifier, so these are the classifier's intents;
  the fallback rate is reported separately from the latency run.
* a small script in the Rasa runtime loads the model once with ``Agent.load`` and times
  ``parse_message`` over every held-out text after a warm-up.

* the same script also parses ``bench/nlu_paraphrases.yml`` (after the timing, untimed): a
  robustness check in styles unlike bot/data (typos, dialect, no umlauts, rambling), written
  by the developer of the e5 featurizer, so NOT blind. Its accuracy per language is printed
  in the table only, never in the JSON line.

Entity accuracy comes from ``bench.entities.score``. The last stdout line is one JSON object.
``QUITT_BENCH_MODEL=/tmp/x/quitt.tar.gz`` benchmarks another model than models/quitt.tar.gz.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bench.entities import score as score_entities

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "quitt.tar.gz"
RASA_SH = ROOT / "scripts" / "rasa.sh"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
HELDOUT_DIR = ROOT / "bot" / "heldout"
ENTITY_CASES = ROOT / "bench" / "entity_cases.yml"
PARAPHRASES = ROOT / "bench" / "nlu_paraphrases.yml"
LANGUAGES = ("de", "en")
WORST_N = 5
WARMUP = 20
# Keys of intent_report.json that are averages, not intents.
SUMMARY_KEYS = frozenset({"accuracy", "macro avg", "weighted avg", "micro avg"})
FALLBACK_INTENT = "nlu_fallback"
# `[text](entity)`, `[text]{"entity": ...}` and `[text][...]` annotations keep their text.
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")

# Runs in .venv-rasa (Python 3.10): argv = model path, JSON file with the texts, warm-up
# count, optionally a JSON file of untimed texts whose (live, classifier) intents it returns.
TIMING_SCRIPT = """\
import asyncio, json, logging, sys, time
logging.disable(logging.WARNING)
from rasa.core.agent import Agent

def classifier_intent(result):
    for row in result.get("intent_ranking") or []:
        if row.get("name") != "nlu_fallback":
            return row.get("name")
    return None

async def main():
    texts = json.loads(open(sys.argv[2], encoding="utf-8").read())
    agent = Agent.load(sys.argv[1])
    for text in texts[: int(sys.argv[3])]:
        await agent.parse_message(text)
    parse_ms, intents = [], []
    for text in texts:
        start = time.perf_counter()
        result = await agent.parse_message(text)
        parse_ms.append((time.perf_counter() - start) * 1000.0)
        intents.append((result.get("intent") or {}).get("name"))
    untimed = []
    if len(sys.argv) > 4:
        for text in json.loads(open(sys.argv[4], encoding="utf-8").read()):
            result = await agent.parse_message(text)
            untimed.append([(result.get("intent") or {}).get("name"), classifier_intent(result)])
    print(json.dumps({"parse_ms": parse_ms, "intents": intents, "untimed": untimed}))

asyncio.run(main())
"""


class BenchError(RuntimeError):
    """A precondition or a subprocess of the benchmark failed."""


# --- pure parts ----------------------------------------------------------------------------


def intent_metrics(report: dict[str, Any], worst_n: int = WORST_N) -> dict[str, Any]:
    """Turn one language's ``intent_report.json`` into accuracy, F1s and the worst intents.

    Macro F1 averages over the intents of the held-out file only: Rasa builds the report
    with the target labels, so a label that is only ever predicted does not count.
    """
    intents = {
        name: row
        for name, row in report.items()
        if name not in SUMMARY_KEYS and isinstance(row, dict) and row.get("support", 0) > 0
    }
    worst = sorted(intents.items(), key=lambda item: (item[1]["f1-score"], item[0]))[:worst_n]
    return {
        "accuracy": float(report["accuracy"]),
        "weighted_f1": float(report["weighted avg"]["f1-score"]),
        "macro_f1": float(report["macro avg"]["f1-score"]),
        "examples": int(report["weighted avg"]["support"]),
        "intents": len(intents),
        "worst": [
            {
                "intent": name,
                "f1": float(row["f1-score"]),
                "precision": float(row["precision"]),
                "recall": float(row["recall"]),
                "support": int(row["support"]),
                "confused_with": dict(row.get("confused_with") or {}),
            }
            for name, row in worst
        ],
    }


def percentile(values: list[float], pct: float) -> float:
    """Return the ``pct`` percentile of ``values`` by linear interpolation (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def heldout_texts(path: Path) -> list[str]:
    """Return the example texts of a Rasa NLU YAML file, entity annotations removed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    texts: list[str] = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                texts.append(_ANNOTATION.sub(r"\1", line[2:].strip()))
    return texts


def paraphrase_cases(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Return ``{lang: [(text, intent), ...]}`` from bench/nlu_paraphrases.yml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        lang: [(str(row["text"]), str(row["intent"])) for row in data.get(lang) or []]
        for lang in LANGUAGES
    }


def paraphrase_scores(
    cases: dict[str, list[tuple[str, str]]], predicted: list[list[str | None]]
) -> dict[str, dict[str, Any]]:
    """Score (live, classifier) predictions, in the order of ``cases``, per language.

    ``live`` is the pipeline's answer (a fallback counts as wrong); ``classifier`` is the
    best intent other than the fallback, as ``rasa test nlu`` scores the held-out sets.
    """
    scores: dict[str, dict[str, Any]] = {}
    start = 0
    for lang in LANGUAGES:
        rows = predicted[start : start + len(cases[lang])]
        start += len(rows)
        paired = [
            (text, intent, live, best)
            for (text, intent), (live, best) in zip(cases[lang], rows, strict=True)
        ]
        n = max(len(paired), 1)
        scores[lang] = {
            "n": len(paired),
            "live_accuracy": sum(live == intent for _, intent, live, _ in paired) / n,
            "classifier_accuracy": sum(best == intent for _, intent, _, best in paired) / n,
            "misses": [
                {"text": text, "expected": intent, "live": live, "classifier": best}
                for text, intent, live, best in paired
                if live != intent
            ],
        }
    return scores


def final_line(
    per_language: dict[str, dict[str, Any]], entities: dict[str, Any], latency: dict[str, float]
) -> str:
    """Return the one-line JSON summary that ends the benchmark output."""
    result: dict[str, Any] = {"bench": "nlu"}
    for lang in LANGUAGES:
        result[f"intent_f1_{lang}"] = per_language[lang]["weighted_f1"]
    for lang in LANGUAGES:
        result[f"intent_macro_f1_{lang}"] = per_language[lang]["macro_f1"]
    for lang in LANGUAGES:
        result[f"intent_accuracy_{lang}"] = per_language[lang]["accuracy"]
    for key in ("entity_accuracy", "amount_accuracy", "date_accuracy"):
        result[key] = entities[key]
    result["parse_ms_p50"] = latency["p50"]
    result["parse_ms_p95"] = latency["p95"]
    for lang in LANGUAGES:
        result[f"heldout_examples_{lang}"] = int(per_language[lang]["examples"])
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}
    return json.dumps(rounded, ensure_ascii=False)


def render_table(
    per_language: dict[str, dict[str, Any]],
    entities: dict[str, Any],
    latency: dict[str, Any],
    paraphrases: dict[str, dict[str, Any]] | None = None,
) -> str:
    """Return the human-readable report printed before the JSON line."""
    out = ["== Intents (held-out, rasa test nlu; fallback not applied) =="]
    out.append(
        f"{'lang':<6}{'examples':>9}{'intents':>9}{'accuracy':>10}{'F1 w':>8}{'F1 macro':>10}"
    )
    for lang in LANGUAGES:
        m = per_language[lang]
        out.append(
            f"{lang:<6}{m['examples']:>9}{m['intents']:>9}{m['accuracy']:>10.4f}"
            f"{m['weighted_f1']:>8.4f}{m['macro_f1']:>10.4f}"
        )
    for lang in LANGUAGES:
        out.append(f"-- worst {WORST_N} intents ({lang}) --")
        out.append(f"{'intent':<20}{'F1':>7}{'prec':>7}{'rec':>7}{'n':>4}  confused with")
        for row in per_language[lang]["worst"]:
            confused = ", ".join(f"{k}×{v}" for k, v in row["confused_with"].items()) or "-"
            out.append(
                f"{row['intent']:<20}{row['f1']:>7.3f}{row['precision']:>7.3f}"
                f"{row['recall']:>7.3f}{row['support']:>4}  {confused}"
            )
    out.append("== Entities (bench/entity_cases.yml, exact set match) ==")
    out.append(f"{'cases':<18}{entities['entity_cases']:>8}")
    for key in ("entity_accuracy", "amount_accuracy", "date_accuracy"):
        out.append(f"{key:<18}{entities[key]:>8.4f}")
    for failure in entities["failures"]:
        out.append(
            f"  FAIL {failure['text']!r}: expected {failure['expected']}, got {failure['found']}"
        )
    out.append("== Parse latency (Agent.parse_message, after warm-up) ==")
    out.append(
        f"messages {latency['n']}  p50 {latency['p50']:.2f} ms  p95 {latency['p95']:.2f} ms"
        f"  max {latency['max']:.2f} ms"
    )
    rates = "  ".join(f"{lang} {rate:.1%}" for lang, rate in latency["fallback_rate"].items())
    out.append(f"{FALLBACK_INTENT} rate in the live pipeline: {rates}")
    if paraphrases:
        out.append(
            "== Paraphrases (bench/nlu_paraphrases.yml: typos, dialect, rambling; "
            "written by the developer, NOT blind) =="
        )
        out.append(f"{'lang':<6}{'examples':>9}{'classifier':>12}{'live':>8}")
        for lang, row in paraphrases.items():
            out.append(
                f"{lang:<6}{row['n']:>9}{row['classifier_accuracy']:>12.4f}"
                f"{row['live_accuracy']:>8.4f}"
            )
        for lang, row in paraphrases.items():
            for miss in row["misses"]:
                out.append(
                    f"  MISS ({lang}) {miss['text']!r}: expected {miss['expected']}, "
                    f"live {miss['live']}, classifier {miss['classifier']}"
                )
    return "\n".join(out)


# --- subprocesses --------------------------------------------------------------------------


def _tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file."""
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def run_rasa_tests(model: Path, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Run ``rasa test nlu`` for both languages side by side; return their metrics."""
    procs = {}
    for lang in LANGUAGES:
        log = out_dir / f"rasa_test_{lang}.log"
        with log.open("w", encoding="utf-8") as handle:
            procs[lang] = subprocess.Popen(
                [
                    str(RASA_SH), "test", "nlu",
                    "--nlu", str(HELDOUT_DIR / f"nlu_{lang}.yml"),
                    "--model", str(model),
                    "--out", str(out_dir / lang),
                    "--no-plot",
                ],
                cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
            )  # fmt: skip
    per_language = {}
    for lang, proc in procs.items():
        code = proc.wait()
        report_path = out_dir / lang / "intent_report.json"
        if code != 0 or not report_path.exists():
            raise BenchError(
                f"rasa test nlu ({lang}) failed with exit code {code}:\n"
                + _tail(out_dir / f"rasa_test_{lang}.log")
            )
        per_language[lang] = intent_metrics(json.loads(report_path.read_text(encoding="utf-8")))
    return per_language


def time_parsing(
    model: Path,
    texts_by_lang: dict[str, list[str]],
    work_dir: Path,
    untimed: list[str] | None = None,
) -> dict[str, Any]:
    """Time ``Agent.parse_message`` per held-out text in the Rasa runtime.

    ``untimed`` texts are parsed afterwards; their ``[live, classifier]`` intents come back
    under ``"untimed"``.
    """
    texts = [text for lang in LANGUAGES for text in texts_by_lang[lang]]
    texts_file = work_dir / "texts.json"
    texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    extra_args: list[str] = []
    if untimed:
        untimed_file = work_dir / "untimed.json"
        untimed_file.write_text(json.dumps(untimed, ensure_ascii=False), encoding="utf-8")
        extra_args = [str(untimed_file)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }
    proc = subprocess.run(
        [str(RASA_PYTHON), "-c", TIMING_SCRIPT, str(model), str(texts_file), str(WARMUP),
         *extra_args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise BenchError(
            f"parse timing failed with exit code {proc.returncode}:\n"
            + "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        )
    data = json.loads(lines[-1])
    parse_ms: list[float] = data["parse_ms"]
    intents: list[str | None] = data["intents"]
    fallback_rate, start = {}, 0
    for lang in LANGUAGES:
        chunk = intents[start : start + len(texts_by_lang[lang])]
        start += len(chunk)
        fallback_rate[lang] = sum(i == FALLBACK_INTENT for i in chunk) / max(len(chunk), 1)
    return {
        "n": len(parse_ms),
        "p50": percentile(parse_ms, 50),
        "p95": percentile(parse_ms, 95),
        "max": max(parse_ms),
        "fallback_rate": fallback_rate,
        "untimed": data.get("untimed") or [],
    }


def model_path() -> Path:
    """Return the model to benchmark: $QUITT_BENCH_MODEL, else models/quitt.tar.gz."""
    override = os.environ.get("QUITT_BENCH_MODEL")
    return Path(override).resolve() if override else MODEL


def check_prerequisites() -> None:
    """Fail with a clear message when the model or the Rasa runtime is missing."""
    model = model_path()
    if not model.is_file():
        shown = model.relative_to(ROOT) if model.is_relative_to(ROOT) else model
        raise BenchError(f"model not found: {shown}; train it first (`make train`)")
    if not RASA_PYTHON.exists():
        raise BenchError(
            f"Rasa runtime not found: {RASA_PYTHON.relative_to(ROOT)}; run `make install`"
        )
    for lang in LANGUAGES:
        path = HELDOUT_DIR / f"nlu_{lang}.yml"
        if not path.is_file():
            raise BenchError(f"held-out file not found: {path.relative_to(ROOT)}")


def main() -> int:
    """Run the benchmark; print the table and, last, the JSON line."""
    try:
        check_prerequisites()
        texts_by_lang = {lang: heldout_texts(HELDOUT_DIR / f"nlu_{lang}.yml") for lang in LANGUAGES}
        cases = paraphrase_cases(PARAPHRASES) if PARAPHRASES.is_file() else None
        untimed = [text for lang in LANGUAGES for text, _ in (cases or {}).get(lang, [])]
        with tempfile.TemporaryDirectory(prefix="quitt-bench-nlu-") as tmp:
            work_dir = Path(tmp)
            # One snapshot of the model for every run, even if it is retrained meanwhile.
            model = work_dir / MODEL.name
            shutil.copyfile(model_path(), model)
            per_language = run_rasa_tests(model, work_dir)
            # Timed alone, after the test runs, so nothing competes for the CPU.
            latency = time_parsing(model, texts_by_lang, work_dir, untimed)
    except BenchError as exc:
        print(f"bench.nlu: {exc}", file=sys.stderr)
        return 2
    entities = score_entities(ENTITY_CASES)
    paraphrases = paraphrase_scores(cases, latency["untimed"]) if cases else None
    print(render_table(per_language, entities, latency, paraphrases))
    print(final_line(per_language, entities, latency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
