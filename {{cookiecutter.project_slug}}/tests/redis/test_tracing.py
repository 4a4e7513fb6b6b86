"""With tracing on, the Redis commands a request sends are spans of its trace, named after the
command, with no key or value."""

from collections.abc import Callable

import pytest
from opentelemetry.trace import SpanKind

from {{ cookiecutter.package_name }}.config import Settings

from ..factories import UserFactory
from ..support import login, serve
from ..tracing import record_spans, tracing_on

LOGIN = "/api/v1/auth/login"


async def test_a_requests_redis_commands_are_spans_of_its_trace(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings], users: UserFactory
) -> None:
    exported = record_spans(monkeypatch)
    user = await users.create()
    async with serve(make_settings(**tracing_on())) as client:
        await login(client, user.email)  # its rate limit is counted in Redis

    spans = exported.get_finished_spans()
    (request,) = (span for span in spans if span.name == f"POST {LOGIN}")
    commands = [
        span
        for span in spans
        if span.kind is SpanKind.CLIENT and (span.attributes or {}).get("db.system") == "redis"
    ]
    in_request = [span for span in commands if span.context.trace_id == request.context.trace_id]
    assert in_request  # others belong to no request: start-up's, the revocation relay's
    statements = [str((span.attributes or {}).get("db.statement")) for span in commands]
    assert all(user.email not in statement for statement in statements)
