"""Count the CPU instructions a WebSocket room broadcast costs, the WebSockets pack against the
bare Starlette loop, through uvicorn: the broadcast figure of ``run.py`` without the machine's
noise, split into what each delivery costs and what each message costs.

    uv run python bench/ws_instructions.py --project BAKE      # a bake with use_websockets=yes
    uv run python bench/ws_instructions.py --project BAKE --clients 100 300 --at 1000

``run.py``'s broadcast ratio moves a lot between runs on a shared machine. This
script serves each side as ``run.py`` does (the same uvicorn flags, the app's settings and its
PostgreSQL bus, or with ``--database sqlite`` the in-process one), but under ``valgrind
--tool=callgrind``; connects clients (bench/ws_clients.py, not counted) and publishes a burst
of room messages as ``run.py`` does, one at a time: the app's through the admin's REST
endpoint, the loop's as a POST of the same frame. A whole server process is counted with
``--messages`` in the burst and again with ``--few``: the difference over the messages between
them is what one message costs with that many clients. Start-up, sign-ins and connections are
the same in both runs and cancel out. Two client counts give the cost of one more delivery
(the slope) and of one more message (its publication: the REST request, the bus), and from
them the cost per delivery with ``--at`` clients, ``run.py``'s 1,000 by default; under
callgrind's slowdown a message to 1,000 clients would hold the event loop for seconds. The
per-delivery figure is a slope: keep the client counts far apart and the bursts long (the
defaults), or the run's noise is the figure (bench/README.md).

Work the clock drives is kept out: uvicorn's pings are off on both sides
(``--ws-ping-interval 0``), the app's heartbeat is an hour, and the smaller run keeps its
clients connected as long as the bigger run did, so that what remains (the hub's
sweep four times a second, the PostgreSQL bus's heartbeat every second) runs as long in both:
callgrind slows the server many times over, and the bigger burst lasts seconds longer. Hash
randomisation is off and no ``.pyc`` file is written, as in instructions.py. Not counted: the
kernel (each delivery's socket write, the same on both sides), cache misses and the clients'
side.
"""

# ruff: noqa: S603 - a benchmark script runs its tools (valgrind, the bake's python)
from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness import (
    ADMIN_EMAIL,
    APP_ARGS,
    BENCH_DIR,
    PACKAGE,
    UVICORN_FLAGS,
    WS_FLAGS,
    Server,
    WsClients,
    app_environment,
    base_env,
    create_admin,
    free_port,
    fresh_database,
    log,
    login,
    run_timed,
    seed,
)
from instructions import callgrind_total, wait_until_serving
from scenarios import WS_BROADCAST_RATIO_TARGET, WS_PATH, WS_PUBLISH_PATH, WS_ROOM

# Counted runs: no pings by the clock, and the app's heartbeat out of the way.
COUNTED_FLAGS = [*UVICORN_FLAGS, *WS_FLAGS, "--ws-ping-interval", "0"]
# Password hashing at OWASP's minimum: the sign-ins are not counted, only waited for.
APP_SETTINGS = [
    ("WS_HEARTBEAT_SECONDS", "3600"),
    ("WS_IDLE_TIMEOUT_SECONDS", "7200"),
    ("ARGON2_MEMORY_KIB", "19456"),
    ("ARGON2_TIME_COST", "2"),
]


@dataclass(frozen=True)
class Side:
    name: str
    app_args: list[str]
    cwd: Path
    env: dict[str, str]
    is_app: bool


