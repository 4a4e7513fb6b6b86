"""FastAPI's native telemetry switched off, as the baked app has it unless ``TELEMETRY_ENABLED``
(``main.TELEMETRY_OFF``): the baselines must not pay for what the app does not do
(baseline_bare.py says what it costs)."""

from fastapi.telemetry import TelemetryConfig

TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
