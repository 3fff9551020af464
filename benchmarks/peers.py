"""What ``hotpath.py`` measures ours against, per interface (ASGI, WSGI, Django).

The least possible tracker: copies the request's headers, watches the response's status and
content type, and appends one tuple to a deque; no rules, no sender. The floor for this job in
Python.

posthog's ``capture()`` per request: another analytics SDK's server-side page view, queued for
its own background thread (which the caller points at a local sink).
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

Seen = deque[tuple[Any, ...]]


class LeastASGI:
    def __init__(self, app: Any, seen: Seen) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        response: list[Any] = []

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                response.append(message["status"])
                response.append(dict(message.get("headers", ())).get(b"content-type"))
            await send(message)

        await self.app(scope, receive, watch)
        self.seen.append((scope["path"], headers, *response))


class LeastWSGI:
    def __init__(self, app: Any, seen: Seen) -> None:
        self.app, self.seen = app, seen

    def __call__(self, environ: Any, start_response: Any) -> Any:
        headers = {k: v for k, v in environ.items() if k.startswith("HTTP_")}

        def watch(status: str, response: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kind = next((v for k, v in response if k.lower() == "content-type"), None)
            self.seen.append((environ["PATH_INFO"], headers, status, kind))
            return start_response(status, response, exc_info)

        return self.app(environ, watch)


class LeastDjango:
    """Sync and async, as Django's own middleware are."""

    sync_capable = async_capable = True
    seen: ClassVar[Seen] = deque(maxlen=100_000)

    def __init__(self, get_response: Any) -> None:
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        headers = {k: v for k, v in request.META.items() if k.startswith("HTTP_")}
        response = self.get_response(request)
        self.seen.append(
            (request.path, headers, response.status_code, response.get("Content-Type"))
        )
        return response

    async def __acall__(self, request: Any) -> Any:
        headers = {k: v for k, v in request.META.items() if k.startswith("HTTP_")}
        response = await self.get_response(request)
        self.seen.append(
            (request.path, headers, response.status_code, response.get("Content-Type"))
        )
        return response


def capture(client: Any, url: str, ip: str, user_agent: str, referrer: str) -> None:
    """A page view as posthog's server-side guides send it (``$pageview``, anonymous visitor)."""
    properties = {"$current_url": url, "$ip": ip, "$raw_user_agent": user_agent}
    if referrer:
        properties["$referrer"] = referrer
    client.capture("$pageview", distinct_id=ip + user_agent, properties=properties)


class PosthogASGI:
    def __init__(self, app: Any, client: Any) -> None:
        self.app, self.client = app, client

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            url = f"{scope['scheme']}://{headers[b'host'].decode('latin-1')}{scope['path']}"
            capture(
                self.client,
                url,
                scope["client"][0],
                headers.get(b"user-agent", b"").decode("latin-1"),
                headers.get(b"referer", b"").decode("latin-1"),
            )


class PosthogWSGI:
    def __init__(self, app: Any, client: Any) -> None:
        self.app, self.client = app, client

    def __call__(self, environ: Any, start_response: Any) -> Any:
        result = self.app(environ, start_response)
        url = f"{environ['wsgi.url_scheme']}://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
        capture(
            self.client,
            url,
            environ["REMOTE_ADDR"],
            environ.get("HTTP_USER_AGENT", ""),
            environ.get("HTTP_REFERER", ""),
        )
        return result


class PosthogDjango(LeastDjango):
    client: Any = None  # set before Django builds its middleware chain

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        response = self.get_response(request)
        self._capture(request)
        return response

    async def __acall__(self, request: Any) -> Any:
        response = await self.get_response(request)
        self._capture(request)
        return response

    def _capture(self, request: Any) -> None:
        meta = request.META
        capture(
            self.client,
            request.build_absolute_uri(),
            meta["REMOTE_ADDR"],
            meta.get("HTTP_USER_AGENT", ""),
            meta.get("HTTP_REFERER", ""),
        )
