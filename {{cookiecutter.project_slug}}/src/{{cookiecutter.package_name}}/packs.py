"""The add-on packs of this bake, in the order their resources start (they stop in reverse)."""

from .core.packs import Pack
{%- if cookiecutter.use_redis %}
from .redis.pack import REDIS
{%- endif %}
{%- if cookiecutter.use_websockets %}
from .realtime.pack import REALTIME
{%- endif %}

PACKS: tuple[Pack, ...] = ({% if cookiecutter.use_redis or cookiecutter.use_websockets %}
{%- if cookiecutter.use_redis %}
    REDIS,  # first: the packs after it use its bus
{%- endif %}
{%- if cookiecutter.use_websockets %}
    REALTIME,
{%- endif %}
{% endif %})
