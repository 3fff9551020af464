"""Views of the example Django project: sync and async, one that sends an event."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from example_apps.pages import HOME, PRICING, SIGNED_UP, STYLESHEET
from pirsch_middleware import track_event


async def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(HOME)


def pricing(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PRICING)


@csrf_exempt
@require_POST
@track_event("Signup", meta={"plan": "pro"}, duration=True)
def signup(request: HttpRequest) -> HttpResponse:
    return HttpResponse(SIGNED_UP)


def status(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def old(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect("/pricing")


def stylesheet(request: HttpRequest) -> HttpResponse:
    return HttpResponse(STYLESHEET, content_type="text/css")
