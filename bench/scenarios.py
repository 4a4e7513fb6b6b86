"""What the benchmark measures, as data: each scenario is one row of the table (or two).

A scenario gets a ``Bench``: the seeded app server, wrk, the options and where to write its
rows. A comparison (the app against a baseline server on one request) is a ``Comparison``; a
scenario of another shape is a class of its own with the same ``key``, ``pack`` and call. A pack
adds its scenarios to ``SCENARIOS`` (``run.py --only`` takes their keys) and how the app is
served with it to ``PACKS``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from harness import (
    ADMIN_EMAIL,
    APP_ARGS,
    BENCH_DIR,
    MB,
    WS_FLAGS,
    BroadcastResult,
    Curl,
    Profiler,
    Row,
    RssTrace,
    Server,
    TransferResult,
    Wrk,
    WrkResult,
    WsClients,
    cpu_ratio,
    create_admin,
    ensure_curl,
    http_json,
    log,
    login,
    login_form,
    measure_pair,
    median_result,
    sampling_rss,
    spread,
    write_png,
)
from otlp_sink import otlp_sink

# Targets of the issues.
HEALTH_RATIO_TARGET = 0.90
ITEM_RATIO_TARGET = 0.80
CACHED_ITEM_RATIO_TARGET = 1.0
FLOOD_P99_TARGET_MS = 50.0
WS_BROADCAST_RATIO_TARGET = 0.80
WS_DELIVERY_P99_TARGET_MS = 50.0
FILES_RATIO_TARGET = 0.80
FILES_RSS_GROWTH_TARGET_MB = 50.0

# The WebSockets pack's endpoints.
WS_PATH = "/api/v1/ws"
WS_ROOM = "bench"
WS_PUBLISH_PATH = f"/api/v1/realtime/rooms/{WS_ROOM}/messages"

# The file uploads pack's endpoints, and the type of the benchmark's files.
FILES_PATH = "/api/v1/files"
FILE_TYPE = "image/png"


@dataclass(frozen=True)
class Seed:
    """What ``harness.seed`` created in the app: a signed-in user's token and one item."""

    token: str
    item_id: str


@dataclass
class Bench:
    """Everything a scenario needs, and where it reports."""

    args: argparse.Namespace
    wrk: Wrk
    profiler: Profiler
    app: Server
    seed: Seed
    env: dict[str, str]
    database_url: str
    app_env: dict[str, str]  # the app's settings (its database may be another, --app-env)
    start: Callable[..., Server]
    project: Path
    ws_clients: WsClients
    work: Path  # the run's temporary directory (deleted at the end unless --keep)
    rows: list[Row] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    _admin_created: bool = False

    def admin_token(self) -> str:
        """An admin's fresh access token (the admin is created on first use)."""
        if not self._admin_created:
            create_admin(self.project, self.app_env)
            self._admin_created = True
        return login(self.app, ADMIN_EMAIL)

    def measure(self, pair: list[tuple[Server, str, Path]], label: str) -> dict[str, list[Any]]:
        return measure_pair(
            self.wrk,
            self.profiler,
            pair,
            label=label,
            rounds=self.args.rounds,
            warmup=self.args.warmup,
            seconds=self.args.duration,
            connections=self.args.connections,
        )


