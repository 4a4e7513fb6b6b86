"""What the Redis pack plugs into the service (core/packs.py)."""

from ..core.packs import Pack, ReadinessCheck
from .client import redis_answers, redis_client

REDIS = Pack(
    name="redis",
    lifespan=redis_client,
    readiness_checks=(ReadinessCheck("redis", redis_answers),),
)
