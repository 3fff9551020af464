"""The Pirsch snippet's script file, fetched from Pirsch and kept for the first-party proxy.

Pirsch's own proxies fetch the script from the API host and keep it for an hour
(``pirsch-analytics/pirsch-go-proxy``, ``pkg/proxy/handler.go``). Here a daemon thread fetches
it, then refreshes it every ``snippet_refresh`` seconds, off the request path; a request waits
at most a short, bounded time for the very first copy. When Pirsch cannot be reached the last
good copy stays: in memory, and in ``snippet_cache_file`` when set, which several workers and
restarts share (written whole, by rename, so no reader sees half a file).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import weakref
from dataclasses import dataclass

import httpx

from .stats import RateLimitedLog

__all__ = ["Script", "ScriptCache"]

_MAX_SCRIPT = 512 * 1024  # the real one is a few kilobytes; anything this big is no script
_RETRY = 30.0  # seconds between tries while no fetch has succeeded
_log = RateLimitedLog(300.0)


@dataclass(frozen=True, slots=True)
class Script:
    """One copy of the script: its bytes and their ``ETag`` (a quoted hash, RFC 9110 8.8.3)."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> Script:
        return cls(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


class ScriptCache:
    """The script at ``url``, refreshed every ``refresh`` seconds by a daemon thread started on
    first use (again in a forked child); ``path`` is the optional shared cache file."""

    def __init__(self, url: str, *, refresh: float, timeout: float, path: str | None) -> None:
        self.url = url
        self.refresh = refresh
        self.timeout = timeout
        self.path = path
        self._script: Script | None = None
        self._file_mtime = 0.0
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def get(self, wait: float = 0.0) -> Script | None:
        """The newest copy; on the very first call, wait up to ``wait`` seconds for the first
        fetch. ``None`` when there is none yet (Pirsch never answered, no cache file)."""
        self._start()
        if self._script is None and not self._read_file():
            self._ready.wait(wait)
        return self._script

    def fetch(self) -> bool:
        """Fetch the script now (the thread calls this); ``True`` when a copy arrived. A failure
        keeps the last good copy and is logged at most once every five minutes."""
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=True) as client:
                response = client.get(self.url)
            body = response.content
            if response.status_code != 200 or not body or len(body) > _MAX_SCRIPT:
                raise ValueError(f"HTTP {response.status_code}, {len(body)} bytes")
        except (httpx.HTTPError, ValueError) as error:
            self._read_file()  # another worker may have fetched it
            self._ready.set()  # tried: later requests need not wait for this one
            _log.warning(
                "fetch",
                "pirsch_middleware: could not fetch the Pirsch script from %s (%s); %s",
                self.url,
                error,
                "serving the last good copy" if self._script else "no copy to serve yet",
            )
            return False
        self._write_file(body)  # first: when this worker serves it, the others can read it
        self._keep(Script.of(body))
        return True

    def close(self) -> None:
        """Stop the refresh thread."""
        self._stop.set()

    def _keep(self, script: Script) -> None:
        self._script = script  # one reference, replaced whole: safe across threads
        self._ready.set()

    def _start(self) -> None:
        if self._pid == os.getpid() or self._stop.is_set():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked child starts its own thread
            self._thread = threading.Thread(
                target=_refresh, args=(weakref.ref(self), self._stop), name="pirsch-script",
                daemon=True,
            )  # fmt: skip
            self._thread.start()

    def _read_file(self) -> bool:
        """Take the cache file's copy when it is newer than ours; ``True`` if one was taken."""
        if self.path is None:
            return False
        try:
            mtime = os.stat(self.path).st_mtime
            if mtime <= self._file_mtime and self._script is not None:
                return False
            with open(self.path, "rb") as file:
                body = file.read(_MAX_SCRIPT + 1)
        except OSError:
            return False
        if not body or len(body) > _MAX_SCRIPT:
            return False
        self._file_mtime = mtime
        self._keep(Script.of(body))
        return True

    def _write_file(self, body: bytes) -> None:
        if self.path is None:
            return
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".pirsch-script-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(body)
                # mkstemp makes the file 0600; the script is public, and workers that run as
                # another user must read it.
                os.chmod(temporary, 0o644)
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
            self._file_mtime = os.stat(self.path).st_mtime
        except OSError as error:
            _log.warning("write", "pirsch_middleware: could not write %s (%s)", self.path, error)


def _refresh(ref: weakref.ref[ScriptCache], stop: threading.Event) -> None:
    """Fetch, then again every ``refresh`` seconds (every 30 s while no copy arrived); ends with
    :meth:`ScriptCache.close` or when the cache is gone. Holds no strong reference between
    fetches, so a dropped cache takes its thread with it."""
    while not stop.is_set():
        cache = ref()
        if cache is None:
            return
        ok = cache.fetch()
        interval = cache.refresh if ok else min(cache.refresh, _RETRY)
        del cache
        if stop.wait(interval):
            return
