"""Module bookkeeping: state_dict, load_state_dict's all-or-nothing checks, save/load files."""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from functools import partial

import injection
import pytest

import autograd
import nn
from autograd import Value


def model(seed: int = 0) -> nn.MLP:
    return nn.MLP(2, [4, 3, 1], seed=seed)


def test_state_dict_is_flat_names_to_floats_in_parameter_order():
    m = model()
    sd = m.state_dict()
    assert list(sd) == [name for name, _ in m.named_parameters()]
    assert all(type(v) is float for v in sd.values())


def test_state_dict_round_trips_exactly():
    a, b = model(0), model(1)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    assert b([0.3, -0.2]).data == a([0.3, -0.2]).data


def test_save_and_load_round_trip_exactly(tmp_path):
    a, b = model(0), model(1)
    a.layers[0].neurons[0].w[0].data = 0.1 + 0.2  # a float whose repr needs 17 digits
    path = tmp_path / "model.json"
    a.save(path)
    b.load(path)
    assert b.state_dict() == a.state_dict()
    assert not [p for p in tmp_path.iterdir() if p.name != "model.json"]  # no temp file left


def test_saved_file_is_plain_json_with_the_architecture(tmp_path):
    path = tmp_path / "m.json"
    model().save(path)
    document = json.loads(path.read_text())
    assert document["model"] == "MLP(2 -> 4 -> 3 -> 1) with 31 parameters"
    assert len(document["parameters"]) == 31


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda sd: sd.pop("layers.1.neurons.2.b"), "1 missing"),
        (lambda sd: sd.update({"layers.9.neurons.0.b": 1.0}), "1 unexpected"),
        (lambda sd: sd.update({"layers.0.neurons.0.b": float("nan")}), "must be finite"),
        (lambda sd: sd.update({"layers.0.neurons.0.b": float("inf")}), "must be finite"),
        (lambda sd: sd.update({"layers.2.neurons.0.b": "1.0"}), "must be a real number"),
        (lambda sd: sd.update({"layers.2.neurons.0.b": True}), "must be a real number"),
        (lambda sd: sd.update({"layers.2.neurons.0.b": None}), "must be a real number"),
    ],
)
def test_load_state_dict_checks_everything_first_and_changes_nothing(corrupt, message):
    m = model(0)
    before = m.state_dict()
    sd = {name: value + 1.0 for name, value in before.items()}
    corrupt(sd)
    with pytest.raises(ValueError, match=message):
        m.load_state_dict(sd)
    assert m.state_dict() == before


def test_load_state_dict_non_strict_reports_missing_and_unexpected():
    m = model(0)
    sd = {"layers.0.neurons.0.b": 2.5, "extra": 1.0}
    result = m.load_state_dict(sd, strict=False)
    assert m.layers[0].neurons[0].b.data == 2.5
    assert result.unexpected_keys == ["extra"] and len(result.missing_keys) == 30


def test_mismatched_file_is_refused_naming_both_models(tmp_path):
    path = tmp_path / "small.json"
    nn.MLP(2, [3, 1]).save(path)
    m = model(0)
    before = m.state_dict()
    with pytest.raises(ValueError, match=r"saved from MLP\(2 -> 3 -> 1\) with 13 parameters"):
        m.load(path)
    assert m.state_dict() == before


def with_bias(text: str, raw: str) -> str:
    """The saved text with the first bias replaced by the raw JSON token `raw`."""
    return text.replace('"layers.0.neurons.0.b": 0.0', f'"layers.0.neurons.0.b": {raw}')


def edit_text(edit):
    """A damage to the file's bytes, made by editing its text."""
    return lambda data: edit(data.decode()).encode()


