"""The benchmark table (benchmarks/workloads.py): targets read from their numbers, and every
workload's title and parameters well-formed for a full and a --quick run.  (The benchmarks
themselves are not run here: timing has no place in unit tests.)"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import harness  # noqa: E402
import workloads  # noqa: E402
from workloads import WORKLOADS, Medians, Target  # noqa: E402


def test_a_target_s_text_and_verdict_come_from_its_numbers():
    speed = Target(ratio=4)
    assert speed.text() == ">= 4x"
    assert speed.verdict(Medians(1.0, micro=5.0)) == ">= 4x (yes)"
    assert speed.verdict(Medians(1.0, micro=3.0)) == ">= 4x (no)"
    assert speed.verdict(Medians(1.0)) == ">= 4x (n/a)"  # micrograd's column was not run
    assert speed.verdict(Medians(None, micro=3.0)) == ">= 4x"  # nor this row: no verdict
    tape = Target(seconds=0.5, numpy_factor=20)
    assert tape.text() == "chainrule < 0.5 s; <= 20x numpy"
    assert tape.verdict(Medians(0.4, floor=0.01)) == "chainrule < 0.5 s (yes); <= 20x numpy (no)"
    assert tape.verdict(Medians(0.1, floor=0.01)) == "chainrule < 0.5 s (yes); <= 20x numpy (yes)"
    assert tape.verdict(Medians(0.1)) == "chainrule < 0.5 s (yes); <= 20x numpy (n/a)"
    assert Target(bytes_per_node=200).verdict(Medians(201.0)) == "chainrule <= 200 B/node (no)"


def test_issue_17_judges_the_tape_against_torch_batched_and_the_floor_s_peak_memory():
    target = Target(numpy_factor=3, torch_factor=1, peak_factor=2)
    assert target.text() == "<= 3x numpy; faster than torch batched; peak memory <= 2x numpy's"
    slow_but_small = Medians(0.3, floor=0.1, torch=0.2, peak=70.0, floor_peak=40.0)
    assert target.verdict(slow_but_small) == (
        "<= 3x numpy (yes); faster than torch batched (no); peak memory <= 2x numpy's (yes)"
    )
    no_torch_big = Medians(0.1, floor=0.1, peak=90.0, floor_peak=40.0)
    assert target.verdict(no_torch_big) == (
        "<= 3x numpy (yes); faster than torch batched (n/a); peak memory <= 2x numpy's (no)"
    )


def test_the_digits_row_is_judged_on_its_worst_repeat_s_test_accuracy():
    target = WORKLOADS["digits-tape"].target
    assert target.text() == "test accuracy > 95%"
    runs = [_run(0.02, test_accuracy=0.96), _run(0.03, test_accuracy=0.94)]
    assert harness.lowest_accuracy(runs) == 0.94
    m = harness.medians(WORKLOADS["digits-tape"], {}, runs, [])
    assert target.verdict(m) == "test accuracy > 95% (no)"
    assert target.verdict(Medians(0.02, accuracy=0.9638)) == "test accuracy > 95% (yes)"
    assert target.verdict(Medians(0.02)) == "test accuracy > 95% (n/a)"


def _run(seconds: float, **info) -> dict:
    return {"samples": [seconds], "unit": "s", "info": info}


@pytest.mark.parametrize("torch_installed", [True, False], ids=["torch", "no-torch"])
def test_a_tape_row_reports_its_ratios_to_numpy_and_torch_and_its_peak_memory(torch_installed):
    results = {
        ("moons-tape", "tape"): [_run(0.30, peak_MB=60.0)],
        ("moons-numpy", "numpy"): [_run(0.15, peak_MB=40.0)],
        ("moons-torch", "torch"): [
            _run(0.20, peak_MB=300.0) if torch_installed else {"error": "not installed"}
        ],
    }
    args = SimpleNamespace(quick=False, demo_steps=None)
    names = ["moons-tape", "moons-numpy", "moons-torch"]
    tape, numpy, torch = harness.table(names, results, args, data={}).splitlines()[2:]
    ratios, target = tape.strip("| ").split(" | ")[-2:]
    expected_torch = (
        "tape / torch batched = 1.50x"
        if torch_installed
        else "tape / torch batched: n/a (not installed)"
    )
    assert ratios == (
        f"tape / numpy = 2.0x; {expected_torch}; peak tape / numpy = 1.5x (60 MB / 40 MB)"
    )
    assert target == (
        "<= 3x numpy (yes); faster than torch batched "
        + ("(no)" if torch_installed else "(n/a)")
        + "; peak memory <= 2x numpy's (yes)"
    )
    assert ("not installed" in torch) != torch_installed


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_every_workload_has_a_title_and_parameters_for_each_engine(name, quick):
    w = WORKLOADS[name]
    for engine in w.engines:
        p = w.params(engine, quick, None, data={"X": [], "y": []})
        assert ("data" in p) == w.needs_data
        assert w.title.format(**p)  # every {field} of the title is a parameter
    if w.micrograd_row is not None:
        assert "micrograd" in WORKLOADS[w.micrograd_row].engines
    if w.target and w.target.numpy_factor:
        assert WORKLOADS[w.floor_row].engines == ("numpy",)
    if w.target and w.target.torch_factor:
        assert WORKLOADS[w.torch_row].engines == ("torch",)


@pytest.mark.parametrize("problem", ["demo", "moons", "classes"])
def test_the_tape_rows_and_their_numpy_floor_train_the_same_network(problem):
    # the floor is only a floor if it computes what the tape computes: same losses, step by step
    tape = WORKLOADS["demo-fit-tape" if problem == "demo" else f"{problem}-tape"]
    numpy = WORKLOADS[f"{problem}-numpy"]
    p = {**tape.params("tape", True, None, workloads.make_data()), "steps": 3}
    taped = tape.worker(workloads.load_engine("tape"), p)["info"]
    by_hand = numpy.worker(workloads.load_engine("numpy"), p)["info"]
    assert taped["first_loss"] == pytest.approx(by_hand["first_loss"], rel=1e-9)
    assert taped["final_loss"] == pytest.approx(by_hand["final_loss"], rel=1e-9)
    assert tape.floor_row == numpy.name


@pytest.mark.parametrize("problem", ["demo", "moons", "classes"])
def test_torch_batched_trains_the_numpy_floor_s_network(problem):
    # torch is the tape's peer only if it computes what the floor computes: same losses
    pytest.importorskip("torch")
    torch, numpy = (WORKLOADS[f"{problem}-{kind}"] for kind in ("torch", "numpy"))
    p = {**torch.params("torch", True, None, workloads.make_data()), "steps": 3}
    in_torch = torch.worker(workloads.load_engine("torch"), p)["info"]
    by_hand = numpy.worker(workloads.load_engine("numpy"), p)["info"]
    assert in_torch["threads"] == 1
    assert in_torch["first_loss"] == pytest.approx(by_hand["first_loss"], rel=1e-9)
    assert in_torch["final_loss"] == pytest.approx(by_hand["final_loss"], rel=1e-9)
    assert torch.floor_row == numpy.name
