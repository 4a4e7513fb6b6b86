"""Baseline: bare FastAPI tracing as the baked app does with OTEL_EXPORTER_OTLP_ENDPOINT set: an
OpenTelemetry SDK provider with a batch processor and the OTLP/HTTP exporter, given to FastAPI's
native telemetry (spans only), one route, no middleware. Served exactly like the baked app.

``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 uvicorn --app-dir bench baseline_traced:app``
"""

import os

from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
provider = TracerProvider(resource=Resource.create({"service.name": "baseline"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))

app = FastAPI(telemetry={"tracer_provider": provider, "metrics": False, "logs": False})


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
