"""The Pirsch API over httpx's async client: the same endpoints as :class:`PirschClient`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .client import (
    TOKEN_PATH,
    USER_AGENT,
    ClientBase,
    Ingest,
    _request_parts,
    api_error,
    encode,
    retry_delay,
)
from .errors import PirschError
from .records import Record, batch_json
from .results import Domain, Funnel
from .settings import Settings
from .statistics import DOMAINS, FUNNELS, Endpoint

if TYPE_CHECKING:
    from .filter import Filter

__all__ = ["AsyncPirschClient"]

_T = TypeVar("_T")


class AsyncPirschClient(ClientBase):
    """An asynchronous client of the Pirsch API: ingestion and every statistics endpoint.

    Every method of :class:`~pirsch_middleware.PirschClient` is here as a coroutine; tokens,
    retries and errors behave the same. Use it as ``async with AsyncPirschClient(...) as client``
    or call :meth:`aclose`.
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
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
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
        self._http = http_client or httpx.AsyncClient(
            transport=transport,
            timeout=self._settings.timeout,
            headers={"User-Agent": USER_AGENT},
        )
        self._token_lock: asyncio.Lock | None = None

    async def __aenter__(self) -> AsyncPirschClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (not a client passed in as ``http_client``)."""
        if self._owns_http:
            await self._http.aclose()

    async def domains(self) -> list[Domain]:
        """The domains this client may read."""
        return await self._statistics(DOMAINS, None)

    async def funnels(self, domain_id: str) -> list[Funnel]:
        """The funnels defined for a domain."""
        return await self._statistics(FUNNELS, domain_id)

    async def send_batch(self, records: Sequence[Record]) -> None:
        """Send records of one kind to that kind's batch endpoint."""
        if records:
            await self.request("POST", records[0].endpoint + "/batch", content=batch_json(records))

    async def _ingest(self, endpoint: Ingest[Any], value: Any) -> None:
        await self.post(endpoint.path, endpoint.body(value))

    async def _statistics(self, endpoint: Endpoint[_T], arg: Filter | str | None) -> _T:
        params = self._stats_request(endpoint, arg)
        attempt = 0
        while True:
            try:
                response = await self.request("GET", endpoint.path, params=params, statistics=True)
                break
            except PirschError as error:
                delay = retry_delay(error, attempt, self._settings.retry_backoff)
                if delay is None:
                    raise
                attempt += 1
                await asyncio.sleep(delay)
        return endpoint.read(response)

    # Transport

    async def post(self, path: str, body: object) -> httpx.Response:
        """POST JSON to an API path, authenticated; raises :class:`PirschError` on failure."""
        return await self.request("POST", path, content=encode(body))

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: list[tuple[str, str]] | None = None,
        statistics: bool = False,
    ) -> httpx.Response:
        """Send an authenticated request; on a 401 with OAuth, renew the token and try once more.

        ``statistics`` asks for the OAuth token even when an access key is set."""
        token = await self._bearer(statistics)
        response = await self._send(method, path, content, params, token)
        if response.status_code == 401 and self._is_oauth(token):
            if self._token == token:
                self._token = None
            response = await self._send(
                method, path, content, params, await self._bearer(statistics)
            )
        if response.status_code >= 400:
            raise api_error(response, f"{method} {path}")
        return response

    async def _send(
        self,
        method: str,
        path: str,
        content: bytes | None,
        params: list[tuple[str, str]] | None,
        token: str,
    ) -> httpx.Response:
        try:
            return await self._http.request(
                method, self._url(path), **_request_parts(content, params, token)
            )
        except httpx.HTTPError as exc:
            raise PirschError(f"{method} {path}: {type(exc).__name__}: {exc}") from None

    async def _bearer(self, statistics: bool) -> str:
        token = self._cached_token(statistics)
        if token is not None:
            return token
        # Made on first use: a lock belongs to the event loop that first awaits it.
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            token = self._cached_token(statistics)
            if token is None:
                try:
                    response = await self._http.post(
                        self._base_url + TOKEN_PATH, content=self._token_body()
                    )
                except httpx.HTTPError as exc:
                    raise PirschError(f"POST {TOKEN_PATH}: {type(exc).__name__}: {exc}") from None
                token = self._keep_token(response)
            return token
