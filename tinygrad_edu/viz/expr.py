"""Turn a small formula typed by a student into a Tensor graph, safely.

``edu graph --expr "(a*b + c).tanh()" --value a=2 --value b=-3 --value c=10`` must not run
arbitrary Python, so the text is never passed to ``eval``. ``ast.parse`` turns it into a
syntax tree, and a small interpreter walks the tree, accepting only an allow-list:

    names given a value           a, b, w          (leaves with requires_grad=True)
    numbers                       2, -3.5, 1e-3    (constants)
    operators                     + - * / ** @ and unary minus
    calls of Tensor methods       x.tanh(), x.sum(axis=0), x.clip(-1, 1), ...
    naming a step                 e = a*b; d = e + c; L = d * f

Anything else (``__import__('os')``, ``x.__class__``, lambdas, comprehensions, strings,
subscripts, unknown names or methods) is an ``ExpressionError`` with a one-line message.

It is bounded, so that no formula can hang the program or fill the memory: at most
MAX_LENGTH (1000) characters, at most MAX_PARTS (500) parts (names, numbers, operators,
calls), and no value or result with more than MAX_ELEMENTS (1,000,000) numbers, checked
before each operation that could grow one (``a.reshape(-1, 1) * a`` squares the size).
"""
from __future__ import annotations

import ast
import keyword
import math
import operator
from typing import Mapping

import numpy as np

from ..tensor import Tensor

__all__ = ["parse_expression", "ExpressionError", "METHODS", "MAX_LENGTH", "MAX_PARTS", "MAX_ELEMENTS"]

MAX_LENGTH = 1000          # characters of an expression
MAX_PARTS = 500            # names, numbers, operators, calls and attributes (expression nodes of the syntax tree)
MAX_ELEMENTS = 1_000_000   # numbers in any one value or intermediate result (8 MB as float64)


class ExpressionError(ValueError):
    """An expression that is not allowed or cannot be parsed."""


METHODS = ("tanh", "relu", "sigmoid", "exp", "log", "sqrt", "abs", "clip", "sum", "mean", "max",
           "softmax", "log_softmax", "reshape", "transpose")
