"""The API docs: Swagger UI served whole by the service, under a policy that allows only it."""

import base64
import hashlib
import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.docs import swagger_ui_files

from ..support import serve

DOCS_PAGES = ["/docs", "/docs/oauth2-redirect"]
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


def referenced_urls(html: str) -> list[str]:
    """What the page loads: its scripts, style sheet and icon, and the document it fetches."""
    attributes = re.findall(r'(?:src|href)="([^"]*)"', html)
    fetched = re.findall(r"url: '([^']*)'", html)
    return [*attributes, *fetched]


def inline_script_hashes(html: str) -> set[str]:
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    }


def directives(policy: str) -> dict[str, list[str]]:
    return {
        name: sources for name, *sources in (directive.split() for directive in policy.split(";"))
    }


async def test_the_docs_page_loads_only_the_services_own_files(client: AsyncClient) -> None:
    response = await client.get("/docs")
    urls = [urljoin(str(response.url), url) for url in referenced_urls(response.text)]

    assert len(urls) == 4  # script, style sheet, icon, OpenAPI document
    assert {urlsplit(url).netloc for url in urls} == {"testserver"}
    assert "http" not in response.text  # nor anything else named by an absolute URL


async def test_every_file_the_docs_page_references_is_served(client: AsyncClient) -> None:
    page = await client.get("/docs")
    urls = [urljoin(str(page.url), url) for url in referenced_urls(page.text)]

    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        if "/docs/assets/" in url:
            suffix = url[url.rindex(".") :]
            assert response.headers["content-type"] == MEDIA_TYPES[suffix]
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        else:
            assert response.headers["content-type"] == "application/json"


def test_the_docs_files_are_swagger_ui_from_the_pinned_package() -> None:
    names = {path.rsplit("/", 1)[1]: content for path, (content, _) in swagger_ui_files().items()}

    assert names.keys() == {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}
    assert b"SwaggerUIBundle" in names["swagger-ui-bundle.js"]


@pytest.mark.parametrize("path", DOCS_PAGES)
async def test_a_docs_pages_policy_allows_the_service_and_its_own_inline_script(
    client: AsyncClient, path: str
) -> None:
    response = await client.get(path)
    policy = directives(response.headers["content-security-policy"])

    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    scripts = inline_script_hashes(response.text)
    assert len(scripts) == 1
    assert set(policy["script-src"]) == {"'self'", *scripts}
    assert policy["style-src"] == ["'self'"]  # Swagger UI styles elements through the DOM
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]  # the style sheet's icons are data: URLs
    # Only one policy: the edge's API policy would block the page.
    assert response.headers.get_list("content-security-policy") == [
        response.headers["content-security-policy"]
    ]


@pytest.mark.error_path
async def test_an_unknown_docs_file_is_a_404_envelope(client: AsyncClient) -> None:
    response = await client.get("/docs/assets/0000000000000000/swagger-ui-bundle.js")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.error_path
async def test_with_the_docs_off_their_pages_and_files_are_404_envelopes(
    make_settings: Callable[..., Settings],
) -> None:
    async with serve(make_settings(docs_enabled=False)) as hidden:
        answers = [await hidden.get(path) for path in [*DOCS_PAGES, *swagger_ui_files()]]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert {answer.json()["error"]["code"] for answer in answers} == {"NOT_FOUND"}


async def test_docs_are_served_outside_production(client: AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.error_path
async def test_docs_are_hidden_in_production(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(environment="production", jwt_secret="p" * 40)
    async with serve(settings) as production:
        response = await production.get("/docs")

    assert response.status_code == 404
