"""The add-on packs of this bake, in the order their resources start (they stop in reverse)."""

from .core.packs import Pack
{%- if cookiecutter.use_redis %}
from .redis.pack import REDIS
{%- endif %}

PACKS: tuple[Pack, ...] = ({% if cookiecutter.use_redis %}REDIS,{% endif %})
