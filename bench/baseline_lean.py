"""Baseline for ``bench/instructions.py``'s second ratio: bare FastAPI with the two savings the
app makes outside its middleware, so that against it the ratio is the cost of the app's own
stack (the edge: limits, hosts, request id, CORS, security headers, access line, metrics).

- FastAPI's native telemetry is off, as the baked app has it unless ``TELEMETRY_ENABLED``. As
  it ships (``baseline_bare.py``), FastAPI asks OpenTelemetry's global tracer, meter and logger
  providers on every request whether an SDK has been set up since (three environment lookups,
  each a caught ``KeyError``; bench/README.md gives their share of a request's instructions).
- ``/health`` returns its answer encoded once, as the app's does, where ``baseline_bare.py``
  returns a dict that FastAPI validates and serializes on every request.
"""

from fastapi import FastAPI, Response

app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})
HEALTHY = b'{"status":"ok"}'


@app.get("/health")
async def health() -> Response:
    return Response(HEALTHY, media_type="application/json")