def serve_counted(side: Side, python: Path, out: Path, stderr: Path) -> Server:
    port = free_port()
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(python)]
    cmd += ["-m", "uvicorn", *side.app_args, *COUNTED_FLAGS, "--port", str(port)]
    env = {**side.env, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    with stderr.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=side.cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    wait_until_serving(port, proc, stderr)
    return Server(side.name, port, proc, stderr)


def count(
    side: Side, project: Path, clients: WsClients, messages: int, hold: float, work: Path
) -> tuple[int, float]:
    """The instructions of one whole server process that took *messages* to every client, with
    the clients connected for at least *hold* seconds; and how long they were."""
    out = work / f"{side.name}-{clients.clients}-{messages}.callgrind"
    server = serve_counted(side, project / ".venv" / "bin" / "python", out, out.with_suffix(".log"))
    try:
        common = ["--room", WS_ROOM, "--messages", "1", "--burst", str(messages), "--window", "1"]
        common += ["--hold", f"{hold:.3f}"]
        if side.is_app:
            seed(server)
            create_admin(project, side.env)
            url = f"ws://127.0.0.1:{server.port}{WS_PATH}"
            options = ["--token", login(server), "--join", "--publish-token"]
            options += [login(server, ADMIN_EMAIL), "--publish", server.base + WS_PUBLISH_PATH]
        else:
            url = f"ws://127.0.0.1:{server.port}/ws"
            options = ["--publish", server.base + "/broadcast", "--post-frame"]
        result = clients.broadcast(side.name, url, [*common, *options])
        if result.problems:
            sys.exit(f"{side.name}: {'; '.join(result.problems)}")
    finally:
        server.stop(timeout=300)
    return callgrind_total(out, out.with_suffix(".log")), float(result.data["connected_s"])


@contextlib.contextmanager
def app_settings(
    args: argparse.Namespace, project: Path, work: Path, clients: int
) -> Iterator[dict[str, str]]:
    """The app's environment for one counted run, on a new database it has migrated:
    PostgreSQL's (the app's bus then is its NOTIFY) or a SQLite file (the in-process bus)."""
    with contextlib.ExitStack() as stack:
        if args.database == "sqlite":
            url = f"sqlite+aiosqlite:///{work / f'app-{uuid.uuid4().hex}.db'}"
        else:
            url = stack.enter_context(fresh_database(args.pg_url))
        extra = [*APP_SETTINGS, ("WS_MAX_CONNECTIONS_PER_USER", str(clients))]
        env = app_environment(base_env(), url, auth_rate_limit=1_000_000, extra=extra)
        migrate = ["uv", "run", "alembic", "upgrade", "head"]
        _, output, code = run_timed(migrate, cwd=project, env=env)
        if code:
            sys.exit(f"alembic upgrade head failed:\n{output}")
        yield env


def per_message(
    args: argparse.Namespace, project: Path, clients: WsClients, work: Path, *, app: bool
) -> float:
    """What one message costs with ``clients.clients`` clients connected."""
    totals: dict[int, int] = {}
    # The bigger burst first: the smaller run then keeps its clients connected as long, so that
    # the work the clock drives (the hub's sweeps, the bus's heartbeat) is the same in both.
    hold = 0.0
    for messages in (args.messages, args.few):
        with contextlib.ExitStack() as stack:
            if app:
                env = stack.enter_context(app_settings(args, project, work, clients.clients))
                side = Side("app", APP_ARGS, project, env, True)
            else:
                bench_app = ["--app-dir", str(BENCH_DIR), "baseline_ws_broadcast:app"]
                side = Side("ws_broadcast", bench_app, BENCH_DIR, base_env(), False)
            totals[messages], took = count(side, project, clients, messages, hold, work)
            hold = max(hold, took)
    many, few = totals[args.messages], totals[args.few]
    cost = (many - few) / (args.messages - args.few)
    log(
        f"{side.name}, {clients.clients} clients: {many:,} - {few:,} instructions "
        f"-> {cost:,.0f} per message (clients connected {hold:.1f} s)"
    )
    return cost


@dataclass(frozen=True)
class Costs:
    per_delivery: float
    per_message: float

    def at(self, clients: int) -> float:
        """Per delivery, with *clients* clients sharing each message's cost."""
        return self.per_delivery + self.per_message / clients

    @classmethod
    def fit(cls, few: tuple[int, float], many: tuple[int, float]) -> Costs:
        """From what a message costs with two client counts."""
        slope = (many[1] - few[1]) / (many[0] - few[0])
        return cls(slope, few[1] - slope * few[0])


def measure(args: argparse.Namespace, project: Path, work: Path, *, app: bool) -> Costs:
    python = project / ".venv" / "bin" / "python"
    low, high = (
        (n, per_message(args, project, WsClients(python, n), work, app=app)) for n in args.clients
    )
    return Costs.fit(low, high)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, required=True, help="a bake with WebSockets")
    parser.add_argument(
        "--clients", type=int, nargs=2, default=[100, 300], help="the two client counts"
    )
    parser.add_argument("--at", type=int, default=1000, help="clients the ratio is given for")
    parser.add_argument("--messages", type=int, default=60, help="the burst of the bigger run")
    parser.add_argument("--few", type=int, default=10, help="the burst of the smaller run")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an admin connection (creates and drops the databases)",
    )
    parser.add_argument(
        "--keep-profiles", type=Path, help="copy the callgrind files here (callgrind_annotate)"
    )
    args = parser.parse_args()
    if not 0 < args.few < args.messages:
        parser.error("--few must be at least 1 and below --messages")
    if not 0 < args.clients[0] < args.clients[1]:
        parser.error("--clients takes two counts, the smaller first")
    return args


def main() -> int:
    args = parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed: apt-get install -y valgrind")
    project = args.project.resolve()
    if not (project / "src" / PACKAGE / "realtime").is_dir():
        sys.exit(f"{project} has no WebSockets pack: bake it with use_websockets=yes")
    _, output, code = run_timed(["uv", "sync", "--locked"], cwd=project, env=base_env())
    if code:
        sys.exit(f"uv sync --locked failed:\n{output}")
    work = Path(tempfile.mkdtemp(prefix="bench-ws-instructions-"))
    try:
        bare = measure(args, project, work, app=False)
        app = measure(args, project, work, app=True)
        if args.keep_profiles:
            args.keep_profiles.mkdir(parents=True, exist_ok=True)
            for path in work.glob("*.callgrind"):
                shutil.copy2(path, args.keep_profiles / path.name)
        ratio = bare.at(args.at) / app.at(args.at)
        result = "PASS" if ratio >= WS_BROADCAST_RATIO_TARGET else "MISS"
        bus = "PostgreSQL NOTIFY bus" if args.database == "postgresql" else "in-process bus"
        print(
            f"room broadcast instructions through uvicorn ({bus}; {args.clients[0]} and "
            f"{args.clients[1]} clients, bursts of {args.messages} and {args.few} messages):"
        )
        for name, costs in (("app", app), ("bare Starlette loop", bare)):
            print(
                f"  {name}: {costs.per_delivery:,.0f} per delivery + {costs.per_message:,.0f} "
                f"per message -> {costs.at(args.at):,.0f} per delivery with {args.at:,} clients"
            )
        print(
            f"  ratio with {args.at:,} clients {ratio:.3f} (target >= "
            f"{WS_BROADCAST_RATIO_TARGET:.2f}: {result}); per delivery alone "
            f"{bare.per_delivery / app.per_delivery:.3f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
