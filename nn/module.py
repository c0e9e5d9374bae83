"""``Module``: the base class of every model, with PyTorch's names for its bookkeeping.

A module's parameters and submodules are found by looking at its attributes, in the order they
were set: a ``Value`` (or a list of Values) is a parameter, a ``Module`` (or a list of Modules)
is a submodule; attributes whose names start with ``_`` are private and skipped.  That gives
stable dotted names (``layers.0.neurons.1.w.0``) without registration calls; ``relabel()``
(called at the end of every built-in ``__init__``) sets each parameter's ``.label`` to its
dotted name, so pictures of the graph read like the model.  Those labels are the drawing code's
label types (``autograd.viz.groups``): they tell a picture which leaves are parameters and, for
modules with ``drawn_as = "neuron"`` or ``"layer"``, which nodes form a neuron and a layer.

Saving is JSON (``{name: float}`` plus the architecture), written to a temporary file and renamed
so a crash never leaves half a file; loading validates everything before changing anything, and
never runs code (no pickle).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import NamedTuple

from autograd import Value
from autograd.files import write_atomically
from autograd.flat import write, zero_grads
from autograd.viz.groups import NeuronLabel, ParameterLabel

FILE_FORMAT = "chainrule.nn/1"
# Largest model file load() reads.  A saved parameter takes about 40 bytes, so this is over a
# million parameters, far beyond what a scalar engine trains; the cap keeps a wrong path
# (/dev/zero, a disk image) from being read into memory.
MAX_LOAD_BYTES = 64 * 1024 * 1024


class _Building(threading.local):
    depth = 0  # how many models this thread is building parts for


_building = _Building()


@contextmanager
def parts_of_one_model() -> Iterator[None]:
    """Modules built inside skip their own ``relabel()``: the model they are parts of relabels
    all of them once, when it is whole (their names depend on it anyway).  Relabelling every
    neuron, then every layer, then the MLP made ``MLP(2, [16, 16, 1])`` take 5.0 ms against
    1.8 ms with one relabel at the end (37 walks over the model instead of one)."""
    _building.depth += 1
    try:
        yield
    finally:
        _building.depth -= 1


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=True)`` skipped: missing and unexpected names."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class: parameters(), named_parameters(), zero_grad(), state_dict(), save/load."""

    _name: str = ""  # this module's dotted name inside its root model ("" for the root)
    _repr_children: bool = True  # list submodules in repr (a Layer shows its shape instead)
    # How pictures group this module's nodes: "neuron" (a cluster, or one node with
    # collapse="neuron"; label its output with output_label), "layer" (a cluster around the
    # neurons inside it) or None.
    drawn_as: str | None = None
    _output_label: str = ""  # set by relabel(): the label for this module's output Value

    # ---- structure -------------------------------------------------------------------------

    def _held(self) -> Iterator[tuple[str, int | None, bool, Value | Module]]:
        """What this module holds directly, by the one rule every walk follows:
        (attribute, index in its list or None, is a parameter, item).

        A public attribute counts if it is a Value (a parameter) or a Module (a child), or a
        non-empty list or tuple whose first item is one; the first item then decides for all.
        """
        for attr, value in vars(self).items():
            if attr.startswith("_"):
                continue
            if isinstance(value, (list, tuple)):
                if value and isinstance(value[0], (Value, Module)):
                    is_parameter = isinstance(value[0], Value)
                    for i, item in enumerate(value):
                        yield attr, i, is_parameter, item
            elif isinstance(value, (Value, Module)):
                yield attr, None, isinstance(value, Value), value

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct submodules with their names (``layers.0``, ``neurons.3``, ...)."""
        for attr, i, is_parameter, item in self._held():
            if not is_parameter:
                yield (attr if i is None else f"{attr}.{i}"), item

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every submodule, depth first, with dotted names ("" for self).

        A module reachable by two paths is listed once, under its first name (as in PyTorch).
        """
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module.named_children()
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, depth first."""
        for _, module in self.named_modules():
            yield module

    def _own_parameters(self) -> Iterator[tuple[str, Value]]:
        for attr, i, is_parameter, item in self._held():
            if is_parameter:
                yield (attr if i is None else f"{attr}.{i}"), item

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted name, Value) for every parameter, in a fixed order (micrograd's: w then b).

        A Value shared by two modules (tied weights) is listed once, under its first name, so
        an optimizer steps it once per step.
        """
        out, seen = [], set()
        for prefix, module in self.named_modules():
            for name, p in module._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((f"{prefix}.{name}" if prefix else name, p))
        return out

    def parameters(self) -> list[Value]:
        """Every parameter Value, in the order of ``named_parameters()``.

        The same walk without building names: it runs at every ``zero_grad()``, so every
        training step.
        """
        out, seen, seen_modules = [], set(), set()
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen_modules:
                continue
            seen_modules.add(id(module))
            children = []
            for _, _, is_parameter, item in module._held():
                if not is_parameter:
                    children.append(item)
                elif id(item) not in seen:
                    seen.add(id(item))
                    out.append(item)
            stack.extend(reversed(children))
        return out

    def num_parameters(self) -> int:
        """How many numbers the model learns."""
        return len(self.named_parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (gradients accumulate until you do); all of them
        or, if interrupted, none."""
        zero_grads(self.parameters())

    def relabel(self) -> None:
        """Give every submodule its dotted name and every parameter's ``.label`` its name.

        The built-in modules call this at the end of ``__init__``; a custom Module should too.
        The labels are ``autograd.viz.groups`` label types, so pictures find the parameters,
        and each ``drawn_as = "neuron"`` module's output label names its layer.
        """
        modules = list(self.named_modules())
        layers = [name for name, m in modules if name and m.drawn_as == "layer"]
        shown = self._shown_names()
        for name, module in modules:
            module._name = name
            module._output_label = name
            if name and module.drawn_as == "neuron":
                inside = [layer for layer in layers if name.startswith(layer + ".")]
                layer = max(inside, key=len, default=None)
                module._output_label = NeuronLabel(
                    name, layer, shown.get(name), shown.get(layer) if layer else None
                )
        for name, p in self.named_parameters():
            p.label = ParameterLabel(name, shown.get(name))

    def _relabel_when_whole(self) -> None:
        """``relabel()``, unless this module is built as a part of another, which will."""
        if not _building.depth:
            self.relabel()

    def _shown_names(self) -> dict[str, str]:
        """{dotted name: the name pictures show} for parameters, neurons and layers; a network
        of neurons gives the lecture's notation (``nn.notation``), other modules nothing."""
        return {}

    def label_output(self, out: Value) -> Value:
        """Label a Value this module computed with the module's name (pictures group by it)."""
        if self._output_label:
            out.label = self._output_label
        return out

    # ---- state ------------------------------------------------------------------------------

    def state_dict(self) -> StateDict:
        """``{dotted name: float}`` for every parameter: a snapshot of what the model learned."""
        return StateDict((name, p.data) for name, p in self.named_parameters())

    def load_state_dict(self, state: Mapping[str, float], strict: bool = True) -> IncompatibleKeys:
        """Copy numbers into the parameters; everything is checked first, nothing changes on error.

        ``strict=True`` needs exactly this model's names; ``strict=False`` loads the names both
        share.  Either way the missing and unexpected names are returned.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"state_dict must be a mapping of names to numbers, got {type(state).__name__}"
            )
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if strict and (missing or unexpected):
            raise ValueError(
                f"state_dict does not fit {self._summary()}: "
                f"{_mismatch(missing, unexpected, len(state))}"
            )
        targets, numbers = [], []
        for name, number in state.items():
            if name in params:
                targets.append(params[name])
                numbers.append(finite_number(number, f"state_dict[{name!r}]"))
        write(targets, data=numbers)  # one C-level call: a Ctrl-C never loads half the model
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str | os.PathLike) -> None:
        """Write the parameters to a JSON file (atomically: a temporary file, then a rename)."""
        state = {name: _saved_number(name, x) for name, x in self.state_dict().items()}
        bad = [name for name, x in state.items() if not math.isfinite(x)]
        if bad:
            raise ValueError(
                f"cannot save: parameter {bad[0]!r} is {state[bad[0]]} ({len(bad)} non-finite)"
            )
        document = {"format": FILE_FORMAT, "model": self._summary(), "parameters": state}
        text = json.dumps(document, indent=1)  # floats are written with repr: exact round trip
        write_atomically(path, text.encode("utf-8"), action="save to", durable=True)

    def load(self, path: str | os.PathLike, max_bytes: int = MAX_LOAD_BYTES) -> None:
        """Load parameters saved by ``save``; a damaged or mismatched file changes nothing.

        Files over ``max_bytes`` (default ``MAX_LOAD_BYTES``, 64 MiB) are refused unread.
        """
        path = os.fspath(path)
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)  # one byte more tells a file over the cap
        if len(raw) > max_bytes:
            raise ValueError(
                f"cannot load {path!r}: over {max_bytes} bytes, far more than a saved model "
                "of this engine takes (a wrong file?); if it is one, pass load(path, "
                "max_bytes=...) to raise the limit"
            )
        try:
            document = json.loads(raw.decode("utf-8"), object_pairs_hook=_refuse_duplicates)
        except UnicodeDecodeError:
            raise ValueError(f"cannot load {path!r}: not a text file (not UTF-8)") from None
        except _DuplicateName as exc:
            raise ValueError(
                f"cannot load {path!r}: {exc} (a damaged or hand-edited file)"
            ) from None
        except RecursionError:
            raise ValueError(
                f"cannot load {path!r}: not a chainrule model file (nested too deeply)"
            ) from None
        except ValueError as exc:  # JSONDecodeError, or an integer too long to read
            raise ValueError(f"cannot load {path!r}: not valid JSON ({exc})") from None
        if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
            found = document.get("format") if isinstance(document, dict) else None
            if isinstance(found, str) and found.startswith(FILE_FORMAT.split("/")[0] + "/"):
                raise ValueError(
                    f"cannot load {path!r}: it is saved in format {_quote(found)}, and this "
                    f"version of chainrule reads {FILE_FORMAT!r} (save it again with the "
                    "version that wrote it, or update chainrule)"
                )
            raise ValueError(
                f"cannot load {path!r}: not a chainrule model file (no format {FILE_FORMAT!r})"
            )
        state = document.get("parameters")
        if not isinstance(state, dict):
            raise ValueError(
                f"cannot load {path!r}: the 'parameters' entry is missing or not an object"
            )
        try:
            self.load_state_dict(state)
        except ValueError as exc:
            saved = document.get("model", "an unknown model")
            if not (isinstance(saved, str) and saved.isprintable() and len(saved) <= 80):
                saved = _quote(saved)  # text from the file, shown escaped and cut short
            raise ValueError(f"cannot load {path!r} (saved from {saved}): {exc}") from None

    # ---- display ----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in repr (its shape and activation)."""
        return ""

    def _summary(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()}) with {self.num_parameters()} parameters"

    def __repr__(self) -> str:
        inside = self.extra_repr()
        if not self._name:  # the root: the number a reader looks for first
            count = f"{self.num_parameters()} parameters"
            inside = f"{inside}; {count}" if inside else count
        lines = [f"{type(self).__name__}({inside})"]
        if self._repr_children:
            for name, child in self.named_children():
                lines.append(f"  ({name}): {child!r}".replace("\n", "\n  "))
        return "\n".join(lines)


