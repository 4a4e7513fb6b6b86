"""Baseline: the simplest honest streamed upload and download, bare Starlette. Served exactly
like the app.

``BENCH_UPLOAD_DIR=/some/dir uvicorn --app-dir bench baseline_upload:app --loop uvloop --http
httptools --no-access-log``

``POST /upload`` streams the request body, as it arrives and without parsing it, to a file of
``BENCH_UPLOAD_DIR`` and answers 201 with the bytes written; ``GET /download`` streams that file
back; ``DELETE /download`` removes it (so no upload pays for freeing the one before). File I/O
is off the event loop as the app's local storage does it: 1 MiB writes, each in an anyio worker
thread, into a temporary file synced to disk and renamed into place when complete; 1 MiB reads
(the app reads 256 KiB at a time). No authentication, multipart parsing, type check, size cap or
database row.
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DIRECTORY = Path(os.environ["BENCH_UPLOAD_DIR"])
TARGET = DIRECTORY / "upload.bin"
PARTIAL = DIRECTORY / "upload.bin.partial"
BLOCK = 1024 * 1024


async def upload(request: Request) -> Response:
    out = await anyio.to_thread.run_sync(PARTIAL.open, "wb")
    size = 0
    pending: list[bytes] = []
    pending_bytes = 0
    try:
        async for chunk in request.stream():
            pending.append(chunk)
            pending_bytes += len(chunk)
            if pending_bytes >= BLOCK:
                await anyio.to_thread.run_sync(out.write, b"".join(pending))
                size += pending_bytes
                pending, pending_bytes = [], 0
        await anyio.to_thread.run_sync(out.write, b"".join(pending))
        size += pending_bytes
        await anyio.to_thread.run_sync(out.flush)
        await anyio.to_thread.run_sync(os.fsync, out.fileno())  # on disk, as the app's are
    finally:
        await anyio.to_thread.run_sync(out.close)
    await anyio.to_thread.run_sync(os.replace, PARTIAL, TARGET)
    return JSONResponse({"size": size}, status_code=201)


async def download(request: Request) -> Response:
    if not TARGET.exists():
        return Response(status_code=404)
    size = TARGET.stat().st_size
    return StreamingResponse(
        _blocks(TARGET),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size)},
    )


async def remove(request: Request) -> Response:
    await anyio.to_thread.run_sync(TARGET.unlink, True)
    return Response(status_code=204)


async def _blocks(path: Path) -> AsyncIterator[bytes]:
    source = await anyio.to_thread.run_sync(path.open, "rb")
    try:
        while block := await anyio.to_thread.run_sync(source.read, BLOCK):
            yield block
    finally:
        await anyio.to_thread.run_sync(source.close)


app = Starlette(
    routes=[
        Route("/upload", upload, methods=["POST"]),
        Route("/download", download, methods=["GET"]),
        Route("/download", remove, methods=["DELETE"]),
    ]
)
