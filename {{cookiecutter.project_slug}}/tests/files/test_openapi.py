"""The files operations document exactly the statuses they can return (the core's rules, and
what each route adds: a refused type, a range outside the file, direct uploads elsewhere than
S3), and the upload's body as the multipart form it reads."""

from typing import Any

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


def test_each_files_operation_documents_exactly_its_statuses(
    openapi_document: dict[str, Any],
) -> None:
    files = {
        operation: statuses
        for operation, statuses in documented_statuses(openapi_document).items()
        if operation[1].startswith("/api/v1/files")
    }

    assert files == EXPECTED_STATUSES


def test_the_upload_is_documented_as_a_form_of_one_file(openapi_document: dict[str, Any]) -> None:
    body = openapi_document["paths"]["/api/v1/files"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]

    assert body["required"] is True
    assert schema["required"] == ["file"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}


def test_the_download_is_bytes_of_any_type_and_named_as_octet_stream_too(
    openapi_document: dict[str, Any],
) -> None:
    """Any stored type is sent; `application/octet-stream` lets a generator that cannot read
    `*/*` give the download as bytes."""
    responses = openapi_document["paths"]["/api/v1/files/{file_id}/content"]["get"]["responses"]
    for status in ("200", "206"):
        content = responses[status]["content"]
        assert list(content) == ["*/*", "application/octet-stream"]
        assert {media["schema"]["format"] for media in content.values()} == {"binary"}


def test_the_files_page_is_a_named_model(openapi_document: dict[str, Any]) -> None:
    listing = openapi_document["paths"]["/api/v1/files"]["get"]["responses"]["200"]
    schema = listing["content"]["application/json"]["schema"]

    assert schema == {"$ref": "#/components/schemas/FilePage"}
