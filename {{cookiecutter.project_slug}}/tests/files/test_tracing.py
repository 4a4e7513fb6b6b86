"""With tracing on, storing an upload's object and reading it back are spans of the request."""

from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from {{ cookiecutter.package_name }}.config import Settings

from ..factories import UserFactory
from ..support import bearer, serve
from ..tracing import named, record_spans, tracing_on
from .support import FILES, png, stored_objects, upload


async def test_storing_and_reading_an_object_are_spans_of_their_requests(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings], users: UserFactory
) -> None:
    exported = record_spans(monkeypatch)
    async with serve(make_settings(**tracing_on())) as client:
        headers = await bearer(client, await users.create())
        created = (await upload(client, headers, png(3000))).json()
        download = await client.get(f"{FILES}/{created['id']}/content", headers=headers)

    assert download.status_code == 200
    spans = exported.get_finished_spans()
    (store,) = named(spans, "files store")
    (read,) = named(spans, "files read")
    servers = {span.name: span for span in spans if span.kind is SpanKind.SERVER}
    assert store.context.trace_id == servers["POST /api/v1/files"].context.trace_id
    assert read.context.trace_id == servers["GET /api/v1/files/{file_id}/content"].context.trace_id
    assert read.attributes == {"files.storage": "local", "files.bytes": 3000}


@pytest.mark.error_path
async def test_reading_a_missing_object_is_a_failed_span(
    monkeypatch: pytest.MonkeyPatch,
    make_settings: Callable[..., Settings],
    users: UserFactory,
    files_dir: Path,
) -> None:
    exported = record_spans(monkeypatch)
    async with serve(make_settings(**tracing_on())) as client:
        headers = await bearer(client, await users.create())
        created = (await upload(client, headers, png(3000))).json()
        for stored in stored_objects(files_dir):
            (files_dir / stored).unlink()
        download = await client.get(f"{FILES}/{created['id']}/content", headers=headers)

    assert download.status_code == 404
    (read,) = named(exported.get_finished_spans(), "files read")
    assert read.status.status_code is StatusCode.ERROR
