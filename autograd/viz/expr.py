"""Safe arithmetic expressions for ``chainrule draw``: parsed with ``ast``, checked, then built.

Only a whitelist is accepted: numbers, input names, ``+ - * / **``, unary minus (and plus) and
calls of the functions in ``FUNCTIONS``: every primitive that is a ``Value`` method, read from
the primitive table (so one defined with ``autograd.define_primitive`` is callable too).  The
whole tree is checked before anything is evaluated, so attribute access, ``__import__``,
lambdas, comprehensions, subscripts, strings, keywords, over-long or deeply nested input are
refused with an ``ExpressionError`` and nothing runs.  A valid expression is built from
``Value`` operations only (numbers become ``Constant`` leaves), so it is computed by the engine
and can be drawn and differentiated.

Arithmetic on numbers alone is folded into one number by the engine's own forward rules, so
``x**-2`` and ``x**(1/2)`` have a number exponent (micrograd's power rule, as ``x**-2`` in
Python) rather than a ``neg`` or ``div`` node as exponent.  Nesting is counted in levels of
parentheses, calls and unary signs: a long flat chain such as ``x + x + ... + x`` or
``a * b / c * d`` is one level, and is built in a loop, not by recursion.
"""

from __future__ import annotations

import ast
import inspect
import math
import unicodedata
from collections.abc import Callable, Iterator, Mapping

from ..primitives import PRIMITIVES
from ..value import Constant, Value

MAX_LENGTH = 2000  # characters
MAX_DEPTH = 60  # levels of nesting (a flat chain a + b - c + ... is one level)
MAX_NODES = 1000  # syntax-tree nodes


class _Functions(Mapping):
    """name -> (allowed argument counts, Value method): every primitive that is a method of
    Value, in table order.  Read from ``PRIMITIVES`` on every use.  Arguments after the first
    are plain numbers (leaky_relu's optional slope)."""

    def _methods(self) -> dict[str, Callable]:
        found = {}
        for name in PRIMITIVES:
            method = getattr(Value, name, None)
            if callable(method):
                found[name] = method
        return found

    def __getitem__(self, name: str) -> tuple[tuple[int, ...], Callable]:
        method = self._methods()[name]
        params = list(inspect.signature(method).parameters.values())[1:]  # after self
        required = sum(p.default is inspect.Parameter.empty for p in params)
        return tuple(range(1 + required, 2 + len(params))), method

    def __iter__(self) -> Iterator[str]:
        return iter(self._methods())

    def __len__(self) -> int:
        return len(self._methods())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in PRIMITIVES and callable(getattr(Value, name, None))


FUNCTIONS: Mapping[str, tuple[tuple[int, ...], Callable]] = _Functions()
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
# operators that chain left to right at one level of nesting: a + b - c, a * b / c
_CHAINS = {ast.Add: "+", ast.Sub: "+", ast.Mult: "*", ast.Div: "*"}

# what a refused construct is called in the error message
_REFUSED = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscripts (a[b])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignment (:=)",
    ast.Starred: "*args",
    ast.JoinedStr: "f-strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


class ExpressionError(ValueError):
    """The expression or its inputs are not accepted (the message says why)."""


def parse(text: str) -> ast.Expression:
    """Parse and check text; ExpressionError for anything outside the whitelist."""
    if not isinstance(text, str):
        raise ExpressionError("the expression must be a string")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(text)} > {MAX_LENGTH} characters)")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    try:
        text = text.strip()
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is too deeply nested") from None
    _check(tree, text)
    _check_spelling(tree, text)
    return tree


