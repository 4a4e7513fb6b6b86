"""The expiring cache behind the token and principal caches: expiry, eviction, bounded memory."""

import pytest

from {{ cookiecutter.package_name }}.core.cache import ExpiringCache

from ..support import FakeClock


def test_an_entry_is_served_until_its_expiry(clock: FakeClock) -> None:
    cache = ExpiringCache[str, int](10, clock=clock)

    cache.put("a", 1, expires_at=clock.now + 5)
    clock.now += 4.9

    assert cache.get("a") == 1


def test_a_new_put_replaces_the_value_and_the_expiry(clock: FakeClock) -> None:
    cache = ExpiringCache[str, int](10, clock=clock)
    cache.put("a", 1, expires_at=clock.now + 5)
    cache.put("a", 2, expires_at=clock.now + 50)
    clock.now += 10

    assert cache.get("a") == 2
    assert len(cache) == 1


@pytest.mark.error_path
class TestNeverServed:
    def test_an_unknown_key(self, clock: FakeClock) -> None:
        assert ExpiringCache[str, int](10, clock=clock).get("a") is None

    def test_an_entry_at_its_expiry(self, clock: FakeClock) -> None:
        cache = ExpiringCache[str, int](10, clock=clock)
        cache.put("a", 1, expires_at=clock.now + 5)
        clock.now += 5

        assert cache.get("a") is None
        assert len(cache) == 0

    def test_an_entry_that_arrives_expired(self, clock: FakeClock) -> None:
        cache = ExpiringCache[str, int](10, clock=clock)

        cache.put("a", 1, expires_at=clock.now)

        assert cache.get("a") is None
        assert len(cache) == 0

    def test_an_evicted_entry(self, clock: FakeClock) -> None:
        cache = ExpiringCache[str, int](10, clock=clock)
        cache.put("a", 1, expires_at=clock.now + 5)

        cache.evict("a")
        cache.evict("a")  # evicting what is not there is harmless

        assert cache.get("a") is None

    def test_the_oldest_entry_when_memory_is_full(self, clock: FakeClock) -> None:
        cache = ExpiringCache[str, int](3, clock=clock)
        for key in "abcd":
            cache.put(key, 0, expires_at=clock.now + 60)

        assert len(cache) == 3
        assert [cache.get(key) for key in "abcd"] == [None, 0, 0, 0]

    def test_expired_entries_are_dropped_as_new_ones_arrive(self, clock: FakeClock) -> None:
        cache = ExpiringCache[int, int](1_000, clock=clock)
        for key in range(100):
            cache.put(key, key, expires_at=clock.now + 5)
        clock.now += 10

        cache.put(-1, -1, expires_at=clock.now + 5)

        assert len(cache) == 1
