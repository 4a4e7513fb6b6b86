"""Benchmark the baked default variant against bare baselines, in one run, and print the figures.

    cd /work/main && uv run python bench/run.py            # bake, test, serve, measure, clean up
    uv run python bench/run.py --help                      # durations, rounds, connections, ...

What it does (see bench/README.md for what each figure means):

1. installs wrk with apt-get if it is missing;
2. bakes the default variant (or the one ``--answers use_redis=yes`` chooses) into a temporary
   directory (timed), ``uv sync --locked``, and times the baked test suite
   (``uv run pytest -q -p no:cacheprovider``) twice: after the bake, and again;
3. creates a fresh PostgreSQL database and migrates it; starts the baked app and the two
   baselines (bench/baseline_bare.py, bench/baseline_minimal_db.py) with the same uvicorn flags
   (uvloop, httptools, no access log, one worker) pinned to core 0; registers a user, logs in and
   creates an item;
4. drives them with wrk pinned to core 1 (a warm-up, then a fixed duration; several rounds,
   alternating which side goes first; the median round counts);
5. floods /api/v1/auth/login with one wrk while a second wrk measures /health latency;
   with the WebSockets pack (``--answers use_websockets=yes``), measures /health again while
   1,000 WebSocket clients (bench/ws_clients.py) stay connected to the app, and the pack's room
   broadcast to those clients against bench/baseline_ws_broadcast.py; with the file uploads
   pack (``use_file_uploads=yes``), sends a 100 MB file up and down with curl, against
   bench/baseline_upload.py, and watches the app's resident set during a 500 MB upload;
6. prints a table (raw figures, ratio, target, PASS/MISS), kills the servers, drops the database.

The servers' stdout (the app's JSON log lines, one per request) goes to /dev/null unless
``--server-logs DIR`` is given. The scenarios of steps 4 and 5, and how each pack's app is
served, are data in ``scenarios.py``; ``harness.py`` holds the machinery (servers, wrk,
PostgreSQL, rounds, the table); ``main()`` below reads as the steps above.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from harness import (
    APP_ARGS,
    LOAD_CORE,
    SERVER_CORE,
    UVICORN_FLAGS,
    Profiler,
    Row,
    Server,
    Wrk,
    WsClients,
    add_app_env_argument,
    app_environment,
    bake_default,
    base_env,
    check_machine,
    cpu_model,
    ensure_wrk,
    fresh_database,
    log,
    packs_of,
    print_table,
    raise_fd_limit,
    run_timed,
    seed,
    start_server,
    versions,
)
from scenarios import PACKS, SCENARIOS, Bench, Scenario, Seed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per comparison (median)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (throughput)")
    parser.add_argument("--flood-connections", type=int, default=16, help="concurrent logins")
    parser.add_argument(
        "--probe-connections", type=int, default=4, help="/health probe during flood"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "TEMPLATE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an admin connection (creates and drops the benchmark database)",
    )
    parser.add_argument(
        "--project",
        type=Path,
        help="benchmark this already-baked project instead of baking one (no bake/test timing)",
    )
    parser.add_argument(
        "--answers",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template answers of the bake, e.g. use_redis=yes (the packs' scenarios need them)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="the Redis a bake with the Redis pack uses (under a key prefix of the run's own)",
    )
    parser.add_argument(
        "--ws-clients", type=int, default=1000, help="WebSocket clients (the WebSockets pack)"
    )
    parser.add_argument(
        "--ws-messages", type=int, default=200, help="messages published at --ws-rate"
    )
    parser.add_argument("--ws-rate", type=float, default=20, help="messages per second (steady)")
    parser.add_argument(
        "--ws-burst", type=int, default=200, help="then messages published as fast as answered"
    )
    parser.add_argument(
        "--ws-window", type=int, default=8, help="publishing connections during the burst"
    )
    parser.add_argument(
        "--files-mb", type=int, default=100, help="the file sent up and down (file uploads pack)"
    )
    parser.add_argument(
        "--files-downloads", type=int, default=5, help="downloads of that file per round (total)"
    )
    parser.add_argument(
        "--files-rss-mb", type=int, default=500, help="the upload the resident set is watched in"
    )
    parser.add_argument("--skip-tests", action="store_true", help="do not time the baked tests")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of the scenarios: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--auth-rate-limit",
        type=int,
        default=1_000_000,
        help="AUTH_RATE_LIMIT_PER_MINUTE and _BURST for the app (high: the flood hashes)",
    )
    parser.add_argument("--server-logs", type=Path, help="keep the servers' stdout here")
    parser.add_argument("--py-spy", help="path to py-spy: profile the servers during measurement")
    parser.add_argument("--profile-dir", type=Path, help="where py-spy writes (default: cwd)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary bake directory")
    add_app_env_argument(parser)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


@dataclass
class Run:
    """One run: its options, its temporary directory, the servers it started, and the table's
    rows and the JSON report so far."""

    args: argparse.Namespace
    env: dict[str, str]
    work: Path
    rows: list[Row] = field(default_factory=list)
    report: dict[str, Any] = field(
        default_factory=lambda: {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    )
    servers: list[Server] = field(default_factory=list)

    def info(self, figure: str, measured: str, baseline: str = "", verdict: str = "info") -> None:
        self.rows.append(Row(figure, measured, baseline, "", "", verdict))

    def start(
        self, name: str, app_args: list[str], *, uvicorn: Path, flags: list[str], **kwargs: Any
    ) -> Server:
        """A server, stopped at the end of the run (its stdout kept with --server-logs)."""
        server = start_server(
            name,
            app_args,
            uvicorn=uvicorn,
            work=self.work,
            server_logs=self.args.server_logs,
            flags=flags,
            **kwargs,
        )
        self.servers.append(server)
        return server

    def clean_up(self) -> None:
        for server in self.servers:
            server.stop()
        if self.args.keep or self.args.project:
            log(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def chosen_scenarios(only: str) -> list[Scenario]:
    """The scenarios ``--only`` names, in ``SCENARIOS``' order."""
    names = {name.strip() for name in only.split(",")}
    return [scenario for key, scenario in SCENARIOS.items() if key in names]


