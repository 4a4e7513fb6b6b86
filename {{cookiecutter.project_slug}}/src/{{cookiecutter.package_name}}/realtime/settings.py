"""The WebSockets pack's settings (mixed into config.Settings; names are the environment
variables). Browser origins allowed to connect are CORS_ORIGINS, as for the REST API."""

from pydantic import Field
from pydantic_settings import BaseSettings


class RealtimeSettings(BaseSettings):
    ws_max_message_bytes: int = Field(
        default=4096,
        ge=256,
        le=7168,
        description="A client frame over this closes the connection with 1009. At most 7 KiB, "
        "so a room message fits one PostgreSQL NOTIFY where that carries the fan-out.",
    )
    ws_messages_per_second: float = Field(
        default=10.0, gt=0, description="Frames a connection may send per second, on average."
    )
    ws_message_burst: int = Field(
        default=20, ge=1, description="Frames a connection may send at once above that rate."
    )
    ws_rate_limit_strikes: int = Field(
        default=10,
        ge=1,
        description="Frames refused in a row for coming too fast before the connection is "
        "closed with 1008; each refused one gets an error frame.",
    )
    ws_send_queue_frames: int = Field(
        default=256,
        ge=1,
        description="Frames waiting for a slow client; when its queue is full it is closed "
        "with 1013, so it never holds up the others.",
    )
    ws_max_connections_per_user: int = Field(
        default=5, ge=1, description="Open connections per user, per worker process."
    )
    ws_max_rooms_per_connection: int = Field(default=20, ge=1)
    ws_auth_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long a connection without a token in its Sec-WebSocket-Protocol "
        "header has to send its authenticate frame.",
    )
    ws_heartbeat_seconds: float = Field(
        default=20.0, gt=0, description="How often the server pings a connection."
    )
    ws_idle_timeout_seconds: float = Field(
        default=45.0,
        gt=0,
        description="A connection the server has heard nothing from for this long (a dead peer) "
        "is closed with 4408.",
    )
