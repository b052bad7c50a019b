"""voice.audio: μ-law tables, resampling, telephone conversion and container decoding."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from tests.support.speech import encode, espeak_wav, ogg_opus, require_espeak, wav_samples
from voice.audio import (
    SAMPLE_RATE,
    AudioError,
    decode_file,
    mulaw_to_pcm16,
    pcm16_to_mulaw,
    resample,
    telephone_to_model,
)

# Values of ITU-T G.711 μ-law (the expansion table of Sun's reference g711.c).
KNOWN_CODES = [
    (0x00, -32124),
    (0x01, -31100),
    (0x0F, -16764),
    (0x10, -15996),
    (0x3F, -1980),
    (0x70, -120),
    (0x7E, -8),
    (0x7F, 0),
    (0x80, 32124),
    (0x8F, 16764),
    (0xC0, 1884),
    (0xEF, 132),
    (0xFE, 8),
    (0xFF, 0),
]


def _sine(frequency: float, rate: int, seconds: float = 1.0) -> npt.NDArray[np.float32]:
    """Return a sine at half full scale."""
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def _spectrum(samples: npt.NDArray[np.float32], rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (frequencies, magnitudes) of a Hann-windowed signal."""
    windowed = samples * np.hanning(samples.size)
    return np.fft.rfftfreq(samples.size, 1 / rate), np.abs(np.fft.rfft(windowed))


@pytest.mark.parametrize(("code", "linear"), KNOWN_CODES)
def test_mulaw_decodes_to_the_g711_table(code: int, linear: int) -> None:
    assert mulaw_to_pcm16(bytes([code])).tolist() == [linear]


def test_mulaw_decoding_keeps_length_and_type() -> None:
    decoded = mulaw_to_pcm16(bytes(range(256)))
    assert decoded.dtype == np.int16 and decoded.shape == (256,)
    # Codes 0x00-0x7F are negative (or zero), 0x80-0xFF positive; the bits are inverted,
    # so within each half a higher code means a smaller magnitude.
    assert np.all(decoded[:128] <= 0) and np.all(decoded[128:] >= 0)
    assert np.all(np.diff(decoded[:128].astype(int)) > 0)
    assert np.all(np.diff(decoded[128:].astype(int)) < 0)


@pytest.mark.parametrize(
    ("linear", "code"),
    [(0, 0xFF), (8, 0xFE), (-8, 0x7E), (120, 0xF0), (-120, 0x70), (1884, 0xC0),
     (16764, 0x8F), (32124, 0x80), (32767, 0x80), (-32768, 0x00)],
)  # fmt: skip
def test_mulaw_encodes_table_values_and_clips(linear: int, code: int) -> None:
    assert pcm16_to_mulaw(np.array([linear], dtype=np.int16)) == bytes([code])


def test_every_code_survives_a_round_trip() -> None:
    codes = bytes(c for c in range(256) if c != 0x7F)  # 0x7F is "minus zero", it comes back as 0xFF
    assert pcm16_to_mulaw(mulaw_to_pcm16(codes)) == codes
    assert pcm16_to_mulaw(mulaw_to_pcm16(b"\x7f")) == b"\xff"


def test_encoding_error_stays_within_the_segment_step() -> None:
    samples = np.arange(-32768, 32768, 7, dtype=np.int16)
    back = mulaw_to_pcm16(pcm16_to_mulaw(samples)).astype(np.int32)
    error = np.abs(back - samples.astype(np.int32))
    # μ-law keeps about 4% relative precision at every level (a 12-bit-like dynamic range).
    loud = np.abs(samples.astype(np.int32)) > 1000
    assert np.max(error[loud] / np.abs(samples[loud])) < 0.07
    assert np.max(error[~loud]) <= 36


def test_upsampling_keeps_a_1_khz_tone_and_adds_no_image() -> None:
    out = resample(_sine(1000, 8000), 8000, 16000)
    assert out.dtype == np.float32 and out.size == 16000
    freqs, mags = _spectrum(out, 16000)
    assert freqs[np.argmax(mags)] == pytest.approx(1000, abs=2)
    # The mirror image at 7 kHz (what naive zero-stuffing leaves) is 60 dB down.
    image = mags[(freqs > 6500) & (freqs < 7500)].max()
    assert 20 * np.log10(image / mags.max()) < -60
    assert np.max(np.abs(out[200:-200])) == pytest.approx(0.5, abs=0.01)


