"""Count the CPU instructions one ``/health`` request costs, app against bare FastAPI, through
uvicorn: a figure that does not depend on what else the machine is doing.

    uv run python bench/instructions.py              # from the template root; takes minutes
    uv run python bench/instructions.py --project BAKE --requests 2000 --keep-profiles DIR

``run.py``'s wall-clock ratio moves by several per cent between runs on a shared machine. This
script serves each app exactly as ``run.py`` does (the same uvicorn flags and app settings, one
worker), but under ``valgrind --tool=callgrind``, and sends it a fixed number of keep-alive
``GET /health`` requests from one connection. callgrind counts the user-space instructions of
the whole process; serving ``--requests`` N after a warm-up, minus the same run with none, and
divided by N, is the cost of one request, start-up and shut-down cancelled out. Hash
randomisation is off (``PYTHONHASHSEED=0``) and no ``.pyc`` file is written
(``PYTHONDONTWRITEBYTECODE=1``: otherwise the first run would compile what the second loads),
so that two runs agree closely (bench/README.md).

It counts bare FastAPI twice: as it ships (``baseline_bare.py``, ``run.py``'s baseline and the
target's) and with what the app saves outside its middleware (``baseline_lean.py``: FastAPI's
per-request telemetry check off, ``/health``'s answer encoded once), whose ratio is the cost of
the app's own stack.

What it does not count: time in the kernel (socket reads and writes, the access line's write to
stdout), cache and branch misses, and the load generator's side. The wall-clock figure is still
``run.py``'s; this one is for checking a change on a noisy machine, and ``--keep-profiles``
keeps the callgrind files for ``callgrind_annotate`` (C functions only: Python frames all show
as the interpreter loop).
"""

# ruff: noqa: S603 - a benchmark script runs its tools (valgrind, the bake's python)
from __future__ import annotations

import argparse
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import (
    APP_ARGS,
    BENCH_DIR,
    UVICORN_FLAGS,
    add_app_env_argument,
    app_environment,
    bake_default,
    base_env,
    free_port,
    log,
    run_timed,
)
from scenarios import HEALTH_RATIO_TARGET

WARMUP_REQUESTS = 200
START_TIMEOUT_S = 600  # importing the app under callgrind takes a minute or two
_TOTALS = re.compile(rb"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


@dataclass(frozen=True)
class Target:
    name: str
    app_args: list[str]
    cwd: Path
    env: dict[str, str]


def request_bytes(port: int) -> bytes:
    """The request wrk sends for ``/health``: a request line and a Host header."""
    return f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def read_response(sock: socket.socket, buffer: bytearray) -> None:
    """Read one whole response (headers and a Content-Length body) off *sock*; leave what
    follows it in *buffer*."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        receive_more(sock, buffer)
    head = bytes(buffer[:end]).decode("latin-1")
    status = head.split(" ", 2)[1]
    if status != "200":
        raise RuntimeError(f"expected 200, got {head.splitlines()[0]!r}")
    length = next(
        (
            int(line.split(":", 1)[1])
            for line in head.split("\r\n")[1:]
            if line.lower().startswith("content-length:")
        ),
        None,
    )
    if length is None:
        raise RuntimeError(f"expected a Content-Length response, got {head!r}")
    total = end + 4 + length
    while len(buffer) < total:
        receive_more(sock, buffer)
    del buffer[:total]


def receive_more(sock: socket.socket, buffer: bytearray) -> None:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("the server closed the connection")
    buffer += chunk


def send_requests(port: int, count: int) -> None:
    """*count* requests on one keep-alive connection, one at a time, as one wrk connection."""
    request = request_bytes(port)
    buffer = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        for _ in range(count):
            sock.sendall(request)
            read_response(sock, buffer)


def wait_until_serving(port: int, proc: subprocess.Popen[bytes], stderr: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited at start-up:\n{stderr.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    proc.kill()
    sys.exit(f"the server did not listen within {START_TIMEOUT_S} s")


def count_instructions(target: Target, python: Path, requests: int, work: Path) -> int:
    """The instructions of one whole server process that served the warm-up and *requests*."""
    port = free_port()
    out = work / f"{target.name}-{requests}.callgrind"
    stderr = work / f"{target.name}-{requests}.stderr.log"
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        str(python),
        "-m",
        "uvicorn",
        *target.app_args,
        *UVICORN_FLAGS,
        "--port",
        str(port),
    ]
    env = {**target.env, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    with stderr.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=target.cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_until_serving(port, proc, stderr)
        send_requests(port, WARMUP_REQUESTS)
        send_requests(port, requests)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return callgrind_total(out, stderr)


def callgrind_total(out: Path, stderr: Path) -> int:
    """The instruction total of the process whose callgrind file is *out*."""
    match = _TOTALS.search(out.read_bytes()) if out.exists() else None
    if match is None:
        sys.exit(f"no instruction total in {out}:\n{stderr.read_text()[-3000:]}")
    return int(match.group(1))


def per_request(target: Target, python: Path, requests: int, work: Path) -> float:
    baseline = count_instructions(target, python, 0, work)
    loaded = count_instructions(target, python, requests, work)
    cost = (loaded - baseline) / requests
    log(f"{target.name}: {loaded:,} - {baseline:,} instructions -> {cost:,.0f} per request")
    return cost


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, help="a bake of the default variant to use")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per run")
    parser.add_argument(
        "--keep-profiles", type=Path, help="copy the callgrind files here (callgrind_annotate)"
    )
    add_app_env_argument(parser)
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return args


def main() -> int:
    args = parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed: apt-get install -y valgrind")
    env = base_env()
    work = Path(tempfile.mkdtemp(prefix="bench-instructions-"))
    try:
        project = args.project.resolve() if args.project else bake_default(work / "bake", env)[0]
        _, output, code = run_timed(["uv", "sync", "--locked"], cwd=project, env=env)
        if code:
            sys.exit(f"uv sync --locked failed:\n{output}")
        python = project / ".venv" / "bin" / "python"
        # /health does not touch the database; a SQLite file keeps PostgreSQL out of the count.
        database = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        app_env = app_environment(env, database, auth_rate_limit=1000, extra=args.app_env)
        bench_app = ["--app-dir", str(BENCH_DIR)]
        targets = [
            Target("bare", [*bench_app, "baseline_bare:app"], BENCH_DIR, env),
            Target("lean", [*bench_app, "baseline_lean:app"], BENCH_DIR, env),
            Target("app", APP_ARGS, project, app_env),
        ]
        costs = {t.name: per_request(t, python, args.requests, work) for t in targets}
        if args.keep_profiles:
            args.keep_profiles.mkdir(parents=True, exist_ok=True)
            for path in work.glob("*.callgrind"):
                shutil.copy2(path, args.keep_profiles / path.name)
        ratio = costs["bare"] / costs["app"]
        result = "PASS" if ratio >= HEALTH_RATIO_TARGET else "MISS"
        print(
            f"/health instructions per request through uvicorn: app {costs['app']:,.0f}, "
            f"bare FastAPI {costs['bare']:,.0f}, ratio {ratio:.3f} "
            f"(target >= {HEALTH_RATIO_TARGET:.2f}: {result}; {args.requests} requests per run)\n"
            f"against bare FastAPI with the app's savings outside its stack (baseline_lean.py): "
            f"{costs['lean']:,.0f}, ratio {costs['lean'] / costs['app']:.3f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