@pytest.mark.parametrize(
    "damage, message",
    [
        (edit_text(lambda text: text[: len(text) // 2]), "not valid JSON"),
        (lambda data: b"", "not valid JSON"),
        (lambda data: b"[1, 2, 3]", "not a chainrule model file"),
        (
            edit_text(lambda text: text.replace('"parameters"', '"params"')),
            "'parameters' entry is missing",
        ),
        (edit_text(lambda text: with_bias(text, "NaN")), "is nan: parameters must be finite"),
        (edit_text(lambda text: with_bias(text, '"0.5"')), "must be a real number"),
        (lambda data: b"\xff\xfe\x00" + data, "not a text file"),
        (lambda data: b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (lambda data: b"9" * 5000, "not valid JSON"),
        (
            edit_text(lambda text: with_bias(text, '0.0, "layers.0.neurons.0.b": 2.0')),
            "'layers.0.neurons.0.b' appears twice",
        ),
        (edit_text(lambda text: with_bias(text, "9" * 400)), "too large for a float"),
    ],
)
def test_damaged_file_is_refused_with_a_clear_error_and_model_unchanged(tmp_path, damage, message):
    path = tmp_path / "m.json"
    model(1).save(path)
    path.write_bytes(damage(path.read_bytes()))
    m = model(0)
    before = m.state_dict()
    with pytest.raises(ValueError, match=message):
        m.load(path)
    assert m.state_dict() == before


def test_saving_a_non_finite_model_is_refused_and_leaves_the_old_file(tmp_path):
    path = tmp_path / "m.json"
    m = model(0)
    m.save(path)
    old = path.read_text()
    m.layers[0].neurons[0].b.data = math.nan
    with pytest.raises(ValueError, match="cannot save"):
        m.save(path)
    assert path.read_text() == old


def test_a_failed_write_leaves_no_half_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    model(0).save(path)
    old = path.read_text()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        model(1).save(path)
    assert path.read_text() == old
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_a_custom_module_finds_its_parts_and_relabels_them():
    class TwoHeads(nn.Module):
        def __init__(self):
            self.trunk = nn.MLP(2, [3], seed=0)
            self.heads = [nn.Neuron(3, "tanh", seed=1), nn.Neuron(3, "sigmoid", seed=2)]
            self.scale = nn.functional.Value(1.5)
            self._cache = nn.functional.Value(0.0)  # private: not a parameter
            self.relabel()

        def __call__(self, x):
            h = self.trunk(x)
            return [self.scale * head(h) for head in self.heads]

    model = TwoHeads()
    names = [name for name, _ in model.named_parameters()]
    # a module's own parameters first, then its submodules' (as in PyTorch)
    assert names[:2] == ["scale", "trunk.layers.0.neurons.0.w.0"]
    assert names[-1] == "heads.1.b" and len(names) == 1 + 9 + 8
    assert all(p.label == name for name, p in model.named_parameters())
    assert model([1.0, 2.0])[1].parents[1].label == "heads.1"
    assert "(heads.0): Neuron(3, tanh)" in repr(model)
    assert repr(model).startswith("TwoHeads(18 parameters)")


def test_saved_file_gets_the_usual_permissions_not_the_temporary_files(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "m.json"
        model().save(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_shared_parameters_and_modules_are_listed_once():
    class Tied(nn.Module):
        def __init__(self):
            self.encoder = nn.Neuron(2, "tanh", seed=0)
            self.again = self.encoder  # the same module under a second name
            self.extra = [self.encoder.w[0]]  # and one of its weights
            self.relabel()

    tied = Tied()
    assert [name for name, _ in tied.named_modules()] == ["", "encoder"]
    assert [name for name, _ in tied.named_parameters()] == ["extra.0", "encoder.w.1", "encoder.b"]
    assert len(tied.parameters()) == 3 and tied.num_parameters() == 3


def test_parameters_walk_matches_named_parameters_order():
    class Mixed(nn.Module):
        def __init__(self):
            self.head = nn.Neuron(3, "tanh", seed=1)
            self.scale = Value(2.0)
            self.blocks = [nn.Layer(2, 3, seed=2), nn.MLP(3, [2, 1], seed=3)]
            self.tied = self.blocks[0]
            self.pair = (Value(0.5), Value(-0.5))  # a tuple of parameters
            self.notes = [0.5, Value(3.0)]  # a list's first item decides: not parameters
            self._cache = Value(0.0)  # private: not a parameter
            self.relabel()

    model = Mixed()
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert len(model.parameters()) == 4 + 1 + 9 + 11 + 2


def test_saving_into_a_missing_folder_names_the_path_not_a_temp_file(tmp_path):
    path = tmp_path / "nodir" / "x.json"
    with pytest.raises(FileNotFoundError) as info:
        model(0).save(path)
    message = str(info.value)
    assert message == f"cannot save to {path}: directory {path.parent} does not exist"
    assert ".tmp" not in message and info.value.errno == errno.ENOENT
    assert list(tmp_path.iterdir()) == []


def test_saving_under_a_file_says_it_is_not_a_directory(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(OSError, match=r"cannot save to .*x\.json: .*f is not a directory"):
        model(0).save(tmp_path / "f" / "x.json")
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


@pytest.mark.skipif(os.name != "posix", reason="symlinks and modes")
def test_saving_through_a_symlink_updates_the_linked_file_and_keeps_modes(tmp_path):
    (tmp_path / "run1.json").write_text("{}")
    os.chmod(tmp_path / "run1.json", 0o600)
    link = tmp_path / "latest.json"
    link.symlink_to("run1.json")
    m = model(0)
    m.save(link)
    assert link.is_symlink() and stat.S_IMODE((tmp_path / "run1.json").stat().st_mode) == 0o600
    other = model(1)
    other.load(tmp_path / "run1.json")
    assert other.state_dict() == m.state_dict()


@pytest.mark.skipif(os.name != "posix", reason="FIFOs and modes")
def test_saving_over_a_fifo_or_read_only_file_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(OSError, match=r"cannot save to .*pipe: it is a FIFO"):
        model(0).save(tmp_path / "pipe")
    (tmp_path / "ro.json").write_text("keep")
    os.chmod(tmp_path / "ro.json", 0o444)
    with pytest.raises(PermissionError, match=r"cannot save to .*ro\.json: the file is read-only"):
        model(0).save(tmp_path / "ro.json")
    assert (tmp_path / "ro.json").read_text() == "keep"


def test_parameter_holding_a_numpy_float32_is_saved_as_its_number(tmp_path):
    import numpy as np

    m = model(0)
    m.parameters()[0].data = np.float32(0.1)
    m.save(tmp_path / "m.json")
    other = model(1)
    other.load(tmp_path / "m.json")
    assert other.parameters()[0].data == float(np.float32(0.1))


@pytest.mark.parametrize("data", [[1.0, 2.0], "0.5", None])
def test_parameter_holding_no_number_is_a_clear_error_and_writes_nothing(tmp_path, data):
    m = model(0)
    m.parameters()[2].data = data
    with pytest.raises(
        TypeError, match=r"cannot save: parameter 'layers\.0\.neurons\.0\.b' holds "
    ):
        m.save(tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_loading_an_endless_file_stops_at_the_size_cap():
    m = model(0)
    before = m.state_dict()
    with pytest.raises(
        ValueError, match=r"cannot load '/dev/zero': over 67108864 bytes.*max_bytes="
    ):
        m.load("/dev/zero")
    assert m.state_dict() == before


def test_size_cap_can_be_raised_or_lowered(tmp_path):
    path = tmp_path / "m.json"
    model(0).save(path)
    size = path.stat().st_size
    with pytest.raises(ValueError, match=rf"over {size - 1} bytes"):
        model(1).load(path, max_bytes=size - 1)
    model(1).load(path, max_bytes=size)


@pytest.mark.parametrize(
    "where",
    ["model", "key", "value", "duplicate"],
)
def test_file_text_in_load_errors_is_escaped_and_cut_short(tmp_path, where):
    evil = "\x1b[2J\x1b]0;owned\x07" + "A" * 5000 + "\n"
    document = {
        "format": nn.module.FILE_FORMAT,
        "model": "MLP",
        "parameters": model(0).state_dict(),
    }
    if where == "model":
        document["model"] = evil
        document["parameters"] = {"only": 1.0}
    elif where == "key":
        document["parameters"][evil] = 1.0
    elif where == "value":
        document["parameters"]["layers.0.neurons.0.b"] = evil
    text = json.dumps(document)
    if where == "duplicate":
        text = text.replace(
            '"format"', json.dumps(evil) + ": 1, " + json.dumps(evil) + ': 2, "format"'
        )
    path = tmp_path / "evil.json"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        model(1).load(path)
    message = str(info.value)
    assert "\x1b" not in message and "\x07" not in message and "\n" not in message
    assert "\\x1b" in message and len(message) < 600


def _labels(model):
    return [(name, repr(m._name), repr(m._output_label)) for name, m in model.named_modules()] + [
        (name, repr(p.label)) for name, p in model.named_parameters()
    ]


@pytest.mark.parametrize(
    "build",
    [
        lambda: nn.MLP(2, [3, 2, 1], seed=0),
        lambda: nn.MLP.from_weights(
            [[[1.0, 2.0], [3.0, 4.0]], [[5.0], [6.0]]], [[0.5, 0.5], [1.0]]
        ),
        lambda: nn.Layer(3, 2, seed=0),
        lambda: nn.Neuron(4, seed=0),
    ],
)
def test_a_model_built_from_parts_is_labelled_as_by_a_fresh_relabel(build):
    # parts skip their own relabel while their model is built; the model's one relabel at
    # the end must leave exactly the labels relabelling everything again gives
    model = build()
    before = _labels(model)
    model.relabel()
    assert _labels(model) == before
    assert all(p.label for p in model.parameters())


def test_a_failed_build_leaves_later_models_labelled():
    with pytest.raises(ValueError, match="b has 1 entries"):  # raised inside the first layer
        nn.MLP.from_weights([[[1.0, 2.0], [3.0, 4.0]]], [[0.5]])
    assert all(p.label for p in nn.Neuron(2, seed=0).parameters())


MODULE_FILES = tuple(
    os.path.join(os.path.dirname(m.__file__), name)
    for m, name in [(nn.module, "module.py"), (autograd.flat, "flat.py")]
)


@pytest.mark.parametrize("from_file", [False, True], ids=["load_state_dict", "load"])
def test_loading_interrupted_at_every_bytecode_loads_all_or_nothing(tmp_path, from_file):
    small = partial(nn.MLP, 2, [1])  # 3 parameters: each run traces all of load
    path = tmp_path / "m.json"
    small(seed=1).save(path)
    new = small(seed=1).state_dict()
    k = 0
    while True:
        k += 1
        m = small(seed=0)
        before = m.state_dict()
        call = partial(m.load, path) if from_file else partial(m.load_state_dict, new)
        if injection.run_interrupted_at(k, KeyboardInterrupt, call, MODULE_FILES) < k:
            break
        assert m.state_dict() in (before, new), f"interrupted at bytecode {k}: half loaded"
    assert k > 100


def test_a_file_of_another_format_version_names_both_versions(tmp_path):
    path = tmp_path / "m.json"
    model(1).save(path)
    path.write_text(path.read_text().replace('"chainrule.nn/1"', '"chainrule.nn/2"'))
    m = model(0)
    before = m.state_dict()
    with pytest.raises(ValueError, match=r"format 'chainrule.nn/2'.* reads 'chainrule.nn/1'"):
        m.load(path)
    assert m.state_dict() == before


def test_saving_interrupted_anywhere_leaves_the_old_file_or_the_new_one(tmp_path):
    # every 3rd bytecode: each save fsyncs the file and its folder
    from autograd import files

    path = tmp_path / "m.json"
    small = partial(nn.MLP, 2, [1])
    small(seed=1).save(path)
    new = path.read_bytes()
    small(seed=0).save(path)
    old = path.read_bytes()
    watched = (*MODULE_FILES, files.__file__)
    k = 0
    while True:
        k += 3
        path.write_bytes(old)
        call = partial(small(seed=1).save, path)
        if injection.run_interrupted_at(k, KeyboardInterrupt, call, watched) < k:
            break
        assert path.read_bytes() in (old, new), f"interrupted at bytecode {k}: half a file"
        assert [p.name for p in tmp_path.iterdir()] == ["m.json"], f"bytecode {k}: debris"
    assert k > 100
