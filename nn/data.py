"""Toy data sets, splits and batches: everything the lectures and micrograd's demo train on.

Generators return numpy arrays ``X`` (samples x features) and ``y`` (labels 0, 1, ... as ints,
or real targets for regression), are seeded (the same ``seed`` gives the same data) and need
no scikit-learn.  ``signed`` turns 0/1 labels into micrograd's -1/+1, ``one_hot`` into rows.

``digits`` is a real data set bundled with the package: the 1,797 8x8 handwritten digits.

``split`` makes train/validation/test sets; ``Batches`` walks a training set in batches of
``batch_size`` (None: the whole set, batch gradient descent; 1: stochastic; k: mini-batch),
reshuffled every epoch from its seed.
"""

from __future__ import annotations

import gzip
import hashlib
import numbers
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

TRUTH_TABLES = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "xor": [0, 1, 1, 0],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
}


def truth_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four rows of a two-input gate: X = [[0,0],[0,1],[1,0],[1,1]], y its 0/1 outputs."""
    key = name.lower()
    if key not in TRUTH_TABLES:
        raise ValueError(f"unknown gate {name!r}; valid: {', '.join(TRUTH_TABLES)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    return X, np.array(TRUTH_TABLES[key])


def _shuffled(
    X: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(X))
    return X[order], y[order]


def moons(n: int = 100, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 on top, class 1 below (micrograd's demo data).

    Built as scikit-learn's ``make_moons`` builds them, with the same random draws (shuffle,
    then Gaussian noise, from one ``RandomState``), so ``moons(100, 0.1, seed=1337)`` are the
    moons of micrograd's demo notebook.
    """
    rng = np.random.RandomState(seed)
    n_top = n // 2
    t_top, t_bottom = np.linspace(0, np.pi, n_top), np.linspace(0, np.pi, n - n_top)
    top = np.column_stack([np.cos(t_top), np.sin(t_top)])
    bottom = np.column_stack(
        [1 - np.cos(t_bottom), 1 - np.sin(t_bottom) - 0.5]
    )  # as sklearn rounds
    X = np.vstack([top, bottom])
    y = np.repeat([0, 1], [n_top, n - n_top])
    order = np.arange(n)
    rng.shuffle(order)
    X, y = X[order], y[order]
    return X + rng.normal(scale=noise, size=X.shape), y


