"""A real S3-protocol server for tests: moto's server mode, as a subprocess on loopback.

`moto_server()` starts one and stops it; `create_bucket` makes a bucket of a test's own, with a
plain HTTP PUT. moto accepts any credentials, signs nothing and checks no POST policy; what the
tests read back (objects, unfinished multipart uploads) is what an S3 client would see.
"""

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.files.s3 import S3Storage

from ..support import free_port

REGION = "us-east-1"
ACCESS_KEY_ID = "moto-access-key"
SECRET_ACCESS_KEY = SecretStr("moto-secret-key")
STARTUP_SECONDS = 30.0


def _wait_until_up(process: "subprocess.Popen[bytes]", url: str) -> bool:
    """True once the server answers; False if it exited (its port was taken meanwhile)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            httpx.get(url, timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.05)
        else:
            return True
    raise TimeoutError(f"moto's S3 server did not answer at {url} in {STARTUP_SECONDS} s")


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's S3 server on a free loopback port; yield its URL (http://127.0.0.1:port)."""
    for _attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if _wait_until_up(process, url):
                yield url
                return
        finally:
            process.kill()
            process.wait()
    raise RuntimeError("moto's S3 server could not get a free port")


async def create_bucket(endpoint: str) -> str:
    """A new, empty bucket with a valid random name; return its name."""
    name = f"test-bucket-{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient() as client:
        response = await client.put(f"{endpoint}/{name}")
    response.raise_for_status()
    return name


def s3_storage(endpoint: str, bucket: str) -> S3Storage:
    """An S3Storage on *bucket* of the moto server at *endpoint*."""
    return S3Storage(
        bucket=bucket,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        endpoint=endpoint,
    )


async def bucket_contents(endpoint: str, bucket: str) -> list[str]:
    """The keys of the bucket's objects, then those of its unfinished multipart uploads (as
    `upload:<key>`): what an aborted upload must not leave."""
    async with httpx.AsyncClient(base_url=f"{endpoint}/{bucket}") as client:
        objects = (await client.get("")).raise_for_status().text
        uploads = (await client.get("", params={"uploads": ""})).raise_for_status().text
    keys = re.findall(r"<Key>([^<]*)</Key>", objects)
    return keys + [f"upload:{key}" for key in re.findall(r"<Key>([^<]*)</Key>", uploads)]
