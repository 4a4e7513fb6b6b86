"""Jinja filters that render free text (project name, description, author) safely.

Cookiecutter imports this module because ``cookiecutter.json`` lists its filters in ``_extensions``.
"""

import json
import re

from cookiecutter.utils import simple_filter

_C1_AND_DEL = re.compile("[\x7f-\x9f]")


@simple_filter
def quoted(value: object) -> str:
    """Render *value* as a double-quoted string literal, valid in TOML, YAML, JSON and Python.

    ``json.dumps(ensure_ascii=False)`` escapes quotes, backslashes and control characters as
    ``\\uXXXX`` (never surrogates, which TOML rejects); DEL and the C1 controls, which it keeps raw
    and YAML forbids, are escaped here the same way.
    """
    dumped = json.dumps(str(value), ensure_ascii=False)
    return _C1_AND_DEL.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)