@dataclass(frozen=True)
class Comparison:
    """The app against a baseline server on one request; passes at ``target`` or better."""

    key: str
    figure: str
    baseline: str  # the ``module:app`` of bench/ that serves the baseline
    baseline_path: Callable[[Seed], str]
    app_path: Callable[[Seed], str]
    target: float
    wrk_prelude: Callable[[Seed], str] = lambda _: ""
    baseline_env: Callable[[Bench], dict[str, str]] = lambda bench: bench.env
    # The pack the scenario needs in the bake (run.py skips it otherwise).
    pack: str | None = None
    # What holds while both sides are measured (e.g. WebSocket clients connected to the app).
    during: Callable[[Bench], AbstractContextManager[object]] = lambda _: contextlib.nullcontext()

    def __call__(self, bench: Bench) -> bool:
        name = self.baseline.split(":")[0].removeprefix("baseline_")
        baseline = bench.start(
            name,
            ["--app-dir", str(BENCH_DIR), self.baseline],
            cwd=BENCH_DIR,
            env=self.baseline_env(bench),
            probe_path=self.baseline_path(bench.seed),
        )
        try:
            script = bench.wrk.script(self.key, self.wrk_prelude(bench.seed))
            with self.during(bench):
                results = bench.measure(
                    [
                        (baseline, self.baseline_path(bench.seed), script),
                        (bench.app, self.app_path(bench.seed), script),
                    ],
                    self.key,
                )
        finally:
            baseline.stop()
        app_results = results[bench.app.name]
        base_r, app_r = median_result(results[name]), median_result(app_results)
        ratio = app_r.rps / base_r.rps
        ok = ratio >= self.target and not app_r.errors
        bench.rows.append(
            Row(
                self.figure,
                app_r.brief(),
                base_r.brief(),
                f"{ratio:.2f}{cpu_ratio(app_r, base_r)}",
                f">= {self.target:.2f}",
                "PASS" if ok else "MISS",
            )
        )
        bench.report[self.key] = {
            "app": [vars(r) for r in app_results],
            name: [vars(r) for r in results[name]],
            "ratio": ratio,
            "spread_app": spread(app_results),
            f"spread_{name}": spread(results[name]),
        }
        return ok


def _bearer(seed: Seed) -> str:
    return f'wrk.headers["Authorization"] = "Bearer {seed.token}"\n'


HEALTH = Comparison(
    key="health",
    figure="/health full stack vs bare FastAPI (req/s)",
    baseline="baseline_bare:app",
    baseline_path=lambda _: "/health",
    app_path=lambda _: "/health",
    target=HEALTH_RATIO_TARGET,
)

ITEMS = Comparison(
    key="items",
    figure="GET item, auth, PostgreSQL vs minimal endpoint (req/s)",
    baseline="baseline_minimal_db:app",
    baseline_path=lambda seed: f"/items/{seed.item_id}",
    app_path=lambda seed: f"/api/v1/items/{seed.item_id}",
    target=ITEM_RATIO_TARGET,
    wrk_prelude=_bearer,
    baseline_env=lambda bench: {**bench.env, "DATABASE_URL": bench.database_url},
)


# With the Redis pack the item read is served from its cache: at least as fast as the minimal
# endpoint's database read, and still authenticated and ownership-checked.
CACHED_ITEMS = replace(
    ITEMS,
    key="cached-items",
    figure="GET item, auth, Redis cache vs minimal endpoint on PostgreSQL (req/s)",
    target=CACHED_ITEM_RATIO_TARGET,
    pack="redis",
)


def _ws_url(server: Server, path: str) -> str:
    return server.base.replace("http://", "ws://", 1) + path


def _idle_clients(bench: Bench) -> AbstractContextManager[None]:
    """The WebSocket clients connected to the app, each in the room, idle but for heartbeats."""
    options = ["--token", login(bench.app), "--room", WS_ROOM, "--join"]
    return bench.ws_clients.holding(_ws_url(bench.app, WS_PATH), options)


# With the WebSockets pack: the same /health comparison while the app holds the clients'
# connections (the hub sweeps them four times a second, uvicorn pings them).
HEALTH_WS_OPEN = replace(
    HEALTH,
    key="health-ws-open",
    figure="/health vs bare FastAPI, 1,000 WebSockets open on the app (req/s)",
    pack="realtime",
    during=_idle_clients,
)


