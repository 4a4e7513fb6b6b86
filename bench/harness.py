"""The benchmark's harness: baking, servers, PostgreSQL, wrk, rounds and the result table.

``run.py`` is the command; ``scenarios.py`` says what is measured. Only the standard library and
asyncpg (both in the template's venv) are imported here; everything else runs in subprocesses.
"""

# ruff: noqa: S603, S607 - a benchmark runs its tools (wrk, uv, uvicorn, apt-get) by name
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = BENCH_DIR.parent
PROJECT_SLUG = "my-service"
PACKAGE = "my_service"
APP_ARGS = ["--factory", f"{PACKAGE}.main:create_app"]  # uvicorn's: the baked app
SERVER_CORE = "0"
LOAD_CORE = "1"
UVICORN_FLAGS = [
    "--host",
    "127.0.0.1",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--workers",
    "1",
]
# With the WebSockets pack, every server (app and baselines alike) gets uvicorn's sans-I/O
# WebSocket implementation: the legacy ``websockets`` one is deprecated.
WS_FLAGS = ["--ws", "websockets-sansio"]
USER_EMAIL = "bench@example.com"
USER_PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throwaway account in a throwaway db
ADMIN_EMAIL = "bench-admin@example.com"

# Appended to every wrk script: one machine-readable line with the summary and the percentiles.
LUA_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
    .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, "mean_us": %.1f, '
    .. '"p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f, "p999_us": %.0f, "max_us": %.0f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Environment and tools
# --------------------------------------------------------------------------------------------


def base_env() -> dict[str, str]:
    """The caller's environment, minus the template venv, plus pyenv's interpreters for uv.
    A bake's bytecode is written as on a developer's machine: with PYTHONDONTWRITEBYTECODE (set
    on some CI machines) every process would compile every module again, and the baked suite's
    time would be mostly compiling (bench/README.md has the figures)."""
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if "PYENV_VERSION" not in env and shutil.which("pyenv"):
        versions = subprocess.run(
            ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False
        ).stdout.split()
        wanted = sorted(
            (
                v
                for v in versions
                if v.count(".") == 2 and v.startswith(("3.11.", "3.12.", "3.13."))
            ),
            key=lambda v: tuple(int(p) for p in v.split(".")),
        )
        if wanted:
            env["PYENV_VERSION"] = ":".join(wanted)
    return env


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: apt-get install -y wrk")
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=apt_env, check=False).returncode:
        subprocess.run(["apt-get", "update"], env=apt_env, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=apt_env, check=True)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed")
    return found


def check_machine() -> None:
    if not shutil.which("taskset"):
        sys.exit("taskset (util-linux) is needed to pin the server and the load generator")
    if os.cpu_count() is None or os.cpu_count() < 2:  # type: ignore[operator]
        sys.exit("at least 2 cores are needed: one for the server, one for the load generator")


