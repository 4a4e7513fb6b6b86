"""The settings of what the service reports to its operators' tools: traces (core/tracing.py)
and unhandled errors (core/sentry.py). Mixed into the service's settings (config.py)."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class TracingSettings(BaseSettings):
    """OpenTelemetry's own variables, so that a collector's usual set-up works as it is."""

    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint (spans go to its /v1/traces); set: tracing is on.",
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None, description="Full URL for spans; wins over OTEL_EXPORTER_OTLP_ENDPOINT."
    )
    otel_service_name: str | None = Field(
        default=None, description="The traces' service.name; defaults to APP_NAME."
    )

    @property
    def traces_endpoint(self) -> str | None:
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint
        if self.otel_exporter_otlp_endpoint:
            return self.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        return None

    @property
    def tracing_enabled(self) -> bool:
        return self.traces_endpoint is not None


class ErrorReportingSettings(BaseSettings):
    sentry_dsn: SecretStr | None = Field(
        default=None, description="Sentry's project DSN; set: unhandled errors are reported."
    )

    @property
    def error_reporting_enabled(self) -> bool:
        return self.sentry_dsn is not None
