"""The host check remembers allowed Host values, in a set bounded by size."""

import pytest
from httpx import ASGITransport, AsyncClient
from starlette.types import Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.middleware import MAX_KNOWN_HOSTS, EdgeMiddleware


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def edge(allowed_hosts: list[str]) -> EdgeMiddleware:
    return EdgeMiddleware(
        ok,
        allowed_hosts=allowed_hosts,
        max_body_bytes=1024,
        access_log=lambda method, path, status, duration_ms: None,
    )


async def statuses(app: EdgeMiddleware, hosts: list[str]) -> list[int]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://x") as client:
        return [(await client.get("/", headers={"Host": host})).status_code for host in hosts]


async def test_allowed_hosts_are_remembered_up_to_the_bound() -> None:
    app = edge(["*.example.org"])
    hosts = [f"s{n}.example.org" for n in range(MAX_KNOWN_HOSTS + 10)]

    assert await statuses(app, hosts * 2) == [200] * len(hosts) * 2
    assert len(app.known_hosts) == MAX_KNOWN_HOSTS
    assert app.known_hosts <= {host.encode() for host in hosts}


@pytest.mark.error_path
async def test_a_refused_host_is_never_remembered() -> None:
    app = edge(["api.example.com"])

    assert await statuses(app, ["evil.test", "api.example.com", "evil.test"]) == [400, 200, 400]
    assert app.known_hosts == {b"api.example.com"}
