"""`make bench-voice`: the voice line's speech pipeline on telephone audio, measured.

A test set of German and English debtor utterances (amounts, dates, references,
yes/no, disputes, requests for a person …) is said by every packaged test voice
(tests/support/speech.py): natural ones (SVOX Pico de-DE and en-US, MBROLA de6 and
de7, Piper's joe en-US) and espeak-ng as the robotic worst case. Each is turned into
what Twilio sends: 8 kHz G.711 μ-law in 20 ms frames. Each utterance goes through the
real pipeline: the VAD finds it, Whisper (the configured engine, QUITT_STT_* settings,
with its runaway guard) transcribes it in the caller's language, the voice line tidies
and checks the text (voice/heard.py), and the NLU's entity extractor (nlu/entities.py,
the component Rasa runs) reads amounts and dates; references are read as a chat
message would be.

Printed per voice: word error rate (each utterance's errors capped at its length, so
one runaway loop cannot dominate a mean), exact transcripts, accuracy of the extracted
amount / date / reference, transcripts re-decoded or dropped by the runaway guard, and
how well Whisper's confidence separates right from garbled text (the bound below which
the gateway reads no mood). Then variants on the natural voices (greedy vs beam, int8 vs
float32, Whisper's 30 s and 15 s encoder windows, VAD trailing silence, domain prompt)
and the turn latency on the real stack (Rasa, actions, gateway, a local Twilio
stand-in): from the clip's last voiced frame in to the call update (the reply) out,
p50 and p95. The last line is one JSON object
with the numbers: `wer_natural_de` and `wer_natural_en` are means over the natural
voices of each language.

    .venv/bin/python scripts/bench_voice.py [--quick] [--no-stack] [--no-variants]
        [--stack-only] [--no-baseline] [--voices pico-de,piper-joe-en,…]
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from num2words import num2words

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.config import get_settings  # noqa: E402
from nlu.entities import extract_entities  # noqa: E402
from tests.support.speech import VOICES, missing_voice, telephone_mulaw  # noqa: E402
from voice.audio import telephone_to_model  # noqa: E402
from voice.heard import MIN_SURE_AVG_LOGPROB, hear, is_sure  # noqa: E402
from voice.stt import build_engine  # noqa: E402
from voice.stt.guard import words as guard_words  # noqa: E402
from voice.vad import UtteranceDetector  # noqa: E402

FRAME_BYTES = 160
# espeak-ng's own voices speak at the pace this bench has always used for them (so that
# the worst case compares with earlier runs); MBROLA, Pico and Piper keep their own.
ESPEAK_WORDS_PER_MINUTE = 140
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
    # The opening an independent caller used (issue 14): "nicht verstanden" on espeak-ng.
    ("de", "Hallo, ich rufe wegen einer Rechnung an.", {}),
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
    ("en", "Hello, I'm calling about an invoice.", {}),
    ("en", "Can I get a discount if I pay it all at once?", {}),
    ("en", "I will pay the full amount today.", {}),
    ("en", "I lost my job and cannot pay anything right now.", {}),
    ("en", "Thank you, goodbye.", {}),
    ("en", "Yes, please record it.", {}),
]


def synthesise(text: str, language: str, voice: str) -> bytes:
    """Say a sentence with a test voice; return 8 kHz μ-law as a phone line carries it."""
    pace = ESPEAK_WORDS_PER_MINUTE if VOICES[voice].engine == "espeak" else None
    return telephone_mulaw(text, language, voice, words_per_minute=pace)


def silence(ms: int) -> bytes:
    """Return μ-law digital silence."""
    return b"\xff" * (8 * ms)


# Word error rate ---------------------------------------------------------------------

_PUNCT = re.compile(r"[^\w\s]")


def _german_ordinals() -> dict[str, str]:
    """Map German ordinal words (any ending) to cardinals: "fünfzehnten" and "15." agree."""
    found: dict[str, str] = {}
    for n in range(1, 32):
        stem = str(num2words(n, lang="de", to="ordinal")).lower()  # "fünfzehnte"
        for ending in ("", "n", "r", "s", "m"):
            found[stem + ending] = str(num2words(n, lang="de")).lower()
    return found


_DE_ORDINALS = _german_ordinals()
# Written either way, said the same: "hundert Euro" and "einhundert Euro".
_DE_SAME = {"einhundert": "hundert", "eintausend": "tausend"}


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
    if language == "de":
        out = [_DE_SAME.get(w, _DE_ORDINALS.get(w, w)) for w in out]
    return out


def word_errors(reference: str, hypothesis: str, language: str) -> tuple[int, int]:
    """Return (edit distance in words capped at the reference length, reference length).

    The cap keeps one runaway loop (112 words for 9) from counting as 12 sentences.
    """
    ref, hyp = _words(reference, language), _words(hypothesis, language)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return min(previous[-1], len(ref)), len(ref)


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
    voice: str = ""
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    redecoded: bool = False
    dropped: bool = False
    widened: bool = False  # decoded again in Whisper's full window (unsure or dropped)
    raw_words: int = 0  # words Whisper wrote before the line's checks

    @property
    def wer(self) -> float:
        """Return this utterance's word error rate (capped at 1)."""
        return self.errors / max(1, self.words)


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
    logprobs: list[float] = []
    no_speech: list[float] = []
    redecoded = dropped = widened = False
    raw_words = 0
    for utterance in utterances:
        samples = telephone_to_model(utterance.audio)
        started = time.perf_counter()
        transcript = engine.transcribe(
            samples, language=language, prompt=PROMPTS[language] if prompt else None
        )
        spent += time.perf_counter() - started
        heard_now = hear(transcript)  # what the voice line passes to the dialogue
        raw_words += len(guard_words(transcript.text))
        redecoded |= transcript.redecoded is not None
        widened |= transcript.widened
        dropped |= heard_now.dropped is not None
        if transcript.avg_logprob is not None:
            logprobs.append(transcript.avg_logprob)
        if transcript.no_speech_prob is not None:
            no_speech.append(transcript.no_speech_prob)
        if heard_now.text:
            heard_parts.append(heard_now.text)
    heard = " ".join(heard_parts)
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
        language,
        text,
        heard,
        errors,
        words,
        len(utterances),
        spent,
        len(audio) / 8000,
        checks,
        avg_logprob=min(logprobs) if logprobs else None,
        no_speech_prob=max(no_speech) if no_speech else None,
        redecoded=redecoded,
        dropped=dropped,
        widened=widened,
        raw_words=raw_words,
    )