def make_moons(
    n_samples: int = 100, noise: float = 0.0, random_state: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's name and signature for ``moons`` (same numbers for the same seed)."""
    return moons(n_samples, noise, random_state)


def circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (class 1, radius `factor`) inside a large one (class 0, radius 1)."""
    if not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    angles = np.concatenate(
        [
            np.linspace(0, 2 * np.pi, n_out, endpoint=False),
            np.linspace(0, 2 * np.pi, n - n_out, endpoint=False),
        ]
    )
    radius = np.repeat([1.0, factor], [n_out, n - n_out])
    X = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
    X += rng.normal(scale=noise, size=(n, 2))
    return _shuffled(X, np.repeat([0, 1], [n_out, n - n_out]), rng)


def spirals(
    n: int = 100, classes: int = 2, noise: float = 0.2, turns: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`classes` arms of a spiral, one class per arm (CS231n's classic), radius growing to 1."""
    if classes < 2:
        raise ValueError(f"classes must be at least 2, got {classes!r}")
    rng = np.random.default_rng(seed)
    sizes = [n // classes + (c < n % classes) for c in range(classes)]
    points, labels = [], []
    for c, size in enumerate(sizes):
        r = np.linspace(0.05, 1.0, size)
        theta = 2 * np.pi * (turns * r + c / classes) + rng.normal(scale=noise, size=size)
        points.append(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
        labels.append(np.full(size, c))
    return _shuffled(np.vstack(points), np.concatenate(labels), rng)


def blobs(
    n: int = 100, centers: int = 3, std: float = 1.0, box: float = 10.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters around `centers` random centres in [-box, box]^2, one class each."""
    if centers < 1:
        raise ValueError(f"centers must be at least 1, got {centers!r}")
    rng = np.random.default_rng(seed)
    middle = rng.uniform(-box, box, size=(centers, 2))
    y = np.arange(n) % centers
    X = middle[y] + rng.normal(scale=std, size=(n, 2))
    return _shuffled(X, y, rng)


def noisy_line(
    n: int = 50, slope: float = 2.0, intercept: float = 1.0, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Regression data y = slope x + intercept + noise, x uniform in [-1, 1]; X has one column."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=n)
    return x[:, None], slope * x + intercept + rng.normal(scale=noise, size=n)


# The UCI "Optical Recognition of Handwritten Digits" test set (Alpaydin & Kaynak, 1998; CC BY
# 4.0), as scikit-learn ships it: one row per image, 64 pixels (0..16, row by row), then the
# digit.  The digest catches a damaged or truncated copy before it is parsed.
DIGITS_FILE = Path(__file__).resolve().parent / "datasets" / "digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


def digits(scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 handwritten digits: X (1797 x 64 pixels of 8x8 images), y (the digit, 0..9).

    ``scale=True`` divides the pixels (0..16) by 16, so inputs lie in [0, 1].  Bundled with
    chainrule (57 KB), so no download and no scikit-learn.  ``X[k].reshape(8, 8)`` is image k.
    """
    raw = DIGITS_FILE.read_bytes()
    if hashlib.sha256(raw).hexdigest() != DIGITS_SHA256:
        raise ValueError(
            f"{DIGITS_FILE} is damaged (its SHA-256 is not the bundled file's); reinstall chainrule"
        )
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",")
    X, y = table[:, :64], table[:, 64].astype(int)
    return (X / 16.0 if scale else X), y


def signed(y: ArrayLike) -> np.ndarray:
    """0/1 labels as -1/+1 (the labels hinge loss and micrograd's demo use)."""
    return 2 * np.asarray(y) - 1


def one_hot(y: ArrayLike, classes: int | None = None) -> np.ndarray:
    """Integer labels as rows with a 1 in the label's column."""
    y, classes = _integer_labels(
        y, classes, "one_hot needs a 1-D array of integer labels", "labels"
    )
    return np.eye(classes)[y]


def thermometer(y: ArrayLike, levels: int | None = None) -> np.ndarray:
    """Ordinal labels 0..levels-1 as thermometer codes: label k turns on the first k + 1 units.

    small/medium/large (0, 1, 2) become [1, 0, 0], [1, 1, 0], [1, 1, 1]: nearer levels get
    nearer codes, unlike ``one_hot``, whose codes are all the same distance apart.
    """
    y, levels = _integer_labels(
        y, levels, "thermometer needs a 1-D array of integer levels", "levels"
    )
    return (np.arange(levels)[None, :] <= y[:, None]).astype(float)


def _integer_labels(y: ArrayLike, count: int | None, shape_error: str, what: str):
    """(y as a 1-D int array, how many values it may take: given, else max + 1), or ValueError."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iub":
        raise ValueError(shape_error)
    count = int(y.max()) + 1 if count is None else count
    if y.min() < 0 or y.max() >= count:
        raise ValueError(f"{what} must be in 0..{count - 1}")
    return y, count


# ---- splits and batches ----------------------------------------------------------------


class Split(NamedTuple):
    """(X, y) pairs for training, validation and test (empty arrays where not asked for)."""

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]

    def __repr__(self) -> str:
        features = self.train[0].shape[1] if self.train[0].ndim == 2 else 1
        sizes = ", ".join(f"{part} {len(getattr(self, part)[0])}" for part in self._fields)
        return f"Split({sizes} samples; {features} features)"


def split(X: ArrayLike, y: ArrayLike, val: float = 0.2, test: float = 0.0, seed: int = 0) -> Split:
    """Shuffle once (seeded) and cut into train/val/test by the given fractions."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if val < 0 or test < 0 or val + test >= 1:
        raise ValueError(
            f"val and test must be >= 0 and leave some training data, got {val}, {test}"
        )
    order = np.random.default_rng(seed).permutation(len(X))
    n_val, n_test = round(val * len(X)), round(test * len(X))
    parts = np.split(order, [len(X) - n_val - n_test, len(X) - n_test])
    train, val_rows, test_rows = ((X[rows], y[rows]) for rows in parts)
    return Split(train, val_rows, test_rows)


class Batches:
    """Iterate (X_batch, y_batch) over one epoch per ``iter``; reshuffled each epoch from `seed`.

    ``batch_size=None`` is batch gradient descent (the whole set, in its order), 1 stochastic
    gradient descent, k mini-batches of k (the last one may be smaller).
    """

    def __init__(
        self,
        X: ArrayLike,
        y: ArrayLike,
        batch_size: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
    ) -> None:
        self.X, self.y = np.asarray(X), np.asarray(y)
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)}")
        if len(self.X) == 0:
            raise ValueError("no samples to batch")
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, numbers.Integral)
            or batch_size < 1
        ):
            raise ValueError(f"batch_size must be None or a positive int, got {batch_size!r}")
        self.batch_size = len(self.X) if batch_size is None else min(int(batch_size), len(self.X))
        self.shuffle = shuffle and self.batch_size < len(self.X)
        # made at the first shuffle, not here: the first default_rng of a process imports
        # numpy.random, 4.5 ms of the demo's first fit (full batch, never shuffled), which
        # took 20.2 -> 15.5 ms in a fresh process (medians of 3)
        self._seed, self._rng = seed, None

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def __repr__(self) -> str:
        order = "reshuffled every epoch" if self.shuffle else "in order"
        return (
            f"Batches({len(self.X)} samples in {len(self)} batch{'es' if len(self) != 1 else ''} "
            f"of up to {self.batch_size}, "
            f"{order})"
        )

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self.X)
        if self.shuffle and self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            yield self.X[rows], self.y[rows]
