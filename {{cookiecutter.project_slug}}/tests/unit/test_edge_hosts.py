"""The host check remembers allowed Host values, in a set bounded in count and length."""

import pytest
from httpx import ASGITransport, AsyncClient
from starlette.types import Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.hosts import (
    MAX_HOST_BYTES,
    MAX_KNOWN_HOSTS,
)
from {{ cookiecutter.package_name }}.core.middleware import EdgeMiddleware


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def edge(allowed_hosts: list[str]) -> EdgeMiddleware:
    return EdgeMiddleware(
        ok,
        allowed_hosts=allowed_hosts,
        max_body_bytes=1024,
        max_header_count=100,
        max_header_bytes=16_384,
        body_timeout_seconds=10,
        access_log=lambda method, path, status, duration_ms: None,
    )


async def statuses(app: EdgeMiddleware, hosts: list[str]) -> list[int]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://x") as client:
        return [(await client.get("/", headers={"Host": host})).status_code for host in hosts]


async def test_allowed_hosts_are_remembered_up_to_the_bound() -> None:
    app = edge(["*.example.org"])
    hosts = [f"s{n}.example.org" for n in range(MAX_KNOWN_HOSTS + 10)]

    assert await statuses(app, hosts * 2) == [200] * len(hosts) * 2
    # Full, the set starts again: the latest hosts are remembered, never more than the bound.
    assert 0 < len(app.hosts.known) <= MAX_KNOWN_HOSTS
    assert hosts[-1].encode() in app.hosts.known
    assert app.hosts.known <= {host.encode() for host in hosts}


async def test_many_ports_of_a_listed_host_do_not_push_it_out() -> None:
    app = edge(["api.example.com"])
    ports = [f"api.example.com:{port}" for port in range(1, MAX_KNOWN_HOSTS + 1)]

    assert await statuses(app, [*ports, "api.example.com"]) == [200] * (len(ports) + 1)
    assert b"api.example.com" in app.hosts.known


async def test_an_overlong_allowed_host_is_served_but_not_remembered() -> None:
    app = edge(["*.example.org"])
    long_host = "a" * (MAX_HOST_BYTES + 1 - len(".example.org")) + ".example.org"

    assert await statuses(app, [long_host]) == [200]
    assert app.hosts.known == set()


@pytest.mark.error_path
async def test_a_refused_host_is_never_remembered() -> None:
    app = edge(["api.example.com"])

    assert await statuses(app, ["evil.test", "api.example.com", "evil.test"]) == [400, 200, 400]
    assert app.hosts.known == {b"api.example.com"}
