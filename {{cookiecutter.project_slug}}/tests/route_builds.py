"""Each route built once per test process, however many apps the tests build.

FastAPI builds the routes of an included router lazily, once per app: on the app's first
request it works out every route's parameters, body and response models again (a pydantic
adapter per field), for every router it walks. The service builds one app per process, so this
costs it nothing; the tests build one per test, and for a short test it was a large part of its
time. ``keep_built_routes()`` makes FastAPI build a route once for every inclusion that differs
only in its app, then give each later app a copy with its own dependency-overrides provider
(the app) and its own request handler, made as FastAPI makes it. So ``app.dependency_overrides``
works per app as before (``tests/unit/test_route_builds.py``).

It relies on names FastAPI keeps private. Where one is missing, or ``from_api_route`` is called
with arguments it does not know (a FastAPI that builds routes another way), FastAPI builds as
it would and the tests are only slower; the same test file fails then, so the upgrade that
changed them does not go unnoticed. What it compares is the inclusion (prefix, tags,
dependencies, responses, limits and the rest FastAPI combines) and the route object: a route or
router changed after an app was built would not be built again. The tests change neither.
"""

import copy
import dataclasses
from typing import Any

import fastapi.routing

PRIVATE_NAMES = (
    "_EffectiveRouteContext",
    "_effective_route_context_var",
    "request_response",
    "wrap_app_with_body_limit",
)


class RouteBuilds:
    """How many routes FastAPI built, and how many this process took from an earlier app."""

    built = 0
    reused = 0


# FastAPI's routing module, typed loosely: what is used of it is private.
routing: Any = fastapi.routing


def keep_built_routes() -> None:
    """Patch FastAPI (once per process) as above, where it has what the patch needs."""
    if not all(hasattr(routing, name) for name in PRIVATE_NAMES) or not hasattr(
        routing._EffectiveRouteContext, "from_api_route"
    ):
        return
    context_class = routing._EffectiveRouteContext
    if getattr(context_class.from_api_route, "keeps_built_routes", False):
        return
    build = context_class.from_api_route.__func__
    # id(route) -> (route, its inclusion without the provider, the context built for it, without
    # the app it was built for: its provider and handler)
    built: dict[int, list[tuple[Any, Any, Any]]] = {}

    def earlier(route: Any, inclusion: Any) -> Any:
        for known_route, known_inclusion, context in built.get(id(route), ()):
            if known_route is route and known_inclusion == inclusion:
                return context
        return None

    def from_api_route(
        cls: Any, /, *, original_route: Any, include_context: Any, **other: Any
    ) -> Any:
        if other:  # a FastAPI that passes more than this knows of
            return build(
                cls, original_route=original_route, include_context=include_context, **other
            )
        inclusion = dataclasses.replace(include_context, dependency_overrides_provider=None)
        prototype = earlier(original_route, inclusion)
        if prototype is None:
            RouteBuilds.built += 1
            context = build(cls, original_route=original_route, include_context=include_context)
            kept = copy.copy(context)
            kept.dependency_overrides_provider = kept.app = None
            built.setdefault(id(original_route), []).append((original_route, inclusion, kept))
            return context
        RouteBuilds.reused += 1
        context = copy.copy(prototype)
        context.dependency_overrides_provider = include_context.dependency_overrides_provider
        # As FastAPI makes the handler: the route reads this context while it does.
        token = routing._effective_route_context_var.set(context)
        try:
            context.app = routing.wrap_app_with_body_limit(
                routing.request_response(original_route.get_route_handler()),
                context.max_body_size,
            )
        finally:
            routing._effective_route_context_var.reset(token)
        return context

    from_api_route.keeps_built_routes = True  # type: ignore[attr-defined]
    context_class.from_api_route = classmethod(from_api_route)
