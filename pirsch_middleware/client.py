"""The Pirsch API over httpx: credentials, tokens, errors and the ingestion endpoints."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import httpx

from ._time import parse_time
from ._version import __version__
from .errors import PirschError
from .records import BATCH_PATHS, Event, Hit, Record, Session, batch_json, dump_json
from .results import Domain, Funnel
from .settings import Settings
from .statistics import DOMAINS, FUNNELS, Endpoint, StatisticsAPI

if TYPE_CHECKING:
    from .async_client import AsyncPirschClient
    from .filter import Filter

__all__ = ["USER_AGENT", "PirschClient"]

_A = TypeVar("_A")
_T = TypeVar("_T")
#: Retries of a statistics request that failed with no answer, a 429 or a 5xx.
STATS_RETRIES = 3
_MAX_WAIT = 30.0

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
    return dump_json(body)


def token_from(response: httpx.Response) -> tuple[str, float]:
    """The token of a token endpoint's answer, and for how many seconds to use it."""
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
    return token, expires - min(_TOKEN_MARGIN, expires / 2)


def retry_delay(error: PirschError, attempt: int, backoff: float) -> float | None:
    """How long to wait before retrying a statistics request, or ``None`` to give up."""
    if not error.retryable or attempt >= STATS_RETRIES:
        return None
    if error.retry_after is not None:
        return min(error.retry_after, _MAX_WAIT)
    wait: float = backoff * 2**attempt * (0.5 + random.random())
    return min(wait, _MAX_WAIT)


def _payloads(records: Iterable[Record | Mapping[str, Any]], with_time: bool) -> list[Any]:
    result = []
    for record in records:
        body = record.payload() if isinstance(record, Hit | Session) else dict(record)
        if not with_time:
            body.pop("time", None)
        result.append(body)
    return result


class Ingest(Generic[_A]):
    """An ingestion endpoint, declared once for the sync and the async client (see
    :class:`~pirsch_middleware.statistics.Endpoint`)."""

    def __init__(self, path: str, batch: bool, doc: str) -> None:
        self.path = path + "/batch" if batch else path
        self.batch = batch
        self.__doc__ = doc

    @overload
    def __get__(self, client: None, owner: type) -> Ingest[_A]: ...
    @overload
    def __get__(self, client: PirschClient, owner: type) -> Callable[[_A], None]: ...
    @overload
    def __get__(
        self, client: AsyncPirschClient, owner: type
    ) -> Callable[[_A], Awaitable[None]]: ...
    def __get__(self, client: Any, owner: type) -> Any:
        if client is None:
            return self
        return functools.partial(client._ingest, self)

    def body(self, value: Any) -> Any:
        return _payloads(value, with_time=True) if self.batch else _payloads([value], False)[0]


Recordish = Record | Mapping[str, Any]


class ClientBase(StatisticsAPI):
    """What the sync and the async client share: settings, endpoints and checks."""

    hit: Ingest[Hit | Mapping[str, Any]] = Ingest(Hit.endpoint, False, "Send one page hit.")
    event: Ingest[Event | Mapping[str, Any]] = Ingest(Event.endpoint, False, "Send one event.")
    session: Ingest[Session | Mapping[str, Any]] = Ingest(
        Session.endpoint, False, "Keep one session alive."
    )
    hits: Ingest[Sequence[Hit | Mapping[str, Any]]] = Ingest(
        Hit.endpoint, True, "Send page hits in one batch; each carries its time."
    )
    events: Ingest[Sequence[Event | Mapping[str, Any]]] = Ingest(
        Event.endpoint, True, "Send events in one batch; each carries its time."
    )
    sessions: Ingest[Sequence[Session | Mapping[str, Any]]] = Ingest(
        Session.endpoint, True, "Keep sessions alive in one batch; each carries its time."
    )

    def __init__(
        self,
        *,
        access_key: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        base_url: str | None = None,
        timeout: float = 5.0,
        settings: Settings | None = None,
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
        # Parsed once per path: httpx parses a URL given as text on every request, which is a
        # tenth of a batch request's CPU. The paths are the API's endpoints: a handful.
        self._urls: dict[str, httpx.URL] = {}
        self._token: str | None = None
        self._token_expires = 0.0

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, auth={self._settings.auth_mode!r})"
        )

    def _stats_request(
        self, endpoint: Endpoint[Any], arg: Filter | str | None
    ) -> list[tuple[str, str]]:
        """Check an endpoint call before anything is sent; the query parameters."""
        if not self._settings.client_id:
            raise PirschError(
                f"{endpoint.name}: statistics need an OAuth client (client_id and "
                "client_secret); an access key can only send hits, events and sessions"
            )
        return endpoint.params(arg)

    def _cached_token(self, statistics: bool) -> str | None:
        """The bearer token if one is at hand: the access key for ingestion (when set), the OAuth
        token otherwise (statistics need it); ``None`` when a token must be fetched."""
        if self._settings.access_key and not (statistics and self._settings.client_id):
            return self._settings.access_key
        if not self._settings.client_id:
            raise PirschError("no credentials: set access_key, or client_id and client_secret")
        if self._token is not None and time.monotonic() < self._token_expires:
            return self._token
        return None

    def _url(self, path: str) -> httpx.URL:
        """The URL of an API path (``/api/v1/...``) at this client's base URL."""
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self._base_url + path)
        return url

    def _is_oauth(self, token: str) -> bool:
        """Whether ``token`` came from the OAuth client (and may be renewed on a 401)."""
        return bool(self._settings.client_id) and token != self._settings.access_key

    def _keep_token(self, response: httpx.Response) -> str:
        token, lifetime = token_from(response)
        self._token, self._token_expires = token, time.monotonic() + lifetime
        return token

    def _token_body(self) -> bytes:
        return encode(
            {"client_id": self._settings.client_id, "client_secret": self._settings.client_secret}
        )


