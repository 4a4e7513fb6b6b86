"""The realtime pack's one HTTP operation documents exactly the statuses it can return: the
core's rules (a body, a path parameter, an admin's token, the database), and the 503 of a
message the hub could not send."""

from typing import Any

from ..e2e.test_openapi import documented_statuses

EXPECTED_STATUSES = {
    ("POST", "/api/v1/realtime/rooms/{room}/messages"): {
        202,
        400,
        401,
        403,
        408,
        413,
        422,
        500,
        503,
    },
}


def test_the_publish_operation_documents_exactly_its_statuses(
    openapi_document: dict[str, Any],
) -> None:
    realtime = {
        operation: statuses
        for operation, statuses in documented_statuses(openapi_document).items()
        if operation[1].startswith("/api/v1/realtime")
    }

    assert realtime == EXPECTED_STATUSES