def test_downsampling_removes_what_is_above_the_new_nyquist() -> None:
    kept = resample(_sine(1000, 16000), 16000, 8000)
    gone = resample(_sine(6000, 16000), 16000, 8000)  # would alias to 2 kHz
    assert kept.size == gone.size == 8000
    freqs, mags = _spectrum(kept, 8000)
    assert freqs[np.argmax(mags)] == pytest.approx(1000, abs=2)
    assert np.max(np.abs(gone[200:-200])) < 0.5 * 10 ** (-40 / 20)


def test_odd_ratios_keep_the_level_and_length() -> None:
    out = resample(np.full(44100, 0.25, dtype=np.float32), 44100, 16000)
    assert out.size == 16000
    assert np.allclose(out[300:-300], 0.25, atol=1e-3)


def test_resampling_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        resample(np.zeros(10, dtype=np.float32), 0, 16000)
    with pytest.raises(ValueError, match="mono"):
        resample(np.zeros((2, 10), dtype=np.float32), 8000, 16000)
    assert resample(np.zeros(0, dtype=np.float32), 8000, 16000).size == 0


def test_telephone_audio_becomes_16_khz_floats() -> None:
    tone = np.round(_sine(440, 8000) * 32767).astype(np.int16)
    out = telephone_to_model(pcm16_to_mulaw(tone))
    assert out.dtype == np.float32 and out.size == 16000
    assert np.max(np.abs(out)) <= 1.0
    freqs, mags = _spectrum(out, 16000)
    assert freqs[np.argmax(mags)] == pytest.approx(440, abs=2)


def test_a_whatsapp_voice_note_decodes_to_16_khz_mono() -> None:
    require_espeak()
    samples, rate = wav_samples(espeak_wav("Guten Tag", "de"))
    note = ogg_opus("Guten Tag", "de")
    assert note[:4] == b"OggS"
    out = decode_file(note)
    assert out.dtype == np.float32 and out.ndim == 1
    # Same length as the speech, give or take the codec's padding.
    assert out.size / SAMPLE_RATE == pytest.approx(samples.size / rate, abs=0.6)
    assert 0.05 < np.max(np.abs(out)) <= 1.0


@pytest.mark.parametrize(
    ("container", "codec", "rate"),
    [("amr", "libopencore_amrnb", 8000), ("mp4", "aac", 16000), ("mp3", "libmp3lame", 16000),
     ("wav", "pcm_s16le", 22050)],
)  # fmt: skip
def test_other_containers_decode_too(container: str, codec: str, rate: int) -> None:
    import av

    if codec not in av.codecs_available:
        # PyAV 18's wheels carry FFmpeg's AMR decoder but no AMR encoder to make the file.
        pytest.skip(f"this PyAV build cannot encode {codec} to make a test file")
    tone = np.round(_sine(500, rate, 1.0) * 32767).astype(np.int16)
    data = encode(tone, rate, container=container, codec=codec, codec_rate=rate,
                  bit_rate=12200 if container == "amr" else None)  # fmt: skip
    out = decode_file(data)
    assert out.size / SAMPLE_RATE == pytest.approx(1.0, abs=0.15)
    freqs, mags = _spectrum(out, SAMPLE_RATE)
    assert freqs[np.argmax(mags)] == pytest.approx(500, abs=5)


@pytest.mark.parametrize(
    "data",
    [b"", b"not audio at all" * 100, b"OggS" + bytes(500), b"\x89PNG\r\n\x1a\n" + bytes(200)],
    ids=["empty", "text", "broken-ogg", "png"],
)
def test_undecodable_files_raise_audio_error(data: bytes) -> None:
    with pytest.raises(AudioError) as caught:
        decode_file(data)
    assert caught.value.reason and "not audio" not in caught.value.reason


def test_a_truncated_note_decodes_what_is_there_or_fails_clearly() -> None:
    require_espeak()
    note = ogg_opus("Ich kann diesen Monat nur fünfzig Euro zahlen.", "de")
    try:
        out = decode_file(note[: len(note) // 2])
    except AudioError:
        return
    assert 0 < out.size < decode_file(note).size