@dataclass(frozen=True)
class Traced:
    """A comparison with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT) on both sides: a second app,
    against its baseline tracing the same way, both exporting to one local sink."""

    comparison: Comparison

    @property
    def key(self) -> str:
        return self.comparison.key

    @property
    def pack(self) -> str | None:
        return self.comparison.pack

    def __call__(self, bench: Bench) -> bool:
        with otlp_sink() as sink:
            tracing = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.url}
            app = bench.start(
                "app-traced",
                APP_ARGS,
                cwd=bench.project,
                env={**bench.app_env, **tracing},
                probe_path="/health",
            )
            baseline_env = self.comparison.baseline_env
            comparison = replace(
                self.comparison, baseline_env=lambda bench: {**baseline_env(bench), **tracing}
            )
            try:
                ok = comparison(replace(bench, app=app))
            finally:
                app.stop()
        log(f"OTLP sink: {sink.exports:,} exports, {sink.bytes / MB:,.1f} MB of spans")
        bench.report[self.key]["sink"] = {"exports": sink.exports, "bytes": sink.bytes}
        return ok


HEALTH_TRACED = Traced(
    replace(
        HEALTH,
        key="health-traced",
        figure="/health, tracing on, vs bare FastAPI tracing too (req/s)",
        baseline="baseline_traced:app",
    )
)


