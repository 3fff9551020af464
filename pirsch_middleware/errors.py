"""The two exception types of the package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ConfigurationError(ValueError):
    """A setting has the wrong form. Raised when the settings are built, never per request."""

    def __init__(self, setting: str, expected: str, value: object, *, secret: bool = False) -> None:
        self.setting = setting
        self.expected = expected
        #: The wrong value (``None`` for a secret, which is never kept).
        self.value = None if secret else value
        shown = repr(value)
        if secret:  # a secret is described, never shown
            shown = "a hidden value" + (
                f" of {len(value)} characters" if isinstance(value, str) else ""
            )
        self._shown = shown
        super().__init__(f"{setting}: expected {expected}, got {shown}")

    def renamed(self, setting: str) -> ConfigurationError:
        """The same error about ``setting`` (the environment variable a value came from)."""
        error = ConfigurationError(setting, self.expected, None)
        error.value, error._shown = self.value, self._shown
        error.args = (f"{setting}: expected {self.expected}, got {self._shown}",)
        return error

    def within(self, setting: str, item: str) -> ConfigurationError:
        """The same error about a part of ``item`` of the list setting ``setting``: a
        ``destinations`` entry whose ``access_key`` is wrong, say."""
        error = self.renamed(setting)
        error.expected = f"{item} to have {self.setting} as {self.expected}"
        error.args = (f"{setting}: expected {error.expected}, got {self._shown}",)
        return error


class PirschError(Exception):
    """The Pirsch API answered with an error, or could not be reached.

    ``status`` is the HTTP status (``None`` when no answer arrived), ``validation`` maps request
    fields to messages and ``errors`` lists general messages, both as the API sent them.
    ``maybe_received`` is true when the request went out but no answer came back (a read
    timeout, a dropped connection): the API may have acted on it.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        validation: Mapping[str, str] | None = None,
        errors: Sequence[str] | None = None,
        retry_after: float | None = None,
        maybe_received: bool = False,
    ) -> None:
        self.status = status
        self.maybe_received = maybe_received
        self.validation: dict[str, str] = dict(validation or {})
        self.errors: list[str] = list(errors or [])
        self.retry_after = retry_after
        details = [*self.errors, *(f"{k}: {v}" for k, v in self.validation.items())]
        text = message if not details else f"{message}: {'; '.join(details)}"
        super().__init__(text)

    @property
    def retryable(self) -> bool:
        """True for failures that may pass on a later try: no answer, 429 and 5xx."""
        return self.status is None or self.status == 429 or self.status >= 500
