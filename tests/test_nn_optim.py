"""Optimizers against hand computations, and the learning-rate schedules."""

from __future__ import annotations

import math
import os

import injection
import numpy as np
import pytest

import autograd
from autograd import Value
from nn import MLP, SGD, Adam, optim


def params_with_grads(*pairs):
    ps = []
    for data, grad in pairs:
        p = Value(data)
        p.grad = grad
        ps.append(p)
    return ps


def test_sgd_step_is_p_minus_lr_grad():
    a, b = params_with_grads((1.0, 0.5), (-2.0, -1.0))
    SGD([a, b], lr=0.1).step()
    assert a.data == 1.0 - 0.1 * 0.5 and b.data == -2.0 + 0.1


def test_sgd_momentum_accumulates_velocity_by_hand():
    (p,) = params_with_grads((1.0, 1.0))
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()  # v = 1, p = 1 - 0.1
    assert p.data == pytest.approx(0.9)
    p.grad = 2.0
    opt.step()  # v = 0.9 * 1 + 2 = 2.9, p = 0.9 - 0.29
    assert p.data == pytest.approx(0.61)


def test_sgd_weight_decay_adds_lambda_p_to_the_gradient():
    (p,) = params_with_grads((2.0, 0.0))
    SGD([p], lr=0.5, weight_decay=0.1).step()
    assert p.data == pytest.approx(2.0 - 0.5 * 0.1 * 2.0)


def test_adam_first_steps_by_hand():
    (p,) = params_with_grads((1.0, 0.5))
    opt = Adam([p], lr=0.1)
    opt.step()  # bias-corrected m = g, v = g^2: the first step is lr * g / (|g| + eps)
    assert p.data == pytest.approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8))
    p.grad = -1.0
    opt.step()
    m = 0.9 * 0.05 + 0.1 * -1.0
    v = 0.999 * 0.00025 + 0.001 * 1.0
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    assert p.data == pytest.approx(
        1.0 - 0.1 * 0.5 / (0.5 + 1e-8) - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    )


def test_optimizer_zero_grad_and_accepts_a_module():
    model = MLP(2, [3, 1], seed=0)
    opt = SGD(model, lr=0.1)
    assert opt.params == model.parameters()
    model([1.0, 2.0]).backward()
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_linear_decay_is_micrograds_demo_schedule():
    schedule = optim.linear_decay()
    assert [schedule(k) for k in range(100)] == [1.0 - 0.9 * k / 100 for k in range(100)]
    assert schedule(100) == pytest.approx(0.1) and schedule(500) == pytest.approx(0.1)


def test_inverse_time_is_c1_over_k_plus_c2():
    schedule = optim.inverse_time(c1=5.0, c2=10.0)
    assert [schedule(k) for k in (0, 1, 10)] == [0.5, 5.0 / 11, 0.25]


def test_constant_schedule_and_the_optimizer_reads_one_rate_per_step():
    assert optim.constant(0.3)(7) == 0.3
    (p,) = params_with_grads((0.0, 1.0))
    opt = SGD([p], lr=optim.inverse_time(1.0, 1.0))
    rates = []
    for _ in range(3):
        rates.append(opt.lr)
        opt.step()
    assert rates == [1.0, 0.5, 1 / 3]
    assert p.data == pytest.approx(-(1.0 + 0.5 + 1 / 3))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: SGD(p, lr=-1.0), "lr must be a positive number"),
        (lambda p: SGD(p, lr=0.1, momentum=1.0), "momentum"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), "betas"),
        (lambda p: SGD([], lr=0.1), "no parameters"),
        (lambda p: optim.inverse_time(1.0, 0.0), "c2 must be a positive number"),
    ],
)
def test_bad_settings_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make([Value(1.0)])


OPTIMIZERS = {
    "sgd": lambda ps: SGD(ps, lr=0.1),
    "sgd_momentum_decay": lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: Adam(ps, lr=0.05, weight_decay=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_array_step_is_the_value_step_to_the_last_bit(name):
    rng = np.random.default_rng(0)
    data, grads = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    values = [Value(x) for x in data[0]]
    by_values, by_arrays = OPTIMIZERS[name](values), OPTIMIZERS[name](values)
    theta = data[0].copy()
    for g in grads:
        for p, gi in zip(values, g.tolist(), strict=True):
            p.grad = gi
        by_values.step()
        by_arrays.update(theta, g.copy())
    assert [p.data for p in values] == theta.tolist()  # bit for bit
    assert by_values.k == by_arrays.k == 3


def test_a_parameter_listed_twice_is_refused():
    p = Value(1.0)
    with pytest.raises(ValueError, match="parameter 2 is parameter 0 again"):
        SGD([p, Value(2.0), p], lr=0.1)


def test_a_step_that_cannot_read_a_gradient_updates_nothing():
    a, b = params_with_grads((1.0, 0.5), (2.0, 0.5))
    b.grad = [0.5]
    opt = SGD([a, b], lr=0.1, momentum=0.5)
    with pytest.raises(TypeError, match=r"parameter 1 has \.grad = \[0\.5\], not a number"):
        opt.step()
    assert (a.data, b.data, opt.k) == (1.0, 2.0, 0)
    assert opt.velocity.tolist() == [0.0, 0.0]


def test_update_checks_the_arrays_shapes():
    opt = SGD([Value(1.0), Value(2.0)], lr=0.1)
    with pytest.raises(ValueError, match=r"shape \(2,\), one number per parameter"):
        opt.update(np.zeros(3), np.zeros(2))


def test_the_parameters_method_passed_uncalled_says_to_call_it():
    model = MLP(2, [1])
    with pytest.raises(TypeError, match=r"SGD\(model\.parameters\(\), \.\.\.\)"):
        SGD(model.parameters, lr=0.1)


# ---- interrupted: the parameters and the optimizer's state move together, or neither --------

OPTIM_FILES = tuple(
    os.path.join(os.path.dirname(m.__file__), name)
    for m, name in [(optim, "optim.py"), (autograd.flat, "flat.py")]
)


def optimizer_state(opt) -> str:
    """The optimizer's step count and moments (everything but its parameters and schedule)."""
    state = {k: v for k, v in vars(opt).items() if k not in ("params", "schedule")}
    return repr({k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in state.items()})


@pytest.mark.parametrize("make", [lambda m: SGD(m, lr=0.1, momentum=0.9), lambda m: Adam(m)])
@pytest.mark.parametrize("on_arrays", [False, True], ids=["step", "update"])
def test_step_interrupted_at_every_bytecode_moves_numbers_and_state_together(make, on_arrays):
    def setup():
        m = MLP(2, [3, 1], seed=0)
        for i, p in enumerate(m.parameters()):
            p.grad = 0.1 * (i % 5) - 0.2
        opt = make(m)
        opt.step()  # some momentum to keep
        data = autograd.flat.read_data(opt.params)
        grad = autograd.flat.read_grads(opt.params)
        step = (lambda: opt.update(data, grad)) if on_arrays else opt.step
        params = m.parameters()

        def state():
            return (data.tolist() if on_arrays else [p.data for p in params]), optimizer_state(opt)

        return step, state

    step, state = setup()
    before = state()
    step()
    after = state()
    k = 0
    while True:
        k += 1
        step, state = setup()
        if injection.run_interrupted_at(k, KeyboardInterrupt, step, OPTIM_FILES) < k:
            break
        assert state() in (before, after), f"interrupted at bytecode {k}: half a step"
    assert k > 100
