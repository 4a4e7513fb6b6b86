"""The file uploads pack's settings (mixed into config.Settings; names are the environment
variables)."""

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

MIB = 1024 * 1024


class FilesSettings(BaseSettings):
    files_storage: Literal["local", "s3"] = Field(
        default="local",
        description="Where file contents live: a directory of this machine (FILES_LOCAL_DIR; one "
        "machine only) or an S3-compatible bucket (S3_*; any number of machines).",
    )
    files_local_dir: Path = Field(
        default=Path("data/files"),
        description="The local storage's directory (created if missing).",
    )
    max_upload_bytes: int = Field(
        default=100 * MIB, ge=1, description="The largest file an upload may carry (413 above)."
    )
    files_allowed_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
        ],
        description="Comma-separated media types an upload may be, as its first bytes show "
        "(415 otherwise); whatever the client claims is ignored.",
    )
    files_upload_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How long an upload's whole body may take to arrive (408 after); "
        "REQUEST_BODY_TIMEOUT_SECONDS stays the limit of every other request.",
    )
    files_max_form_fields: int = Field(
        default=4, ge=0, description="Form fields besides the file an upload may carry."
    )
    files_max_form_field_bytes: int = Field(
        default=1024, ge=1, description="The largest value of such a field."
    )

    s3_bucket: str | None = None
    s3_endpoint_url: str | None = Field(
        default=None,
        description="An S3-compatible service's address (MinIO, Ceph, R2...); unset for AWS.",
    )
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_direct_upload_seconds: int = Field(
        default=900,
        ge=60,
        le=7 * 24 * 3600,
        description="How long a presigned direct upload stays valid.",
    )

    @field_validator("files_allowed_types", mode="before")
    @classmethod
    def _split_types(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _s3_is_configured(self) -> Self:
        if self.files_storage == "s3":
            missing = [
                name
                for name, value in (
                    ("S3_BUCKET", self.s3_bucket),
                    ("S3_ACCESS_KEY_ID", self.s3_access_key_id),
                    ("S3_SECRET_ACCESS_KEY", self.s3_secret_access_key),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"FILES_STORAGE=s3 needs {', '.join(missing)}")
        return self

    @property
    def upload_body_bytes(self) -> int:
        """The largest upload request body: the file and what the form adds around it."""
        form = self.files_max_form_fields * (self.files_max_form_field_bytes + 1024)
        return self.max_upload_bytes + form + 64 * 1024
