"""fit: micrograd's demo reaches 100%, tape matches eager, history, early stopping, NaN stops."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from autograd import Value
from nn import data, optim


def demo_setup(n=100):
    """micrograd's demo, same data and weights: np.random.seed(1337) moons, random.seed(1337) MLP"""
    X, y = data.moons(n, noise=0.1, seed=1337)
    model = nn.MLP(2, [16, 16, 1], seed=1337)
    return model, X, data.signed(y)


def run_demo(engine, epochs, n=100):
    model, X, y = demo_setup(n)
    opt = nn.SGD(model.parameters(), lr=optim.linear_decay(1.0, 0.1, 100))
    history = nn.fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer=opt,
        epochs=epochs,
        l2=1e-4,
        engine=engine,
        progress=False,
    )
    return model, history


def test_micrograd_demo_recipe_reaches_full_training_accuracy():
    model, history = run_demo("tape", 100)
    # micrograd's demo notebook prints "step 0 loss 0.8958441028683222, accuracy 50.0%"
    assert history.step_loss[0] == pytest.approx(0.8958441028683222, rel=1e-12)
    assert history.accuracy[0] == 0.5
    assert history.accuracy[-1] == 1.0
    assert history.loss[-1] < history.loss[0] / 10
    _, X, y = demo_setup()
    assert np.array_equal(np.sign(nn.predict(model, X)), y)


@pytest.mark.slow  # about 60 full-batch steps on the scalar engine: 10-30 s
def test_micrograd_demo_recipe_reaches_full_training_accuracy_on_the_eager_engine():
    model, X, y = demo_setup()

    def every_sample_right(history):  # the reported accuracy is measured before each step
        return history.accuracy[-1] == 1.0 and np.array_equal(
            np.sign(nn.predict(model, X, engine="eager")), y
        )

    history = nn.fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer=nn.SGD(model, lr=optim.linear_decay(1.0, 0.1, 100)),
        epochs=100,
        l2=1e-4,
        engine="eager",
        progress=False,
        callback=every_sample_right,  # the recipe's 100 steps, cut short at 100%
    )
    assert history.step_loss[0] == pytest.approx(0.8958441028683222, rel=1e-12)
    assert history.accuracy[-1] == 1.0 and history.stop_reason == "callback"
    assert history.epochs < 100
    assert np.array_equal(np.sign(nn.predict(model, X, engine="eager")), y)


def test_callback_stops_training_and_keeps_the_last_parameters():
    X, y = data.moons(20, seed=1)
    model = nn.MLP(2, [4, 1], seed=0)
    seen = []
    history = nn.fit(
        model,
        X,
        data.signed(y),
        loss="hinge",
        epochs=10,
        val=(X, data.signed(y)),
        engine="tape",
        progress=False,
        callback=lambda h: seen.append(h.epochs) or h.epochs == 3,
    )
    assert seen == [1, 2, 3] and history.epochs == 3
    assert history.stopped_early and history.stop_reason == "callback"
    # not restored to an earlier epoch: the model is the one the last validation loss measured
    last = np.mean(np.maximum(0, 1 - data.signed(y) * nn.predict(model, X)))
    assert last == pytest.approx(history.val_loss[-1], rel=1e-12)


@pytest.mark.parametrize("steps", [4, pytest.param(100, marks=pytest.mark.slow)])
def test_eager_and_tape_agree_step_by_step_on_the_demo_recipe(steps):
    eager_model, eager = run_demo("eager", steps)
    tape_model, taped = run_demo("tape", steps)
    assert len(taped.step_loss) == len(eager.step_loss) == steps
    assert taped.engine == "tape" and eager.engine == "eager"
    np.testing.assert_allclose(taped.step_loss, eager.step_loss, rtol=1e-9)
    np.testing.assert_allclose(
        [p.data for p in tape_model.parameters()],
        [p.data for p in eager_model.parameters()],
        rtol=1e-9,
        atol=1e-15,
    )


def test_eager_fit_is_micrograds_hand_written_loop():
    model, X, y = demo_setup(20)
    reference = nn.MLP(2, [16, 16, 1], seed=1337)
    nn.fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer=nn.SGD(model, lr=optim.linear_decay()),
        epochs=2,
        l2=1e-4,
        progress=False,
    )
    for k in range(2):  # micrograd's demo, verbatim apart from the names
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(reference, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in reference.parameters())
        total_loss = data_loss + reg_loss
        reference.zero_grad()
        total_loss.backward()
        for p in reference.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
    assert model.state_dict() == reference.state_dict()


