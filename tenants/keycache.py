"""Verified API keys cached in each process, invalidated everywhere through a Redis-held epoch.

Steady state: a request whose key this process has already verified costs no SQL query. The
epoch is a number in the shared cache; every write that changes whether a key is valid (issue,
rotate, revoke, expire, suspend, resume, scope or limit changes, tenant status and limits)
bumps it (`invalidate_all`). Each process re-reads it at most every
`API_KEY_EPOCH_CHECK_SECONDS` (one small GET, not per request) and drops its whole cache when
it moved, so a revocation reaches every process within that interval.

Failure modes are closed: when the epoch cannot be read, nothing is cached and every request
reads the database; an entry stored by a lookup that raced with an invalidation is discarded.
"""

import copy
import logging
import secrets
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

EPOCH_CACHE_KEY = "tenants:api-key-epoch"
MAX_ENTRIES = 10_000
# Even without an epoch change, re-read a key from the database now and then.
ENTRY_MAX_AGE_SECONDS = 300.0


class VerifiedKeyCache:
    """prefix -> ApiKey (with its tenant), valid while the shared epoch stays the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[object, float]] = {}
        self._epoch: int | None = None
        self._checked_at = float("-inf")

    def current_epoch(self) -> int | None:
        """The epoch this process works under, re-read from the shared cache when due."""
        now = time.monotonic()
        if now - self._checked_at < settings.API_KEY_EPOCH_CHECK_SECONDS:
            return self._epoch
        epoch = _read_shared_epoch()
        with self._lock:
            if epoch is None or epoch != self._epoch:
                self._entries.clear()
            self._epoch = epoch
            self._checked_at = now if epoch is not None else float("-inf")
        return epoch

    def get(self, prefix: str):
        """A copy of the cached key (so no request can alter another's), or None."""
        self.current_epoch()
        entry = self._entries.get(prefix)
        if entry is None:
            return None
        api_key, stored_at = entry
        if time.monotonic() - stored_at > ENTRY_MAX_AGE_SECONDS:
            self._entries.pop(prefix, None)
            return None
        return _detached_copy(api_key)

    def put(self, api_key, *, loaded_under_epoch: int | None) -> None:
        """Caches a key read from the database under `loaded_under_epoch`, unless it moved since."""
        with self._lock:
            if loaded_under_epoch is None or loaded_under_epoch != self._epoch:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[api_key.prefix] = (_detached_copy(api_key), time.monotonic())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._epoch = None  # a lookup still in flight must not store what it read
            self._checked_at = float("-inf")

    def __len__(self) -> int:
        return len(self._entries)


def _detached_copy(api_key):
    clone = copy.copy(api_key)
    clone.tenant = copy.copy(api_key.tenant)
    return clone


def _read_shared_epoch() -> int | None:
    try:
        epoch = cache.get(EPOCH_CACHE_KEY)
        if epoch is None:
            # First use, or the cache was flushed: start from a random value, so no process
            # can mistake the new epoch for the one it held before the flush.
            cache.add(EPOCH_CACHE_KEY, secrets.randbelow(2**31), timeout=None)
            epoch = cache.get(EPOCH_CACHE_KEY)
        return int(epoch) if epoch is not None else None
    except Exception:  # an unreachable cache must not open a hole: cache nothing
        logger.warning("API key epoch unavailable; authenticating from the database")
        return None


def _bump_shared_epoch() -> None:
    try:
        try:
            cache.incr(EPOCH_CACHE_KEY)
        except ValueError:  # missing: any fresh random value is a change
            cache.set(EPOCH_CACHE_KEY, secrets.randbelow(2**31), timeout=None)
    except Exception:
        logger.error(
            "API key epoch could not be bumped; caches expire within %ss",
            int(ENTRY_MAX_AGE_SECONDS),
        )
    verified_keys.clear()


def invalidate_all() -> None:
    """Every process drops its verified keys: now, and again once the transaction commits.

    The first bump covers this process and callers outside a transaction; the second makes
    sure no process re-cached the old row between the bump and the commit.
    """
    _bump_shared_epoch()
    transaction.on_commit(_bump_shared_epoch)


verified_keys = VerifiedKeyCache()
