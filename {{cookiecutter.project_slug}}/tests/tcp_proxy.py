"""A TCP proxy for outage tests: put it in front of a real server, point the app at it, then cut
or stall the link and restore it, all in the test's own event loop."""

import asyncio


class TcpProxy:
    """A TCP proxy in front of a real server whose link can be cut, stalled and restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0  # where it listens, once started
        self.up = True
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones, as a network partition would."""
        self.up = False
        self.flowing.set()  # stalled connections wake up, to be closed
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    def stall(self) -> None:
        """Accept connections and keep them open, but forward nothing, as a link that silently
        drops packets (or a hung host) would."""
        self.flowing.clear()

    def restore(self) -> None:
        self.up = True
        self.flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        await self.flowing.wait()
        if not self.up:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer),
            self._pipe(upstream_reader, writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65_536):
                await self.flowing.wait()
                if not self.up:
                    break
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
