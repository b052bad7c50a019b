"""Whisper-style log-mel features for the Smart Turn model, in numpy alone.

Taken from pipecat-ai 1.14.0 (`pipecat/audio/turn/smart_turn/_whisper_features.py`,
BSD-2-Clause, Copyright (c) 2024-2026, Daily), which vendors the math of Hugging Face
Transformers' `WhisperFeatureExtractor` (Apache-2.0, Copyright 2022-2023 The HuggingFace
Inc. team and the librosa & torchaudio authors). It equals
`WhisperFeatureExtractor(chunk_length=8)(audio, sampling_rate=16000, do_normalize=True)`,
which is what Smart Turn v3 was trained on, without importing transformers into the
gateway. Only the layout is ours.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

N_FFT: Final = 400
HOP_LENGTH: Final = 160
N_MELS: Final = 80
SAMPLE_RATE: Final = 16000
WINDOW_SECONDS: Final = 8
WINDOW_SAMPLES: Final = SAMPLE_RATE * WINDOW_SECONDS
_MEL_FLOOR: Final = 1e-10
_NORM_VARIANCE_EPS: Final = 1e-7

Floats = npt.NDArray[np.float64]


def _hertz_to_mel(freq: Floats) -> Floats:
    """Convert hertz to mels on the Slaney scale."""
    logstep = 27.0 / np.log(6.4)
    freq = np.atleast_1d(np.asarray(freq, dtype=np.float64))
    mels = 3.0 * freq / 200.0
    high = freq >= 1000.0
    mels[high] = 15.0 + np.log(freq[high] / 1000.0) * logstep
    return mels


def _mel_to_hertz(mels: Floats) -> Floats:
    """Convert mels to hertz on the Slaney scale."""
    logstep = np.log(6.4) / 27.0
    mels = np.atleast_1d(np.asarray(mels, dtype=np.float64))
    freq = 200.0 * mels / 3.0
    high = mels >= 15.0
    freq[high] = 1000.0 * np.exp(logstep * (mels[high] - 15.0))
    return freq


def _mel_filterbank() -> Floats:
    """Return the Slaney-normalised triangular filters, shape (N_FFT // 2 + 1, N_MELS)."""
    edges = _hertz_to_mel(np.array([0.0, SAMPLE_RATE / 2.0]))
    filter_freqs = _mel_to_hertz(np.linspace(edges[0], edges[1], N_MELS + 2))
    fft_freqs = np.linspace(0, SAMPLE_RATE // 2, N_FFT // 2 + 1)
    filter_diff = np.diff(filter_freqs)
    slopes = np.expand_dims(filter_freqs, 0) - np.expand_dims(fft_freqs, 1)
    down = -slopes[:, :-2] / filter_diff[:-1]
    up = slopes[:, 2:] / filter_diff[1:]
    filters = np.maximum(np.zeros(1), np.minimum(down, up))
    enorm = 2.0 / (filter_freqs[2 : N_MELS + 2] - filter_freqs[:N_MELS])
    result: Floats = filters * np.expand_dims(enorm, 0)
    return result


_HANN: Final = np.hanning(N_FFT + 1)[:-1]  # periodic, as torch.hann_window
_MEL_FILTERS: Final = _mel_filterbank()


def _power_spectrogram(waveform: npt.NDArray[np.float32]) -> Floats:
    """Return the centred power spectrogram, shape (frequency bins, frames)."""
    pad = N_FFT // 2
    padded = np.pad(waveform.astype(np.float64), (pad, pad), mode="reflect")
    windows = sliding_window_view(padded, N_FFT)[::HOP_LENGTH]
    spectrum = np.fft.rfft(windows * _HANN, axis=-1)
    power: Floats = (np.abs(spectrum) ** 2).T
    return power


def last_window(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Keep the last 8 s of 16 kHz audio, or pad it with silence in front to 8 s."""
    samples = np.asarray(audio, dtype=np.float32)
    if samples.size >= WINDOW_SAMPLES:
        return samples[-WINDOW_SAMPLES:]
    return np.pad(samples, (WINDOW_SAMPLES - samples.size, 0))


def log_mel(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Return the model's input for 8 s of 16 kHz audio: log-mel features, shape (80, 800)."""
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected mono samples (one dimension), not shape {x.shape}")
    if x.size < WINDOW_SAMPLES:
        x = np.pad(x, (0, WINDOW_SAMPLES - x.size))
    x = x[:WINDOW_SAMPLES]
    # Zero mean and unit variance before the spectrogram, as the reference does.
    x = (x - x.mean()) / np.sqrt(x.var() + _NORM_VARIANCE_EPS)
    mel = np.maximum(_MEL_FLOOR, _MEL_FILTERS.T @ _power_spectrogram(x))
    spec = np.log10(mel)[:, :-1]  # the reference drops the trailing frame
    spec = np.maximum(spec, spec.max() - 8.0)
    features: npt.NDArray[np.float32] = ((spec + 4.0) / 4.0).astype(np.float32)
    return features