ACTIVATIONS = ["linear", "relu", "tanh", "sigmoid", "leaky_relu", "step"]
LOSSES = {  # loss: (outputs, output activation, targets from 0/1 labels)
    "mse": (1, "linear", lambda y: y.astype(float)),
    "mae": (1, "linear", lambda y: y.astype(float)),
    "hinge": (1, "linear", data.signed),
    "bce": (1, "sigmoid", lambda y: y),
    "bce_with_logits": (1, "linear", lambda y: y),
    "cross_entropy": (3, "linear", lambda y: y),
}


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_eager_and_tape_agree_for_each_activation_and_loss(activation, loss):
    outputs, output_activation, targets = LOSSES[loss]
    X, labels = data.blobs(24, centers=3, std=1.0, box=2.0, seed=2)
    y = targets(labels if loss == "cross_entropy" else labels % 2)
    results = []
    for engine in ("eager", "tape"):
        model = nn.MLP(
            2, [4, outputs], activation=activation, output_activation=output_activation, seed=5
        )
        history = nn.fit(
            model,
            X,
            y,
            loss=loss,
            optimizer=nn.SGD(model, lr=0.05, momentum=0.5),
            epochs=2,
            batch_size=10,
            l2=1e-3,
            engine=engine,
            progress=False,
        )
        results.append((history, model.state_dict()))
    (eager, eager_state), (taped, taped_state) = results
    assert taped.engine == "tape"
    np.testing.assert_allclose(taped.step_loss, eager.step_loss, rtol=1e-9)
    np.testing.assert_allclose(
        list(taped_state.values()), list(eager_state.values()), rtol=1e-9, atol=1e-15
    )
    assert taped.accuracy == eager.accuracy


def test_eager_and_tape_agree_with_an_l1_penalty():
    # Not in the grid above: |p| has a kink at 0, where biases start, so a gradient that is
    # exactly 0 in one engine and 1e-17 in the other (rounding) flips sign(p) and the step.
    X, y = data.noisy_line(30, seed=1)
    results = []
    for engine in ("eager", "tape"):
        model = nn.MLP(1, [4, 1], activation="tanh", seed=2)
        history = nn.fit(
            model, X, y, loss="mse", epochs=3, batch_size=8, l1=1e-2, engine=engine, progress=False
        )
        results.append((history.step_loss, list(model.state_dict().values())))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-9)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-9, atol=1e-15)


