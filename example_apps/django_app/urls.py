from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("pricing", views.pricing),
    path("signup", views.signup),
    path("api/status", views.status),
    path("old", views.old),
    path("static/site.css", views.stylesheet),
]
