"""Networks: which leaves are parameters, which nodes make up each neuron, collapsing.

A model marks its parameters and its neurons' outputs with the label types of ``groups.py``
(``nn`` does); ``model=`` (its ``named_parameters()``) or ``params=`` can name the parameters
instead.  From those this module finds, for each neuron output, the neuron's *internal* nodes:
the ones between its parameters and its output (``w_i * x_i``, the running sum, the
activation).  A drawing puts them in a cluster per neuron inside a cluster per layer, or, with
``collapse="neuron"``, hides them and draws the neuron as one node fed by its inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..value import Constant, Value
from .groups import NeuronLabel, ParameterLabel


@dataclass
class Structure:
    """What a model's labels say about a graph: parameters, neuron clusters, collapsed neurons."""

    params: set[Value] = field(default_factory=set)
    names: dict[Value, str] = field(default_factory=dict)  # parameter -> its given name
    neuron_of: dict[Value, NeuronLabel] = field(default_factory=dict)  # internal node -> neuron
    collapsed: dict[Value, NeuronLabel] = field(default_factory=dict)  # neuron output -> neuron
    hidden: set[Value] = field(default_factory=set)  # nodes drawn inside a collapsed neuron
    inputs_of: dict[Value, list[Value]] = field(default_factory=dict)  # collapsed -> its inputs
    size_of: dict[Value, int] = field(default_factory=dict)  # collapsed -> nodes it stands for

    def name(self, v: Value) -> str:
        """The name a node is drawn with: its parameter name if one was given, else its label."""
        return self.names.get(v, v.label)


def is_neuron_output(v: Value) -> bool:
    """Whether v is a neuron's output, as its model marked it (a ``NeuronLabel``)."""
    return not v.is_leaf and isinstance(v.label, NeuronLabel)


def _given_params(params) -> dict[Value, str]:
    """{parameter: name} ("" when only the Value is given: its label is used)."""
    found = {}
    for item in params:
        name, value = item if isinstance(item, tuple) and len(item) == 2 else ("", item)
        if not isinstance(value, Value) or not isinstance(name, str):
            raise TypeError(f"params must hold Values or (name, Value) pairs, got {item!r}")
        found[value] = name
    return found


def analyse(
    order: list[Value],
    uses: dict[Value, list[tuple[Value, int]]],
    model=None,
    params: Iterable | None = None,
    collapse: str | None = None,
) -> Structure:
    """Parameters, neuron membership and (with collapse="neuron") what to hide, for order."""
    if collapse not in (None, "neuron"):
        raise ValueError(f"collapse must be None or 'neuron', got {collapse!r}")
    named: dict[Value, str] = {}
    if model is not None:
        named = {p: name for name, p in model.named_parameters()}
    if params is not None:
        named.update(_given_params(params))
    s = Structure()
    if model is None and params is None:
        s.params = {
            v
            for v in order
            if v.is_leaf and not isinstance(v, Constant) and isinstance(v.label, ParameterLabel)
        }
    else:
        s.params = set(named)
        # a name from named_parameters() (or a (name, Value) pair) is what the drawing shows
        s.names = {v: name for v, name in named.items() if name and name != v.label}

    position = {v: i for i, v in enumerate(order)}
    instances: list[tuple[Value, set[Value]]] = []
    for out in order:
        if is_neuron_output(out):
            members = _internal(out, s.params, s.name, position)
            instances.append((out, members))
            for v in members:
                s.neuron_of.setdefault(v, out.label)
    if collapse == "neuron":
        _collapse(s, instances, uses, position)
    return s


def _internal(out: Value, params: set[Value], name_of, position) -> set[Value]:
    """The nodes between the neuron's parameters and its output `out` (out included)."""
    prefix = out.label + "."

    def mine(v: Value) -> bool:
        return v.is_leaf and name_of(v).startswith(prefix) and (v in params or not params)

    seen = {out}
    stack = [out]
    while stack:
        for p in stack.pop().parents:
            if p in seen or is_neuron_output(p):
                continue  # another neuron's output is an input here, not a part
            seen.add(p)
            if not p.is_leaf:
                stack.append(p)
    # keep what depends on this neuron's parameters (drops inputs computed on the way in)
    depends: dict[Value, bool] = {}
    for v in sorted(seen, key=position.__getitem__):
        depends[v] = mine(v) or any(depends.get(p, False) for p in v.parents)
    return {v for v, d in depends.items() if d} | {out}


def _collapse(s: Structure, instances, uses, position) -> None:
    """Hide each neuron's internal nodes unless something outside the neuron uses them."""
    inside: dict[Value, set[int]] = {}
    kept = []
    for out, members in instances:
        # a pre-activation (say) read outside the neuron: draw this neuron in full
        if any(
            child not in members
            for v in members
            if v is not out and not v.is_leaf
            for child, _ in uses.get(v, ())
        ):
            continue
        kept.append((out, members))
        for v in members:
            inside.setdefault(v, set()).add(len(kept) - 1)
    collapsed_outputs = {out for out, _ in kept}
    checked: set[Value] = set()  # a weight is in every sample's copy of its neuron: check once
    for out, members in kept:
        s.collapsed[out] = out.label
        for v in members:
            if v is out or v in collapsed_outputs or v in checked:
                continue
            if not v.is_leaf:
                s.hidden.add(v)
                continue
            checked.add(v)
            if all(child in inside and inside[child] & inside[v] for child, _ in uses[v]):
                s.hidden.add(v)  # a parameter used by collapsed neurons only
    for out, members in kept:
        inputs: list[Value] = []
        for v in sorted(members, key=position.__getitem__):
            if v.is_leaf and v not in s.hidden and v not in inputs:
                inputs.append(v)
            for p in v.parents:
                if p not in members and p not in inputs:
                    inputs.append(p)
        s.inputs_of[out] = sorted(inputs, key=position.__getitem__)
        s.size_of[out] = len(members)
