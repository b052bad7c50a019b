"""Audio as Whisper wants it: float32 mono samples at 16 kHz in [-1, 1].

Telephone audio (Twilio Media Streams) arrives as G.711 μ-law at 8 kHz; voice notes
arrive in whatever container the phone made (WhatsApp: OGG/Opus, sometimes AMR, MP4,
MPEG). μ-law goes through lookup tables (the stdlib's `audioop` is gone in Python 3.13),
resampling through a band-limited polyphase filter, containers through PyAV (FFmpeg).
"""

from __future__ import annotations

import io
from fractions import Fraction
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

SAMPLE_RATE: Final = 16000
TELEPHONE_RATE: Final = 8000

Int16Array = npt.NDArray[np.int16]
Float32Array = npt.NDArray[np.float32]

_BIAS: Final = 0x21  # 0x84 on the 16-bit scale; the encoder works on 14 bits
_CLIP: Final = 8159
_SEGMENT_ENDS: Final = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
# Half the filter length per unit of max(up, down), and the Kaiser window's beta:
# the same design as scipy.signal.resample_poly (stopband about -50 dB).
_HALF_LENGTH_FACTOR: Final = 10
_KAISER_BETA: Final = 5.0
_BLOCK: Final = 1 << 16


class AudioError(ValueError):
    """Audio that cannot be decoded; `reason` says why without quoting the data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _mulaw_decode_table() -> Int16Array:
    """Return the 256 linear values of the μ-law codes (ITU-T G.711)."""
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _mulaw_encode_table() -> npt.NDArray[np.uint8]:
    """Return the μ-law code of every 16-bit sample, indexed by the sample as uint16.

    This is the reference encoder of Sun's g711.c (which CPython's audioop used): the
    sample is cut to 14 bits, biased, and split into a segment and four mantissa bits.
    """
    samples = np.arange(65536, dtype=np.int32)
    samples = np.where(samples >= 32768, samples - 65536, samples) >> 2
    negative = samples < 0
    magnitude = np.minimum(np.abs(samples), _CLIP) + _BIAS
    # The segment is the number of bits above the lowest six (0..7).
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude)
    code = np.where(segment >= 8, 0x7F, (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F))
    return (code ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8)


_DECODE: Final = _mulaw_decode_table()
_ENCODE: Final = _mulaw_encode_table()


def mulaw_to_pcm16(data: bytes) -> Int16Array:
    """Decode G.711 μ-law bytes to 16-bit linear samples (the rate stays as it is)."""
    return _DECODE[np.frombuffer(data, dtype=np.uint8)]


def pcm16_to_mulaw(samples: Int16Array) -> bytes:
    """Encode 16-bit linear samples as G.711 μ-law bytes."""
    return _ENCODE[np.asarray(samples, dtype=np.int16).view(np.uint16)].tobytes()


@lru_cache(maxsize=16)
def _polyphase_filter(up: int, down: int) -> npt.NDArray[np.float64]:
    """Return the low-pass filter for a rate change of up/down, split into `up` phases."""
    half = _HALF_LENGTH_FACTOR * max(up, down)
    taps = np.arange(-half, half + 1, dtype=np.float64)
    cutoff = 1.0 / max(up, down)  # of the upsampled signal's Nyquist frequency
    kernel = cutoff * np.sinc(cutoff * taps) * np.kaiser(taps.size, _KAISER_BETA)
    kernel *= up / kernel.sum()  # each phase keeps unit gain at DC
    per_phase = -(-kernel.size // up)
    padded = np.zeros(per_phase * up)
    padded[: kernel.size] = kernel
    # phases[p, i] = kernel[p + i * up]
    return padded.reshape(per_phase, up).T.copy()


def resample(samples: Float32Array, src_rate: int, dst_rate: int) -> Float32Array:
    """Change the sample rate with a band-limited (Kaiser-windowed sinc) polyphase filter."""
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive, not {src_rate} and {dst_rate}")
    signal = np.asarray(samples, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError(f"expected mono samples (one dimension), not shape {signal.shape}")
    if src_rate == dst_rate or signal.size == 0:
        return signal.copy()
    ratio = Fraction(dst_rate, src_rate)
    up, down = ratio.numerator, ratio.denominator
    phases = _polyphase_filter(up, down)
    per_phase = phases.shape[1]
    half = _HALF_LENGTH_FACTOR * max(up, down)
    count = -(-signal.size * up // down)
    # Zeros around the input stand for the silence before and after it.
    padded = np.concatenate(
        [np.zeros(per_phase), signal.astype(np.float64), np.zeros(per_phase + 1)]
    )
    out = np.empty(count, dtype=np.float32)
    back = np.arange(per_phase)
    for start in range(0, count, _BLOCK):
        t = np.arange(start, min(start + _BLOCK, count), dtype=np.int64) * down + half
        phase, base = t % up, t // up
        window = padded[(base + per_phase)[:, None] - back[None, :]]
        out[start : start + t.size] = np.einsum("ij,ij->i", phases[phase], window)
    return out


def telephone_to_model(mulaw: bytes) -> Float32Array:
    """Turn 8 kHz μ-law telephone audio into 16 kHz float32 samples in [-1, 1]."""
    pcm = mulaw_to_pcm16(mulaw).astype(np.float32) / 32768.0
    return np.clip(resample(pcm, TELEPHONE_RATE, SAMPLE_RATE), -1.0, 1.0)


def decode_file(data: bytes) -> Float32Array:
    """Decode an audio file of any container FFmpeg knows to 16 kHz mono float32."""
    import av  # PyAV (FFmpeg), faster-whisper's own decoder: imported when first needed
    from faster_whisper.audio import decode_audio

    if not data:
        raise AudioError("the audio file is empty")
    try:
        samples = decode_audio(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
    except av.FFmpegError as exc:
        raise AudioError(f"not a readable audio file ({type(exc).__name__})") from exc
    except (IndexError, StopIteration) as exc:
        # PyAV's way of saying the container holds no audio stream.
        raise AudioError("the file holds no audio stream") from exc
    if not isinstance(samples, np.ndarray) or samples.size == 0:
        raise AudioError("the file holds no decodable audio")
    return np.asarray(samples, dtype=np.float32)
