"""Groups before they have rows: which nodes run together, their operands, what needs a gradient.

``schedule.py`` collects a graph's nodes into entries (one per future group); once every node
has a row, ``Entry.build`` makes the group (``groups.py``, ``dense.py``, ``softmax.py``) with
its rows and gradient routes.
"""

from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..value import Value
from .dense import ParameterArrays, build_dense
from .groups import Group, OpGroup, Route, SumGroup, index
from .softmax import LogSoftmaxGroup


class Entry:
    """A group's member nodes, their operands and which of those need a gradient."""

    name: str

    def __init__(self, level: int) -> None:
        self.level = level
        self.nodes: list[Value] = []
        self.operands: list[list[Value]] = []  # per member
        self.operand_needs: list[list[bool]] = []  # per member, per operand

    def add(self, node: Value, operands: list[Value], needs: list[bool]) -> None:
        self.nodes.append(node)
        self.operands.append(operands)
        self.operand_needs.append(needs)

    def slots(self) -> list[list[Value]]:
        """Operands by slot (as the group's numpy call reads them)."""
        raise NotImplementedError

    def written(self) -> list[Value]:
        """The nodes whose rows the group writes."""
        return self.nodes

    def build(self, row: dict[Value, int], params: ParameterArrays, index_of: dict) -> Group:
        """The group, with rows and routes (dense layers also read parameters by index)."""
        raise NotImplementedError

    def _route(self, group: Group, row: dict[Value, int], needs: list[list[bool]]) -> Group:
        for slot, slot_needs in zip(self.slots(), needs, strict=True):
            needed = np.array(slot_needs, dtype=bool)
            rows = np.array([row[v] for v in slot], dtype=np.intp)
            group.routes.append(Route(rows, needed) if needed.any() else None)
        if not any(group.routes):
            group.routes = []  # nothing upstream needs a gradient: backward skips the group
        return group


class OpEntry(Entry):
    def __init__(self, level: int, prim: P.Primitive) -> None:
        super().__init__(level)
        self.prim = prim
        self.name = prim.name

    def slots(self) -> list[list[Value]]:
        # slot i = every member's i-th operand
        return [[operands[i] for operands in self.operands] for i in range(self.prim.arity)]

    def build(self, row: dict[Value, int], params: ParameterArrays, index_of: dict) -> Group:
        group = OpGroup(
            self.prim,
            index([row[n] for n in self.nodes]),
            [index([row[v] for v in slot]) for slot in self.slots()],
        )
        needs = [[n[i] for n in self.operand_needs] for i in range(self.prim.arity)]
        return self._route(group, row, needs)


class SumEntry(Entry):
    name = "sum"

    def slots(self) -> list[list[Value]]:
        # one slot: every member's terms, member after member
        return [[t for operands in self.operands for t in operands]]

    def build(self, row: dict[Value, int], params: ParameterArrays, index_of: dict) -> Group:
        (terms,) = self.slots()
        group = SumGroup(
            index([row[n] for n in self.nodes]),
            index([row[v] for v in terms]),
            np.array([len(operands) for operands in self.operands]),
        )
        return self._route(group, row, [[n for needs in self.operand_needs for n in needs]])


class DenseEntry(Entry):
    """Units of one dense layer (``dense.py``): one matrix product forward and backward."""

    name = "dense"

    def __init__(self, level: int, inputs: list[Value]) -> None:
        super().__init__(level)
        self.inputs = inputs
        self.weights: list[list[Value]] = []
        self.biases: list[Value | None] = []
        self.activations: list[Value] = []  # fused activation nodes, one per unit (or none)
        self.input_needs = False

    def add_unit(
        self,
        node: Value,
        weights: list,
        bias: Value | None,
        input_needs: bool,
        activation: Value | None,
    ) -> None:
        self.nodes.append(node)
        self.weights.append(weights)
        self.biases.append(bias)
        if activation is not None:
            self.activations.append(activation)
        self.input_needs = self.input_needs or input_needs

    def written(self) -> list[Value]:
        return self.nodes + self.activations

    def params(self) -> list[Value]:
        return [w for unit in self.weights for w in unit] + [
            b for b in self.biases if b is not None
        ]

    def slots(self) -> list[list[Value]]:
        return [self.inputs]  # the parameters are read from ParameterArrays, not from rows

    def build(self, row: dict[Value, int], params: ParameterArrays, index_of: dict) -> Group:
        biases = None if self.biases[0] is None else self.biases
        out_rows = [row[n] for n in self.nodes]
        activation = (self.activations[0]._prim, self.activations) if self.activations else None
        return build_dense(
            out_rows,
            self.inputs,
            self.weights,
            biases,
            row,
            self.input_needs,
            params,
            index_of,
            activation,
        )


class LogSoftmaxEntry(Entry):
    """One log-softmax (``softmax.py``): K inputs in, K outputs."""

    name = "log_softmax"

    def __init__(self, level: int, inputs: list[Value], outputs: list, input_needs: bool) -> None:
        super().__init__(level)
        self.inputs = inputs
        self.outputs = outputs  # K of them, None where no one reads one
        self.input_needs = input_needs

    def slots(self) -> list[list[Value]]:
        return [self.inputs]

    def build(self, row: dict[Value, int], params: ParameterArrays, index_of: dict) -> Group:
        rows = np.array([row[x] for x in self.inputs], dtype=np.intp)
        route = Route(rows, np.ones(len(rows), dtype=bool)) if self.input_needs else None
        present = [k for k, out in enumerate(self.outputs) if out is not None]
        return LogSoftmaxGroup(
            index([row[n] for n in self.nodes]),
            index(rows.tolist()),
            None if len(present) == len(self.outputs) else np.array(present, dtype=np.intp),
            route,
        )
