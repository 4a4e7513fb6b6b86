"""Baseline: bare FastAPI, one route, no middleware. Served exactly like the baked app.

``uvicorn --app-dir bench baseline_bare:app --loop uvloop --http httptools --no-access-log``

FastAPI's native telemetry is off, as the app has it (``TELEMETRY_ENABLED`` unset). Left at its
defaults in an environment where OpenTelemetry is installed (the bake's, which this runs in), it
asks OpenTelemetry's global tracer, meter and logger providers on every request whether an SDK
has been set up since, which looks up three environment variables that are not set and catches
a ``KeyError`` for each: 38,600 instructions of a 362,300-instruction request in process
(bench/README.md, session 17). A FastAPI without OpenTelemetry installed never asks; with it
on here, the baseline did work that the app does not, and the ratio looked 10 % better than the
app's overhead is.
"""

from baseline_telemetry import TELEMETRY_OFF
from fastapi import FastAPI

app = FastAPI(telemetry=TELEMETRY_OFF)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
