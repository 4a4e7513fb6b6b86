"""A loader for the cache's tests: it counts its calls and can be held back or made to fail."""

import asyncio

from pydantic import BaseModel


class Note(BaseModel):
    text: str


LOADED = Note(text="from the database")


class Loader:
    """A loader that counts its calls and, when *gate* is given, waits for it to open."""

    def __init__(self, value: Note | None = LOADED, gate: asyncio.Event | None = None) -> None:
        self.value = value
        self.gate = gate
        self.calls = 0
        self.started = asyncio.Event()
        self.failure: Exception | None = None

    async def __call__(self) -> Note | None:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        return self.value
