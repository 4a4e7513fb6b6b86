"""Baseline for ``bench/instructions.py``'s second ratio: ``baseline_bare.py``'s route on a
FastAPI with its native telemetry switched off, as the baked app has it unless
``TELEMETRY_ENABLED``.

``baseline_bare.py`` is FastAPI as it ships: since FastAPI depends on ``opentelemetry-api``, a
``FastAPI()`` asks OpenTelemetry's global tracer, meter and logger providers on every request
whether an SDK has been set up since (three environment lookups, each a caught ``KeyError``;
bench/README.md gives their share of a request's instructions). The app switches that off, so
against ``baseline_bare`` its ratio includes that saving; against this baseline it is the cost
of the app's own stack alone.
"""

from baseline_bare import health
from fastapi import FastAPI

app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})
app.get("/health")(health)
