"""Which paths the ``exclude_paths`` setting names: shell-style globs (Python's :mod:`fnmatch`;
one ending in ``/`` stands for everything below it) and regular expressions (searched)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence

__all__ = ["ExcludedPaths"]


class ExcludedPaths:
    """The paths ``patterns`` (globs and compiled regular expressions, as
    :class:`~pirsch_middleware.settings.Settings` checked them) name; :meth:`match` answers."""

    def __init__(self, patterns: Sequence[str | re.Pattern[str]]) -> None:
        # Most globs are a whole path, a prefix or a suffix: set and str methods answer those
        # several times faster than one regular expression of them all would.
        exact, prefixes, suffixes, other = set(), [], [], []
        for glob in (p for p in patterns if isinstance(p, str)):
            if glob.endswith("/"):
                glob += "*"
            wild = [i for i, char in enumerate(glob) if char in "*?["]
            if not wild:
                exact.add(glob)
            elif wild == [len(glob) - 1] and glob[-1] == "*":
                prefixes.append(glob[:-1])
            elif wild == [0] and glob[0] == "*":
                suffixes.append(glob[1:])
            else:
                other.append(fnmatch.translate(glob))
        self._exact = frozenset(exact)
        self._prefixes, self._suffixes = tuple(prefixes), tuple(suffixes)
        self._glob = re.compile("|".join(other)).match if other else None
        regexes = [p for p in patterns if isinstance(p, re.Pattern)]
        self._regexes = tuple(r.search for r in regexes)

    def match(self, path: str) -> bool:
        """Whether a pattern names ``path`` (decoded, without the query)."""
        if path in self._exact or path.startswith(self._prefixes) or path.endswith(self._suffixes):
            return True
        if self._glob is not None and self._glob(path):
            return True
        # The emptiness test spares the generator on every request without regexes.
        return bool(self._regexes) and any(search(path) for search in self._regexes)
