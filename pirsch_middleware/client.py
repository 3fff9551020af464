"""The Pirsch API over httpx: credentials, tokens, errors and the ingestion endpoints."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ._time import parse_time
from ._version import __version__
from .errors import PirschError
from .records import Event, Hit, Record, Session
from .settings import Settings

__all__ = ["USER_AGENT", "PirschClient"]

USER_AGENT = f"pirsch-middleware/{__version__} (Python; httpx)"
TOKEN_PATH = "/api/v1/token"  # noqa: S105 (a path, not a secret)
# A token this close to its expiry is renewed before use rather than after a 401.
_TOKEN_MARGIN = 60.0
_TOKEN_FALLBACK_LIFETIME = 300.0


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait as the ``Retry-After`` header says (seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def api_error(response: httpx.Response, what: str) -> PirschError:
    """The error for a failed answer, carrying the API's ``validation`` and ``error`` fields."""
    validation: dict[str, str] = {}
    errors: list[str] = []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        raw_validation = body.get("validation")
        if isinstance(raw_validation, dict):
            validation = {str(k): str(v) for k, v in raw_validation.items()}
        raw_errors = body.get("error")
        if isinstance(raw_errors, list):
            errors = [str(e) for e in raw_errors]
        elif isinstance(raw_errors, str):
            errors = [raw_errors]
    elif response.text.strip():
        errors = [response.text.strip()[:200]]
    return PirschError(
        f"{what} failed with HTTP {response.status_code}",
        status=response.status_code,
        validation=validation,
        errors=errors,
        retry_after=retry_after(response),
    )


def encode(body: object) -> bytes:
    """JSON as the API reads it; text that is not valid Unicode is replaced, never an error."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def _payloads(records: Iterable[Record | Mapping[str, Any]], with_time: bool) -> list[Any]:
    result = []
    for record in records:
        body = record.payload() if isinstance(record, Hit | Session) else dict(record)
        if not with_time:
            body.pop("time", None)
        result.append(body)
    return result


class PirschClient:
    """A synchronous client of the Pirsch API.

    Takes the same credentials as :class:`~pirsch_middleware.Settings` (an access key, or an
    OAuth client id and secret; from the environment when not given). An OAuth token is fetched
    once, cached, and renewed on a 401 (the request is then tried once more). Failures raise
    :class:`~pirsch_middleware.PirschError`. ``transport`` or ``http_client`` replace the network,
    for tests.
    """

    def __init__(
        self,
        *,
        access_key: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        base_url: str | None = None,
        timeout: float = 5.0,
        settings: Settings | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        if settings is None:
            settings = Settings(
                access_key=access_key,
                client_id=client_id,
                client_secret=client_secret,
                base_url=base_url,
                timeout=timeout,
            )
        self._settings = settings
        self._base_url = settings.base_url or ""
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            transport=transport,
            timeout=settings.timeout,
            headers={"User-Agent": USER_AGENT},
        )
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PirschClient(base_url={self._base_url!r}, auth={self._settings.auth_mode!r})"

    def __enter__(self) -> PirschClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (not a client passed in as ``http_client``)."""
        if self._owns_http:
            self._http.close()

    # Ingestion

    def hit(self, hit: Hit | Mapping[str, Any]) -> None:
        """Send one page hit."""
        self.post(Hit.endpoint, _payloads([hit], with_time=False)[0])

    def event(self, event: Event | Mapping[str, Any]) -> None:
        """Send one event."""
        self.post(Event.endpoint, _payloads([event], with_time=False)[0])

    def session(self, session: Session | Mapping[str, Any]) -> None:
        """Keep one session alive."""
        self.post(Session.endpoint, _payloads([session], with_time=False)[0])

    def hits(self, hits: Sequence[Hit | Mapping[str, Any]]) -> None:
        """Send page hits in one batch; each carries its ``time``."""
        self.post(Hit.endpoint + "/batch", _payloads(hits, with_time=True))

    def events(self, events: Sequence[Event | Mapping[str, Any]]) -> None:
        """Send events in one batch; each carries its ``time``."""
        self.post(Event.endpoint + "/batch", _payloads(events, with_time=True))

    def sessions(self, sessions: Sequence[Session | Mapping[str, Any]]) -> None:
        """Keep sessions alive in one batch; each carries its ``time``."""
        self.post(Session.endpoint + "/batch", _payloads(sessions, with_time=True))

    def send_batch(self, records: Sequence[Record]) -> None:
        """Send records of one kind to that kind's batch endpoint."""
        if records:
            self.post(records[0].endpoint + "/batch", _payloads(records, with_time=True))

    # Transport

    def post(self, path: str, body: object) -> httpx.Response:
        """POST JSON to an API path, authenticated; raises :class:`PirschError` on failure."""
        return self.request("POST", path, content=encode(body))

    def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: list[tuple[str, str]] | None = None,
    ) -> httpx.Response:
        """Send an authenticated request; on a 401 with OAuth, renew the token and try once more."""
        token = self._bearer()
        response = self._send(method, path, content, params, token)
        if response.status_code == 401 and self._settings.client_id:
            self._drop_token(token)
            response = self._send(method, path, content, params, self._bearer())
        if response.status_code >= 400:
            raise api_error(response, f"{method} {path}")
        return response

    def _send(
        self,
        method: str,
        path: str,
        content: bytes | None,
        params: list[tuple[str, str]] | None,
        token: str,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            return self._http.request(
                method,
                self._base_url + path,
                content=content,
                params=httpx.QueryParams(tuple(params)) if params else None,
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise PirschError(f"{method} {path}: {type(exc).__name__}: {exc}") from None

    def _bearer(self) -> str:
        if self._settings.access_key:
            return self._settings.access_key
        if not self._settings.client_id:
            raise PirschError("no credentials: set access_key, or client_id and client_secret")
        token = self._token
        if token is not None and time.monotonic() < self._token_expires:
            return token
        with self._token_lock:
            token = self._token
            if token is None or time.monotonic() >= self._token_expires:
                token = self._token = self._fetch_token()
            return token

    def _drop_token(self, stale: str) -> None:
        # Only the first caller to see a stale token clears it, so concurrent 401s fetch one.
        with self._token_lock:
            if self._token == stale:
                self._token = None

    def _fetch_token(self) -> str:
        body = {
            "client_id": self._settings.client_id,
            "client_secret": self._settings.client_secret,
        }
        try:
            response = self._http.post(self._base_url + TOKEN_PATH, content=encode(body))
        except httpx.HTTPError as exc:
            raise PirschError(f"POST {TOKEN_PATH}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise api_error(response, f"POST {TOKEN_PATH}")
        try:
            data = response.json()
            token = data["access_token"]
            expires = parse_time(data["expires_at"]).timestamp() - time.time()
        except (ValueError, KeyError, TypeError):
            raise PirschError(f"POST {TOKEN_PATH}: the answer holds no usable token") from None
        if not isinstance(token, str) or not token:
            raise PirschError(f"POST {TOKEN_PATH}: the answer holds no usable token")
        if expires <= 0:  # our clock is off: use the token until the API answers 401
            expires = _TOKEN_FALLBACK_LIFETIME
        self._token_expires = time.monotonic() + expires - min(_TOKEN_MARGIN, expires / 2)
        return token