def test_tape_leaves_every_data_and_grad_as_eager_training_does():
    # The tape trains on arrays; afterwards the Values must be what eager training leaves:
    # the optimizer's parameters stepped (Adam's state included), a frozen parameter not,
    # every model gradient from the last step, and a leaf the loss closes over (not in the
    # model) with its gradient accumulated over all steps, as eager never zeroes it.
    X, labels = data.blobs(20, centers=2, std=1.0, box=2.0, seed=3)
    y = data.signed(labels)
    results = []
    for engine in ("eager", "tape"):
        model = nn.MLP(2, [3, 1], seed=4)
        scale = Value(1.5)
        frozen = model.parameters()[0]

        def scaled_hinge(score, target, scale=scale):
            return (1 + -target * score * scale).relu()

        optimizer = nn.Adam([p for p in model.parameters() if p is not frozen], lr=0.05)
        nn.fit(
            model,
            X,
            y,
            loss=scaled_hinge,
            optimizer=optimizer,
            epochs=3,
            batch_size=8,
            l1=1e-3,
            l2=1e-3,
            engine=engine,
            progress=False,
            shuffle=False,
        )
        values = [*model.parameters(), scale]
        results.append(([p.data for p in values], [p.grad for p in values], optimizer.k))
    (data_e, grads_e, k_e), (data_t, grads_t, k_t) = results
    np.testing.assert_allclose(data_t, data_e, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(grads_t, grads_e, rtol=1e-9, atol=1e-15)
    assert k_t == k_e == 9
    assert data_t[0] == nn.MLP(2, [3, 1], seed=4).parameters()[0].data  # frozen
    assert all(type(x) is float for x in data_t + grads_t)  # plain floats, as eager keeps them


class _Reused(nn.Module):
    """One layer applied twice, two heads on the same hidden units, a parameter no one uses."""

    def __init__(self):
        self.first = nn.Layer(2, 3, "tanh", seed=1)
        self.again = nn.Layer(3, 3, "relu", seed=2)
        self.unused = Value(0.4)

    def __call__(self, x):
        h = self.first(x)
        g = self.again(self.again(h))  # the same weights, one layer after the other
        heads = self.again(h)  # and again on the first hidden units
        return g[0] * heads[1] + g[2] - heads[0]


def test_tape_trains_a_model_that_reuses_its_layers_as_eager_does():
    X, labels = data.blobs(16, centers=2, std=1.0, box=2.0, seed=3)
    results = []
    for engine in ("eager", "tape"):
        model = _Reused()
        history = nn.fit(
            model,
            X,
            labels,
            loss="mse",
            optimizer=nn.SGD(model, lr=0.05, momentum=0.9),
            epochs=3,
            batch_size=6,
            l1=1e-3,
            l2=1e-2,
            engine=engine,
            progress=False,
        )
        assert history.engine == engine
        params = model.parameters()
        results.append(([p.data for p in params], [p.grad for p in params], history.step_loss))
    (data_e, grads_e, loss_e), (data_t, grads_t, loss_t) = results
    np.testing.assert_allclose(loss_t, loss_e, rtol=1e-9)
    np.testing.assert_allclose(data_t, data_e, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(grads_t, grads_e, rtol=1e-9, atol=1e-15)
    assert grads_t[-1] != 0.0  # the unused parameter: its penalty's gradient only


@pytest.mark.parametrize("loss, targets", [("hinge", data.signed), ("cross_entropy", None)])
def test_history_holds_plain_floats(loss, targets):
    X, labels = data.blobs(12, centers=2, std=1.0, box=2.0, seed=3)
    y = targets(labels) if targets else labels
    model = nn.MLP(2, [3, 1 if targets else 2], seed=4)
    history = nn.fit(model, X, y, loss=loss, epochs=2, engine="tape", progress=False)
    for curve in (history.loss, history.accuracy, history.step_loss, history.lr):
        assert curve and all(type(x) is float for x in curve)  # they print as 1.0, not np.float64


def test_a_callback_sees_the_tape_s_current_parameters_and_may_change_them():
    X, labels = data.blobs(12, centers=2, std=1.0, box=2.0, seed=3)
    y = data.signed(labels)
    runs = []
    for engine in ("eager", "tape"):
        model = nn.MLP(2, [3, 1], seed=4)
        seen = []

        def clip(history, model=model, seen=seen):
            seen.append([(p.data, p.grad) for p in model.parameters()])
            for p in model.parameters():
                p.data = max(-0.3, min(0.3, p.data))  # the next epoch must start from these

        nn.fit(model, X, y, loss="hinge", epochs=3, engine=engine, progress=False, callback=clip)
        runs.append((seen, [p.data for p in model.parameters()]))
    (seen_e, final_e), (seen_t, final_t) = runs
    np.testing.assert_allclose(np.array(seen_t), np.array(seen_e), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(final_t, final_e, rtol=1e-9, atol=1e-15)
    assert max(abs(x) for x in final_t) <= 0.3


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, LookupError])
def test_what_a_callback_writes_before_it_raises_stays_in_the_values(exc_type):
    # The tape trains on arrays and writes them into the Values as fit exits; a callback's
    # own changes must not be overwritten by the arrays it was handed.
    X, labels = data.blobs(12, centers=2, std=1.0, box=2.0, seed=3)
    for engine in ("eager", "tape"):
        model = nn.MLP(2, [3, 1], seed=4)

        def reset_then_fail(history, model=model):
            if history.epochs == 2:
                for p in model.parameters():
                    p.data, p.grad = 0.5, 7.0
                raise exc_type("stop here")

        with pytest.raises(exc_type, match="stop here"):
            nn.fit(
                model,
                X,
                data.signed(labels),
                loss="hinge",
                epochs=3,
                engine=engine,
                progress=False,
                callback=reset_then_fail,
            )
        assert [(p.data, p.grad) for p in model.parameters()] == [(0.5, 7.0)] * 13, engine


def test_history_records_epochs_steps_and_learning_rates():
    X, y = data.moons(30, seed=1)
    model = nn.MLP(2, [4, 1], seed=0)
    history = nn.fit(
        model,
        X,
        data.signed(y),
        loss="hinge",
        optimizer=nn.SGD(model, lr=optim.inverse_time(1.0, 10.0)),
        epochs=3,
        batch_size=10,
        engine="tape",
        progress=False,
    )
    assert history.epochs == 3 and len(history.loss) == 3 and len(history.accuracy) == 3
    assert len(history.step_loss) == 9
    assert history.lr == pytest.approx([1.0 / (k + 10.0) for k in range(9)])
    assert history.loss[0] == pytest.approx(np.mean(history.step_loss[:3]))
    assert not history.val_loss and not history.stopped_early
    assert 0 < history.trace_seconds < 10  # the tape's tracing, reported on its own


def test_progress_bar_shows_loss_and_accuracy(capsys):
    X, y = data.truth_table("and")
    model = nn.MLP(2, [2, 1], seed=0)
    nn.fit(model, X, data.signed(y), loss="hinge", epochs=3, progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "loss=" in err and "acc=" in err


def test_regression_has_no_accuracy_and_no_bar_when_asked(capsys):
    X, y = data.noisy_line(20)
    model = nn.MLP(1, [1], seed=0)
    history = nn.fit(model, X, y, loss="mse", epochs=5, progress=False)
    assert history.accuracy == [] and history.loss[-1] < history.loss[0]
    assert capsys.readouterr().err == ""


def test_validation_and_early_stopping_restore_the_best_parameters():
    X, y = data.moons(40, noise=0.1, seed=3)
    y = data.signed(y)
    # validation labels flipped: the better the model fits, the worse its validation loss
    model = nn.MLP(2, [8, 1], seed=0)
    history = nn.fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer=nn.SGD(model, lr=0.2),
        epochs=50,
        val=(X, -y),
        patience=3,
        engine="tape",
        progress=False,
    )
    assert history.stopped_early
    assert history.epochs == history.best_epoch + 3 < 50
    assert len(history.val_loss) == history.epochs and len(history.val_accuracy) == history.epochs
    best = min(history.val_loss)
    assert history.val_loss[history.best_epoch - 1] == best
    val_outputs = nn.predict(model, X)
    restored = np.mean(np.maximum(0, 1 + y * val_outputs))  # hinge against -y
    penalty = 0.0
    assert restored + penalty == pytest.approx(best, rel=1e-9)


def test_a_validation_sample_the_tape_cannot_replay_is_evaluated_as_eager_does():
    # An infinite feature makes inf - inf inside a relu network: eager records a NaN
    # validation loss and trains on; the tape's replay refuses NaN-making arithmetic, and
    # must not end training where eager does not.
    X, labels = data.blobs(20, centers=3, std=1.0, box=2.0, seed=2)
    X_val = X[:6].copy()
    X_val[2, 0] = math.inf
    runs = []
    for engine in ("eager", "tape"):
        model = nn.MLP(2, [4, 3], seed=1)
        history = nn.fit(
            model,
            X,
            labels,
            loss="cross_entropy",
            epochs=2,
            val=(X_val, labels[:6]),
            engine=engine,
            progress=False,
        )
        assert history.engine == engine
        runs.append((history, [p.data for p in model.parameters()]))
    (eager, eager_data), (taped, taped_data) = runs
    assert len(eager.val_loss) == 2 and all(math.isnan(x) for x in eager.val_loss)
    assert len(taped.val_loss) == 2 and all(math.isnan(x) for x in taped.val_loss)
    assert taped.val_accuracy == eager.val_accuracy
    np.testing.assert_allclose(taped_data, eager_data, rtol=1e-9, atol=1e-15)


def test_early_stopping_needs_validation_data():
    with pytest.raises(ValueError, match="needs validation data"):
        nn.fit(nn.MLP(2, [1]), [[0.0, 1.0]], [1.0], patience=2, progress=False)


@pytest.mark.parametrize("engine", ["eager", "tape"])
def test_loss_turning_nan_or_inf_stops_with_the_epoch_named(engine):
    X, y = data.noisy_line(20, seed=0)
    model = nn.MLP(1, [1], seed=0)  # linear regression with a far too large step: diverges
    with pytest.raises(
        nn.DivergenceError, match=r"training stopped at epoch \d+ \(step 1 of that epoch\)"
    ) as info:
        nn.fit(
            model,
            X,
            y,
            loss="mse",
            optimizer=nn.SGD(model, lr=50.0),
            epochs=1000,
            engine=engine,
            progress=False,
        )
    history = info.value.history
    assert history.step_loss and all(math.isfinite(x) for x in history.step_loss)
    assert f"epoch {history.epochs + 1}" in str(info.value)


def test_untraceable_loss_falls_back_to_eager_with_a_clear_warning():
    def branchy(pred, target):  # compares Values: the graph depends on the data
        return pred - target if pred > target else target - pred

    X, y = data.noisy_line(10)
    model = nn.MLP(1, [2, 1], seed=0)
    with pytest.warns(
        RuntimeWarning, match="engine='tape' cannot trace.*eager engine instead"
    ) as caught:
        history = nn.fit(model, X, y, loss=branchy, epochs=2, engine="tape", progress=False)
    assert caught[0].filename == __file__  # shown at the call of fit, not inside the library
    assert history.engine == "eager" and len(history.loss) == 2
    assert history.trace_seconds == 0.0  # fell back: no tape to report


def test_a_loss_comparing_its_target_with_a_number_falls_back_to_eager():
    # eager hands the loss numbers, the tape Values: `t == 1` would be always False on the tape
    def bce(p, t):
        p = p.sigmoid()
        return -(p.log()) if t == 1 else -((1 - p).log())

    X, y = data.truth_table("or")
    eager_loss = nn.fit(
        nn.MLP(2, [1], seed=0), X, y, loss=bce, epochs=3, engine="eager", progress=False
    ).loss
    with pytest.warns(RuntimeWarning, match="comparing a Value computed from the inputs with 1"):
        history = nn.fit(
            nn.MLP(2, [1], seed=0), X, y, loss=bce, epochs=3, engine="tape", progress=False
        )
    assert history.engine == "eager" and history.loss == eager_loss


@pytest.mark.parametrize("engine", ["eager", "tape"])
def test_overflow_stops_training_with_the_epoch_named(engine):
    X, y = data.noisy_line(20, seed=0)
    model = nn.MLP(1, [1], seed=0)
    with pytest.raises(nn.DivergenceError, match=r"training stopped at epoch \d+"):
        nn.fit(
            model,
            np.asarray(X) * 100,
            y,
            loss="mse",
            optimizer=nn.SGD(model, lr=1.0),
            epochs=500,
            engine=engine,
            progress=False,
        )


def test_a_first_sample_outside_the_tape_s_reach_trains_eagerly_and_stops_clearly():
    X, y = data.noisy_line(20, seed=0)
    model = nn.MLP(1, [1], seed=0)
    with pytest.warns(RuntimeWarning, match="could not trace the first sample.*OverflowError"):
        with pytest.raises(nn.DivergenceError, match=r"training stopped at epoch 1"):
            nn.fit(model, X, np.asarray(y) * 1e200, loss="mse", engine="tape", progress=False)


def test_cross_entropy_trains_a_three_class_model():
    X, y = data.blobs(60, centers=3, std=0.5, box=3.0, seed=4)
    model = nn.MLP(2, [8, 3], activation="tanh", seed=0)
    history = nn.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=nn.Adam(model, lr=0.05),
        epochs=60,
        engine="tape",
        progress=False,
    )
    assert history.accuracy[-1] >= 0.95
    assert (nn.predict(model, X).argmax(axis=1) == y).mean() >= 0.95


