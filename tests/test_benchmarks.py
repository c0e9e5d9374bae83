"""The benchmark table (benchmarks/workloads.py): targets read from their numbers, and every
workload's title and parameters well-formed for a full and a --quick run.  (The benchmarks
themselves are not run here: timing has no place in unit tests.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import workloads  # noqa: E402
from workloads import WORKLOADS, Target  # noqa: E402


def test_a_target_s_text_and_verdict_come_from_its_numbers():
    speed = Target(ratio=4)
    assert speed.text() == ">= 4x"
    assert speed.verdict(1.0, 5.0, None) == "yes" and speed.verdict(1.0, 3.0, None) == "no"
    assert speed.verdict(1.0, None, None) == ""  # micrograd's column was not run
    tape = Target(seconds=0.5, numpy_factor=20)
    assert tape.text() == "chainrule < 0.5 s; <= 20x numpy"
    assert tape.verdict(0.4, None, 0.01) == "no"  # 40x the numpy floor
    assert tape.verdict(0.1, None, 0.01) == "yes"
    assert tape.verdict(0.1, None, None) == "yes; numpy floor not run"
    assert Target(bytes_per_node=200).verdict(201.0, None, None) == "no"


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


@pytest.mark.parametrize("problem", ["moons", "classes"])
def test_the_tape_rows_and_their_numpy_floor_train_the_same_network(problem):
    # the floor is only a floor if it computes what the tape computes: same losses, step by step
    tape, numpy = (WORKLOADS[f"{problem}-{kind}"] for kind in ("tape", "numpy"))
    p = {**tape.quick, "steps": 3}
    engine = workloads.load_engine("tape")
    taped = tape.worker(engine, p)["info"]
    by_hand = numpy.worker(workloads.load_engine("numpy"), p)["info"]
    assert taped["first_loss"] == pytest.approx(by_hand["first_loss"], rel=1e-9)
    assert taped["final_loss"] == pytest.approx(by_hand["final_loss"], rel=1e-9)
    assert tape.floor_row == numpy.name