def profiler_for(args: argparse.Namespace) -> Profiler:
    """py-spy when --py-spy is given; its directory and --server-logs' are made before the bake."""
    if args.server_logs:
        args.server_logs.mkdir(parents=True, exist_ok=True)
    profile_dir = None
    if args.py_spy:
        profile_dir = (args.profile_dir or Path.cwd()).resolve()
        profile_dir.mkdir(parents=True, exist_ok=True)
    return Profiler(args.py_spy, profile_dir)


def bake(run: Run) -> Path:
    project, bake_s = bake_default(run.work / "bake", run.env, run.args.answers)
    run.info("bake (cookiecutter --no-input)", f"{bake_s:.2f} s")
    run.report["bake_s"] = bake_s
    return project


def sync(run: Run, project: Path) -> None:
    sync_s, output, code = run_timed(["uv", "sync", "--locked"], cwd=project, env=run.env)
    if code:
        sys.exit(f"uv sync --locked failed:\n{output}")
    log(f"uv sync --locked in {sync_s:.2f} s")
    run.info("uv sync --locked (warm uv cache)", f"{sync_s:.2f} s")
    run.report["sync_s"] = sync_s


def time_baked_tests(run: Run, project: Path) -> None:
    """Run the baked suite as its users do, twice, and report each run's wall time and pytest's
    summary: the first run after a bake also compiles every module's bytecode; the second is
    what each of the many later runs costs."""
    for key, label in (("tests_first", "first run"), ("tests", "next run")):
        test_s, output, code = run_timed(
            ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=run.env
        )
        summary = next(
            (line for line in reversed(output.splitlines()) if " in " in line and "passed" in line),
            output.strip().splitlines()[-1] if output.strip() else "",
        ).strip("= ")
        log(f"baked test suite, {label}, in {test_s:.1f} s: {summary}")
        if code:
            failures = [
                line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))
            ]
            log("baked test suite failed:\n" + "\n".join(failures or output.splitlines()[-30:]))
        verdict = "FAILED" if code else "info"
        figure = f"baked test suite (uv run pytest), {label}"
        run.info(figure, f"{test_s:.1f} s", summary, verdict)
        run.report[f"{key}_s"], run.report[f"{key}_summary"] = test_s, summary
        if code:  # a failing suite's second run says nothing new
            break


