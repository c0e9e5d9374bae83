"""Toy data sets are seeded and shaped as documented; splits and batches cover every sample."""

from __future__ import annotations

import numpy as np
import pytest

from nn import data

GENERATORS = {
    "moons": lambda seed: data.moons(100, noise=0.1, seed=seed),
    "circles": lambda seed: data.circles(90, seed=seed),
    "spirals": lambda seed: data.spirals(99, classes=3, seed=seed),
    "blobs": lambda seed: data.blobs(60, centers=4, seed=seed),
    "noisy_line": lambda seed: data.noisy_line(40, seed=seed),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_seeded(name):
    X1, y1 = GENERATORS[name](3)
    X2, y2 = GENERATORS[name](3)
    X3, _ = GENERATORS[name](4)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert len(X1) == len(y1) and X1.ndim == 2


def test_classification_sets_have_balanced_integer_labels():
    _, y = data.moons(101)
    assert sorted(set(y.tolist())) == [0, 1] and abs((y == 0).sum() - (y == 1).sum()) <= 1
    _, y = data.spirals(99, classes=3)
    assert np.bincount(y).tolist() == [33, 33, 33]
    _, y = data.blobs(60, centers=4)
    assert np.bincount(y).tolist() == [15] * 4


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = data.moons(50, noise=0.0)
    top, bottom = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(top[:, 0], top[:, 1]), 1.0)
    assert np.allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0)


def test_circles_inner_class_has_the_smaller_radius():
    X, y = data.circles(100, noise=0.0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.3)


def test_noisy_line_follows_the_line():
    X, y = data.noisy_line(500, slope=-3.0, intercept=0.5, noise=0.01)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    assert slope == pytest.approx(-3.0, abs=0.01) and intercept == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    "gate, outputs", [("and", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0])]
)
def test_truth_tables(gate, outputs):
    X, y = data.truth_table(gate)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == outputs


def test_unknown_gate_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown gate 'xnor'; valid: and, or, xor"):
        data.truth_table("xnor")


def test_signed_and_one_hot():
    assert data.signed(np.array([0, 1, 1])).tolist() == [-1, 1, 1]
    assert data.one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_split_is_a_seeded_partition():
    X, y = np.arange(20.0)[:, None], np.arange(20)
    parts = data.split(X, y, val=0.2, test=0.1, seed=1)
    sizes = [len(part[0]) for part in parts]
    assert sizes == [14, 4, 2]
    assert sorted(np.concatenate([part[1] for part in parts]).tolist()) == list(range(20))
    assert all(np.array_equal(part[0][:, 0], part[1]) for part in parts)  # rows stay paired
    again = data.split(X, y, val=0.2, test=0.1, seed=1)
    assert np.array_equal(again.val[1], parts.val[1])


@pytest.mark.parametrize("batch_size, sizes", [(None, [10]), (1, [1] * 10), (4, [4, 4, 2])])
def test_batches_cover_every_sample_once_per_epoch(batch_size, sizes):
    X, y = np.arange(10.0)[:, None], np.arange(10)
    batches = data.Batches(X, y, batch_size=batch_size, seed=0)
    assert len(batches) == len(sizes)
    for _ in range(2):
        epoch = list(batches)
        assert [len(b[1]) for b in epoch] == sizes
        assert sorted(np.concatenate([b[1] for b in epoch]).tolist()) == list(range(10))


def test_batches_reshuffle_every_epoch_reproducibly():
    X, y = np.arange(30.0)[:, None], np.arange(30)
    first = [np.concatenate([b for _, b in data.Batches(X, y, 5, seed=7)]) for _ in range(1)]
    b = data.Batches(X, y, 5, seed=7)
    epochs = [np.concatenate([yb for _, yb in b]).tolist() for _ in range(3)]
    assert epochs[0] == first[0].tolist()
    assert epochs[0] != epochs[1] != epochs[2]
    c = data.Batches(X, y, 5, seed=7)
    assert [np.concatenate([yb for _, yb in c]).tolist() for _ in range(3)] == epochs


def test_full_batch_keeps_the_data_order():
    X, y = np.arange(6.0)[:, None], np.arange(6)
    (only,) = list(data.Batches(X, y, None, seed=3))
    assert only[1].tolist() == list(range(6))


def test_batch_size_may_be_a_numpy_int_but_not_a_bool_or_float():
    X, y = np.arange(10.0)[:, None], np.arange(10)
    assert len(data.Batches(X, y, np.int64(4))) == 3
    for bad in (True, 2.0, 0):
        with pytest.raises(ValueError, match="batch_size must be None or a positive int"):
            data.Batches(X, y, bad)


# ---- digits: the bundled real data set ------------------------------------------------------


def test_digits_are_the_1797_eight_by_eight_images_of_ten_classes():
    X, y = data.digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert X.min() == 0.0 and X.max() == 1.0
    raw, labels = data.digits(scale=False)
    assert np.array_equal(raw, X * 16) and np.array_equal(labels, y)
    # the first image is a 0: its top row, in pixel units 0..16
    assert raw[0].reshape(8, 8)[0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0] and y[0] == 0


def test_a_damaged_digits_file_is_named_not_parsed(tmp_path, monkeypatch):
    damaged = tmp_path / "digits.csv.gz"
    damaged.write_bytes(data.DIGITS_FILE.read_bytes()[:-100])
    monkeypatch.setattr(data, "DIGITS_FILE", damaged)
    with pytest.raises(ValueError, match="digits.csv.gz is damaged.*reinstall chainrule"):
        data.digits()


def test_thermometer_codes_keep_the_order_of_levels():
    codes = data.thermometer(np.array([0, 1, 2]))
    assert codes.tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert data.thermometer(np.array([1]), levels=4).tolist() == [[1, 1, 0, 0]]
    distance = np.linalg.norm(codes[0] - codes, axis=1)
    assert distance.tolist() == sorted(distance.tolist())  # further levels, further codes


@pytest.mark.parametrize(
    ("y", "levels", "message"),
    [
        ([0.5, 1.0], None, "integer levels"),
        ([0, 3], 3, r"levels must be in 0\.\.2"),
        ([-1], 2, "0..1"),
    ],
)
def test_thermometer_refuses_what_is_not_an_ordinal_level(y, levels, message):
    with pytest.raises(ValueError, match=message):
        data.thermometer(np.array(y), levels)