def summarise(results: list[Result]) -> dict[str, Any]:
    """WER per language (capped errors), entity accuracy per kind, transcription time."""
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
    summary["redecoded"] = sum(r.redecoded for r in results)
    summary["dropped"] = sum(r.dropped for r in results)
    summary["widened"] = sum(r.widened for r in results)
    summary["unsure"] = sum(not is_sure(r.avg_logprob, r.no_speech_prob) for r in results)
    rates = [r.raw_words / r.audio_s for r in results if r.audio_s and not r.dropped]
    summary["words_per_second_max"] = round(max(rates), 2) if rates else None
    return summary


def confidence_table(results: list[Result]) -> dict[str, Any]:
    """How well avg_logprob tells right (WER ≤ 0.2) from garbled (WER ≥ 0.5) transcripts."""
    scored = [r for r in results if r.avg_logprob is not None and not r.dropped]
    right = [r for r in scored if r.wer <= 0.2]
    garbled = [r for r in scored if r.wer >= 0.5]
    table: dict[str, Any] = {"right": len(right), "garbled": len(garbled)}
    for bound in (-0.4, -0.5, -0.6, -0.7, -0.8, -1.0):
        table[str(bound)] = {
            "right_unsure": round(
                sum((r.avg_logprob or 0) < bound for r in right) / max(1, len(right)), 3
            ),
            "garbled_unsure": round(
                sum((r.avg_logprob or 0) < bound for r in garbled) / max(1, len(garbled)), 3
            ),
        }
    return table


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


