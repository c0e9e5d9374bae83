"""What a learner sees when they type an object's name at the prompt: one short, true line."""

from __future__ import annotations

import json

import numpy as np

import nn
from nn import data


def test_history_repr_is_one_line_with_the_story_of_the_run():
    X, y = data.moons(60, seed=0)
    split = data.split(X, y, val=0.25, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    history = nn.fit(
        model,
        *split.train,
        loss="bce_with_logits",
        epochs=40,
        val=split.val,
        patience=3,
        optimizer=nn.SGD(model.parameters(), lr=0.5),
        progress=False,
    )
    text = repr(history)
    assert "\n" not in text and len(text) < 200
    assert text.startswith(f"History({history.epochs} epochs, loss ")
    assert f"{history.loss[0]:.3g} → {history.loss[-1]:.3g}" in text
    assert f"accuracy {round(history.accuracy[-1], 3)}" in text
    if history.stopped_early:
        assert f"stopped early: patience, best epoch {history.best_epoch}" in text
    assert len(history.loss) == history.epochs  # the curves are still there as attributes


def test_history_repr_of_a_run_that_has_not_started():
    assert repr(nn.History()) == "History(0 epochs, engine eager)"


def test_state_dict_repr_is_short_and_it_is_still_a_plain_mapping():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    state = model.state_dict()
    text = repr(state)
    assert text.startswith("StateDict(337 parameters: {'layers.0.neurons.0.w.0': ")
    assert "..." in text and len(text) < 300
    assert isinstance(state, dict) and dict(state) == state
    assert json.loads(json.dumps(state)) == state
    small = nn.Neuron.from_weights([1.0, 2.0], 0.5).state_dict()
    assert repr(small) == "StateDict(3 parameters: {'w.0': 1, 'w.1': 2, 'b': 0.5})"


def test_optimizer_reprs_name_their_settings_and_progress():
    model = nn.MLP(2, [3, 1], seed=0)
    sgd = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    assert repr(sgd) == (
        "SGD(lr=0.1, momentum=0.9, weight_decay=0.0; 13 parameters, 0 steps taken)"
    )
    adam = nn.Adam(model, lr=0.01)
    for p in model.parameters():
        p.grad = 1.0
    adam.step()
    assert repr(adam) == (
        "Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0; "
        "13 parameters, 1 steps taken)"
    )
    decayed = nn.SGD(model, lr=nn.optim.linear_decay(1.0, 0.1, 100))
    assert repr(decayed).startswith("SGD(lr=1 now, from linear_decay(")


def test_dataset_reprs_give_sizes_not_arrays():
    X, y = data.moons(100, seed=0)
    split = data.split(X, y, val=0.2, test=0.1, seed=0)
    assert repr(split) == "Split(train 70, val 20, test 10 samples; 2 features)"
    batches = data.Batches(X, y, batch_size=32)
    assert repr(batches) == "Batches(100 samples in 4 batches of up to 32, reshuffled every epoch)"
    whole = data.Batches(np.zeros((5, 1)), np.zeros(5))
    assert repr(whole) == "Batches(5 samples in 1 batch of up to 5, in order)"
