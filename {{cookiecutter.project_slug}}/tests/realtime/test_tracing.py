"""With tracing on, publishing an event on the bus and delivering it to this process's
connections are spans; an item's event is published within the trace of the request that
changed it."""

from collections.abc import Callable

import pytest
from opentelemetry.trace import SpanKind

from {{ cookiecutter.package_name }}.config import Settings

from ..factories import UserFactory
from ..support import bearer, serve
from ..tracing import named, record_spans, tracing_on

ITEMS = "/api/v1/items"


async def test_an_items_event_is_published_in_its_requests_trace_and_delivered(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings], users: UserFactory
) -> None:
    exported = record_spans(monkeypatch)
    async with serve(make_settings(**tracing_on())) as client:
        headers = await bearer(client, await users.create())
        created = await client.post(ITEMS, json={"title": "traced"}, headers=headers)

    assert created.status_code == 201
    spans = exported.get_finished_spans()
    (request,) = (span for span in spans if span.name == f"POST {ITEMS}")
    (publish,) = named(spans, "realtime publish")
    assert publish.kind is SpanKind.INTERNAL
    assert publish.context.trace_id == request.context.trace_id
    assert publish.attributes is not None
    assert publish.attributes["realtime.target"] == "users"
    (deliver,) = named(spans, "realtime deliver")
    assert deliver.attributes is not None
    assert deliver.attributes["messaging.operation.type"] == "process"
