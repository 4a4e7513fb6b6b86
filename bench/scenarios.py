"""What the benchmark measures, as data: each scenario is one row of the table (or two).

A scenario gets a ``Bench``: the seeded app server, wrk, the options and where to write its
rows. A comparison (the app against a baseline server on one request) is a ``Comparison``; a
scenario of another shape is a function. A pack adds its scenario to ``SCENARIOS``; ``run.py
--only`` takes their keys.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import (
    BENCH_DIR,
    Profiler,
    Row,
    Server,
    Wrk,
    cpu_ratio,
    log,
    login_form,
    measure_pair,
    median_result,
    spread,
)

# Targets of the issues.
HEALTH_RATIO_TARGET = 0.90
ITEM_RATIO_TARGET = 0.80
CACHED_ITEM_RATIO_TARGET = 1.0
FLOOD_P99_TARGET_MS = 50.0


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
    start: Callable[..., Server]
    rows: list[Row] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)

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
            results = bench.measure(
                [
                    (baseline, self.baseline_path(bench.seed), script),
                    (bench.app, self.app_path(bench.seed), script),
                ],
                self.key,
            )
        finally:
            baseline.stop()
        base_r, app_r = median_result(results[name]), median_result(results["app"])
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
            "app": [vars(r) for r in results["app"]],
            name: [vars(r) for r in results[name]],
            "ratio": ratio,
            "spread_app": spread(results["app"]),
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


def login_flood(bench: Bench) -> bool:
    """/health latency while logins (each an argon2 hash) flood the same worker."""
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
    wrk.run("warm-up", url, health_script, connections=args.probe_connections, seconds=args.warmup)
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
    p99_ms = flooded.p99_us / 1000
    ok = p99_ms < FLOOD_P99_TARGET_MS and not flooded.errors
    bench.rows.append(
        Row(
            f"/health p99 during login flood ({args.flood_connections} conns)",
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
    bench.report["flood"] = {"quiet": vars(quiet), "flooded": vars(flooded), "logins": vars(logins)}
    return ok


# In the order they run; ``--only`` picks by key.
SCENARIOS: dict[str, Callable[[Bench], bool]] = {
    HEALTH.key: HEALTH,
    ITEMS.key: ITEMS,
    CACHED_ITEMS.key: CACHED_ITEMS,
    "flood": login_flood,
}
