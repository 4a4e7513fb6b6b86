"""Which ``Host`` values the service answers to: the allowed names, with ``*.example.com``
matching subdomains, and the values already allowed remembered so most requests cost a set
lookup."""

from collections.abc import Sequence

MAX_KNOWN_HOSTS = 64
MAX_HOST_BYTES = 253 + len(":65535")  # a DNS name and a port: longer values are not remembered


class AllowedHosts:
    """Check ``any or host in known or allows(host)``: the first two are the fast path."""

    __slots__ = ("any", "exact", "known", "suffixes")

    def __init__(self, allowed_hosts: Sequence[str]) -> None:
        self.any = "*" in allowed_hosts
        self.known: set[bytes] = set()  # Host values already allowed: checked once
        self.exact = frozenset(host for host in allowed_hosts if not host.startswith("*."))
        self.suffixes = tuple(host[1:] for host in allowed_hosts if host.startswith("*."))

    def allows(self, host: bytes | None) -> bool:
        """Whether *host* (the header's raw value, port included) names an allowed host."""
        name = (host or b"").decode("latin-1").rsplit(":", 1)[0]
        allowed = name in self.exact or (bool(name) and name.endswith(self.suffixes))
        if allowed and host is not None and len(host) <= MAX_HOST_BYTES:
            if len(self.known) >= MAX_KNOWN_HOSTS:
                # Many ports or subdomains: start again rather than keep the first ones forever.
                self.known.clear()
            self.known.add(host)
        return allowed