def raise_fd_limit(wanted: int) -> None:
    """Let this process and the servers it starts hold *wanted* descriptors (1,000 WebSockets
    need more than the usual soft limit of 1,024), up to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def run_timed(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, str, int]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, proc.stdout + proc.stderr, proc.returncode


def bake_default(
    out: Path, env: dict[str, str], answers: list[str] | None = None
) -> tuple[Path, float]:
    """Bake the default variant, or the one *answers* (``use_redis=yes``) choose, into *out*:
    (the project directory, seconds taken)."""
    cmd = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out), str(TEMPLATE_DIR)]
    cmd += answers or []
    bake_s, output, code = run_timed(cmd, cwd=TEMPLATE_DIR, env=env)
    if code:
        sys.exit(f"bake failed:\n{output}")
    project = out / PROJECT_SLUG
    log(f"baked in {bake_s:.2f} s: {project}")
    return project, bake_s


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads included (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def _pg(admin_url: str, statement: str) -> None:
    try:
        import asyncpg
    except ImportError:
        sys.exit("asyncpg is needed: run with `uv run python bench/run.py` from the template root")

    async def execute() -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(execute())


def database_url(admin_url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{name}", "", ""))


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    name = f"bench_{secrets.token_hex(4)}"
    _pg(admin_url, f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    try:
        yield database_url(admin_url, name)
    finally:
        _pg(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10) -> None:
        """Stop it as Ctrl-C would (a server under valgrind needs longer: it writes its counts)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(
    name: str,
    app_args: list[str],
    *,
    uvicorn: Path,
    cwd: Path,
    env: dict[str, str],
    work: Path,
    server_logs: Path | None,
    probe_path: str,
    flags: list[str] = UVICORN_FLAGS,
) -> Server:
    port = free_port()
    cmd = ["taskset", "-c", SERVER_CORE, str(uvicorn), *app_args, *flags]
    cmd += ["--port", str(port)]
    stdout: Any = subprocess.DEVNULL
    if server_logs is not None:
        stdout = (server_logs / f"{name}.stdout.log").open("wb")
    stderr_path = work / f"{name}.stderr.log"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
    if stdout is not subprocess.DEVNULL:
        stdout.close()
    server = Server(name, port, proc, stderr_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{name} exited at start-up:\n{stderr_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.base + probe_path, timeout=2):  # noqa: S310
                break
        except urllib.error.HTTPError:
            break  # any HTTP answer means it is serving
        except OSError:
            time.sleep(0.1)
    else:
        server.stop()
        sys.exit(f"{name} did not answer within 60 s:\n{stderr_path.read_text()[-3000:]}")
    log(f"{name} serving on :{port} (pid {proc.pid}, core {SERVER_CORE})")
    return server


def app_environment(
    env: dict[str, str],
    database_url: str,
    *,
    auth_rate_limit: int,
    extra: list[tuple[str, str]],
) -> dict[str, str]:
    """The app's settings: production (JSON access lines), every edge check on (the host check
    and CORS only run when configured), the login rate limit at *auth_rate_limit*."""
    return {
        **env,
        "ENVIRONMENT": "production",
        "DATABASE_URL": database_url,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "LOG_LEVEL": "INFO",
        "AUTH_RATE_LIMIT_PER_MINUTE": str(auth_rate_limit),
        "AUTH_RATE_LIMIT_BURST": str(auth_rate_limit),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CORS_ORIGINS": "https://app.example.com",
        **dict(extra),
    }


def http_json(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def login_form(email: str = USER_EMAIL) -> str:
    return urllib.parse.urlencode({"username": email, "password": USER_PASSWORD})


def packs_of(project: Path, packs: Iterable[str]) -> list[str]:
    """Those of the add-on *packs* a bake has (their folders in the package), in their order."""
    return [pack for pack in packs if (project / "src" / PACKAGE / pack).is_dir()]


def login(app: Server, email: str = USER_EMAIL) -> str:
    """A fresh access token (one lives 15 minutes by default)."""
    status, body = http_json(
        "POST",
        app.base + "/api/v1/auth/login",
        body=login_form(email).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        sys.exit(f"login of {email} answered {status}: {body}")
    return str(body["access_token"])


def seed(app: Server) -> tuple[str, str]:
    """Register the benchmark user, log in, create an item: (access token, item id)."""
    api = app.base + "/api/v1"
    payload = json.dumps({"email": USER_EMAIL, "password": USER_PASSWORD}).encode()
    status, body = http_json(
        "POST", api + "/auth/register", body=payload, headers={"Content-Type": "application/json"}
    )
    if status != 201:
        sys.exit(f"register answered {status}: {body}")
    token = login(app)
    auth = {"Authorization": f"Bearer {token}"}
    status, body = http_json(
        "POST",
        api + "/items",
        body=json.dumps({"title": "benchmark item"}).encode(),
        headers={**auth, "Content-Type": "application/json"},
    )
    if status != 201:
        sys.exit(f"create item answered {status}: {body}")
    item_id = body["id"]
    status, body = http_json("GET", f"{api}/items/{item_id}", headers=auth)
    if status != 200:
        sys.exit(f"read item answered {status}: {body}")
    return token, item_id


def create_admin(project: Path, env: dict[str, str]) -> None:
    """The benchmark's admin, made with the bake's own command (password: the user's)."""
    cmd = [str(project / ".venv" / "bin" / PROJECT_SLUG), "create-admin", "--email", ADMIN_EMAIL]
    proc = subprocess.run(
        cmd,
        cwd=project,
        env={**env, "ADMIN_PASSWORD": USER_PASSWORD},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        sys.exit(f"create-admin failed:\n{proc.stdout}{proc.stderr}")


# --------------------------------------------------------------------------------------------
# Load generation
# --------------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    label: str
    requests: int
    duration_us: int
    errors: dict[str, int]
    mean_us: float
    p50_us: float
    p90_us: float
    p99_us: float
    p999_us: float
    max_us: float
    cpu_us_per_request: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def brief(self) -> str:
        text = (
            f"{self.rps:,.0f} req/s, p50 {self.p50_us / 1000:.2f} ms, "
            f"p99 {self.p99_us / 1000:.2f} ms"
        )
        if self.cpu_us_per_request is not None:
            text += f", server CPU {self.cpu_us_per_request:,.0f} us/req"
        if self.error_count:
            text += f", errors {self.errors}"
        return text


@dataclass
class Wrk:
    binary: str
    work: Path
    scripts: dict[str, Path] = field(default_factory=dict)

    def script(self, name: str, prelude: str) -> Path:
        path = self.work / f"{name}.lua"
        path.write_text(prelude + LUA_REPORT)
        self.scripts[name] = path
        return path

    def command(
        self, url: str, script: Path, *, connections: int, seconds: float, timeout_s: float
    ) -> list[str]:
        return [
            "taskset",
            "-c",
            LOAD_CORE,
            self.binary,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={max(1, round(timeout_s))}s",
            "-s",
            str(script),
            url,
        ]

    @staticmethod
    def parse(label: str, output: str) -> WrkResult:
        for line in output.splitlines():
            if line.startswith("BENCH_JSON "):
                data = json.loads(line.removeprefix("BENCH_JSON "))
                errors = {
                    key.removesuffix("_errors"): data.pop(key)
                    for key in ("connect_errors", "read_errors", "write_errors", "status_errors")
                }
                errors["timeouts"] = data.pop("timeouts")
                errors = {k: v for k, v in errors.items() if v}
                return WrkResult(label=label, errors=errors, **data)
        raise RuntimeError(f"wrk printed no summary for {label}:\n{output}")

    def run(
        self,
        label: str,
        url: str,
        script: Path,
        *,
        connections: int,
        seconds: float,
        timeout_s: float = 10,
        server_pid: int | None = None,
    ) -> WrkResult:
        """Run wrk; with *server_pid*, also the server's CPU time per request (user + system)."""
        cmd = self.command(
            url, script, connections=connections, seconds=seconds, timeout_s=timeout_s
        )
        cpu_before = process_cpu_seconds(server_pid) if server_pid else None
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(f"wrk failed for {label}:\n{proc.stdout}{proc.stderr}")
        result = self.parse(label, proc.stdout)
        if server_pid and cpu_before is not None and result.requests:
            used = process_cpu_seconds(server_pid) - cpu_before
            result.cpu_us_per_request = used * 1e6 / result.requests
        return result

    def start(
        self, url: str, script: Path, *, connections: int, seconds: float, timeout_s: float = 10
    ) -> subprocess.Popen[str]:
        cmd = self.command(
            url, script, connections=connections, seconds=seconds, timeout_s=timeout_s
        )
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@dataclass
class BroadcastResult:
    """One ``ws_clients.py broadcast`` run: the steady phase and the burst (see its docstring)."""

    label: str
    data: dict[str, Any]

    @property
    def rate(self) -> float:
        """Deliveries per second during the burst."""
        return float(self.data["burst"]["deliveries_per_s"])

    @property
    def steady_p99_ms(self) -> float:
        return float(self.data["steady"]["p99_ms"])

    @property
    def cpu_us_per_delivery(self) -> float | None:
        return self.data.get("server_cpu_us_per_delivery")

    @property
    def problems(self) -> list[str]:
        """Lost deliveries, closed clients, refused publishes: the run does not count."""
        found = []
        for phase in ("steady", "burst"):
            figures = self.data[phase]
            if figures["deliveries"] != figures["expected"]:
                found.append(f"{phase}: {figures['deliveries']} of {figures['expected']} delivered")
        if self.data["still_open"] != self.data["clients"] or self.data["closes"]:
            found.append(f"closed by the server: {self.data['closes']}")
        refused = {k: v for k, v in self.data["publish_statuses"].items() if not k.startswith("2")}
        if refused:
            found.append(f"publish answers {refused}")
        if self.data["error_frames"]:
            found.append(f"error frames {self.data['error_frames']}")
        return found

    def brief(self) -> str:
        burst, steady = self.data["burst"], self.data["steady"]
        text = (
            f"{self.rate:,.0f} deliveries/s ({burst['messages']} msgs x {self.data['clients']} "
            f"clients in {burst['seconds']:.2f} s), steady p99 {steady['p99_ms']:.1f} ms"
        )
        if self.cpu_us_per_delivery is not None:
            text += f", server CPU {self.cpu_us_per_delivery:.1f} us/delivery"
            system = self.data.get("server_system_us_per_delivery")
            if system is not None:
                text += f" ({system:.1f} in the kernel)"
        if "client_sleeps_per_message" in self.data:
            text += f", clients woken {self.data['client_sleeps_per_message']:.0f} times/msg"
        if self.problems:
            text += f", PROBLEMS: {'; '.join(self.problems)}"
        return text


@dataclass
class WsClients:
    """bench/ws_clients.py, run by *python* (the bake's) on the load core."""

    python: Path
    clients: int

    def command(self, mode: str, url: str, options: list[str]) -> list[str]:
        script = str(BENCH_DIR / "ws_clients.py")
        cmd = ["taskset", "-c", LOAD_CORE, str(self.python), script, mode, "--url", url]
        return [*cmd, "--clients", str(self.clients), *options]

    @contextlib.contextmanager
    def holding(self, url: str, options: list[str]) -> Iterator[None]:
        """The clients connected (and idle, apart from heartbeats) while the block runs; raises
        if the server closed any of them meanwhile."""
        proc = subprocess.Popen(
            self.command("hold", url, options),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = proc.stdout.readline() if proc.stdout is not None else ""
        if not ready.startswith("READY "):
            proc.kill()
            _, err = proc.communicate()
            raise RuntimeError(f"ws_clients.py hold did not connect: {ready}{err[-3000:]}")
        log(f"{self.clients} WebSocket clients connected: {ready.removeprefix('READY ').strip()}")
        try:
            yield
        finally:
            out, err = proc.communicate(input="", timeout=120)
        data = self.parse(out, err)
        if data["still_open"] != self.clients or data["closes"]:
            raise RuntimeError(f"clients were closed while held: {data}")
        log(f"{self.clients} WebSocket clients were connected throughout")

    def broadcast(self, label: str, url: str, options: list[str]) -> BroadcastResult:
        proc = subprocess.run(
            self.command("broadcast", url, options), capture_output=True, text=True, check=False
        )
        if proc.returncode:
            raise RuntimeError(f"ws_clients.py failed for {label}:\n{proc.stdout}{proc.stderr}")
        return BroadcastResult(label, self.parse(proc.stdout, proc.stderr))

    @staticmethod
    def parse(out: str, err: str) -> dict[str, Any]:
        for line in out.splitlines():
            if line.startswith("BENCH_JSON "):
                return dict(json.loads(line.removeprefix("BENCH_JSON ")))
        raise RuntimeError(f"ws_clients.py printed no summary:\n{out}{err[-3000:]}")


# --------------------------------------------------------------------------------------------
# File transfers (the file uploads pack)
# --------------------------------------------------------------------------------------------

MB = 1_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: Path, size: int) -> Path:
    """A valid 1x1 PNG of exactly *size* bytes, padded with random bytes in a private ancillary
    chunk (``raNd``, which readers skip): a file any type sniffing takes for a PNG, of any size."""
    head = PNG_SIGNATURE + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    tail = _png_chunk(b"IDAT", zlib.compress(b"\0\0")) + _png_chunk(b"IEND", b"")
    filler = size - len(head) - len(tail) - 12  # the filler chunk's length, type and CRC
    if not 0 <= filler < 2**31:
        raise ValueError(f"no PNG of {size} bytes can be made this way")
    rng = random.Random(size)  # noqa: S311 - filler bytes, not a secret
    with path.open("wb") as out:
        out.write(head + struct.pack(">I", filler) + b"raNd")
        crc = zlib.crc32(b"raNd")
        left = filler
        while left:
            block = rng.randbytes(min(left, 1 << 20))
            crc = zlib.crc32(block, crc)
            out.write(block)
            left -= len(block)
        out.write(struct.pack(">I", crc) + tail)
    return path


def ensure_curl() -> str:
    found = shutil.which("curl")
    if not found:
        sys.exit("curl is needed to send and fetch files (apt-get install -y curl)")
    return found


@dataclass
class TransferResult:
    """One file sent or fetched by curl: the bytes on the wire, curl's own wall time, and the
    server's CPU time meanwhile (user + system, all threads)."""

    label: str
    status: int
    bytes: int
    seconds: float
    cpu_seconds: float
    answer: Any = None  # an upload's JSON answer

    @property
    def mb_per_s(self) -> float:
        return self.bytes / MB / self.seconds

    @property
    def cpu_ms_per_mb(self) -> float:
        return self.cpu_seconds * 1e3 / (self.bytes / MB)

    @classmethod
    def total(cls, label: str, results: list[TransferResult]) -> TransferResult:
        """Several transfers as one: their bytes, wall times and CPU times added up."""
        return cls(
            label,
            results[-1].status,
            sum(r.bytes for r in results),
            sum(r.seconds for r in results),
            sum(r.cpu_seconds for r in results),
        )

    def brief(self) -> str:
        return (
            f"{self.mb_per_s:,.0f} MB/s ({self.bytes / MB:,.0f} MB in {self.seconds:.2f} s), "
            f"server CPU {self.cpu_ms_per_mb:.2f} ms/MB"
        )


@dataclass
class Curl:
    """curl on the load core, one file per run: up as a multipart form, or down to /dev/null.
    ``Expect: 100-continue`` is switched off, so the body follows the headers at once."""

    binary: str
    work: Path
    write_out: str = "%{http_code} %{time_total} %{size_upload} %{size_download}"

    def upload(
        self,
        label: str,
        url: str,
        path: Path,
        *,
        media_type: str,
        headers: dict[str, str],
        server_pid: int,
    ) -> TransferResult:
        """POST *path* as the form's field ``file``; expects 201 and a JSON answer."""
        answer = self.work / f"{label}.answer.json"
        options = ["-F", f"file=@{path};type={media_type}", "-o", str(answer)]
        result = self._run(label, url, options, headers, server_pid, expect=201, sent=True)
        result.answer = json.loads(answer.read_bytes() or b"null")
        return result

    def download(
        self, label: str, url: str, *, headers: dict[str, str], server_pid: int
    ) -> TransferResult:
        """GET *url* into /dev/null; expects 200."""
        return self._run(label, url, ["-o", os.devnull], headers, server_pid, expect=200)

    def _run(
        self,
        label: str,
        url: str,
        options: list[str],
        headers: dict[str, str],
        server_pid: int,
        *,
        expect: int,
        sent: bool = False,
    ) -> TransferResult:
        cmd = ["taskset", "-c", LOAD_CORE, self.binary, "-sS", "--max-time", "900"]
        cmd += ["-H", "Expect:", "-w", self.write_out]
        for name, value in headers.items():
            cmd += ["-H", f"{name}: {value}"]
        cmd += [*options, url]
        cpu_before = process_cpu_seconds(server_pid)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        cpu_seconds = process_cpu_seconds(server_pid) - cpu_before
        if proc.returncode:
            raise RuntimeError(f"curl failed for {label}: {proc.stdout}{proc.stderr}")
        status, total, uploaded, downloaded = proc.stdout.split()
        if int(status) != expect:
            raise RuntimeError(f"{label}: {url} answered {status}, not {expect}")
        size = float(uploaded if sent else downloaded)
        return TransferResult(label, int(status), int(size), float(total), cpu_seconds)


def resident_bytes(pid: int) -> int:
    """A process's resident set now (``VmRSS`` of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"process {pid} has no VmRSS")


@dataclass
class RssTrace:
    """A process's resident set, sampled: the first sample before, the last after."""

    samples: list[int] = field(default_factory=list)

    @property
    def before(self) -> int:
        return self.samples[0]

    @property
    def peak(self) -> int:
        return max(self.samples)

    @property
    def after(self) -> int:
        return self.samples[-1]

    @property
    def growth(self) -> int:
        return self.peak - self.before

    def brief(self) -> str:
        return (
            f"+{self.growth / MB:.1f} MB (before {self.before / MB:.1f}, peak "
            f"{self.peak / MB:.1f}, after {self.after / MB:.1f} MB; {len(self.samples)} samples)"
        )


@contextlib.contextmanager
def sampling_rss(pid: int, every_s: float = 0.02) -> Iterator[RssTrace]:
    """*pid*'s resident set, sampled every *every_s* seconds while the block runs."""
    trace = RssTrace([resident_bytes(pid)])
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every_s):
            trace.samples.append(resident_bytes(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield trace
    finally:
        stop.set()
        sampler.join()
        trace.samples.append(resident_bytes(pid))


class Profiler:
    """Optional: py-spy records the server while a measured wrk run lasts (on the load core)."""

    def __init__(self, py_spy: str | None, out_dir: Path | None) -> None:
        self.py_spy = py_spy
        self.out_dir = out_dir

    @contextlib.contextmanager
    def record(self, server: Server, label: str, seconds: float) -> Iterator[None]:
        if not self.py_spy or self.out_dir is None:
            yield
            return
        out = self.out_dir / f"{label}.collapsed.txt"
        cmd = ["taskset", "-c", LOAD_CORE, self.py_spy, "record", "--pid", str(server.proc.pid)]
        cmd += ["--duration", str(max(1, round(seconds) - 1)), "--rate", "200", "--nonblocking"]
        cmd += ["--format", "raw", "--output", str(out)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            yield
        finally:
            proc.wait()
            log(f"py-spy profile of {server.name}: {out}")


def measure_pair(
    wrk: Wrk,
    profiler: Profiler,
    pair: list[tuple[Server, str, Path]],
    *,
    label: str,
    rounds: int,
    warmup: float,
    seconds: float,
    connections: int,
) -> dict[str, list[WrkResult]]:
    """Rounds of (warm-up, measure) for each side, alternating which side goes first."""
    results: dict[str, list[WrkResult]] = {server.name: [] for server, _, _ in pair}
    for round_no in range(rounds):
        order = pair if round_no % 2 == 0 else list(reversed(pair))
        for server, path, script in order:
            url = server.base + path
            wrk.run("warm-up", url, script, connections=connections, seconds=warmup)
            with profiler.record(server, f"{label}-{server.name}-r{round_no}", seconds):
                result = wrk.run(
                    server.name,
                    url,
                    script,
                    connections=connections,
                    seconds=seconds,
                    server_pid=server.proc.pid,
                )
            results[server.name].append(result)
            log(f"{label} round {round_no + 1}/{rounds} {server.name}: {result.brief()}")
    return results


def cpu_ratio(measured: WrkResult, baseline: WrkResult) -> str:
    """Baseline CPU per request over measured: the throughput ratio if the core were the limit."""
    if not measured.cpu_us_per_request or not baseline.cpu_us_per_request:
        return ""
    return f" (CPU {baseline.cpu_us_per_request / measured.cpu_us_per_request:.2f})"


def median_result(results: list[WrkResult]) -> WrkResult:
    ordered = sorted(results, key=lambda r: r.rps)
    return ordered[(len(ordered) - 1) // 2]


def spread(results: list[WrkResult]) -> str:
    rates = [r.rps for r in results]
    if len(rates) < 2:
        return ""
    return f"{min(rates):,.0f}-{max(rates):,.0f}"


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    measured: str
    baseline: str
    ratio: str
    target: str
    verdict: str


def print_table(rows: list[Row]) -> None:
    headers = Row("figure", "measured", "baseline", "ratio", "target", "result")
    table = [headers, *rows]
    widths = [max(len(getattr(r, f)) for r in table) for f in Row.__dataclass_fields__]

    def line(row: Row) -> str:
        cells = [
            getattr(row, f).ljust(w) for f, w in zip(Row.__dataclass_fields__, widths, strict=True)
        ]
        return "| " + " | ".join(cells) + " |"

    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))


def versions(python: Path) -> str:
    code = """
import importlib.metadata as m, platform
found = []
for p in ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "asyncpg",
          "pydantic", "structlog", "argon2-cffi", "websockets"):
    try:
        found.append(f"{p} {m.version(p)}")
    except m.PackageNotFoundError:  # websockets: only where a pack needs it
        pass
print(platform.python_version(), *found, sep=", ")
"""
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=False
    ).stdout.strip()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def app_setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip().upper(), value


def add_app_env_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app-env",
        action="append",
        default=[],
        type=app_setting,
        metavar="NAME=VALUE",
        help="extra setting for the app, repeatable: what a setting costs "
        "(LOG_LEVEL=WARNING: no access lines; TELEMETRY_ENABLED=true: FastAPI's own telemetry)",
    )
