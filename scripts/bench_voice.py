"""`make bench-voice`: the voice line's speech pipeline on telephone audio, measured.

A test set of German and English debtor utterances (amounts, dates, references,
yes/no, disputes, requests for a person …) is synthesised with espeak-ng and
turned into what Twilio sends: 8 kHz G.711 μ-law in 20 ms frames. Each utterance
goes through the real pipeline: the VAD finds it, Whisper (the configured engine,
QUITT_STT_* settings) transcribes it in the caller's language, the voice line
tidies the text, and the NLU's entity extractor (nlu/entities.py, the component
Rasa runs) reads amounts and dates; references are read as a chat message would be.

Printed: word error rate per language, accuracy of the extracted amount / date /
reference, transcription time; variants (greedy vs beam search, int8 vs float32,
VAD trailing silence, transcribing while the caller is still silent); and the turn
latency on the real stack (Rasa, actions, gateway, a local Twilio stand-in): from
the caller's last speech frame in to the call update (the reply) out, p50 and p95.
The last line is one JSON object with the numbers.

    .venv/bin/python scripts/bench_voice.py [--quick] [--no-stack] [--no-variants]
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import io
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from num2words import num2words

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.config import get_settings  # noqa: E402
from nlu.entities import extract_entities  # noqa: E402
from voice.audio import pcm16_to_mulaw, resample, telephone_to_model  # noqa: E402
from voice.heard import tidy_transcript  # noqa: E402
from voice.stt import build_engine  # noqa: E402
from voice.vad import UtteranceDetector  # noqa: E402

VOICES = {"de": "de", "en": "en-gb"}
WORDS_PER_MINUTE = 140
FRAME_BYTES = 160
# A domain prompt for Whisper (a variant): the words a collection call is made of.
PROMPTS = {
    "de": "Ein Anruf beim Inkasso-Assistenten: Aktenzeichen, Geburtsdatum, Raten, Euro im Monat.",
    "en": "A call to the debt collection assistant: claim reference, date of birth, "
    "instalments, euros a month.",
}
Expect = dict[str, Callable[[date], str] | str]


def _next_day(day: int) -> Callable[[date], str]:
    """The next such day of the month strictly after today (as nlu/entities.py reads it)."""

    def resolve(today: date) -> str:
        candidate = today + timedelta(days=1)
        while candidate.day != day:
            candidate += timedelta(days=1)
        return candidate.isoformat()

    return resolve


def _next_date(month: int, day: int) -> Callable[[date], str]:
    """The next such day and month on or after today."""

    def resolve(today: date) -> str:
        value = date(today.year, month, day)
        return (value if value >= today else date(today.year + 1, month, day)).isoformat()

    return resolve


def _month_end(today: date) -> str:
    return date(
        today.year, today.month, calendar.monthrange(today.year, today.month)[1]
    ).isoformat()


def _next_month(today: date) -> str:
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return date(year, month, 1).isoformat()


CASES: list[tuple[str, str, Expect]] = [
    ("de", "Ich kann höchstens fünfzig Euro im Monat zahlen.", {"amount": "50.00"}),
    ("de", "Ich kann hundert Euro im Monat zahlen.", {"amount": "100.00"}),
    ("de", "Fünfundzwanzig Euro im Monat.", {"amount": "25.00"}),
    ("de", "Dreißig Euro im Monat wären möglich.", {"amount": "30.00"}),
    ("de", "Ich kann zweihundert Euro sofort zahlen.", {"amount": "200.00"}),
    ("de", "Ich zahle am fünfzehnten.", {"date": _next_day(15)}),
    ("de", "Ich kann am ersten Dezember zahlen.", {"date": _next_date(12, 1)}),
    ("de", "Ich zahle Ende des Monats.", {"date": _month_end}),
    ("de", "Ich kann erst nächsten Monat zahlen.", {"date": _next_month}),
    (
        "de",
        "Mein Aktenzeichen ist zwei sechs null null null null eins eins sieben.",
        {"reference": "260000117"},
    ),
    ("de", "Zwei sechs null null null null eins drei drei.", {"reference": "260000133"}),
    ("de", "Ja, das passt.", {}),
    ("de", "Nein, das schaffe ich nicht.", {}),
    ("de", "Ich möchte in Raten zahlen.", {}),
    ("de", "Ich habe diesen Vertrag nie abgeschlossen.", {}),
    ("de", "Ich möchte mit einem Mitarbeiter sprechen.", {}),
    ("de", "Hallo, ich habe einen Brief von Ihnen bekommen.", {}),
    ("de", "Können Sie mir einen Nachlass geben?", {}),
    ("de", "Ich zahle den ganzen Betrag sofort.", {}),
    ("de", "Ich bin arbeitslos und kann gerade nichts zahlen.", {}),
    ("de", "Danke, auf Wiederhören.", {}),
    ("de", "Ja, bitte festhalten.", {}),
    ("en", "I can pay at most fifty euros a month.", {"amount": "50.00"}),
    ("en", "I can afford one hundred euros a month.", {"amount": "100.00"}),
    ("en", "Twenty five euros a month.", {"amount": "25.00"}),
    ("en", "Thirty euros a month would work.", {"amount": "30.00"}),
    ("en", "I can pay two hundred euros right now.", {"amount": "200.00"}),
    ("en", "I will pay on the fifteenth.", {"date": _next_day(15)}),
    ("en", "I can pay on the first of December.", {"date": _next_date(12, 1)}),
    ("en", "I will pay at the end of the month.", {"date": _month_end}),
    ("en", "I can only pay next month.", {"date": _next_month}),
    ("en", "My reference is two six zero zero zero zero one four one.", {"reference": "260000141"}),
    ("en", "Two six zero zero zero zero one seven four.", {"reference": "260000174"}),
    ("en", "Yes, that works.", {}),
    ("en", "No, I can't manage that.", {}),
    ("en", "I would like to pay in instalments.", {}),
    ("en", "I never signed up for this contract.", {}),
    ("en", "I want to talk to a real person, please.", {}),
    ("en", "Hello, I got a letter from you.", {}),
    ("en", "Can I get a discount if I pay it all at once?", {}),
    ("en", "I will pay the full amount today.", {}),
    ("en", "I lost my job and cannot pay anything right now.", {}),
    ("en", "Thank you, goodbye.", {}),
    ("en", "Yes, please record it.", {}),
]


def synthesise(text: str, language: str) -> bytes:
    """Say a sentence with espeak-ng; return 8 kHz μ-law as a phone line carries it."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise SystemExit("espeak-ng is missing: run scripts/install-speech-tools.sh")
    wav = subprocess.run(
        [binary, "-v", VOICES[language], "-s", str(WORDS_PER_MINUTE), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
        rate = reader.getframerate()
    narrow = resample(samples.astype(np.float32) / 32768.0, rate, 8000)
    return pcm16_to_mulaw(np.clip(np.round(narrow * 32767.0), -32768, 32767).astype(np.int16))


def silence(ms: int) -> bytes:
    """Return μ-law digital silence."""
    return b"\xff" * (8 * ms)


# Word error rate ---------------------------------------------------------------------

_PUNCT = re.compile(r"[^\w\s]")


def _words(text: str, language: str) -> list[str]:
    """Normalise for WER: lower case, no punctuation, numbers as words, digits one by one."""
    text = _PUNCT.sub(" ", text.lower().replace("-", " "))
    out: list[str] = []
    for token in text.split():
        ordinal = re.fullmatch(r"(\d+)(st|nd|rd|th)", token)
        if ordinal:
            out.extend(str(num2words(int(ordinal.group(1)), lang=language, to="ordinal")).split())
        elif token.isdigit():
            spoken = (
                [str(num2words(int(d), lang=language)) for d in token]
                if len(token) >= 5
                else [str(num2words(int(token), lang=language))]
            )
            out.extend(w for s in spoken for w in s.replace("-", " ").split())
        else:
            out.append(token)
    return out


def word_errors(reference: str, hypothesis: str, language: str) -> tuple[int, int]:
    """Return (edit distance in words, reference length)."""
    ref, hyp = _words(reference, language), _words(hypothesis, language)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1], len(ref)


# The offline pipeline ----------------------------------------------------------------


@dataclass
class Result:
    """One utterance through VAD, Whisper and the entity extractor."""

    language: str
    text: str
    heard: str
    errors: int
    words: int
    segments: int
    transcribe_s: float
    audio_s: float
    checks: dict[str, bool]


def run_case(
    engine: Any,
    language: str,
    text: str,
    expect: Expect,
    audio: bytes,
    silence_ms: int,
    today: date,
    prompt: bool = False,
) -> Result:
    """Take one utterance through the pipeline and check what came out."""
    detector = UtteranceDetector(silence_ms=silence_ms)
    stream = silence(300) + audio + silence(max(1000, silence_ms + 300))
    utterances = []
    for offset in range(0, len(stream), FRAME_BYTES):
        utterances += detector.feed(stream[offset : offset + FRAME_BYTES])[1]
    last = detector.flush()
    if last is not None:
        utterances.append(last)
    heard_parts = []
    spent = 0.0
    for utterance in utterances:
        samples = telephone_to_model(utterance.audio)
        started = time.perf_counter()
        transcript = engine.transcribe(
            samples, language=language, prompt=PROMPTS[language] if prompt else None
        )
        spent += time.perf_counter() - started
        heard_parts.append(transcript.text)
    heard = tidy_transcript(" ".join(heard_parts))
    errors, words = word_errors(text, heard, language)
    checks: dict[str, bool] = {}
    entities = extract_entities(heard, today=today, language=language)
    for kind, wanted in expect.items():
        value = wanted(today) if callable(wanted) else wanted
        if kind == "reference":
            checks[kind] = value in re.findall(r"\d{9}", heard)
        else:
            checks[kind] = any(e.entity == kind and str(e.value) == value for e in entities)
    return Result(
        language, text, heard, errors, words, len(utterances), spent, len(audio) / 8000, checks
    )


def summarise(results: list[Result]) -> dict[str, Any]:
    """WER per language, entity accuracy per kind, transcription time."""
    summary: dict[str, Any] = {}
    for language in ("de", "en"):
        mine = [r for r in results if r.language == language]
        if not mine:
            continue
        errors, words = sum(r.errors for r in mine), sum(r.words for r in mine)
        summary[f"wer_{language}"] = round(errors / max(1, words), 3)
        summary[f"exact_{language}"] = round(sum(r.errors == 0 for r in mine) / len(mine), 3)
    for kind in ("amount", "date", "reference"):
        for language in ("de", "en"):
            checks = [
                r.checks[kind] for r in results if kind in r.checks and r.language == language
            ]
            if checks:
                summary[f"{kind}_acc_{language}"] = round(sum(checks) / len(checks), 3)
    times = [r.transcribe_s for r in results]
    summary["transcribe_p50_s"] = round(statistics.median(times), 3)
    summary["transcribe_p95_s"] = round(_p95(times), 3)
    summary["rtf"] = round(sum(times) / max(1e-9, sum(r.audio_s for r in results)), 3)
    summary["one_segment"] = round(sum(r.segments == 1 for r in results) / len(results), 3)
    return summary


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def make_engine(**overrides: Any) -> Any:
    """Build and load the configured engine with some settings changed."""
    settings = get_settings().model_copy(update=overrides)
    engine = build_engine(settings)
    if engine is None:
        raise SystemExit("QUITT_STT_BACKEND=off: nothing to measure")
    engine.load()
    return engine


# Turn latency on the real stack ------------------------------------------------------


def stack_latency(audio_cases: list[tuple[str, bytes]], silence_ms: int) -> list[float]:
    """Last speech frame in → call update out, on Rasa + actions + gateway + stand-in."""
    from api.launcher import Stack
    from tests.support.phone_audio import frames, payload
    from tests.support.stack import _free_port, seed_database
    from tests.support.twilio_voice_standin import PhoneCall, running_voice_standin

    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    url = f"sqlite:///{work / 'quitt.db'}"
    seed_database(url)
    latencies: list[float] = []
    with running_voice_standin() as standin:
        port = _free_port()
        public = f"http://127.0.0.1:{port}"
        stack = Stack(
            database_url=url,
            gateway_port=port,
            rasa_port=_free_port(),
            action_port=_free_port(),
            log_dir=work / "logs",
            extra_env={
                "QUITT_ENVIRONMENT": "test",
                "QUITT_PUBLIC_URL": public,
                "QUITT_TWILIO_ACCOUNT_SID": standin.account_sid,
                "QUITT_TWILIO_AUTH_TOKEN": standin.auth_token,
                "QUITT_TWILIO_API_BASE": standin.base_url,
                "QUITT_VOICE_SILENCE_MS": str(silence_ms),
                "QUITT_VOICE_REPROMPT_SECONDS": "60",
            },
        )
        stack.start()
        try:
            stack.wait_ready(timeout=300)

            async def one(language: str, audio: bytes) -> float:
                call = PhoneCall(
                    standin,
                    public,
                    public,
                    "+4917000000001" if language == "de" else "+447700900001",
                )
                await call.dial()
                await call.stream(silence(200) + audio)  # as fast as it goes: speech in
                last_speech = time.monotonic()
                # The trailing silence comes in real time, 20 ms a frame, as on a line.
                for frame in frames(silence(silence_ms + 600)):
                    await call._send(
                        {
                            "event": "media",
                            "streamSid": call._stream_sid,
                            "media": {"track": "inbound", "payload": payload(frame)},
                        }
                    )
                    await asyncio.sleep(0.02)
                update = await call.standin.wait_update(call.sid, 1, timeout=120)
                await call.stop()
                await call.status("completed")
                return update.at - last_speech

            for language, audio in audio_cases:
                latencies.append(asyncio.run(one(language, audio)))
        finally:
            stack.stop()
            shutil.rmtree(work, ignore_errors=True)
    return latencies


def main() -> int:
    """Run the benchmark and print the numbers, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 utterances per language")
    parser.add_argument(
        "--no-stack", action="store_true", help="skip the turn latency on the stack"
    )
    parser.add_argument("--no-variants", action="store_true", help="only the configured engine")
    args = parser.parse_args()
    today = date.today()
    cases = CASES
    if args.quick:
        cases = [c for c in CASES if c[0] == "de"][:8] + [c for c in CASES if c[0] == "en"][:8]
    print(f"synthesising {len(cases)} utterances with espeak-ng (8 kHz μ-law) …", flush=True)
    audio = {(lang, text): synthesise(text, lang) for lang, text, _ in cases}
    settings = get_settings()
    silence_ms = settings.voice_silence_ms

    def run(
        engine: Any, subset: list[tuple[str, str, Expect]], vad_ms: int, prompt: bool = False
    ) -> list[Result]:
        return [
            run_case(engine, lang, text, expect, audio[(lang, text)], vad_ms, today, prompt)
            for lang, text, expect in subset
        ]

    engine = make_engine()
    results = run(engine, cases, silence_ms)
    for r in results:
        marks = " ".join(f"{k}={'ok' if v else 'MISS'}" for k, v in r.checks.items())
        print(f"[{r.language}] {r.transcribe_s:5.2f}s  {r.text!r} -> {r.heard!r} {marks}")
    summary = summarise(results)
    print("configured engine:", json.dumps(summary))
    numbers: dict[str, Any] = {
        "engine": f"{settings.stt_backend} beam={settings.stt_beam_size} "
        f"{settings.stt_compute_type}",
        "utterances": len(results),
        **summary,
    }
    if not args.no_variants:
        subset = [c for c in cases if c[0] == "de"][:6] + [c for c in cases if c[0] == "en"][:6]
        variants: dict[str, Any] = {}
        for name, overrides in (
            ("beam1_int8", {"stt_beam_size": 1, "stt_compute_type": "int8"}),
            ("beam5_int8", {"stt_beam_size": 5, "stt_compute_type": "int8"}),
            ("beam1_float32", {"stt_beam_size": 1, "stt_compute_type": "float32"}),
        ):
            variant = make_engine(**overrides)
            variants[name] = summarise(run(variant, subset, silence_ms))
            print(f"variant {name}:", json.dumps(variants[name]), flush=True)
        variants["domain_prompt"] = summarise(run(engine, subset, silence_ms, prompt=True))
        print("variant domain_prompt:", json.dumps(variants["domain_prompt"]), flush=True)
        for vad_ms in (400, 1000):
            variants[f"vad_{vad_ms}ms"] = summarise(run(engine, subset, vad_ms))
            print(f"variant vad_{vad_ms}ms:", json.dumps(variants[f"vad_{vad_ms}ms"]), flush=True)
        # Transcribing while the caller is still silent: start Whisper after 300 ms of
        # silence instead of waiting for the full trailing silence; if the caller goes
        # on, the early result is dropped. Estimated from the measured transcription time.
        early = 300
        base = [silence_ms / 1000 + r.transcribe_s for r in results]
        spec = [max(silence_ms, early + r.transcribe_s * 1000) / 1000 for r in results]
        variants["speculative_300ms"] = {
            "ready_p50_s": round(statistics.median(spec), 3),
            "baseline_ready_p50_s": round(statistics.median(base), 3),
        }
        print("variant speculative_300ms:", json.dumps(variants["speculative_300ms"]))
        numbers["variants"] = variants
    if not args.no_stack:
        turns = [
            (lang, audio[(lang, text)]) for lang, text, _ in cases[:: max(1, len(cases) // 10)]
        ]
        print(f"turn latency on the real stack ({len(turns)} calls) …", flush=True)
        latencies = stack_latency(turns, silence_ms)
        numbers["turn_latency_p50_s"] = round(statistics.median(latencies), 3)
        numbers["turn_latency_p95_s"] = round(_p95(latencies), 3)
        numbers["vad_silence_ms"] = silence_ms
        print(
            "turn latency (last speech frame in → reply out): "
            f"p50 {numbers['turn_latency_p50_s']} s, p95 {numbers['turn_latency_p95_s']} s"
        )
    print(json.dumps(numbers, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