_ATTRIBUTES = ("T",)
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow, ast.MatMult: operator.matmul}
_BINOP_SYMBOLS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow, "@": ast.MatMult}
_SYMBOLS = {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
            ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~"}
_ALLOWED = "allowed: names, numbers, + - * / ** @, unary minus and Tensor methods such as .tanh()"
_FRIENDLY = {"Lambda": "a lambda", "ListComp": "a list comprehension", "SetComp": "a set comprehension",
             "DictComp": "a dict comprehension", "GeneratorExp": "a generator expression",
             "Subscript": "indexing with [ ]", "Compare": "a comparison", "BoolOp": "and/or",
             "IfExp": "an if-expression", "JoinedStr": "an f-string", "NamedExpr": "the := operator",
             "Import": "import", "ImportFrom": "import", "AugAssign": "an augmented assignment (+=)",
             "Starred": "unpacking with *", "Await": "await", "Yield": "yield", "List": "a list",
             "Tuple": "a tuple", "Dict": "a dict", "Set": "a set", "Slice": "a slice", "Name": "a name",
             "BinOp": "arithmetic", "Call": "a call", "Attribute": "an attribute"}


def _describe(node: ast.AST) -> str:
    name = type(node).__name__
    return _FRIENDLY.get(name, f"a {name} statement" if isinstance(node, ast.stmt) else f"'{name}'")


def parse_expression(text: str, values: Mapping[str, object], *, allow_unused: bool = True,
                     max_elements: int = MAX_ELEMENTS) -> Tensor:
    """Build the Tensor graph of `text`; return its root (the value of the last line).

    Every name in `values` becomes a leaf ``Tensor(value, requires_grad=True, name=name)``
    (a number or an array); a name used twice is the same leaf. Steps can be named with
    assignments separated by ``;`` or newlines, and the named tensors carry that name in
    drawings: ``"e = a*b; d = e + c; L = d * f"``. With ``allow_unused=False`` a value the
    expression never uses is an error (it is usually a typo). Longer than MAX_LENGTH
    characters, more than MAX_PARTS parts, or a value or result of more than `max_elements`
    numbers: an ExpressionError, raised before the work is done.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_expression: expected the expression as a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long, more than the limit of {MAX_LENGTH}; "
                              f"draw a smaller formula")
    env: dict = {}
    for name, value in values.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ExpressionError(f"invalid variable name {name!r}: use letters, digits and _, "
                                  f"starting with a letter")
        size = np.size(value)
        if size > max_elements:
            raise ExpressionError(f"value of {name!r} has {size:,} numbers, more than the limit of {max_elements:,}; "
                                  f"use a smaller value")
        try:
            env[name] = Tensor(value, requires_grad=True, name=name)
        except TypeError as exc:
            raise ExpressionError(f"value of {name!r}: {exc}") from None
    try:
        tree = ast.parse(text.strip(), mode="exec")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {text.strip()!r}: {exc.msg} (column {exc.offset})") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("expression is nested too deeply; simplify it") from None
    if not tree.body:
        raise ExpressionError("the expression is empty; write one such as (a*b + c).tanh()")
    parts = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
    if parts > MAX_PARTS:
        raise ExpressionError(f"expression has {parts} parts (names, numbers, operators, calls), more than the limit "
                              f"of {MAX_PARTS}; draw a smaller formula")

    interpreter = _Interpreter(env, max_elements)
    root = None
    try:
        for i, stmt in enumerate(tree.body):
            root = interpreter.statement(stmt, last=i == len(tree.body) - 1)
    except RecursionError:
        raise ExpressionError("expression is nested too deeply; simplify it") from None
    if not allow_unused:
        unused = [name for name in values if name not in interpreter.used]
        if unused:
            raise ExpressionError(f"values given for names the expression does not use: {', '.join(unused)}; "
                                  f"remove them or check the spelling")
    return root


class _Interpreter:
    """Evaluates an allow-listed syntax tree to Tensors; everything else raises ExpressionError."""

    def __init__(self, env: dict, max_elements: int = MAX_ELEMENTS):
        self.env = env          # name -> Tensor: the values, then the named steps
        self.used: set = set()  # names read so far
        self.max_elements = max_elements

    def statement(self, stmt: ast.stmt, last: bool) -> Tensor:
        if isinstance(stmt, ast.Expr):
            if not last:
                raise ExpressionError("only the last line may be a bare expression; name the others, e.g. e = a*b")
            return self.eval(stmt.value)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            if name.startswith("_"):
                raise ExpressionError(f"name {name!r} is not allowed: names starting with _ are reserved")
            if name in self.env:
                raise ExpressionError(f"name {name!r} is already defined; give this step a new name")
            value = self.eval(stmt.value)
            if value.name is None:
                value.name = name
            self.env[name] = value
            return value
        if isinstance(stmt, ast.Assign):
            raise ExpressionError("assign to a single name only, e.g. e = a*b")
        raise ExpressionError(f"{_describe(stmt)} is not allowed in an expression; {_ALLOWED}")

    def eval(self, node: ast.AST) -> Tensor:
        if isinstance(node, ast.Constant):
            return Tensor(self.number(node))
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ExpressionError(f"name {node.id!r} is not allowed: names starting with _ are reserved")
            if node.id not in self.env:
                known = ", ".join(self.env) or "none"
                raise ExpressionError(f"unknown name {node.id!r}; give it a value (known names: {known})")
            self.used.add(node.id)
            return self.env[node.id]
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise ExpressionError(f"operator {_SYMBOLS.get(type(node.op), type(node.op).__name__)} is not "
                                      f"allowed; use + - * / ** @")
            left, right = self.eval(node.left), self.eval(node.right)
            self.check_size(left, right, node.op)
            return op(left, right)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.eval(node.operand)
            if isinstance(node.op, ast.UAdd):
                return self.eval(node.operand)
            raise ExpressionError(f"operator {_SYMBOLS.get(type(node.op), '?')} is not allowed; use + - * / ** @")
        if isinstance(node, ast.Attribute):
            obj = self.eval(node.value)  # first, so that errors are reported left to right
            self.check_attribute(node.attr)
            if node.attr in _ATTRIBUTES:
                return getattr(obj, node.attr)
            raise ExpressionError(f".{node.attr} is a method: call it, e.g. x.{node.attr}()")
        if isinstance(node, ast.Call):
            return self.call(node)
        raise ExpressionError(f"{_describe(node)} is not allowed in an expression; {_ALLOWED}")

    def check_size(self, left: Tensor, right: Tensor, op: ast.operator) -> None:
        """Refuse, before computing it, a result with more than max_elements numbers (broadcasting can square sizes)."""
        try:
            if isinstance(op, ast.MatMult):
                shape = _matmul_shape(left.shape, right.shape)
            else:
                shape = np.broadcast_shapes(left.shape, right.shape)
        except ValueError:
            return              # shapes that do not fit: the op itself says so, naming both
        size = math.prod(shape)
        if size > self.max_elements:
            symbol = next(k for k, v in _BINOP_SYMBOLS.items() if isinstance(op, v))
            raise ExpressionError(f"{left.shape} {symbol} {right.shape} would have shape {tuple(shape)}: {size:,} "
                                  f"numbers, more than the limit of {self.max_elements:,}; use smaller values")

    @staticmethod
    def check_attribute(attr: str) -> None:
        if attr.startswith("_"):
            raise ExpressionError(f"attribute {attr!r} is not allowed: names starting with _ are private")
        if attr not in METHODS and attr not in _ATTRIBUTES:
            raise ExpressionError(f"unknown method .{attr}(); allowed: {', '.join(METHODS)} and .T")

    def call(self, node: ast.Call) -> Tensor:
        if not isinstance(node.func, ast.Attribute):
            if isinstance(node.func, ast.Name) and node.func.id.startswith("_"):
                raise ExpressionError(f"name {node.func.id!r} is not allowed: names starting with _ are reserved")
            if not isinstance(node.func, ast.Name):
                raise ExpressionError(f"{_describe(node.func)} is not allowed in an expression; {_ALLOWED}")
            raise ExpressionError(f"calling {node.func.id}(...) is not allowed; call Tensor methods on a value, "
                                  f"e.g. (a*b).tanh()")
        obj = self.eval(node.func.value)
        method = node.func.attr
        self.check_attribute(method)
        if method in _ATTRIBUTES:
            raise ExpressionError(f".{method} is not a method; write x.{method} without ()")
        args = [self.literal(a, method) for a in node.args]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise ExpressionError(f".{method}(): unpacking with ** is not allowed")
            kwargs[kw.arg] = self.literal(kw.value, method)
        try:
            return getattr(obj, method)(*args, **kwargs)
        except TypeError as exc:
            raise ExpressionError(f".{method}(): {exc}") from None

    def number(self, node: ast.Constant) -> float:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExpressionError(f"the constant {v!r} is not allowed; only numbers are")
        try:
            return float(v)
        except OverflowError:
            raise ExpressionError("a number in the expression is too large for a float (above 1.8e308)") from None

    def literal(self, node: ast.AST, method: str):
        """An argument of a method call: a number, True/False/None, or a tuple of them (axis=(0, 1))."""
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float))):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
                and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
            return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self.literal(e, method) for e in node.elts)
        raise ExpressionError(f".{method}(): arguments must be numbers or tuples of numbers (e.g. axis=0), "
                              f"not {_describe(node)}")


def _matmul_shape(a: tuple, b: tuple) -> tuple:
    """The shape of a @ b by NumPy's rules (1-D operands are promoted, then dropped); ValueError if they do not fit."""
    if not a or not b:
        raise ValueError("matmul of a scalar")
    a2, b2 = (1,) + a if len(a) == 1 else a, b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError("inner dimensions differ")
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    return tuple(batch) + ((a2[-2],) if len(a) > 1 else ()) + ((b2[-1],) if len(b) > 1 else ())