def _check_spelling(tree: ast.Expression, source: str) -> None:
    """Refuse a name Python's parser changed: it NFKC-normalises identifiers, so a fullwidth
    ``ｘ`` (or ``ℌ``, ``ﬁ``) would silently be read as the input ``x`` (``H``, ``fi``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            written = ast.get_source_segment(source, node)
            if written is not None and written != node.id:
                raise ExpressionError(
                    f"the name {written} ({_code_points(written)}) would be read as "
                    f"{node.id}: type {node.id} if you mean it"
                )


def _check(tree: ast.Expression, text: str) -> None:
    """Walk the tree with an explicit stack (depth and size bounded) and refuse what isn't allowed.

    Each call, unary sign and operand adds a level of nesting, except the left operand of a
    chain of + and - (or of * and /): ``x + x + ... + x`` is as deep as ``x + x``.
    """
    stack = [(tree.body, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested too deeply (over {MAX_DEPTH} levels)")
        if count > MAX_NODES:
            raise ExpressionError(f"the expression is too large (over {MAX_NODES} parts)")
        children: list[ast.AST] = []
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExpressionError(f"only numbers are allowed as literals, not {node.value!r}")
            if not _finite_float(node.value):  # 1e999 reads as inf: refused, as x=inf is
                literal = ast.get_source_segment(text, node) or ""
                literal = literal if len(literal) <= 20 else literal[:17] + "..."
                raise ExpressionError(
                    f"the number {literal} is too large for a float; numbers must be finite"
                )
        elif isinstance(node, ast.Name):
            _check_name(node.id)
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id} is a function: call it, as in {node.id}(x)")
        elif isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.BitXor):  # how a power is typed elsewhere; Python: xor
                raise ExpressionError(
                    "^ is not allowed (Python reads it as xor): for a power write x**2"
                )
            if type(node.op) not in _OPERATORS:
                raise ExpressionError(
                    f"operator {type(node.op).__name__} is not allowed; use + - * / **"
                )
            stack.append((node.left, depth if _same_chain(node, node.left) else depth + 1))
            children = [node.right]
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise ExpressionError(f"unary {type(node.op).__name__} is not allowed; only -x")
            children = [node.operand]
        elif isinstance(node, ast.Call):
            children = _check_call(node)
        else:
            what = _REFUSED.get(type(node), type(node).__name__)
            raise ExpressionError(f"not allowed in an expression: {what}")
        stack.extend((child, depth + 1) for child in children)


def _same_chain(node: ast.BinOp, left: ast.AST) -> bool:
    """Whether left continues node's chain of + and - (or * and /) at the same level."""
    chain = _CHAINS.get(type(node.op))
    return chain is not None and isinstance(left, ast.BinOp) and _CHAINS.get(type(left.op)) == chain


def _code_points(name: str) -> str:
    """``U+FF58 FULLWIDTH LATIN SMALL LETTER X`` for each non-ASCII character of name."""
    return ", ".join(
        f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed character')}"
        for c in name
        if not c.isascii()
    )


def _shown(name: str) -> str:
    """name, with its non-ASCII characters spelled out (a Cyrillic х looks like a Latin x)."""
    return name if name.isascii() else f"{name} ({_code_points(name)})"


def _check_name(name: str) -> None:
    if name.startswith("_"):
        raise ExpressionError(f"names starting with _ are not allowed: {name}")


def _check_call(node: ast.Call) -> list[ast.AST]:
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("only the known functions can be called, by name: " + _known())
    name = node.func.id
    _check_name(name)
    if name not in FUNCTIONS:
        raise ExpressionError(f"unknown function {name}; known: {_known()}")
    if node.keywords:
        raise ExpressionError(f"{name}() takes no keyword arguments")
    allowed = FUNCTIONS[name][0]
    if len(node.args) not in allowed:
        counts = " or ".join(map(str, allowed))
        raise ExpressionError(f"{name}() takes {counts} argument(s), got {len(node.args)}")
    method = FUNCTIONS[name][1]
    parameters = list(inspect.signature(method).parameters)[1:]  # after self: numbers
    for parameter, arg in zip(parameters, node.args[1:], strict=False):  # defaults: fewer args
        if not _is_number(arg):
            raise ExpressionError(f"{name}'s {parameter} must be a number, as in {name}(x, 0.1)")
    return list(node.args)


def _finite_float(number: int | float) -> bool:
    """Whether the literal is a finite float (an int too large for one is not)."""
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _known() -> str:
    return ", ".join(FUNCTIONS)


