"""models.py lists every table of every feature: Alembic's autogenerate and the test schema
see only what it imports, so a model left out of it would be a table no migration creates."""

import importlib
import pkgutil

from {{ cookiecutter.package_name }} import features, models


def test_every_feature_model_is_registered_in_models_py() -> None:
    for feature in pkgutil.iter_modules(features.__path__):
        if importlib.util.find_spec(f"{features.__name__}.{feature.name}.models"):
            importlib.import_module(f"{features.__name__}.{feature.name}.models")
    registered = {
        table.name
        for name in models.__all__
        if (table := getattr(getattr(models, name), "__table__", None)) is not None
    }

    assert registered == set(models.Base.metadata.tables)