class PirschClient(ClientBase):
    """A synchronous client of the Pirsch API: ingestion and every statistics endpoint.

    Takes the same credentials as :class:`~pirsch_middleware.Settings` (an access key, or an
    OAuth client id and secret; from the environment when not given). An OAuth token is fetched
    once, cached, and renewed on a 401 (the request is then tried once more). Statistics requests
    that fail with no answer, a 429 or a 5xx are retried with backoff (``Retry-After`` honoured).
    Failures raise :class:`~pirsch_middleware.PirschError`. ``transport`` or ``http_client``
    replace the network, for tests.
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
        super().__init__(
            access_key=access_key,
            client_id=client_id,
            client_secret=client_secret,
            base_url=base_url,
            timeout=timeout,
            settings=settings,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            transport=transport,
            timeout=self._settings.timeout,
            headers={"User-Agent": USER_AGENT},
        )
        self._token_lock = threading.Lock()

    def __enter__(self) -> PirschClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (not a client passed in as ``http_client``)."""
        if self._owns_http:
            self._http.close()

    def send_batch(self, records: Sequence[Record], *, timeout: float | None = None) -> None:
        """Send records of one kind to that kind's batch endpoint; ``timeout`` (seconds)
        replaces the client's for this request."""
        if records:
            path = records[0].endpoint + "/batch"
            self.request("POST", path, content=batch_json(records), timeout=timeout)

    def send_bodies(
        self, kind: str, bodies: list[dict[str, Any]], *, timeout: float | None = None
    ) -> None:
        """:meth:`send_batch` for records already turned into their ``payload()`` (the sender's
        way): ``kind`` is ``"hit"``, ``"event"`` or ``"session"``."""
        self.request("POST", BATCH_PATHS[kind], content=dump_json(bodies), timeout=timeout)

    def _ingest(self, endpoint: Ingest[Any], value: Any) -> None:
        self.post(endpoint.path, endpoint.body(value))

    def domains(self) -> list[Domain]:
        """The domains this client may read (a client made for one domain sees that one)."""
        return self._statistics(DOMAINS, None)

    def funnels(self, domain_id: str) -> list[Funnel]:
        """The funnels defined for a domain."""
        return self._statistics(FUNNELS, domain_id)

    def _statistics(self, endpoint: Endpoint[_T], arg: Filter | str | None) -> _T:
        params = self._stats_request(endpoint, arg)
        attempt = 0
        while True:
            try:
                response = self.request("GET", endpoint.path, params=params, statistics=True)
                break
            except PirschError as error:
                delay = retry_delay(error, attempt, self._settings.retry_backoff)
                if delay is None:
                    raise
                attempt += 1
                time.sleep(delay)
        return endpoint.read(response)

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
        statistics: bool = False,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send an authenticated request; on a 401 with OAuth, renew the token and try once more.

        ``statistics`` asks for the OAuth token even when an access key is set (the key is for
        ingestion only); ``timeout`` (seconds) replaces the client's for this request."""
        token = self._bearer(statistics)
        response = self._send(method, path, content, params, token, timeout)
        if response.status_code == 401 and self._is_oauth(token):
            self._drop_token(token)
            response = self._send(method, path, content, params, self._bearer(statistics), timeout)
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
        timeout: float | None = None,
    ) -> httpx.Response:
        parts = _request_parts(content, params, token)
        if timeout is not None:
            parts["timeout"] = timeout
        try:
            return self._http.request(method, self._url(path), **parts)
        except httpx.HTTPError as exc:
            raise PirschError(
                f"{method} {path}: {type(exc).__name__}: {exc}",
                maybe_received=isinstance(exc, _NO_ANSWER),
            ) from None

    def _bearer(self, statistics: bool) -> str:
        token = self._cached_token(statistics)
        if token is not None:
            return token
        with self._token_lock:
            token = self._cached_token(statistics)
            if token is None:
                token = self._keep_token(self._post_token())
            return token

    def _drop_token(self, stale: str) -> None:
        # Only the first caller to see a stale token clears it, so concurrent 401s fetch one.
        with self._token_lock:
            if self._token == stale:
                self._token = None

    def _post_token(self) -> httpx.Response:
        try:
            return self._http.post(self._base_url + TOKEN_PATH, content=self._token_body())
        except httpx.HTTPError as exc:
            raise PirschError(f"POST {TOKEN_PATH}: {type(exc).__name__}: {exc}") from None


# Failures after the request may have been read by the API (its answer never came back).
_NO_ANSWER = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


def _request_parts(
    content: bytes | None, params: list[tuple[str, str]] | None, token: str
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    if content is not None:
        headers["Content-Type"] = "application/json"
    return {
        "content": content,
        "params": httpx.QueryParams(tuple(params)) if params else None,
        "headers": headers,
    }
