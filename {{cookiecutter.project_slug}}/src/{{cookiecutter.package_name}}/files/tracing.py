"""Spans around the storage's work with tracing on (core/tracing.py): storing an upload's object
(a block, ``span``) and reading one back (a stream, which outlives the code that opened it)."""

from collections.abc import AsyncIterator

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

STORE_SPAN = "files store"
READ_SPAN = "files read"


async def traced_read(
    tracer: Tracer, chunks: AsyncIterator[bytes], attributes: dict[str, str]
) -> AsyncIterator[bytes]:
    """*chunks*, read within a span that ends with the stream. Not the current span: the
    stream yields to the code that sends it, which must not run inside it."""
    read = tracer.start_span(READ_SPAN, kind=SpanKind.CLIENT, attributes=attributes)
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            yield chunk
    except Exception as error:
        read.set_attribute("error.type", type(error).__qualname__)
        read.set_status(Status(StatusCode.ERROR))
        raise
    finally:
        read.set_attribute("files.bytes", size)
        read.end()