def test_bad_arguments_are_refused_clearly():
    model = nn.MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="unknown engine 'gpu'; valid: eager, tape"):
        nn.fit(model, [[0.0, 1.0]], [1.0], engine="gpu", progress=False)
    with pytest.raises(ValueError, match="unknown loss"):
        nn.fit(model, [[0.0, 1.0]], [1.0], loss="l2", progress=False)
    with pytest.raises(ValueError, match=r"the model takes 2 inputs but X has 3 columns"):
        nn.fit(model, [[0.0, 1.0, 2.0]], [1.0], progress=False)
    with pytest.raises(ValueError, match="one output per class"):
        nn.fit(model, [[0.0, 1.0]], [1], loss="cross_entropy", progress=False)


class _Returns(nn.Module):
    """A model returning its outputs as a Value, a list of one, or a tuple of two."""

    def __init__(self, how):
        self.w, self.how = Value(0.5), how

    def __call__(self, x):
        a, b = self.w * x[0], self.w * x[1]
        return {"value": a, "list of one": [a], "tuple of two": (a, b)}[self.how]


@pytest.mark.parametrize(
    "how, shape", [("value", (3,)), ("list of one", (3,)), ("tuple of two", (3, 2))]
)
def test_predict_gives_one_shape_whatever_the_engine(how, shape):
    # "(n,) for one output, else (n, outputs)": a list of one Value is one output
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    model = _Returns(how)
    taped, eager = nn.predict(model, X), nn.predict(model, X, engine="eager")
    assert taped.shape == eager.shape == shape
    np.testing.assert_array_equal(taped, eager)


def test_predict_eager_and_tape_agree():
    model = nn.MLP(2, [5, 3], seed=0)
    X, _ = data.moons(15)
    np.testing.assert_allclose(
        nn.predict(model, X, engine="tape"), nn.predict(model, X, engine="eager"), rtol=1e-12
    )
    assert nn.predict(nn.MLP(2, [1], seed=0), X).shape == (15,)
