"""The errors an upload or a download can meet, each answered in the envelope."""

from http import HTTPStatus

from ..core.errors import AppError, InvalidRequestError


class FileTooLargeError(AppError):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "FILE_TOO_LARGE"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"The file exceeds {max_bytes} bytes", details={"max_bytes": max_bytes})


class UnsupportedFileTypeError(AppError):
    status_code = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "UNSUPPORTED_FILE_TYPE"

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(
            "The file's contents are not of an allowed type",
            details={"allowed": allowed},
        )


class EmptyFileError(InvalidRequestError):
    code = "EMPTY_FILE"

    def __init__(self) -> None:
        super().__init__("The file is empty", field="body.file", reason="empty_file")


class DirectUploadsUnavailableError(AppError):
    status_code = HTTPStatus.NOT_FOUND
    code = "DIRECT_UPLOADS_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("Direct uploads need S3 storage (FILES_STORAGE=s3)")


class InvalidDirectUploadError(InvalidRequestError):
    code = "INVALID_DIRECT_UPLOAD"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="body.upload_id", reason="invalid_upload")


class StorageUnavailableError(AppError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "STORAGE_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("File storage is unavailable; try again later")
