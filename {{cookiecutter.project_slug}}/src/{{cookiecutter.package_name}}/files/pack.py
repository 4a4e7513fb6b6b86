"""What the file uploads pack plugs into the service (core/packs.py): its router, its storage
(opened with the app, closed with it), its readiness check and the upload's body limits."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic_settings import BaseSettings

from ..core.middleware import BodyLimit
from ..core.packs import Pack, ReadinessCheck
from ..core.tracing import app_tracer
from ..dependencies import app_resources
from .dependencies import storage_of
from .lifecycle import delete_objects_of_deleted_users, stop_deleting_objects
from .router import router
from .settings import FilesSettings
from .storage import LocalStorage, Storage

# A key no upload ever has (keys are random hex): asking for its size exercises the storage.
PROBE_KEY = "0" * 32


def open_storage(settings: FilesSettings) -> Storage:
    if settings.files_storage == "s3":
        from .s3 import S3Storage  # noqa: PLC0415 (obstore is loaded only where it is used)

        if not (settings.s3_bucket and settings.s3_access_key_id and settings.s3_secret_access_key):
            raise ValueError("S3 storage needs its bucket and credentials")  # settings check it
        return S3Storage(
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            endpoint=settings.s3_endpoint_url,
        )
    return LocalStorage(settings.files_local_dir)


@asynccontextmanager
async def files(app: FastAPI) -> AsyncIterator[None]:
    resources = app_resources(app)
    storage = open_storage(resources.settings)
    app.state.file_storage = storage
    app.state.files_tracer = app_tracer(app, __name__)
    engine = resources.engine.sync_engine
    delete_objects_of_deleted_users(engine, storage)
    try:
        yield
    finally:
        await stop_deleting_objects(engine)
        await storage.aclose()


async def storage_answers(app: FastAPI) -> None:
    await storage_of(app).size(PROBE_KEY)


def upload_limits(settings: BaseSettings) -> Mapping[str, BodyLimit]:
    if not isinstance(settings, FilesSettings):  # pragma: no cover (config.Settings is one)
        raise TypeError("the settings have no FilesSettings")
    return {
        router.prefix: BodyLimit(settings.upload_body_bytes, settings.files_upload_timeout_seconds)
    }


FILES = Pack(
    name="files",
    routers=(router,),
    lifespan=files,
    readiness_checks=(ReadinessCheck("storage", storage_answers),),
    body_limits=upload_limits,
)
