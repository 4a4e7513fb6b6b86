"""The add-on packs of this bake, in the order their resources start (they stop in reverse)."""

from .core.packs import Pack
{%- if cookiecutter.use_file_uploads %}
from .files.pack import FILES
{%- endif %}
{%- if cookiecutter.use_websockets %}
from .realtime.pack import REALTIME
{%- endif %}
{%- if cookiecutter.use_redis %}
from .redis.pack import REDIS
{%- endif %}

PACKS: tuple[Pack, ...] = ({% if cookiecutter.use_redis or cookiecutter.use_websockets or cookiecutter.use_file_uploads %}
{%- if cookiecutter.use_redis %}
    REDIS,  # Redis: first, for the packs after it use its message bus
{%- endif %}
{%- if cookiecutter.use_websockets %}
    REALTIME,  # WebSockets: /api/v1/ws and the hub behind it
{%- endif %}
{%- if cookiecutter.use_file_uploads %}
    FILES,  # File uploads: /api/v1/files and the storage behind it
{%- endif %}
{% endif %})
