"""Which of a baked project's tests carry the ``error_path`` marker without earning it.

The share of error-path tests (at least 40 %) is counted by the marker, so the marker must mean
something: a marked test drives the code into a failure and asserts how the failure is handled.
It earns the marker, in its own body or through a helper in ``tests/`` that it calls, with one of

- ``pytest.raises``, or an assertion that names an exception type (``...Error``, ``...Exception``);
- an assertion on an error value: an HTTP status from 400 to 599, a WebSocket close code other
  than 1000 (1001-1015, 3000-4999), as a literal, a ``status``/``HTTPStatus`` name, or a test
  module's constant bound to one, or its text (``"404"``, as a metric's label); the error
  envelope's (or an error frame's) ``"error"``; a non-zero exit code;
- a fault the test injects and then asserts the outcome of: a link cut or stalled
  (``TcpProxy.cut``/``stall``), a service address nothing answers on (``UNREACHABLE_...``), a
  database connection terminated, a task cancelled, a transaction rolled back, a stand-in that
  raises.

Anything else (a sanitiser's output, a header that is absent) is a fine test, but not an error
path: leave it unmarked.
"""

import ast
import functools
import re
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

MARKER = "error_path"
# Calls that inject a fault: a link cut or stalled, a connection aborted, a task cancelled, a
# transaction rolled back.
FAULTS = frozenset({"cut", "cut_off", "stall", "abort", "cancel", "rollback", "kill"})
# Names and SQL that inject one: a service address nothing answers on, a connection terminated.
FAULT_TEXT = re.compile(r"\bUNREACHABLE_\w+|pg_terminate_backend")
EXCEPTION_NAME = re.compile(r"\w+(Error|Exception|Exit|Timeout|Closed)\b")
ERROR_STATUS_TEXT = re.compile(r"^[45]\d\d$")  # a status as a metric label gives it
NON_ZERO_EXIT = re.compile(
    r"returncode\s*(!=\s*0|==\s*[1-9A-Z])|exit_code\s*(!=\s*0|==\s*[1-9A-Z])"
)


def is_error_code(value: object) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (400 <= value <= 599 or 1001 <= value <= 1015 or 3000 <= value <= 4999)
    )


type Function = ast.FunctionDef | ast.AsyncFunctionDef


class ErrorPathAudit:
    """The test modules under *root*: the functions and constants they define, and which of the
    tests marked as error paths earn the marker.

    Most test files are the same text in every variant, so their trees are shared (``_parsed``)
    and what is worked out from one tree or function alone is kept with it: the audit of a
    second variant reads only the files that differ."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules = {path: _parsed(path.read_text()) for path in sorted(root.rglob("*.py"))}
        self.functions: dict[str, list[Function]] = {}
        constants = {"INVALID_SETTINGS_EXIT_CODE"}
        for tree in self.modules.values():
            functions, error_constants = _defined(tree)
            for function in functions:
                self.functions.setdefault(function.name, []).append(function)
            constants |= error_constants
        self.error_constants = frozenset(constants)
        self._earning = self._helpers_that_earn()

    def marked_tests(self) -> Iterator[tuple[Path, Function]]:
        for path, tree in self.modules.items():
            if path.name.startswith("test_"):
                yield from ((path, test) for test in _marked(tree))

    def unearned(self) -> list[str]:
        """``path::test`` of every marked test that earns its marker in none of the ways above."""
        return [
            f"{path.relative_to(self.root)}::{test.name}"
            for path, test in self.marked_tests()
            if not (_earns(test, self.error_constants) or _calls(test) & self._earning)
        ]

    def _helpers_that_earn(self) -> set[str]:
        helpers = {
            name: functions
            for name, functions in self.functions.items()
            if not name.startswith("test_")
        }
        earning = {
            name
            for name, functions in helpers.items()
            if any(_earns(f, self.error_constants) for f in functions)
        }
        while True:  # a helper that calls one that earns earns too
            more = {
                name
                for name, functions in helpers.items()
                if name not in earning and any(_calls(f) & earning for f in functions)
            }
            if not more:
                return earning
            earning |= more


@functools.cache
def _defined(tree: ast.Module) -> tuple[tuple[Function, ...], frozenset[str]]:
    """The functions a module defines, nested ones included, and its module constants bound to
    an error code."""
    functions = tuple(
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )
    constants = frozenset(
        target.id
        for statement in tree.body
        if isinstance(statement, ast.Assign)
        and isinstance(statement.value, ast.Constant)
        and is_error_code(statement.value.value)
        for target in statement.targets
        if isinstance(target, ast.Name)
    )
    return functions, constants


@functools.cache
def _marked(tree: ast.Module) -> tuple[Function, ...]:
    """The module's tests that carry the marker, on themselves or through ``pytestmark``."""
    module_marked = any(
        isinstance(statement, ast.Assign)
        and any(getattr(target, "id", None) == "pytestmark" for target in statement.targets)
        and MARKER in ast.unparse(statement.value)
        for statement in tree.body
    )
    return tuple(
        function
        for function in _defined(tree)[0]
        if function.name.startswith("test_")
        and (module_marked or any(MARKER in ast.unparse(d) for d in function.decorator_list))
    )


@functools.cache
def _earns(function: Function, error_constants: frozenset[str]) -> bool:
    if FAULT_TEXT.search(ast.unparse(function)):
        return True
    for node in ast.walk(function):
        if isinstance(node, ast.Assert) and _names_an_error(node.test, error_constants):
            return True
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called == "raises" or called in FAULTS:
                return True
            if called.startswith(("assert", "expect")) and any(
                _names_an_error(argument, error_constants) for argument in node.args
            ):
                return True
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node is not function
            and any(isinstance(inner, ast.Raise) for inner in ast.walk(node))
        ):
            return True  # a stand-in that raises
    return False


def _names_an_error(expression: ast.expr, error_constants: frozenset[str]) -> bool:
    for node in ast.walk(expression):
        if isinstance(node, ast.Constant) and (
            is_error_code(node.value)
            or node.value == "error"
            or ERROR_STATUS_TEXT.match(str(node.value))
        ):
            return True  # a status or close code (or its text), the envelope's "error"
        if isinstance(node, ast.Name) and node.id in error_constants:
            return True
        if isinstance(node, ast.Attribute):
            owner = ast.unparse(node.value)
            if owner == "HTTPStatus" and is_error_code(HTTPStatus[node.attr].value):
                return True
            if owner == "status" and re.fullmatch(
                r"(HTTP_[45]\d\d|WS_1(00[1-9]|01\d))_\w+", node.attr
            ):
                return True
    text = ast.unparse(expression)
    return bool(EXCEPTION_NAME.search(text) or NON_ZERO_EXIT.search(text))


@functools.cache
def _calls(function: Function) -> frozenset[str]:
    return frozenset(_name(node.func) for node in ast.walk(function) if isinstance(node, ast.Call))


@functools.cache
def _parsed(source: str) -> ast.Module:
    """A module's tree, parsed once per text: most test files are the same in every variant
    (the audit only reads the trees)."""
    return ast.parse(source)


def _name(function: ast.expr) -> str:
    return function.attr if isinstance(function, ast.Attribute) else ast.unparse(function)
