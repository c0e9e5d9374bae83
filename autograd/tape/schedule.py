"""Compiling a recorded graph into groups: fuse sums, level the nodes, give them rows.

1. *Sums are fused.*  ``sum(w_i * x_i)`` in Python is a chain of additions, as deep as it is
   long.  A chain (or tree) of ``add`` nodes whose inner nodes have no other use becomes one
   n-ary sum (a ``SumGroup`` member).
2. *Levels.*  A node's level is one more than its deepest operand's (leaves: 0).  Nodes on one
   level do not depend on each other, so all nodes of a level that do the same thing (one
   primitive, or a fused sum) form a group that runs as one numpy call.
3. *Rows and gradient routing.*  Rows are numbered in order of first use, so a group's rows
   are often consecutive (slices, not gathers).  Only nodes that depend on a parameter need a
   gradient; each group gets a ``Route`` per operand slot that needs one.  The inputs take
   the first rows (one slice to fill per call).  Only rows that backward adds into or reads
   are zeroed before it (``Compiled.zero_rows``).
4. *Dense layers* (``dense.py``): sums of parameter x input over shared inputs become one
   matrix product, with the activation every unit feeds fused in.  *Log-softmax*
   (``softmax.py``): nn's pattern of 3K + 2 groups becomes one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import primitives as P
from ..value import Constant, TracingError, Value, _slot_data
from .dense import DenseGroup, OnesRow, ParameterArrays, dense_unit
from .entries import DenseEntry, Entry, LogSoftmaxEntry, OpEntry, SumEntry
from .groups import Group, Route, Rows, index
from .softmax import log_softmax_unit


@dataclass
class Compiled:
    """A graph as the tape runs it: groups in order, and where inputs and outputs live."""

    groups: list[Group]
    n_rows: int
    input_rows: Rows
    param_rows: Rows  # rows of the parameters that groups other than dense layers read
    row_params: np.ndarray  # which parameters those are (indices into the parameter list)
    params: ParameterArrays  # every parameter's number and dense-layer gradient
    const_rows: Rows
    const_values: np.ndarray
    ones_rows: list[int]  # rows of ones after some dense layers' inputs (DenseGroup)
    output_rows: np.ndarray
    zero_rows: list[slice]  # the rows of G that backward reads or adds into


def compile_graph(
    order: list[Value],
    outputs: list[Value],
    placeholders: list[Value],
    parameters: list[Value],
) -> Compiled:
    """Groups and rows for the graph `order` (parents first) computes."""
    leaves = [n for n in order if n._prim is None]
    constants = [n for n in leaves if type(n) is Constant]
    schedule = _schedule(order, outputs, set(parameters))
    _refuse_float_only_primitives(schedule)
    row = _assign_rows(schedule, placeholders, leaves, skip=_dense_only(schedule, parameters))
    params = ParameterArrays(len(parameters))
    index_of = {p: i for i, p in enumerate(parameters)}
    row_params = [i for i, p in enumerate(parameters) if p in row]
    groups = [entry.build(row, params, index_of) for entry in schedule]
    ones = {i for key, i in row.items() if type(key) is OnesRow}
    for group in groups:
        if isinstance(group, DenseGroup) and isinstance(group.inputs, slice):
            group.ones_follow = group.biases is not None and group.inputs.stop in ones
    output_rows = np.array([row[o] for o in outputs], dtype=np.intp)
    param_rows = index([row[parameters[i]] for i in row_params])
    return Compiled(
        groups=groups,
        n_rows=len(row),
        input_rows=index([row[p] for p in placeholders]),
        param_rows=param_rows,
        row_params=np.array(row_params, dtype=np.intp),
        params=params,
        const_rows=index([row[n] for n in constants]),
        const_values=np.array([n.data for n in constants]),
        ones_rows=sorted(ones),
        output_rows=output_rows,
        zero_rows=_zero_rows(groups, len(row), [output_rows, param_rows]),
    )


# Primitives without an array forward whose forward and rule were seen to run on arrays.
# Shared by every thread, as the primitive table is: set.add is atomic under the GIL, and
# two threads tracing at once at worst probe the same primitive twice.
_RUN_ON_ARRAYS: set[P.Primitive] = set()


def _refuse_float_only_primitives(schedule: list[Entry]) -> None:
    """A primitive declared without an array forward (``define_primitive``'s default: the
    float forward) must run on numpy arrays, forward and rule, or every batch would fail
    (``math.exp`` of an array, ``if a > 0``); a TracingError here lets ``nn.fit`` and
    ``predict`` use the eager engine.  Probed once per primitive, on one member's recorded
    operands two samples wide; per group, not per node (a few dozen checks)."""
    for entry in schedule:
        if isinstance(entry, OpEntry):
            prim, operands = entry.prim, entry.operands[0]
        elif isinstance(entry, DenseEntry) and entry.activations:
            prim, operands = entry.activations[0]._prim, entry.nodes[:1]
        else:
            continue
        if prim.array_forward is not None or prim in _RUN_ON_ARRAYS:
            continue
        arrays = [np.full(2, _slot_data(v)) for v in operands]
        try:
            with np.errstate(all="ignore"):
                prim.vjp(np.ones(2), prim.apply_arrays(*arrays), *arrays)
        except Exception as exc:
            raise TracingError(
                f"the primitive {prim.name} runs on floats only: on numpy arrays it raised "
                f"{type(exc).__name__}: {exc}; the tape replays every op over a batch of "
                "arrays: give define_primitive an array_forward (and a rule in plain "
                "arithmetic), or use the eager engine"
            ) from None
        _RUN_ON_ARRAYS.add(prim)


def _zero_rows(groups: list[Group], n_rows: int, also: list[Rows]) -> list[slice]:
    """Runs of rows backward reads (a group's upstream gradient) or adds into (a route): only
    these are zeroed before it, not all of G (whose other rows, the inputs' and constants',
    and fused units', no one touches).  Rows a dense layer's inputs' gradient is written
    into (``_assign_dense_inputs``) need no zeroing either."""
    assigned = _assign_dense_inputs(groups, n_rows, also)
    touched = np.zeros(n_rows, dtype=bool)
    for rows in also:
        touched[rows] = True
    for group in groups:
        if group.routes:
            touched[group.gradient_rows()] = True
        for route in group.routes:
            if isinstance(route, Route):
                touched[route.rows] = True
    touched &= ~assigned
    edges = np.flatnonzero(np.diff(np.concatenate(([0], touched.view(np.int8), [0]))))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _assign_dense_inputs(groups: list[Group], n_rows: int, also: list[Rows]) -> np.ndarray:
    """Let a dense layer write its inputs' gradient W.T @ dZ straight into their rows of G
    when nothing else adds there (no other route, not an output's seed, not a parameter's
    row) and the rows are consecutive and distinct; returns those rows (as a mask).

    Backward runs users before what they use, so the layer writes the rows before anyone
    reads them: no zeroing before the pass, no scratch array and no ``+=``.  On the
    16-64-64-10 network over 1000 samples (two such layers, 64 rows each) the step's
    backward 752 -> 706 us (timeit, medians of 200; zeroing 24 -> 5 us)."""
    writers = np.zeros(n_rows, dtype=np.intp)
    for rows in also:
        writers[rows] += 1
    for group in groups:
        for route in group.routes:
            if isinstance(route, Route):
                writers[route.rows] += 1
    assigned = np.zeros(n_rows, dtype=bool)
    for group in groups:
        route = group.routes[0] if isinstance(group, DenseGroup) else None
        if route is not None and route.distinct and isinstance(route.rows, slice):
            if (writers[route.rows] == 1).all():
                group.assign_inputs = True
                assigned[route.rows] = True
    return assigned


def _dense_only(schedule: list[Entry], parameters: list[Value]) -> set[Value]:
    """Parameters only dense layers use: they need no row (the layers read ParameterArrays)."""
    general = {v for entry in schedule for slot in entry.slots() for v in slot}
    dense = {v for entry in schedule if isinstance(entry, DenseEntry) for v in entry.params()}
    return {p for p in parameters if p in dense and p not in general}


# ---- fusing, levelling, numbering rows ---------------------------------------------------------


def _uses(order: list[Value]) -> dict[Value, list[Value]]:
    """For every node, the nodes that take it as an operand."""
    uses: dict[Value, list[Value]] = {n: [] for n in order}
    # the slots, not .parents (a tuple per call); a leaf has neither: 0.41 -> 0.11 ms (demo)
    for node in order:
        a = node._a
        if a is not None:
            uses[a].append(node)
            b = node._b
            if b is not None:
                uses[b].append(node)
    return uses


def _fused_adds(order: list[Value], outputs: list[Value], uses) -> set[Value]:
    """Inner nodes of add trees: adds used exactly once, by another add, and not outputs."""
    output_set = set(outputs)
    return {
        n
        for n in order
        if n._prim is P.ADD
        and n not in output_set
        and len(uses[n]) == 1
        and uses[n][0]._prim is P.ADD
    }


def _sum_terms(root: Value, fused: set[Value]) -> list[Value]:
    """The terms of the fused sum rooted at `root`, left to right (as the adds ran)."""
    terms, stack = [], [root]
    while stack:
        node = stack.pop()
        if node is root or node in fused:
            stack.extend((node._b, node._a) if node._b is not None else (node._a,))
        else:
            terms.append(node)
    return terms


def _dense_units(order, outputs, parameters: set[Value], fused, uses) -> tuple[dict, set]:
    """Fused sums that are dense-layer units, by their inputs; and the products they absorb.

    A unit: ``[bias +] sum_j w_j * x_j`` with parameters w_j (and bias), every product used
    only by this sum.  Units over the same inputs (in the same order) form one layer.
    """
    output_set = set(outputs)
    MUL = P.MUL

    def is_product(node: Value) -> bool:
        return node._prim is MUL and len(uses[node]) == 1 and node not in output_set

    layers: dict[tuple, list[set]] = {}  # inputs and bias or not -> each layer's parameters
    units: dict[Value, tuple] = {}
    absorbed: set[Value] = set()
    for node in order:
        if node._prim is not P.ADD or node in fused:
            continue
        terms = _sum_terms(node, fused)
        unit = dense_unit(terms, parameters, is_product)
        if unit is None:
            continue
        inputs, weights, bias, own = unit
        key = (tuple(map(id, inputs)), bias is None)
        # a layer's parameters must be distinct (DenseGroup adds dW with grads[...] +=)
        candidates = layers.setdefault(key, [])
        k = next((i for i, used in enumerate(candidates) if not used & own), len(candidates))
        if k == len(candidates):
            candidates.append(set())
        candidates[k] |= own
        units[node] = ((*key, k), inputs, weights, bias)
        absorbed.update(term for term in terms if term._prim is P.MUL)
    return units, absorbed


def _fused_activations(dense: dict, outputs: list[Value], uses) -> dict[Value, Value]:
    """{unit: its activation node} for layers whose every unit feeds one unary op, the same
    primitive for all, and nothing else: the dense group computes those too."""
    output_set = set(outputs)
    layers: dict[tuple, list[Value]] = {}
    for node, (key, *_) in dense.items():
        layers.setdefault(key, []).append(node)
    fused: dict[Value, Value] = {}
    for units in layers.values():
        acts = [uses[u][0] if len(uses[u]) == 1 and u not in output_set else None for u in units]
        prims = {a._prim if a is not None else None for a in acts}
        (prim,) = prims if len(prims) == 1 else (None,)
        if prim is not None and prim.arity == 1:
            fused.update(zip(units, acts, strict=True))
    return fused


def _log_softmaxes(order, outputs, fused, uses) -> tuple[dict, set]:
    """{output node: (inputs, outputs)} of every log-softmax pattern, and its inner nodes."""
    output_set = set(outputs)

    def terms_of(node: Value) -> list[Value]:
        return _sum_terms(node, fused) if node._prim is P.ADD else [node]

    units: dict[Value, tuple] = {}
    inner: set[Value] = set()
    for node in order:
        if node._prim is P.LOG and node not in inner:
            unit = log_softmax_unit(node, terms_of, uses, output_set)
            if unit is not None:
                xs, outs, nodes = unit
                units.update(dict.fromkeys([o for o in outs if o is not None], (xs, outs)))
                inner.update(nodes)
    return units, inner


def _schedule(order, outputs, parameters: set[Value]) -> list[Entry]:
    """Fuse sums, give every op node a level and group it with its kind on its level."""
    uses = _uses(order)
    fused = _fused_adds(order, outputs, uses)
    softmax_of, softmax_inner = _log_softmaxes(order, outputs, fused, uses)
    dense, absorbed = _dense_units(order, outputs, parameters, fused, uses)
    activation_of = _fused_activations(dense, outputs, uses)
    activations = set(activation_of.values())
    level: dict[Value, int] = {}
    needs_grad: dict[Value, bool] = {}
    sums: dict[int, SumEntry] = {}
    ops: dict[tuple[int, P.Primitive], OpEntry] = {}
    layers: dict[tuple, DenseEntry] = {}
    softmaxes: list[LogSoftmaxEntry] = []
    for node in order:
        if node in fused or node in absorbed or node in activations or node in softmax_inner:
            continue
        if node in softmax_of:
            if node not in level:  # the first of its outputs: the whole unit at once
                xs, outs = softmax_of[node]
                lv = 1 + max(level[x] for x in xs)
                needs = any(needs_grad[x] for x in xs)
                entry = LogSoftmaxEntry(lv, xs, outs, needs)
                for out in [o for o in outs if o is not None]:
                    level[out], needs_grad[out] = lv, needs
                    entry.add(out, xs, [])
                softmaxes.append(entry)
            continue
        if node._prim is None:  # a leaf
            level[node], needs_grad[node] = 0, node in parameters
            continue
        if node in dense:
            key, inputs, weights, bias = dense[node]
            lv = level[node] = 1 + max(level[x] for x in inputs)
            needs_grad[node] = True  # its weights are parameters
            entry = layers.get((lv, key))
            if entry is None:
                entry = layers[lv, key] = DenseEntry(lv, inputs)
            act = activation_of.get(node)
            if act is not None:  # computed by the dense group, one level up as recorded
                level[act], needs_grad[act] = lv + 1, True
            entry.add_unit(node, weights, bias, any(needs_grad[x] for x in inputs), act)
            continue
        operands = _sum_terms(node, fused) if node._prim is P.ADD else list(node.parents)
        lv = level[node] = 1 + max(level[o] for o in operands)
        member_needs = needs_grad[node] = any(needs_grad[o] for o in operands)
        if node._prim is P.ADD:
            entry = sums.get(lv)
            if entry is None:
                entry = sums[lv] = SumEntry(lv)
        else:
            entry = ops.get((lv, node._prim))
            if entry is None:
                entry = ops[lv, node._prim] = OpEntry(lv, node._prim)
        entry.add(node, operands, [needs_grad[o] and member_needs for o in operands])
    # level by level; within a level by name (the order rows are numbered in)
    entries = [*sums.values(), *ops.values(), *layers.values(), *softmaxes]
    return sorted(entries, key=lambda e: (e.level, e.name))


def _assign_rows(
    schedule: list[Entry], placeholders: list[Value], leaves: list[Value], skip: set
) -> dict[Value, int]:
    """The inputs first, then rows in order of first use, so a group's outputs, and often its
    operands, are contiguous (numpy then works on slices, which are views, instead of
    gathering rows)."""
    row: dict[Value, int] = {p: i for i, p in enumerate(placeholders)}
    # a dense layer with a bias reads [X; 1]: where X are the activations another dense
    # group writes, a row of ones goes right after them (see DenseGroup)
    biased_inputs = {
        tuple(map(id, e.inputs))
        for e in schedule
        if isinstance(e, DenseEntry) and e.biases[0] is not None
    }
    for entry in schedule:
        for slot in entry.slots():
            for node in slot:
                if node not in row:
                    row[node] = len(row)
        for node in entry.written():
            row[node] = len(row)
        if isinstance(entry, DenseEntry) and tuple(map(id, entry.activations)) in biased_inputs:
            row[OnesRow()] = len(row)
    for leaf in leaves:  # leaves no op uses (an output that is an input, say)
        if leaf not in row and leaf not in skip:
            row[leaf] = len(row)
    return row
