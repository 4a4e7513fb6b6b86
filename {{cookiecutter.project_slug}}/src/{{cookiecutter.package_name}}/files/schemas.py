"""What the files API accepts and returns."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..core.pagination import Page


class FileResponse(BaseModel):
    """A stored file's metadata; its bytes are at ``/api/v1/files/{id}/content``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    filename: str = Field(description="The uploader's filename, sanitised; for display only.")
    content_type: str = Field(description="The type the file's first bytes show.")
    size: int = Field(description="In bytes.")
    created_at: datetime


class FilePage(Page[FileResponse]):
    """One page of files."""


class DirectUploadRequest(BaseModel):
    """Ask for a presigned upload straight to the bucket (S3 storage only)."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=4096)
    size: int = Field(ge=1, description="The file's exact size in bytes.")


class DirectUpload(BaseModel):
    """Where and how to upload: an HTML-form-style POST of ``fields`` and then the file (as the
    last field, ``file``) to ``url``; then confirm with ``upload_id``."""

    upload_id: str = Field(description="Send it to /api/v1/files/direct-uploads/complete.")
    url: str
    fields: dict[str, str]
    expires_at: datetime


class DirectUploadComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upload_id: str = Field(min_length=1, max_length=4096)
