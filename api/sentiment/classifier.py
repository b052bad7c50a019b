"""A multinomial logistic regression in numpy: small enough to train at start-up.

Full-batch gradient descent with Nesterov momentum on the L2-regularised, class-weighted
cross-entropy. Training is deterministic (zero start), so the same data gives the same
weights on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SoftmaxRegression:
    """Weights of a trained classifier over fixed labels."""

    labels: tuple[str, ...]
    weights: FloatArray  # (features, classes)
    bias: FloatArray  # (classes,)
    temperature: float = 1.0  # divides the logits; > 1 softens overconfident scores

    def predict_proba(self, features: npt.ArrayLike) -> FloatArray:
        """Return class probabilities, one row per feature row."""
        x = np.atleast_2d(np.asarray(features, dtype=np.float64))
        return _softmax((x @ self.weights + self.bias) / self.temperature)

    def save(self, path: Path) -> None:
        """Write the weights to an .npz file atomically (write, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{np.random.default_rng().integers(1 << 30)}")
        with partial.open("wb") as handle:
            np.savez(
                handle,
                labels=np.array(self.labels),
                weights=self.weights,
                bias=self.bias,
                temperature=np.array(self.temperature),
            )
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> SoftmaxRegression:
        """Read weights written by `save`."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                labels=tuple(str(label) for label in data["labels"]),
                weights=np.asarray(data["weights"], dtype=np.float64),
                bias=np.asarray(data["bias"], dtype=np.float64),
                temperature=float(data["temperature"]),
            )


def _softmax(logits: FloatArray) -> FloatArray:
    """Return row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: FloatArray = exp / exp.sum(axis=1, keepdims=True)
    return result


def fit(
    features: npt.ArrayLike,
    targets: Sequence[str],
    *,
    labels: Sequence[str],
    l2: float = 1e-3,
    iterations: int = 600,
    learning_rate: float = 2.0,
    temperature: float = 1.0,
) -> SoftmaxRegression:
    """Train on feature rows and their labels; classes are weighted to count equally."""
    x = np.asarray(features, dtype=np.float64)
    index = {label: i for i, label in enumerate(labels)}
    y = np.array([index[target] for target in targets])
    n, d = x.shape
    k = len(labels)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    counts = onehot.sum(axis=0)
    # Balanced weights: every class carries the same total weight; absent classes none.
    class_weight = np.divide(n / k, counts, out=np.zeros(k), where=counts > 0)
    sample_weight = (class_weight[y] / n)[:, None]
    weights = np.zeros((d, k))
    bias = np.zeros(k)
    velocity_w = np.zeros_like(weights)
    velocity_b = np.zeros_like(bias)
    momentum = 0.9
    for _ in range(iterations):
        look_w = weights + momentum * velocity_w
        look_b = bias + momentum * velocity_b
        error = (_softmax(x @ look_w + look_b) - onehot) * sample_weight
        grad_w = x.T @ error + l2 * look_w
        grad_b = error.sum(axis=0)
        velocity_w = momentum * velocity_w - learning_rate * grad_w
        velocity_b = momentum * velocity_b - learning_rate * grad_b
        weights = weights + velocity_w
        bias = bias + velocity_b
    return SoftmaxRegression(
        labels=tuple(labels), weights=weights, bias=bias, temperature=temperature
    )
