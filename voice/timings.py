"""How long one turn of a call took, stage by stage, from the caller's last word to the reply.

The stages follow each other, so they add up to the turn's latency:

- `vad_wait`: the last speech frame came in → the end of speech was judged (a short
  pause that the turn model called final, or the longest pause the line waits);
- `transcription`: → the transcript was ready (what was left of Whisper's work: it
  starts at the first short pause, while the caller may still go on);
- `dialogue`: → the gateway and Rasa answered;
- `call_update`: → Twilio took the call update that says the reply.

Two more are measured but overlap the others: `turn_model` (the turn model's time at the
pause that ended the turn) and `whisper` (Whisper's time for the final text, which may
lie wholly before the end of speech). They go to the gateway's Prometheus metrics
(`quitt_voice_turn_stage_seconds`), which `make bench-voice` reads per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

STAGES: Final = ("vad_wait", "transcription", "dialogue", "call_update")
OVERLAPPING: Final = ("turn_model", "whisper")
_BUCKETS: Final = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.8,
    0.9,
    1.0,
    1.2,
    1.5,
    2.0,
    3.0,
    5.0,
    10.0,
)


@dataclass
class TurnTimings:
    """Monotonic moments of one turn (time.monotonic()); 0.0 while not reached."""

    last_speech_at: float
    ended_at: float
    ended_by: str = "silence"  # "model", "silence", "dictation"
    turn_model_s: float = 0.0
    whisper_s: float = 0.0
    transcribed_at: float = 0.0
    answered_at: float = 0.0
    updated_at: float = 0.0

    def stages(self) -> dict[str, float]:
        """Return each reached stage's seconds (a stage not reached is left out)."""
        moments = (
            self.last_speech_at,
            self.ended_at,
            self.transcribed_at,
            self.answered_at,
            self.updated_at,
        )
        found: dict[str, float] = {}
        for name, start, end in zip(STAGES, moments, moments[1:], strict=False):
            if not start or not end:
                break
            found[name] = max(0.0, end - start)
        found["turn_model"] = self.turn_model_s
        found["whisper"] = self.whisper_s
        return found


class TurnMetrics:
    """The voice line's turn metrics on the app's Prometheus registry."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.stage = Histogram(
            "quitt_voice_turn_stage_seconds",
            "Seconds each stage of a call's turn took (end of speech to the reply sent).",
            ("stage",),
            buckets=_BUCKETS,
            registry=registry,
        )
        self.turns = Counter(
            "quitt_voice_turns_total",
            "Callers' spoken turns answered, by what ended them.",
            ("ended_by",),
            registry=registry,
        )

    def observe(self, timings: TurnTimings) -> None:
        """Record one answered turn."""
        for name, seconds in timings.stages().items():
            self.stage.labels(name).observe(seconds)
        self.turns.labels(timings.ended_by).inc()
