"""Every error a client can see has the one envelope: routing, validation, size limits and
unhandled exceptions alike."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from ..support import SECURITY_HEADERS, assert_envelope


async def test_openapi_documents_the_error_envelope(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/api/v1/items/{item_id}"]["get"]

    assert operation["operationId"] == "items-read_item"
    assert operation["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }


@pytest.mark.error_path
class TestRefusals:
    async def test_unknown_route_is_a_404_envelope(self, client: AsyncClient) -> None:
        response = await client.get("/nope")

        assert response.status_code == 404
        assert_envelope(response.json(), "NOT_FOUND")
        assert SECURITY_HEADERS.items() <= response.headers.items()

    async def test_wrong_method_is_a_405_envelope(self, client: AsyncClient) -> None:
        response = await client.delete("/health")

        assert response.status_code == 405
        assert_envelope(response.json(), "METHOD_NOT_ALLOWED")
        assert response.headers["allow"] == "GET"

    async def test_malformed_json_is_a_422_envelope(
        self, client: AsyncClient, user_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/api/v1/items",
            content=b"{not json",
            headers={**user_headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 422
        assert_envelope(response.json(), "VALIDATION_ERROR")

    async def test_validation_errors_do_not_echo_the_input(self, client: AsyncClient) -> None:
        secret = "my-secret-password-value"
        response = await client.post(
            "/api/v1/auth/register", json={"email": "bad", "password": secret}
        )

        assert secret not in response.text

    async def test_unhandled_error_is_a_generic_500_with_the_traceback_in_the_log(
        self, capsys: pytest.CaptureFixture[str], app: FastAPI, client: AsyncClient
    ) -> None:
        async def explode() -> None:
            raise RuntimeError("SELECT secret FROM internals")

        app.add_api_route("/explode", explode)

        response = await client.get("/explode")

        assert response.status_code == 500
        assert_envelope(response.json(), "INTERNAL_ERROR")
        assert "SELECT" not in response.text
        assert SECURITY_HEADERS.items() <= response.headers.items()
        assert response.headers["x-request-id"]
        log = capsys.readouterr().out
        assert "unhandled_exception" in log
        assert "SELECT secret FROM internals" in log

    async def test_oversized_body_is_a_413_envelope(
        self, client: AsyncClient, user_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/api/v1/items", json={"title": "x" * 2_000_000}, headers=user_headers
        )

        assert response.status_code == 413
        assert_envelope(response.json(), "REQUEST_ENTITY_TOO_LARGE")

    async def test_oversized_streamed_body_is_a_413_envelope(
        self, client: AsyncClient, user_headers: dict[str, str]
    ) -> None:
        async def chunks() -> Any:
            for _ in range(3):
                yield b"x" * 600_000

        response = await client.post(
            "/api/v1/items",
            content=chunks(),
            headers={**user_headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 413
