"""What the edge adds to every response and checks on every request: request ids, security
headers, HSTS, compression, CORS and the allowed hosts."""

from collections.abc import Callable

import pytest
from fastapi import Response
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.main import create_app

from ..support import SECURITY_HEADERS, assert_envelope, client_for, serve

# What only acts on documents: on HTML responses.
DOCUMENT_HEADERS = {"referrer-policy": "no-referrer", "cross-origin-opener-policy": "same-origin"}


async def test_request_id_is_created_and_returned(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert len(response.headers["x-request-id"]) == 32


async def test_a_well_formed_request_id_is_kept(client: AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "abc-123"})

    assert response.headers["x-request-id"] == "abc-123"


async def test_security_headers_on_success(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert SECURITY_HEADERS.items() <= response.headers.items()
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers
    assert not DOCUMENT_HEADERS.keys() & response.headers.keys()


async def test_html_gets_the_document_policies(client: AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.headers["content-type"].startswith("text/html")
    assert DOCUMENT_HEADERS.items() <= response.headers.items()
    assert response.headers["x-frame-options"] == "DENY"


async def test_redirects_get_the_document_policies(client: AsyncClient) -> None:
    """A redirect's Referrer-Policy governs the request it leads to."""
    response = await client.get("/api/v1/items/")

    assert response.status_code == 307
    assert DOCUMENT_HEADERS.items() <= response.headers.items()


async def test_hsts_in_production_over_https(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(environment="production", jwt_secret="p" * 40)
    async with serve(settings, base_url="https://testserver") as production:
        response = await production.get("/health")

    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_no_hsts_over_plain_http_even_in_production(
    make_settings: Callable[..., Settings],
) -> None:
    """RFC 6797 7.2: an HSTS host must not send the header over a non-secure transport."""
    settings = make_settings(environment="production", jwt_secret="p" * 40)
    async with serve(settings) as production:
        response = await production.get("/health")

    assert "strict-transport-security" not in response.headers


async def test_large_responses_are_compressed_when_configured(
    make_settings: Callable[..., Settings],
) -> None:
    async with serve(make_settings(gzip_min_bytes=1_000)) as gzipped:
        large = await gzipped.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
        small = await gzipped.get("/health", headers={"Accept-Encoding": "gzip"})

    assert large.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in small.headers


async def test_responses_are_not_compressed_by_default(client: AsyncClient) -> None:
    response = await client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})

    assert "content-encoding" not in response.headers


async def test_cors_allows_a_listed_origin(make_settings: Callable[..., Settings]) -> None:
    async with serve(make_settings(cors_origins="https://app.example.com")) as cors:
        response = await cors.get("/health", headers={"Origin": "https://app.example.com"})
        without_origin = await cors.get("/health")

    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    # Caches must not serve one origin's answer to another.
    assert response.headers.get_list("vary") == ["Origin"]
    assert "access-control-allow-origin" not in without_origin.headers
    # A no-store response is never stored, so it needs no Vary.
    assert without_origin.headers["cache-control"] == "no-store"
    assert "vary" not in without_origin.headers


@pytest.mark.parametrize(
    ("cors_origins", "vary"), [("https://app.example.com", ["Origin"]), ("", [])]
)
async def test_a_cacheable_response_varies_on_origin_when_cors_is_on(
    make_settings: Callable[..., Settings], cors_origins: str, vary: list[str]
) -> None:
    """A cache must not serve the answer to a request without Origin to one with it."""
    app = create_app(make_settings(cors_origins=cors_origins))

    @app.get("/cacheable")
    async def cacheable() -> Response:
        return Response(
            b"{}", media_type="application/json", headers={"Cache-Control": "max-age=60"}
        )

    async with client_for(app) as client:
        response = await client.get("/cacheable")

    assert response.headers["cache-control"] == "max-age=60"
    assert response.headers.get_list("vary") == vary


@pytest.mark.error_path
class TestRefusals:
    async def test_invalid_request_id_is_replaced(self, client: AsyncClient) -> None:
        response = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})

        assert response.headers["x-request-id"] != "bad id\twith spaces"

    async def test_an_unlisted_host_is_refused(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        async with serve(make_settings(allowed_hosts="api.example.com,*.example.org")) as hosts:
            answers = [
                await hosts.get("/health", headers={"Host": host})
                # Twice each: the second time, an allowed host is known, a refused one is not.
                for host in ["evil.test", "eu.example.org:443", "example.org"] * 2
            ]

        refused = answers[0]
        assert refused.status_code == 400
        assert_envelope(refused.json(), "INVALID_HOST")
        assert [answer.status_code for answer in answers] == [400, 200, 400] * 2

    async def test_cors_refuses_an_unlisted_origin(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        async with serve(make_settings(cors_origins="https://app.example.com")) as cors:
            simple = await cors.get("/health", headers={"Origin": "https://evil.example"})
            preflight = await cors.options(
                "/api/v1/items",
                headers={
                    "Origin": "https://evil.example",
                    "Access-Control-Request-Method": "POST",
                },
            )

        assert "access-control-allow-origin" not in simple.headers
        assert preflight.status_code == 400
        assert_envelope(preflight.json(), "CORS_REJECTED")