_STAGE_SUM = re.compile(r'^quitt_voice_turn_stage_seconds_sum\{stage="(\w+)"\} (\S+)$', re.M)
_TURNS = re.compile(r'^quitt_voice_turns_total\{ended_by="(\w+)"\} (\S+)$', re.M)


def _stage_sums(metrics: str) -> dict[str, float]:
    """Read the gateway's per-stage turn seconds (sums) and turn counts from /metrics."""
    found = {stage: float(value) for stage, value in _STAGE_SUM.findall(metrics)}
    found.update({f"ended_by_{why}": float(n) for why, n in _TURNS.findall(metrics)})
    return found


def speech_end(mulaw: bytes) -> int:
    """Return the byte offset just after a clip's last voiced 20 ms frame (the line's VAD)."""
    detector = UtteranceDetector()
    detector.feed(mulaw)
    last = detector.last_speech_frame
    return len(mulaw) if last < 0 else min(len(mulaw), (last + 1) * FRAME_BYTES)


# The line as it was before issue 14: no short pause, so no turn model and no early
# transcript; a turn ends after QUITT_VOICE_SILENCE_MS of silence, then Whisper starts,
# with its encoder on the full 30 s window.
BASELINE_ENV = {"QUITT_VOICE_PAUSE_MS": "0", "QUITT_STT_WINDOW_SECONDS": "0"}


def stack_latency(
    audio_cases: list[tuple[str, bytes]],
    silence_ms: int,
    variants: dict[str, dict[str, str]],
) -> dict[str, tuple[list[float], list[dict[str, float]]]]:
    """Last speech frame in → call update out, on Rasa + actions + gateway + stand-in.

    Each variant (extra QUITT_ settings) runs a stack of its own, all at once, and the
    calls alternate between them, so that a busy machine weighs on each alike. Returns
    per variant each call's latency and its stages as the gateway measured them
    (voice/timings.py: the gateway's metrics read before and after each call, whose one
    turn is the only one in between).
    """
    import httpx

    from api.launcher import Stack
    from tests.support.stack import _free_port, seed_database
    from tests.support.twilio_voice_standin import PhoneCall, running_voice_standin

    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    results: dict[str, tuple[list[float], list[dict[str, float]]]] = {
        name: ([], []) for name in variants
    }
    # Enough trailing silence for the longest pause the line may wait (a number dictated).
    trailing_ms = max(silence_ms, get_settings().voice_dictation_pause_ms) + 600
    with running_voice_standin() as standin:
        stacks: dict[str, tuple[Stack, str]] = {}
        for name, env in variants.items():
            url = f"sqlite:///{work / f'{name}.db'}"
            seed_database(url)
            port = _free_port()
            public = f"http://127.0.0.1:{port}"
            stack = Stack(
                database_url=url,
                gateway_port=port,
                rasa_port=_free_port(),
                action_port=_free_port(),
                log_dir=work / f"logs-{name}",
                extra_env={
                    "QUITT_ENVIRONMENT": "test",
                    "QUITT_PUBLIC_URL": public,
                    "QUITT_TWILIO_ACCOUNT_SID": standin.account_sid,
                    "QUITT_TWILIO_AUTH_TOKEN": standin.auth_token,
                    "QUITT_TWILIO_API_BASE": standin.base_url,
                    "QUITT_VOICE_SILENCE_MS": str(silence_ms),
                    "QUITT_VOICE_REPROMPT_SECONDS": "60",
                    **env,
                },
            )
            stacks[name] = (stack, public)
            stack.start()
        try:
            for stack, _ in stacks.values():
                stack.wait_ready(timeout=300)

            async def one(
                public: str, language: str, audio: bytes
            ) -> tuple[float, dict[str, float]]:
                async with httpx.AsyncClient(base_url=public, timeout=30) as http:
                    before = _stage_sums((await http.get("/metrics")).text)
                    call = PhoneCall(
                        standin,
                        public,
                        public,
                        "+4917000000001" if language == "de" else "+447700900001",
                    )
                    await call.dial()  # both streams open, as on Twilio
                    # The speech as fast as it goes, up to its last voiced frame; the clock
                    # starts there. The clip's own tail (a voice ends 0 to 480 ms of silence
                    # after its last word) and the silence after it come in real time, 20 ms
                    # a frame, as on a line: sent at once, that tail used to hide part of
                    # the line's wait for the end of the turn.
                    end = speech_end(audio)
                    await call.stream(silence(200) + audio[:end])
                    last_speech = time.monotonic()
                    rest = audio[end:] + silence(trailing_ms)
                    trailing = asyncio.create_task(call.stream(rest, realtime=True))
                    update = await call.standin.wait_update(call.sid, 1, timeout=120)
                    await trailing
                    await call.hang_up()
                    await call.status("completed")  # answered once the call has ended
                    after = _stage_sums((await http.get("/metrics")).text)
                delta = {k: round(v - before.get(k, 0.0), 3) for k, v in after.items()}
                return update.at - last_speech, {k: v for k, v in delta.items() if v}

            for language, audio in audio_cases:
                for name, (_, public) in stacks.items():
                    latency, stage = asyncio.run(one(public, language, audio))
                    results[name][0].append(latency)
                    results[name][1].append(stage)
                    print(f"  [{name}] turn {latency:.3f} s  {json.dumps(stage)}", flush=True)
        finally:
            for stack, _ in stacks.values():
                stack.stop()
            shutil.rmtree(work, ignore_errors=True)
    return results