def migrate(project: Path, app_env: dict[str, str]) -> None:
    _, output, code = run_timed(
        ["uv", "run", "alembic", "upgrade", "head"], cwd=project, env=app_env
    )
    if code:
        sys.exit(f"alembic upgrade head failed:\n{output}")
    log("migrated")


def measure(
    run: Run, project: Path, scenarios: list[Scenario], wrk: Wrk, profiler: Profiler
) -> bool:
    """On a fresh database: serve the app as the bake's packs want it, seed it, and run those of
    *scenarios* the bake has the packs for. Whether every one met its targets."""
    args = run.args
    packs = [PACKS[name] for name in packs_of(project, PACKS)]
    scenarios = [s for s in scenarios if s.pack in {None, *(pack.name for pack in packs)}]
    run.report["scenarios"] = [scenario.key for scenario in scenarios]  # what the figures cover
    settings = [pair for pack in packs for pair in pack.settings(args, run.work, run.report)]
    flags = UVICORN_FLAGS + [flag for pack in packs for flag in pack.uvicorn_flags]
    start = partial(run.start, uvicorn=project / ".venv" / "bin" / "uvicorn", flags=flags)
    with fresh_database(args.pg_url) as db_url:
        app_env = app_environment(
            run.env,
            db_url,
            auth_rate_limit=args.auth_rate_limit,
            extra=[*args.app_env, *settings],
        )
        migrate(project, app_env)
        app = start("app", APP_ARGS, cwd=project, env=app_env, probe_path="/health")
        seeded = Seed(*seed(app))
        log(f"seeded: item {seeded.item_id}")
        bench = Bench(
            args=args,
            wrk=wrk,
            profiler=profiler,
            app=app,
            seed=seeded,
            env=run.env,
            database_url=db_url,
            app_env=app_env,
            start=start,
            project=project,
            ws_clients=WsClients(project / ".venv" / "bin" / "python", args.ws_clients),
            work=run.work,
            rows=run.rows,
            report=run.report,
        )
        results = [scenario(bench) for scenario in scenarios]
    return all(results)


def print_report(args: argparse.Namespace, rows: list[Row], report: dict[str, Any]) -> None:
    print()
    print(f"CPU: {report.get('cpu')}; server pinned to core {SERVER_CORE}, wrk to core {LOAD_CORE}")
    print(f"Versions: {report.get('versions')}")
    print(
        f"wrk -t1 -c{args.connections}, {args.warmup:g} s warm-up + {args.duration:g} s per "
        f"measurement, median of {args.rounds} round(s); server stdout -> "
        f"{args.server_logs or '/dev/null'}"
    )
    print()
    print_table(rows)
    for name, figures in report.items():
        if isinstance(figures, dict):
            spreads = {k: v for k, v in figures.items() if k.startswith("spread") and v}
            if spreads:
                print(f"run-to-run spread (req/s, min-max over rounds) {name}: {spreads}")


def main() -> int:
    args = parse_args()
    check_machine()
    wrk_binary = ensure_wrk()
    raise_fd_limit(args.ws_clients + 1024)  # the servers inherit it
    scenarios = chosen_scenarios(args.only)
    run = Run(args, base_env(), Path(tempfile.mkdtemp(prefix="bench-")))
    profiler = profiler_for(args)
    met = True
    try:
        project = args.project.resolve() if args.project else bake(run)
        sync(run, project)
        if not args.skip_tests:
            time_baked_tests(run, project)
        run.report["versions"] = versions(project / ".venv" / "bin" / "python")
        run.report["cpu"] = cpu_model()
        if scenarios:
            met = measure(run, project, scenarios, Wrk(wrk_binary, run.work), profiler)
    finally:
        run.clean_up()
    print_report(args, run.rows, run.report)
    if args.json:  # with the options, so that a partial run (--only) says it is one
        options = {
            k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in vars(args).items()
        }
        args.json.write_text(json.dumps({"options": options, **run.report}, indent=2))
    return 1 if (not met and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
