"""Property-based tests of every operation, generated from the service's own OpenAPI schema.

Schemathesis sends valid and invalid data to each operation, authenticated with a real admin
token, and checks every response: no server error, the documented status codes and response
schemas, invalid data rejected, and a 401 when the credentials are left out.
"""

import asyncio
import copy
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import create_async_engine

from {{ cookiecutter.package_name }}.config import Environment, Settings
from {{ cookiecutter.package_name }}.core.security import TokenCodec, TokenType
from {{ cookiecutter.package_name }}.features.users.models import Role, User
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.models import Base

from ..support import TEST_JWT_SECRET

# The schema depends on the code only, so an app that is never started can describe it.
schema = schemathesis.openapi.from_dict(
    create_app(
        Settings(
            _env_file=None, environment=Environment.TEST, jwt_secret=SecretStr(TEST_JWT_SECRET)
        )
    ).openapi()
)


@pytest.fixture
def served_app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    """An app whose lifespan schemathesis runs, on the event loop of its own test client.

    Schemathesis's own email generator is kept: it builds addresses of the lengths the coverage
    phase asks for, where a custom one is drawn again and again until one fits, which is slow.
    It draws addresses at ``.test``, a special-use domain this app accepts as a deployment may;
    the refusal of the others is tested in tests/e2e/test_auth_api.py.
    """
    yield create_app(make_settings(email_special_use_domains=["test"]))
    asgi.shutdown_lifespans()


@pytest.fixture
def admin_token(settings: Settings, admin: User) -> str:
    token, _ = TokenCodec(settings).issue(admin.id, TokenType.ACCESS)
    return token


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    # The same examples on every run: CI stays reproducible (raise max_examples to explore).
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_honours_its_schema(
    case: schemathesis.Case[Any], served_app: FastAPI, admin_token: str
) -> None:
    case.call_and_validate(app=served_app, headers={"Authorization": f"Bearer {admin_token}"})


@pytest.mark.error_path
def test_a_status_the_schema_does_not_list_fails_the_contract(
    served_app: FastAPI, admin_token: str
) -> None:
    """The status-code check is on (schemathesis.toml): an operation that answered a status its
    responses leave out would fail the test above."""
    document = copy.deepcopy(schema.raw_schema)
    del document["paths"]["/api/v1/items/{item_id}"]["get"]["responses"]["404"]
    operation = schemathesis.openapi.from_dict(document)["/api/v1/items/{item_id}"]["GET"]
    case = operation.Case(path_parameters={"item_id": str(uuid.uuid4())})

    with pytest.raises(FailureGroup, match="Undocumented status code"):
        case.call_and_validate(app=served_app, headers={"Authorization": f"Bearer {admin_token}"})


def test_item_lifecycles_follow_the_schema_links(
    served_app: FastAPI, admin: User, admin_token: str, database_url: str
) -> None:
    """Sequences of calls along the OpenAPI links: create an item, then read, update, delete it."""

    class ItemLifecycles(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            """Each scenario starts from the same data, so Hypothesis can replay it exactly."""
            asyncio.run(_keep_only(database_url, admin))

        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"app": served_app, "headers": {"Authorization": f"Bearer {admin_token}"}}

    ItemLifecycles.run(
        settings=settings(
            max_examples=12,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )


async def _keep_only(database_url: str, admin: User) -> None:
    """Delete everything but the admin (and give it back its role, should a scenario take it)."""
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "users":
                await connection.execute(delete(table).where(table.c.id != admin.id))
                await connection.execute(update(table).values(role=Role.ADMIN.value))
            else:
                await connection.execute(delete(table))
    await engine.dispose()
