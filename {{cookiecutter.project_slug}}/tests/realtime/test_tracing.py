"""With tracing on, publishing an event on the bus and delivering it to this process's
connections are spans; an item's event is published within the trace of the request that
changed it, and a process that delivers a message continues the trace it was published in."""

import contextvars
from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.bus import InProcessBus
from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.features.auth.revocation import RevokedTokens
from {{ cookiecutter.package_name }}.realtime.frames import RoomMessage
from {{ cookiecutter.package_name }}.realtime.hub import CHANNEL, Hub
from {{ cookiecutter.package_name }}.realtime.settings import RealtimeSettings

from ..factories import UserFactory
from ..support import bearer, eventually, serve
from ..tracing import named, record_spans, tracing_on

ITEMS = "/api/v1/items"


async def test_an_items_event_is_published_in_its_requests_trace_and_delivered(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings], users: UserFactory
) -> None:
    exported = record_spans(monkeypatch)
    received: list[bytes] = []
    receive = Hub.receive

    def receive_and_note(hub: Hub, message: bytes) -> None:
        receive(hub, message)
        received.append(message)

    monkeypatch.setattr(Hub, "receive", receive_and_note)
    async with serve(make_settings(**tracing_on())) as client:
        headers = await bearer(client, await users.create())
        created = await client.post(ITEMS, json={"title": "traced"}, headers=headers)
        # A bus over the network hands the event back after the answer: the app must still be
        # running then, for its delivery's span to be exported.
        await eventually(lambda: bool(received))

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


async def recorded(bus: InProcessBus) -> list[bytes]:
    """What is published on the hub's channel of *bus*, kept to be handed over later as another
    process would: in a context of its own, where no span of the publisher's is current."""
    messages: list[bytes] = []
    await bus.subscribe(CHANNEL, messages.append)
    return messages


def traced_hub(exported: InMemorySpanExporter, bus: InProcessBus) -> Hub:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    return Hub(RealtimeSettings(), bus, RevokedTokens(), tracer=provider.get_tracer("test"))


def room_message() -> str:
    return RoomMessage(
        room="lobby", sender_id=None, data={"hello": 1}, sent_at=utc_now()
    ).model_dump_json()


def delivered_elsewhere(hub: Hub, message: bytes) -> None:
    contextvars.Context().run(hub.receive, message)


async def test_a_message_delivered_by_another_process_continues_the_publishers_trace() -> None:
    exported, bus = InMemorySpanExporter(), InProcessBus()
    hub, messages = traced_hub(exported, bus), await recorded(bus)

    await hub.to_room("lobby", room_message())
    (message,) = messages
    delivered_elsewhere(hub, message)

    (publish,) = named(exported.get_finished_spans(), "realtime publish")
    (deliver,) = named(exported.get_finished_spans(), "realtime deliver")
    assert deliver.parent is not None
    assert deliver.parent.is_remote
    assert deliver.parent.span_id == publish.context.span_id
    assert deliver.context.trace_id == publish.context.trace_id
    assert deliver.attributes is not None
    assert deliver.attributes["realtime.target"] == "room"  # the kind, without the trace


@pytest.mark.parametrize(
    "header",
    [b"room lobby", b"room@not-a-traceparent lobby", b"room@00-0-0-00 lobby"],
    ids=["untraced", "garbage", "malformed"],
)
def test_a_message_without_a_usable_trace_is_delivered_in_a_trace_of_its_own(
    header: bytes,
) -> None:
    """From a process with tracing off, or a traceparent that is not one: delivered anyway."""
    exported = InMemorySpanExporter()
    hub = traced_hub(exported, InProcessBus())

    delivered_elsewhere(hub, header + b"\n" + room_message().encode())

    (deliver,) = named(exported.get_finished_spans(), "realtime deliver")
    assert deliver.parent is None
    assert deliver.attributes is not None
    assert deliver.attributes["realtime.target"] == "room"


async def test_with_tracing_off_the_message_names_no_trace() -> None:
    bus = InProcessBus()
    hub, messages = Hub(RealtimeSettings(), bus, RevokedTokens()), await recorded(bus)

    await hub.to_room("lobby", room_message())

    (message,) = messages
    assert message.startswith(b"room lobby\n")
