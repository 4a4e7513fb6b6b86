"""The module ``cookiecutter.json``'s ``_extensions`` name: each filter it asks for is read
afresh from ``template_filters.py`` beside this file.

Why not define them here: ``cruft update`` renders the template at two commits in one process,
from one directory whose checkout it switches. Python keeps the first import of a module, so
filters defined here would be the old commit's when the new one renders (a filter added since
is missing, a changed one renders the old way). A module ``__getattr__`` reads the file as it
is now each time.
"""

import importlib.util
from pathlib import Path
from typing import Any

FILTERS = Path(__file__).resolve().with_name("template_filters.py")


def __getattr__(name: str) -> Any:
    spec = importlib.util.spec_from_file_location("template_filters", FILTERS)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {FILTERS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)
