"""The files operations document exactly the statuses they can return (the core's rules, and
what each route adds: a refused type, a range outside the file, direct uploads elsewhere than
S3), and the upload's body as the multipart form it reads."""

from typing import Any

import pytest

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.main import create_app

from ..e2e.test_openapi import documented_statuses

EXPECTED_STATUSES = {
    ("POST", "/api/v1/files"): {201, 400, 401, 408, 413, 415, 422, 500, 503},
    ("GET", "/api/v1/files"): {200, 401, 422, 500, 503},
    ("POST", "/api/v1/files/direct-uploads"): {201, 400, 401, 404, 408, 413, 422, 500, 503},
    ("POST", "/api/v1/files/direct-uploads/complete"): {
        201,
        400,
        401,
        404,
        408,
        413,
        415,
        422,
        500,
        503,
    },
    ("GET", "/api/v1/files/{file_id}"): {200, 401, 404, 422, 500, 503},
    ("DELETE", "/api/v1/files/{file_id}"): {204, 401, 404, 422, 500, 503},
    ("GET", "/api/v1/files/{file_id}/content"): {200, 206, 401, 404, 416, 422, 500, 503},
}


@pytest.fixture
def document(settings: Settings) -> dict[str, Any]:
    return create_app(settings).openapi()


def test_each_files_operation_documents_exactly_its_statuses(document: dict[str, Any]) -> None:
    files = {
        operation: statuses
        for operation, statuses in documented_statuses(document).items()
        if operation[1].startswith("/api/v1/files")
    }

    assert files == EXPECTED_STATUSES


def test_the_upload_is_documented_as_a_form_of_one_file(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/files"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]

    assert body["required"] is True
    assert schema["required"] == ["file"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
