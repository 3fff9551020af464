"""Where a process ends: the last hook that runs there, registered once per process.

Servers and job runners end their processes in different ways, and not every way runs
``atexit``: ``multiprocessing`` children (``Pool`` workers, granian's workers) end with
``os._exit`` after running their own finalizers (``multiprocessing/util.py``
``_exit_function``), billiard's pool workers (Celery's prefork pool) after Celery's
``worker_process_shutdown`` signal; uWSGI's workers call ``uwsgi.atexit``. Each hook is
registered when the first sender starts in a process, never at import.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable
from typing import Any

from .stats import logger

__all__ = ["fork_pending", "threads_unavailable", "watch_exit"]

# Finalizers of exitpriority >= 0 run before multiprocessing terminates a child's own daemon
# children; a low priority lets the app's finalizers (a pool's, say) run first.
_PRIORITY = 0

_pid: int | None = None
_atexit_done = False


def watch_exit(on_exit: Callable[[], object]) -> None:
    """Run ``on_exit`` where this process ends, whatever ends it (once per process)."""
    global _pid, _atexit_done
    pid = os.getpid()
    if _pid == pid:
        return
    _pid = pid
    if not _atexit_done:  # atexit's list survives a fork: once per interpreter is enough
        atexit.register(on_exit)
        _atexit_done = True
    for name in ("multiprocessing.util", "billiard.util"):
        util = sys.modules.get(name)
        if util is not None and _in_child(name):
            # A fresh child's registry is cleared when it starts, so this is its own.
            util.Finalize(None, on_exit, exitpriority=_PRIORITY)
    celery: Any = sys.modules.get("celery.signals")
    if celery is not None:
        # billiard's pool workers (Celery's prefork children) call os._exit inside their loop,
        # before any finalizer; Celery's signal is sent just before that (celery/concurrency/
        # prefork.py, process_destructor).
        celery.worker_process_shutdown.connect(
            _celery_receiver(on_exit), weak=False, dispatch_uid="pirsch_middleware"
        )
    uwsgi: Any = sys.modules.get("uwsgi")
    if uwsgi is not None and hasattr(uwsgi, "opt"):
        previous = getattr(uwsgi, "atexit", None)

        def at_uwsgi_exit() -> None:
            try:
                on_exit()
            finally:
                if previous is not None:
                    previous()

        uwsgi.atexit = at_uwsgi_exit
        _check_exit_order(uwsgi)


# uWSGI's --shared-import and its other spellings (plugins/python/python_plugin.c).
_SHARED_IMPORTS = ("shared-import", "shared-pyimport", "shared-py-import", "shared-python-import")


def _check_exit_order(uwsgi: Any) -> None:
    """Say once when this uWSGI worker cannot send at its exit: before 2.0.30 uWSGI registers its
    exit hook before a ``--lazy-apps`` worker loads the app, so OpenSSL's own exit handler
    (registered when the app first imports ``ssl``) runs first and no HTTP client can be made
    there (uWSGI commit b6e37c50, "install atexit handlers after apps are initialized").
    ``--shared-import ssl`` loads OpenSSL in the master, before uWSGI's hook."""
    options = uwsgi.opt
    if not (_on(options, "lazy-apps") or _on(options, "lazy")):
        return
    if tuple(getattr(uwsgi, "version_info", (0, 0, 0))[:3]) >= (2, 0, 30):
        return
    imported = {value for name in _SHARED_IMPORTS for value in _values(options, name)}
    if imported & {"ssl", "_ssl"}:
        return
    logger.warning(
        "pirsch_middleware: uWSGI before 2.0.30 with --lazy-apps runs its exit hook after "
        "OpenSSL has shut down, so records still queued when a worker stops cannot be sent; "
        "upgrade uWSGI or start it with --shared-import ssl"
    )


def _values(options: Any, name: str) -> list[str]:
    """A uWSGI option's values as text (an option given twice is a list)."""
    value = options.get(name)
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values]


def _celery_receiver(on_exit: Callable[[], object]) -> Callable[..., None]:
    def worker_process_shutdown(**_: object) -> None:
        on_exit()

    return worker_process_shutdown


def _in_child(package: str) -> bool:
    """Whether this process was started by ``multiprocessing`` (or billiard), whose children end
    with ``os._exit``; its main process runs ``atexit`` anyway."""
    process = sys.modules.get(package.replace(".util", ".process"))
    if process is None:
        return False
    current = process.current_process()
    return getattr(current, "_parent_pid", None) is not None or current.name != "MainProcess"


def threads_unavailable() -> bool:
    """Whether this process runs Python without threads: uWSGI before 2.0.27 started without
    ``--enable-threads`` (or ``--threads``), where a thread never runs while the worker waits
    for requests (sentry-python reads ``uwsgi.opt`` the same way). Says so once, in the log."""
    uwsgi: Any = sys.modules.get("uwsgi")
    if uwsgi is None or not hasattr(uwsgi, "opt"):
        return False
    options = uwsgi.opt
    if _on(options, "enable-threads") or _on(options, "threads"):
        return False
    if tuple(getattr(uwsgi, "version_info", (0, 0, 0))[:3]) >= (2, 0, 27):
        return False
    logger.warning(
        "pirsch_middleware: uWSGI runs Python without threads, so records are sent at the end "
        "of requests (a batch at most once a second); start it with --enable-threads to send "
        "them in the background"
    )
    return True


def fork_pending() -> bool:
    """Whether this is a uWSGI master that loaded the app and will fork its workers without
    Python's fork hooks (uWSGI's default: its ``plugins/python/python_plugin.c`` runs
    ``PyOS_AfterFork_Child`` only with ``--py-call-uwsgi-fork-hooks``). A thread running in the
    master at the fork may hold the GIL there, and the worker that inherits it hangs, when it
    starts and again when it is stopped (sentry-python's ``_compat.py`` warns of the same).
    The master serves no requests and runs no exit hook (uWSGI's ``core/uwsgi.c``,
    ``uwsgi_plugins_atexit``: "the master cannot run atexit handlers")."""
    uwsgi: Any = sys.modules.get("uwsgi")
    if uwsgi is None or not hasattr(uwsgi, "opt"):
        return False
    if _on(uwsgi.opt, "py-call-uwsgi-fork-hooks"):
        return False
    try:
        return bool(uwsgi.masterpid() == os.getpid())
    except Exception:  # an embedding without masterpid(): take it for a worker
        return False


def _on(options: Any, name: str) -> bool:
    """Whether a uWSGI option is on: a flag is ``True``; an ini value such as ``false`` is off."""
    value = options.get(name)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)