def names(tree: ast.Expression) -> list[str]:
    """The input names the expression uses, in order of first appearance."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    first: dict[str, tuple[int, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called:
            where = (node.lineno, node.col_offset)
            first[node.id] = min(first.get(node.id, where), where)
    return sorted(first, key=first.__getitem__)


def parse_inputs(assignments: list[str]) -> dict[str, float]:
    """``["x=2", "w=-3"]`` -> {"x": 2.0, "w": -3.0}; ExpressionError naming a bad one."""
    values: dict[str, float] = {}
    for item in assignments:
        name, sep, number = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ExpressionError(f"inputs look like name=number, got {item!r}")
        if unicodedata.normalize("NFKC", name) != name:  # Python would read it differently
            normal = unicodedata.normalize("NFKC", name)
            raise ExpressionError(
                f"input name {name} ({_code_points(name)}) would be read as {normal} in the "
                f"expression: call it {normal}"
            )
        _check_name(name)
        if name in FUNCTIONS:
            raise ExpressionError(f"{name} is a function name, not an input")
        if name in values:
            raise ExpressionError(f"input {name} is given twice")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"input {name}: {number!r} is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"input {name} must be a finite number, got {number!r}")
        values[name] = value
    return values


def build(text: str, inputs: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """The expression as a Value graph over labelled input Values: (result, {name: input})."""
    tree = parse(text)
    used = names(tree)
    missing = [n for n in used if n not in inputs]
    extra = [n for n in inputs if n not in used]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing input value(s): {', '.join(map(_shown, missing))}")
        if extra:
            parts.append(f"input(s) not in the expression: {', '.join(map(_shown, extra))}")
        raise ExpressionError("; ".join(parts))
    leaves = {n: Value(inputs[n], label=n) for n in used}
    return _evaluate(tree.body, leaves), leaves


def from_command_line(text: str, assignments: list[str]) -> tuple[Value, dict[str, Value]]:
    """build() from a command's EXPR and NAME=VALUE words; every problem, the engine's domain
    errors included ("cannot evaluate: log(x=-1.0): ..."), is an ExpressionError to print."""
    try:
        return build(text, parse_inputs(assignments))
    except ExpressionError:
        raise
    except (ValueError, ZeroDivisionError, OverflowError) as exc:  # the engine's domain errors
        raise ExpressionError(f"cannot evaluate: {exc}") from None


def _evaluate(node: ast.AST, leaves: dict[str, Value]) -> Value:
    """The checked tree as Values.

    Recursion goes one call deeper per level of nesting only (bounded by MAX_DEPTH): a chain of
    operators, however long, is built in a loop along its left operands.
    """
    chain = []
    while isinstance(node, ast.BinOp):
        chain.append(node)
        node = node.left
    value = _evaluate_operand(node, leaves)
    for binop in reversed(chain):
        value = _binary(binop.op, value, _evaluate(binop.right, leaves))
    return value


def _evaluate_operand(node: ast.AST, leaves: dict[str, Value]) -> Value:
    """A number, an input, a signed operand or a call (anything but a binary operator)."""
    if isinstance(node, ast.Constant):
        return Constant(float(node.value))
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, leaves)
        if isinstance(node.op, ast.UAdd):
            return operand
        return Constant(-operand.data) if isinstance(operand, Constant) else -operand
    if isinstance(node, ast.Call):
        fn = FUNCTIONS[node.func.id][1]
        args = [_evaluate(arg, leaves) for arg in node.args]
        # arguments after the first are plain numbers (checked by _check_call)
        return fn(args[0], *(arg.data for arg in args[1:]))
    raise ExpressionError(f"{type(node).__name__} is not allowed")  # unreachable after _check


def _binary(op: ast.operator, a: Value, b: Value) -> Value:
    """a op b; numbers alone give a number (a Constant), computed by the engine's forward rule."""
    if type(op) is ast.Pow and isinstance(b, Constant):
        result = a**b.data  # x ** n: the exponent stays a number (micrograd's x**2)
    else:
        result = {
            ast.Add: lambda: a + b,
            ast.Sub: lambda: a - b,
            ast.Mult: lambda: a * b,
            ast.Div: lambda: a / b,
            ast.Pow: lambda: a**b,
        }[type(op)]()
    if isinstance(a, Constant) and isinstance(b, Constant):
        return Constant(result.data)
    return result