# The stages that follow each other (voice/timings.py); "in_transit" is the rest of the
# latency: audio still in the socket or the gateway's queue when the caller stopped.
_SEQUENTIAL = ("vad_wait", "transcription", "dialogue", "call_update")


def stage_summary(latencies: list[float], stages: list[dict[str, float]]) -> dict[str, Any]:
    """p50 and p95 of each stage over the calls, and what ended the turns."""
    summary: dict[str, Any] = {}
    for latency, stage in zip(latencies, stages, strict=True):
        stage["in_transit"] = round(
            max(0.0, latency - sum(stage.get(n, 0.0) for n in _SEQUENTIAL)), 3
        )
    names = ("in_transit", "vad_wait", "turn_model", "transcription", "whisper", "dialogue")
    for name in (*names, "call_update"):
        values = [s.get(name, 0.0) for s in stages]
        if values:
            summary[name] = {
                "p50_s": round(statistics.median(values), 3),
                "p95_s": round(_p95(values), 3),
            }
    ended = {k[len("ended_by_") :]: 0 for s in stages for k in s if k.startswith("ended_by_")}
    for s in stages:
        for why in ended:
            ended[why] += int(s.get(f"ended_by_{why}", 0))
    summary["ended_by"] = ended
    return summary


def latency(
    cases: list[tuple[str, str, Expect]],
    audio: dict[tuple[str, str, str], bytes],
    natural_voices: dict[str, str | None],
    silence_ms: int,
    baseline: bool = True,
) -> dict[str, Any]:
    """Turn latency and its stages on the real stack, over about ten calls.

    With `baseline`, the same calls also go to a stack that takes turns as the line did
    before (BASELINE_ENV), under the same load, and its numbers come under "baseline".
    """
    numbers: dict[str, Any] = {}
    turns = [
        (language, audio[(name, language, text)])
        for language, name in natural_voices.items()
        if name is not None
        for lang, text, _ in cases
        if lang == language
    ]
    turns = turns[:: max(1, len(turns) // 10)]
    variants: dict[str, dict[str, str]] = {"configured": {}}
    if baseline:
        variants["baseline"] = BASELINE_ENV
    print(
        f"turn latency on the real stack ({len(turns)} calls, {' and '.join(variants)}) …",
        flush=True,
    )
    results = stack_latency(turns, silence_ms, variants)
    for name, (latencies, stages) in results.items():
        mine: dict[str, Any] = {
            "turn_latency_p50_s": round(statistics.median(latencies), 3),
            "turn_latency_p95_s": round(_p95(latencies), 3),
            "turn_stages": stage_summary(latencies, stages),
        }
        print(
            f"turn latency [{name}] (last speech frame in → reply out): "
            f"p50 {mine['turn_latency_p50_s']} s, p95 {mine['turn_latency_p95_s']} s"
        )
        for stage, value in mine["turn_stages"].items():
            print(f"  stage {stage}: {json.dumps(value)}")
        if name == "configured":
            numbers.update(mine)
        else:
            numbers[name] = mine
    numbers["vad_silence_ms"] = silence_ms
    return numbers


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def main() -> int:
    """Run the benchmark and print the numbers, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 utterances per language")
    parser.add_argument(
        "--no-stack", action="store_true", help="skip the turn latency on the stack"
    )
    parser.add_argument("--no-variants", action="store_true", help="only the configured engine")
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="no second stack taking turns the old way (700 ms of silence, then Whisper)",
    )
    parser.add_argument(
        "--stack-only",
        action="store_true",
        help="only the turn latency on the real stack (no word error rates, no variants)",
    )
    parser.add_argument(
        "--voices",
        default=",".join(VOICES),
        help=f"comma-separated test voices (default: all of {', '.join(VOICES)})",
    )
    args = parser.parse_args()
    today = date.today()
    cases = CASES
    if args.quick:
        cases = [c for c in CASES if c[0] == "de"][:8] + [c for c in CASES if c[0] == "en"][:8]
    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    for name in voices:
        if name not in VOICES:
            raise SystemExit(f"unknown voice {name!r}; known: {', '.join(VOICES)}")
        reason = missing_voice(name)
        if reason is not None:
            raise SystemExit(reason)
    settings = get_settings()
    silence_ms = settings.voice_silence_ms
    audio: dict[tuple[str, str, str], bytes] = {}
    for name in voices:
        language = VOICES[name].language
        mine = [c for c in cases if c[0] == language]
        print(f"synthesising {len(mine)} utterances with {name} (8 kHz μ-law) …", flush=True)
        for _, text, _ in mine:
            audio[(name, language, text)] = synthesise(text, language, name)
    natural_voices = {
        language: next(
            (n for n in voices if VOICES[n].natural and VOICES[n].language == language), None
        )
        for language in ("de", "en")
    }
    if args.stack_only:
        timed = latency(cases, audio, natural_voices, silence_ms, not args.no_baseline)
        print(json.dumps(timed, ensure_ascii=False))
        return 0

    def run(
        engine: Any,
        voice: str,
        subset: list[tuple[str, str, Expect]],
        vad_ms: int,
        prompt: bool = False,
    ) -> list[Result]:
        language = VOICES[voice].language
        results = []
        for lang, text, expect in subset:
            if lang != language:
                continue
            result = run_case(
                engine, lang, text, expect, audio[(voice, lang, text)], vad_ms, today, prompt
            )
            result.voice = voice
            results.append(result)
        return results

    engine = make_engine()
    per_voice: dict[str, list[Result]] = {}
    for name in voices:
        per_voice[name] = run(engine, name, cases, silence_ms)
        for r in per_voice[name]:
            marks = " ".join(f"{k}={'ok' if v else 'MISS'}" for k, v in r.checks.items())
            flags = (" REDECODED" if r.redecoded else "") + (" DROPPED" if r.dropped else "")
            flags += " WIDENED" if r.widened else ""
            logprob = f"{r.avg_logprob:+.2f}" if r.avg_logprob is not None else "  n/a"
            print(
                f"[{name}] {r.transcribe_s:5.2f}s lp {logprob} wer {r.wer:.2f}  "
                f"{r.text!r} -> {r.heard!r} {marks}{flags}"
            )
    summaries = {name: summarise(results) for name, results in per_voice.items()}
    for name, summary in summaries.items():
        print(f"voice {name}:", json.dumps(summary), flush=True)
    everything = [r for results in per_voice.values() for r in results]
    natural = [r for name in voices if VOICES[name].natural for r in per_voice[name]]
    numbers: dict[str, Any] = {
        "engine": f"{settings.stt_backend} beam={settings.stt_beam_size} "
        f"{settings.stt_compute_type} window={settings.stt_window_seconds:g}s",
        "utterances": len(everything),
        "voices": summaries,
    }
    for language in ("de", "en"):
        for kind, natural_voice in (("natural", True), ("espeak", False)):
            names = [
                n
                for n in voices
                if VOICES[n].language == language and VOICES[n].natural is natural_voice
            ]
            numbers[f"wer_{kind}_{language}"] = _mean(
                [summaries[n][f"wer_{language}"] for n in names]
            )
            if kind == "natural":
                for entity in ("amount", "date", "reference"):
                    key = f"{entity}_acc_{language}"
                    numbers[f"{entity}_acc_natural_{language}"] = _mean(
                        [summaries[n][key] for n in names if key in summaries[n]]
                    )
    numbers["redecoded"] = sum(s["redecoded"] for s in summaries.values())
    numbers["dropped"] = sum(s["dropped"] for s in summaries.values())
    numbers["words_per_second_max_natural"] = max(
        (r.raw_words / r.audio_s for r in natural if r.audio_s and not r.dropped), default=None
    )
    numbers["confidence"] = {
        "natural": confidence_table(natural),
        "all": confidence_table(everything),
        "sure_bound": MIN_SURE_AVG_LOGPROB,
    }
    print("confidence (avg_logprob bounds):", json.dumps(numbers["confidence"]), flush=True)
    if not args.no_variants:
        subset = [c for c in cases if c[0] == "de"][:6] + [c for c in cases if c[0] == "en"][:6]
        chosen = [n for n in natural_voices.values() if n is not None]
        print(f"variants on {', '.join(chosen)} …", flush=True)

        def over(engine_: Any, vad_ms: int, prompt: bool = False) -> dict[str, Any]:
            return summarise([r for n in chosen for r in run(engine_, n, subset, vad_ms, prompt)])

        variants: dict[str, Any] = {}
        for name, overrides in (
            ("beam1_int8", {"stt_beam_size": 1, "stt_compute_type": "int8"}),
            ("beam5_int8", {"stt_beam_size": 5, "stt_compute_type": "int8"}),
            ("beam1_float32", {"stt_beam_size": 1, "stt_compute_type": "float32"}),
            # The encoder's window (voice/stt/window.py): 30 s is Whisper's own.
            ("window_30s", {"stt_window_seconds": 0.0}),
            ("window_15s", {"stt_window_seconds": 15.0}),
        ):
            variants[name] = over(make_engine(**overrides), silence_ms)
            print(f"variant {name}:", json.dumps(variants[name]), flush=True)
        variants["domain_prompt"] = over(engine, silence_ms, prompt=True)
        print("variant domain_prompt:", json.dumps(variants["domain_prompt"]), flush=True)
        for vad_ms in (400, 1000):
            variants[f"vad_{vad_ms}ms"] = over(engine, vad_ms)
            print(f"variant vad_{vad_ms}ms:", json.dumps(variants[f"vad_{vad_ms}ms"]), flush=True)
        # Transcribing while the caller is still silent: start Whisper after 300 ms of
        # silence instead of waiting for the full trailing silence; if the caller goes
        # on, the early result is dropped. Estimated from the measured transcription time.
        early = 300
        base = [silence_ms / 1000 + r.transcribe_s for r in natural]
        spec = [max(silence_ms, early + r.transcribe_s * 1000) / 1000 for r in natural]
        if natural:
            variants["speculative_300ms"] = {
                "ready_p50_s": round(statistics.median(spec), 3),
                "baseline_ready_p50_s": round(statistics.median(base), 3),
            }
            print("variant speculative_300ms:", json.dumps(variants["speculative_300ms"]))
        numbers["variants"] = variants
    if not args.no_stack:
        numbers.update(latency(cases, audio, natural_voices, silence_ms, not args.no_baseline))
    print(json.dumps(numbers, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
