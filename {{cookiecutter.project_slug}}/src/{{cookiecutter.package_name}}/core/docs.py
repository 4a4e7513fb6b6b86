"""The API docs (Swagger UI) served whole by the service: nothing from a CDN, a strict CSP.

Swagger UI's files come from the fastapi-swagger package (pinned in pyproject.toml) and are
served under /docs/assets/, with their digest in the path so browsers may keep them for a year.
The two pages are rendered once, by FastAPI's own functions, and each carries its own
Content-Security-Policy: scripts, styles, images and requests from the service only, and the
page's inline script by its hash (the edge middleware leaves these pages' policy to them).
"""

import base64
import hashlib
import posixpath
import re
from collections.abc import Awaitable, Callable
from functools import cache
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
ASSETS_PATH = "/docs/assets"
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
CACHE_FOR_A_YEAR = "public, max-age=31536000, immutable"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

type _Endpoint = Callable[[Request], Awaitable[Response]]


@cache
def swagger_ui_files() -> dict[str, tuple[bytes, str]]:
    """Each of Swagger UI's files, by the path it is served at: its content and media type."""
    package = files("fastapi_swagger") / "resources"
    served = {}
    for name, media_type in ASSET_TYPES.items():
        content = (package / name).read_bytes()
        digest = hashlib.sha256(content).hexdigest()[:16]
        served[f"{ASSETS_PATH}/{digest}/{name}"] = (content, media_type)
    return served


def content_security_policy(html: str) -> str:
    """The policy of a docs page: the service's own files, and the page's inline scripts."""
    scripts = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self' {scripts}; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def add_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs, with its OAuth2 redirect page and its files."""
    assets = swagger_ui_files()
    url = {posixpath.basename(path): _from_the_page(path) for path in assets}
    page = get_swagger_ui_html(
        openapi_url=_from_the_page(app.openapi_url or "/openapi.json"),
        title=f"{app.title} - Swagger UI",
        swagger_js_url=url["swagger-ui-bundle.js"],
        swagger_css_url=url["swagger-ui.css"],
        swagger_favicon_url=url["favicon-32x32.png"],
        # Used by OAuth2 flows that redirect (this API's password flow does not).
        oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
    )
    redirect_page = get_swagger_ui_oauth2_redirect_html()
    app.add_route(DOCS_PATH, _html(bytes(page.body)), include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_PATH, _html(bytes(redirect_page.body)), include_in_schema=False)
    for path, (content, media_type) in assets.items():
        app.add_route(path, _asset(content, media_type), include_in_schema=False)


def _from_the_page(path: str) -> str:
    """*path* relative to the docs page, so that it holds under any prefix a proxy adds."""
    return posixpath.relpath(path, posixpath.dirname(DOCS_PATH))


def _html(body: bytes) -> _Endpoint:
    headers = {"Content-Security-Policy": content_security_policy(body.decode())}

    async def page(_: Request) -> Response:
        return HTMLResponse(body, headers=headers)

    return page


def _asset(content: bytes, media_type: str) -> _Endpoint:
    async def asset(_: Request) -> Response:
        return Response(content, media_type=media_type, headers={"Cache-Control": CACHE_FOR_A_YEAR})

    return asset
