"""Jinja filters of the template: free text rendered safely, and the answers checked.

``cookiecutter.json`` lists them in ``_extensions`` as ``local_extensions.<name>``; that module
loads this file afresh for each one (see its docstring for why).
"""

import importlib.util
import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from cookiecutter.exceptions import FailedHookException
from cookiecutter.utils import simple_filter

_C1_AND_DEL = re.compile("[\x7f-\x9f]")
# The baked project's line length.
PYTHON_LINE_LENGTH = 100


@simple_filter
def quoted(value: object) -> str:
    """Render *value* as a double-quoted string literal, valid in TOML, YAML and JSON.

    ``json.dumps(ensure_ascii=False)`` escapes quotes, backslashes and control characters as
    ``\\uXXXX`` (never surrogates, which TOML rejects); DEL and the C1 controls, which it keeps raw
    and YAML forbids, are escaped here the same way.
    """
    dumped = json.dumps(str(value), ensure_ascii=False)
    return _C1_AND_DEL.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)


def _python_escape(character: str) -> str:
    """One character as it reads in a Python literal that the baked ruff leaves alone.

    Everything outside printable ASCII is escaped: ruff flags characters that look like ASCII
    ones (curly quotes, dashes, no-break spaces, letters of another script inside a word) and
    bidirectional controls, and which ones it flags depends on the whole word.
    """
    code = ord(character)
    if character == "\\":
        return "\\\\"
    if 0x20 <= code < 0x7F:
        return character
    if character in "\t\n\r":
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}[character]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _python_literal(escaped: str) -> str:
    """Quote already-escaped text as ruff format would: double quotes unless the text holds
    more double quotes than single ones."""
    quote = "'" if escaped.count('"') > escaped.count("'") else '"'
    return quote + escaped.replace(quote, "\\" + quote) + quote


@simple_filter
def python_string(value: object, indent: int = 4, prefix: str = "") -> str:
    """Render *value* as a Python string expression that ``ruff format --check`` and
    ``ruff check`` accept as written, whatever the text.

    *prefix* is what precedes the expression on its line (``app_name: str = ``) and *indent*
    that line's indent: a literal too long for the line is split into parenthesised parts,
    one per line, as ruff format keeps them.
    """
    escaped = [_python_escape(character) for character in str(value)]
    whole = _python_literal("".join(escaped))
    if indent + len(prefix) + len(whole) <= PYTHON_LINE_LENGTH:
        return whole
    inner = " " * (indent + 4)
    parts: list[str] = [""]
    for piece in escaped:
        if parts[-1] and len(inner) + len(_python_literal(parts[-1] + piece)) > PYTHON_LINE_LENGTH:
            parts.append("")
        parts[-1] += piece
    lines = "".join(f"{inner}{_python_literal(part)}\n" for part in parts)
    return f"(\n{lines}{' ' * indent})"


def _pre_gen_hook() -> ModuleType:
    """The pre-gen hook of this checkout, by path: its rules are the one implementation."""
    path = Path(__file__).resolve().parent / "hooks" / "pre_gen_project.py"
    spec = importlib.util.spec_from_file_location("pre_gen_project", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@simple_filter
def refuse_bad_answers(answers: Mapping[str, object]) -> str:
    """Stop the bake on the first bad answer, before anything is written.

    cookiecutter renders the ``__answers_checked`` variable after every answer is known and
    before it creates the project directory; ``FailedHookException`` is an error its command
    line reports as one line, without a traceback.
    """
    found = _pre_gen_hook().problems(dict(answers))
    if found:
        raise FailedHookException(f"ERROR: {found[0]}")
    return "yes"
