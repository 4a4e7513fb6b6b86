"""The principal cache: served for its TTL, evicted on demand, off at TTL 0 or while suspended."""

import uuid

import pytest

from {{ cookiecutter.package_name }}.features.auth.principals import (
    Principal,
    PrincipalCache,
)
from {{ cookiecutter.package_name }}.features.users.models import Role

from ..support import FakeClock


def principal(role: Role = Role.USER) -> Principal:
    return Principal(id=uuid.uuid4(), role=role)


def test_a_principal_is_served_for_the_ttl(clock: FakeClock) -> None:
    cache = PrincipalCache(5, clock=clock)
    alice = principal()

    cache.put(alice, cache.ticket())
    clock.now += 4.9

    assert cache.get(alice.id) == alice


@pytest.mark.error_path
class TestNeverServed:
    def test_after_the_ttl(self, clock: FakeClock) -> None:
        cache = PrincipalCache(5, clock=clock)
        alice = principal()
        cache.put(alice, cache.ticket())
        clock.now += 5

        assert cache.get(alice.id) is None

    def test_after_the_ttl_counted_from_the_read(self, clock: FakeClock) -> None:
        cache = PrincipalCache(5, clock=clock)
        alice = principal()
        ticket = cache.ticket()  # the row is read now...
        clock.now += 3
        cache.put(alice, ticket)  # ...and cached 3 s later
        clock.now += 2

        assert cache.get(alice.id) is None

    def test_when_an_eviction_raced_the_read(self, clock: FakeClock) -> None:
        """A role change committed while the row was being read: that row may be the old one."""
        cache = PrincipalCache(5, clock=clock)
        alice = principal(Role.ADMIN)
        ticket = cache.ticket()
        cache.evict(alice.id)  # demoted meanwhile

        cache.put(alice, ticket)

        assert cache.get(alice.id) is None

    def test_after_an_eviction(self, clock: FakeClock) -> None:
        cache = PrincipalCache(5, clock=clock)
        alice = principal(Role.ADMIN)
        cache.put(alice, cache.ticket())

        cache.evict(alice.id)

        assert cache.get(alice.id) is None

    def test_ever_when_the_ttl_is_zero(self, clock: FakeClock) -> None:
        cache = PrincipalCache(0, clock=clock)
        alice = principal()

        cache.put(alice, cache.ticket())

        assert cache.get(alice.id) is None
        assert len(cache) == 0

    def test_beyond_its_size(self, clock: FakeClock) -> None:
        cache = PrincipalCache(60, max_entries=2, clock=clock)
        first, second, third = principal(), principal(), principal()
        for entry in (first, second, third):
            cache.put(entry, cache.ticket())

        assert [cache.get(p.id) for p in (first, second, third)] == [None, second, third]

    def test_while_suspended(self, clock: FakeClock) -> None:
        cache = PrincipalCache(5, clock=clock)
        alice, bob = principal(), principal()
        cache.put(alice, cache.ticket())

        cache.suspend()
        cache.put(bob, cache.ticket())

        assert cache.get(alice.id) is None
        assert cache.get(bob.id) is None

    def test_a_row_read_before_the_cache_resumed(self, clock: FakeClock) -> None:
        """Changes made while it was suspended went unheard: that row may be the old one."""
        cache = PrincipalCache(5, clock=clock)
        cache.suspend()
        alice = principal()
        ticket = cache.ticket()

        cache.resume()
        cache.put(alice, ticket)

        assert cache.get(alice.id) is None


def test_a_resumed_cache_caches_again(clock: FakeClock) -> None:
    cache = PrincipalCache(5, clock=clock)
    cache.suspend()
    alice = principal()

    cache.resume()
    cache.put(alice, cache.ticket())

    assert cache.get(alice.id) == alice
    assert not cache.suspended


def test_changed_users_are_evicted_and_handed_to_the_publishers(clock: FakeClock) -> None:
    cache = PrincipalCache(5, clock=clock)
    alice = principal()
    cache.put(alice, cache.ticket())
    published: list[frozenset[uuid.UUID]] = []
    cache.publishers.append(lambda user_ids: published.append(frozenset(user_ids)))

    cache.users_changed({alice.id})

    assert cache.get(alice.id) is None
    assert published == [{alice.id}]