class StateDict(dict):
    """A plain ``{name: float}`` dict whose repr stays one line however big the model is."""

    SHOWN = 3  # entries shown at each end of the repr

    def __repr__(self) -> str:
        items = [f"{name!r}: {number:.4g}" for name, number in self.items()]
        if len(items) > 2 * self.SHOWN + 1:
            items = [*items[: self.SHOWN], "...", *items[-self.SHOWN :]]
        return f"StateDict({len(self)} parameters: {{{', '.join(items)}}})"


class _DuplicateName(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict:
    """json's object hook: a name given twice means a damaged or hand-edited file."""
    document = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateName(f"the name {_quote(key)} appears twice")
        document[key] = value
    return document


def finite_number(x: object, what: str) -> float:
    """x as a float if it is a finite real number (not a bool); else a ValueError naming `what`.

    The one check for numbers that become parameters (explicit weights, a loaded state_dict).
    """
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{what} must be a real number, got {type(x).__name__}: {_quote(x)}")
    try:
        number = float(x)
    except OverflowError:  # an int beyond the float range, e.g. 10**400
        raise ValueError(
            f"{what} must be a finite real number, got an integer too large for a float"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"{what} is {number}: parameters must be finite")
    return number


def _mismatch(missing: list[str], unexpected: list[str], given: int) -> str:
    parts = [f"{given} entries given"]
    if missing:
        parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        shown = ", ".join(_quote(name) for name in unexpected[:3])  # names from the file
        parts.append(f"{len(unexpected)} unexpected (e.g. {shown})")
    return "; ".join(parts)


def _quote(x: object, limit: int = 80) -> str:
    """x as repr (control characters escaped), cut to about limit characters (for errors)."""
    text = repr(x)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def _saved_number(name: str, x: object) -> float:
    """A parameter's .data as the float save() writes (a numpy scalar is saved as its number)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"cannot save: parameter {name!r} holds {type(x).__name__} {_quote(x, 40)}, "
            "not a number (set its .data to a float)"
        )
    try:
        return float(x)  # float64 holds every float32 exactly, so nothing is rounded
    except OverflowError:
        raise ValueError(
            f"cannot save: parameter {name!r} is an integer too large for a float"
        ) from None
