"""The baked project's Prometheus alert rules (ops/prometheus/alerts.yml): a rules file
Prometheus loads (the shape of its rule_files, every expression PromQL), on metrics the service
exports, under exactly the names it exports them."""

import ast
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import promql_parser
import pytest
import yaml

from scripts.variants import Variant

SCHEMA = json.loads((Path(__file__).parent / "prometheus-rules.schema.json").read_text())
RULES = Path("ops/prometheus/alerts.yml")
EXPORTER = "core/metrics_export.py"
# The samples each kind of metric family is written as (prometheus_client's text format).
SAMPLE_SUFFIXES = {
    "CounterMetricFamily": ("_total",),
    "GaugeMetricFamily": ("",),
    "HistogramMetricFamily": ("_bucket", "_sum", "_count"),
}


def rules_of(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / RULES).read_text())
    return loaded


def expressions(rules: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule["record"], rule["expr"]


def metric_names(expression: str) -> set[str]:
    """The metric names *expression* selects (raises ValueError when it is not PromQL)."""
    names: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expression), visit)
    return names


def exported_names(exporter_source: str) -> set[str]:
    """The sample names the exporter's metric families are written as."""
    names = set()
    for node in ast.walk(ast.parse(exporter_source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in SAMPLE_SUFFIXES
            and isinstance(node.args[0], ast.Constant)
        ):
            names |= {f"{node.args[0].value}{suffix}" for suffix in SAMPLE_SUFFIXES[node.func.id]}
    return names


def exporter_of(project: Path) -> str:
    (package,) = (project / "src").iterdir()
    return (package / EXPORTER).read_text()


def test_the_rules_file_has_the_shape_prometheus_loads(default_project: Path) -> None:
    rules = rules_of(default_project)

    jsonschema.validate(rules, SCHEMA)
    groups = [group["name"] for group in rules["groups"]]
    assert len(groups) == len(set(groups)), "group names must be unique"


def test_the_rules_alert_on_errors_latency_readiness_and_failed_logins(
    default_project: Path,
) -> None:
    alerts = {name for name, _ in expressions(rules_of(default_project))}

    assert {"HighErrorRatio", "HighLatencyP99", "ReadinessFailing", "LoginFailureSpike"} <= alerts


def test_every_expression_is_promql_on_metrics_the_service_exports(
    default_project: Path,
) -> None:
    exported = exported_names(exporter_of(default_project))

    for alert, expression in expressions(rules_of(default_project)):
        unknown = metric_names(expression) - exported
        assert not unknown, f"{alert} uses metrics the service does not export: {unknown}"
    assert "http_request_duration_seconds_bucket" in exported


def test_a_rule_without_an_expression_or_with_a_stray_key_is_refused() -> None:
    for rule in ({"alert": "NoExpression"}, {"alert": "Typo", "expr": "up", "for_": "5m"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"groups": [{"name": "g", "rules": [rule]}]}, SCHEMA)


def test_an_expression_that_is_not_promql_is_refused() -> None:
    with pytest.raises(ValueError, match="parenthesis"):
        metric_names("sum(rate(http_requests_total[5m])")


def test_a_misspelt_metric_is_caught() -> None:
    exported = exported_names('CounterMetricFamily("http_requests", "doc", labels=())')

    assert metric_names("rate(http_request_total[5m]) > 0") - exported == {"http_request_total"}


@pytest.mark.slow
def test_a_running_service_exports_every_metric_the_rules_use(
    synced: Callable[[Variant], Path], tmp_path: Path
) -> None:
    """The static reading above, checked against a scrape of the service itself (on a SQLite
    file: its pool is one whose use is reported)."""
    project = synced(Variant())
    scrape = (
        "import asyncio, httpx\n"
        "from {package}.config import Settings\n"
        "from {package}.main import create_app\n"
        "async def main():\n"
        "    app = create_app(Settings(_env_file=None, environment='test',\n"
        "        database_url='sqlite+aiosqlite:///{database}', log_level='WARNING'))\n"
        "    async with app.router.lifespan_context(app):\n"
        "        transport = httpx.ASGITransport(app=app)\n"
        "        async with httpx.AsyncClient(transport=transport, base_url='http://t') as c:\n"
        "            await c.get('/health')\n"
        "            print((await c.get('/metrics')).text)\n"
        "asyncio.run(main())\n"
    )
    (package,) = (project / "src").iterdir()
    code = scrape.format(package=package.name, database=tmp_path / "app.db")
    result = subprocess.run(  # noqa: S603 - the bake's own interpreter, our own code
        [str(project / ".venv" / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=project,
        timeout=120,
    )
    samples = {
        line.split("{")[0].split(" ")[0]
        for line in result.stdout.splitlines()
        if line and not line.startswith("#")
    }
    used = set().union(*(metric_names(e) for _, e in expressions(rules_of(project))))
    assert used <= samples, used - samples