@dataclass(frozen=True)
class Broadcast:
    """The pack's room fan-out against the simplest broadcast loop in bare Starlette
    (bench/baseline_ws_broadcast.py), both serving the same clients (bench/ws_clients.py): a
    steady phase gives the delivery latency, a burst the deliveries per second."""

    key: str
    pack: str = "realtime"

    def __call__(self, bench: Bench) -> bool:
        args = bench.args
        baseline = bench.start(
            "ws_broadcast",
            ["--app-dir", str(BENCH_DIR), "baseline_ws_broadcast:app"],
            cwd=BENCH_DIR,
            env=bench.env,
            probe_path="/broadcast",  # a GET: 405, so it is serving
        )
        common = ["--room", WS_ROOM, "--messages", str(args.ws_messages)]
        common += ["--rate", f"{args.ws_rate:g}", "--burst", str(args.ws_burst)]
        common += ["--window", str(args.ws_window)]
        results: dict[str, list[BroadcastResult]] = {"app": [], baseline.name: []}
        try:
            for round_no in range(args.rounds):
                sides = [baseline, bench.app] if round_no % 2 == 0 else [bench.app, baseline]
                for server in sides:
                    if server is bench.app:  # tokens live 15 minutes: fresh ones each round
                        url = _ws_url(server, WS_PATH)
                        options = ["--token", login(server), "--join"]
                        options += ["--publish", server.base + WS_PUBLISH_PATH]
                        options += ["--publish-token", bench.admin_token()]
                    else:
                        url = _ws_url(server, "/ws")
                        options = ["--publish", server.base + "/broadcast", "--post-frame"]
                    options += [*common, "--server-pid", str(server.proc.pid)]
                    # Profiled (--py-spy): the connections and the steady phase.
                    label = f"{self.key}-{server.name}-r{round_no}"
                    with bench.profiler.record(server, label, args.ws_messages / args.ws_rate):
                        result = bench.ws_clients.broadcast(server.name, url, options)
                    results[server.name].append(result)
                    progress = f"round {round_no + 1}/{args.rounds} {server.name}"
                    log(f"{self.key} {progress}: {result.brief()}")
        finally:
            baseline.stop()
        return self.report(bench, results["app"], results[baseline.name])

    def report(
        self, bench: Bench, app: list[BroadcastResult], baseline: list[BroadcastResult]
    ) -> bool:
        args = bench.args
        app_r = sorted(app, key=lambda r: r.rate)[(len(app) - 1) // 2]
        base_r = sorted(baseline, key=lambda r: r.rate)[(len(baseline) - 1) // 2]
        clean = not any(r.problems for r in app)
        ratio = app_r.rate / base_r.rate
        cpu = ""
        if app_r.cpu_us_per_delivery and base_r.cpu_us_per_delivery:
            cpu = f" (CPU {base_r.cpu_us_per_delivery / app_r.cpu_us_per_delivery:.2f})"
        ok_rate = ratio >= WS_BROADCAST_RATIO_TARGET and clean
        bench.rows.append(
            Row(
                f"WebSocket room broadcast, {args.ws_clients:,} clients vs bare Starlette loop "
                f"(deliveries/s, burst of {args.ws_burst} msgs)",
                app_r.brief(),
                base_r.brief(),
                f"{ratio:.2f}{cpu}",
                f">= {WS_BROADCAST_RATIO_TARGET:.2f}",
                "PASS" if ok_rate else "MISS",
            )
        )
        # The latency row: the median round by the steady phase's p99.
        steady = sorted(app, key=lambda r: r.steady_p99_ms)[(len(app) - 1) // 2].data["steady"]
        app_p99 = steady["p99_ms"]
        base_p99 = statistics.median(r.steady_p99_ms for r in baseline)
        ok_p99 = app_p99 < WS_DELIVERY_P99_TARGET_MS and clean
        bench.rows.append(
            Row(
                f"WebSocket delivery p99 at {args.ws_rate:g} msgs/s "
                f"({args.ws_rate * args.ws_clients:,.0f} deliveries/s)",
                f"p99 {app_p99:.1f} ms (median round: p50 {steady['p50_ms']:.1f}, "
                f"max {steady['max_ms']:.1f} ms)",
                f"bare Starlette p99 {base_p99:.1f} ms",
                "",
                f"< {WS_DELIVERY_P99_TARGET_MS:.0f} ms",
                "PASS" if ok_p99 else "MISS",
            )
        )
        bench.report[self.key] = {
            "app": [r.data for r in app],
            "ws_broadcast": [r.data for r in baseline],
            "ratio": ratio,
            "spread_app": _rate_spread(app),
            "spread_ws_broadcast": _rate_spread(baseline),
        }
        return ok_rate and ok_p99


def _rate_spread(results: list[BroadcastResult]) -> str:
    rates = [r.rate for r in results]
    return f"{min(rates):,.0f}-{max(rates):,.0f}" if len(rates) > 1 else ""


WS_BROADCAST = Broadcast(key="ws-broadcast")


@dataclass(frozen=True)
class LoginFlood:
    """/health latency while logins (each an argon2 hash) flood the same worker: one wrk
    floods /api/v1/auth/login, a second probes /health, first alone, then during the flood."""

    key: str
    pack: str | None = None

    def __call__(self, bench: Bench) -> bool:
        args, wrk, app = bench.args, bench.wrk, bench.app
        health_script = wrk.script("health-probe", "")
        login_script = wrk.script(
            "login",
            'wrk.method = "POST"\n'
            f'wrk.body = "{login_form()}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n',
        )
        probe = {"connections": args.probe_connections, "seconds": args.duration}
        url = app.base + "/health"
        wrk.run(
            "warm-up", url, health_script, connections=args.probe_connections, seconds=args.warmup
        )
        quiet = wrk.run("quiet", url, health_script, timeout_s=60, **probe)
        log(f"/health alone ({args.probe_connections} connections): {quiet.brief()}")
        flood_proc = wrk.start(
            app.base + "/api/v1/auth/login",
            login_script,
            connections=args.flood_connections,
            seconds=args.warmup + args.duration + 3,
            timeout_s=60,
        )
        time.sleep(args.warmup)
        with bench.profiler.record(app, "flood-app", args.duration):
            flooded = wrk.run("flooded", url, health_script, timeout_s=60, **probe)
        flood_out, _ = flood_proc.communicate()
        logins = Wrk.parse("logins", flood_out)
        log(f"/health during login flood: {flooded.brief()}")
        log(f"logins: {logins.brief()}")
        return self.report(bench, quiet, flooded, logins)

    def report(self, bench: Bench, quiet: WrkResult, flooded: WrkResult, logins: WrkResult) -> bool:
        p99_ms = flooded.p99_us / 1000
        ok = p99_ms < FLOOD_P99_TARGET_MS and not flooded.errors
        bench.rows.append(
            Row(
                f"/health p99 during login flood ({bench.args.flood_connections} conns)",
                f"p99 {p99_ms:.1f} ms (p50 {flooded.p50_us / 1000:.2f}, max "
                f"{flooded.max_us / 1000:.0f} ms, {flooded.rps:,.0f} req/s)",
                f"quiet p99 {quiet.p99_us / 1000:.2f} ms",
                "",
                f"< {FLOOD_P99_TARGET_MS:.0f} ms",
                "PASS" if ok else "MISS",
            )
        )
        bench.rows.append(
            Row(
                "logins served during the flood",
                f"{logins.rps:,.1f} logins/s, p50 {logins.p50_us / 1000:.0f} ms, "
                f"p99 {logins.p99_us / 1000:.0f} ms"
                + (f", errors {logins.errors}" if logins.errors else ""),
                "",
                "",
                "",
                "info",
            )
        )
        bench.report[self.key] = {
            "quiet": vars(quiet),
            "flooded": vars(flooded),
            "logins": vars(logins),
        }
        return ok


LOGIN_FLOOD = LoginFlood(key="flood")


@dataclass(frozen=True)
class FileEndpoints:
    """Where a server takes a file and gives it back: the app's files API, or the baseline's
    two routes."""

    server: Server
    upload_path: str
    download_path: Callable[[Any], str]  # from the upload's JSON answer
    headers: dict[str, str] = field(default_factory=dict)
    delete_path: Callable[[Any], str] | None = None  # where uploads pile up: removed after use

    @property
    def name(self) -> str:
        return self.server.name

    def upload(self, curl: Curl, label: str, path: Path) -> TransferResult:
        # The previous transfers' dirty pages written out first: else the kernel may make this
        # upload's writes wait for them, on one side and not the other.
        os.sync()
        return curl.upload(
            f"{label}-{self.name}-up",
            self.server.base + self.upload_path,
            path,
            media_type=FILE_TYPE,
            headers=self.headers,
            server_pid=self.server.proc.pid,
        )

    def round_trip(
        self, curl: Curl, label: str, path: Path, downloads: int = 1
    ) -> tuple[TransferResult, TransferResult]:
        """Upload *path*, download what was stored *downloads* times (the total counts: one
        download from the page cache is over too soon to time alone), remove it."""
        up = self.upload(curl, label, path)
        url = self.server.base + self.download_path(up.answer)
        results = []
        for _ in range(downloads):
            down = curl.download(
                f"{label}-{self.name}-down",
                url,
                headers=self.headers,
                server_pid=self.server.proc.pid,
            )
            if down.bytes != up.answer["size"]:
                raise RuntimeError(f"{label}: {down.bytes} bytes came back of {up.answer['size']}")
            results.append(down)
        self.remove(up.answer)
        return up, TransferResult.total(f"{label}-{self.name}-down", results)

    def rss_during_upload(self, curl: Curl, path: Path, profiler: Profiler) -> RssTrace:
        """The resident set while *path* goes up (profiled for its first seconds: --py-spy)."""
        with (
            sampling_rss(self.server.proc.pid) as trace,
            profiler.record(self.server, f"files-{self.name}-large-upload", 3),
        ):
            up = self.upload(curl, "rss", path)
        self.remove(up.answer)
        log(f"{self.name}: {up.brief()}; resident set {trace.brief()}")
        return trace

    def remove(self, answer: Any) -> None:
        if self.delete_path is not None:
            url = self.server.base + self.delete_path(answer)
            status, body = http_json("DELETE", url, headers=self.headers)
            if status != 204:
                raise RuntimeError(f"{url} answered {status}: {body}")


@dataclass(frozen=True)
class FileTransfers:
    """The pack's upload and download of one file (``--files-mb``) against bare Starlette
    streaming the same multipart body to the same disk and back (bench/baseline_upload.py), with
    the same client (curl on the load core); then each server's resident set while a larger
    file (``--files-rss-mb``) goes up."""

    key: str
    pack: str = "files"

    def __call__(self, bench: Bench) -> bool:
        args = bench.args
        data = bench.work / "upload-files"
        (data / "baseline").mkdir(parents=True, exist_ok=True)
        warm_up = write_png(data / "warm-up.png", MB)
        file = write_png(data / "file.png", args.files_mb * MB)
        large = write_png(data / "large.png", args.files_rss_mb * MB)
        baseline = bench.start(
            "upload",
            ["--app-dir", str(BENCH_DIR), "baseline_upload:app"],
            cwd=BENCH_DIR,
            env={**bench.env, "BENCH_UPLOAD_DIR": str(data / "baseline")},
            probe_path="/download",  # 404 until an upload: it is serving
        )
        app = FileEndpoints(
            bench.app,
            FILES_PATH,
            lambda answer: f"{FILES_PATH}/{answer['id']}/content",
            {"Authorization": f"Bearer {login(bench.app)}"},
            lambda answer: f"{FILES_PATH}/{answer['id']}",
        )
        base = FileEndpoints(baseline, "/upload", lambda _: "/download", {}, lambda _: "/download")
        curl = Curl(ensure_curl(), data)
        ups: dict[str, list[TransferResult]] = {"app": [], baseline.name: []}
        downs: dict[str, list[TransferResult]] = {"app": [], baseline.name: []}
        try:
            for side in (base, app):  # the first upload loads what it uses (parser, sniffing)
                side.round_trip(curl, "warm-up", warm_up)
            rss = {
                side.name: side.rss_during_upload(curl, large, bench.profiler)
                for side in (app, base)
            }
            for round_no in range(args.rounds):
                for side in (base, app) if round_no % 2 == 0 else (app, base):
                    up, down = side.round_trip(curl, f"r{round_no}", file, args.files_downloads)
                    ups[side.name].append(up)
                    downs[side.name].append(down)
                    progress = f"round {round_no + 1}/{args.rounds} {side.name}"
                    log(f"{self.key} {progress}: up {up.brief()}; down {down.brief()}")
        finally:
            baseline.stop()
            shutil.rmtree(data, ignore_errors=True)  # hundreds of MB, even with --keep
        ok = True
        for direction, results in (("upload", ups), ("download", downs)):
            ok &= self.compare(bench, direction, results["app"], results[baseline.name])
        ok &= self.memory(bench, rss["app"], rss[baseline.name])
        bench.report[self.key] = {
            "upload": {name: [vars(r) for r in results] for name, results in ups.items()},
            "download": {name: [vars(r) for r in results] for name, results in downs.items()},
            "rss_bytes": {name: trace.samples for name, trace in rss.items()},
        }
        return ok

    def compare(
        self,
        bench: Bench,
        direction: str,
        app: list[TransferResult],
        baseline: list[TransferResult],
    ) -> bool:
        app_r = sorted(app, key=lambda r: r.mb_per_s)[(len(app) - 1) // 2]
        base_r = sorted(baseline, key=lambda r: r.mb_per_s)[(len(baseline) - 1) // 2]
        ratio = app_r.mb_per_s / base_r.mb_per_s
        cpu = ""
        if app_r.cpu_ms_per_mb and base_r.cpu_ms_per_mb:  # none under one clock tick
            cpu = f" (CPU {base_r.cpu_ms_per_mb / app_r.cpu_ms_per_mb:.2f})"
        ok = ratio >= FILES_RATIO_TARGET
        args = bench.args
        what = "multipart, to" if direction == "upload" else f"x {args.files_downloads}, from"
        bench.rows.append(
            Row(
                f"file {direction}, {args.files_mb:,} MB {what} the same disk, vs bare "
                "Starlette (MB/s)",
                app_r.brief(),
                base_r.brief(),
                f"{ratio:.2f}{cpu}",
                f">= {FILES_RATIO_TARGET:.2f}",
                "PASS" if ok else "MISS",
            )
        )
        return ok

    def memory(self, bench: Bench, app: RssTrace, baseline: RssTrace) -> bool:
        ok = app.growth / MB < FILES_RSS_GROWTH_TARGET_MB
        bench.rows.append(
            Row(
                f"resident set growth during a {bench.args.files_rss_mb:,} MB upload "
                "(peak VmRSS - before, every 20 ms)",
                app.brief(),
                f"bare Starlette +{baseline.growth / MB:.1f} MB",
                "",
                f"< {FILES_RSS_GROWTH_TARGET_MB:.0f} MB",
                "PASS" if ok else "MISS",
            )
        )
        return ok


FILES = FileTransfers(key="files")


class Scenario(Protocol):
    """What ``SCENARIOS`` holds: a key for ``--only``, the pack it needs (``None``: any bake),
    and a call that measures, appends its rows and says whether its targets were met."""

    @property
    def key(self) -> str: ...

    @property
    def pack(self) -> str | None: ...

    def __call__(self, bench: Bench) -> bool: ...


# In the order they run; ``--only`` picks by key.
SCENARIOS: dict[str, Scenario] = {
    scenario.key: scenario
    for scenario in (
        HEALTH,
        HEALTH_TRACED,
        HEALTH_WS_OPEN,
        ITEMS,
        CACHED_ITEMS,
        LOGIN_FLOOD,
        WS_BROADCAST,
        FILES,
    )
}


# A pack's settings for the app, from the options and the run's directory; what the JSON report
# needs to explain the run (the Redis key prefix), it notes in the report.
PackSettings = Callable[[argparse.Namespace, Path, dict[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class Pack:
    """An add-on pack, as the benchmark serves a bake that has it: the app's settings, and
    uvicorn flags for every server (baselines included). ``name`` is the pack's folder in the
    package, and what a scenario's ``pack`` names."""

    name: str
    settings: PackSettings = lambda *_: []
    uvicorn_flags: tuple[str, ...] = ()


def _redis_settings(
    args: argparse.Namespace, _work: Path, report: dict[str, Any]
) -> list[tuple[str, str]]:
    """The given Redis, under a key prefix of the run's own."""
    prefix = f"bench-{secrets.token_hex(4)}:"
    report["redis"] = {"url": args.redis_url, "prefix": prefix}
    return [("REDIS_URL", args.redis_url), ("REDIS_KEY_PREFIX", prefix)]


def _realtime_settings(
    args: argparse.Namespace, _work: Path, _report: dict[str, Any]
) -> list[tuple[str, str]]:
    """The WebSocket clients all sign in as the benchmark user."""
    return [("WS_MAX_CONNECTIONS_PER_USER", str(args.ws_clients))]


def _files_settings(
    args: argparse.Namespace, work: Path, _report: dict[str, Any]
) -> list[tuple[str, str]]:
    """Stored on the run's disk, and a size cap above the largest upload."""
    largest = max(args.files_mb, args.files_rss_mb) + 100
    return [("FILES_LOCAL_DIR", str(work / "files")), ("MAX_UPLOAD_BYTES", str(largest * MB))]


# By name, in the order their settings are given to the app.
PACKS: dict[str, Pack] = {
    pack.name: pack
    for pack in (
        Pack("redis", _redis_settings),
        Pack("realtime", _realtime_settings, tuple(WS_FLAGS)),
        Pack("files", _files_settings),
    )
}
