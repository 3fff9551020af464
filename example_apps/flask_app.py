"""Flask with pirsch_middleware: ``python -m example_apps.flask_app`` (or flask/gunicorn)."""

from __future__ import annotations

from flask import Flask, Response, redirect
from flask.typing import ResponseReturnValue

from example_apps.pages import HOME, PRICING, SIGNED_UP, STYLESHEET
from pirsch_middleware import track_event
from pirsch_middleware.flask import Pirsch

app = Flask(__name__, static_folder=None)
# Options go in app.config as PIRSCH_* keys; credentials and the API address may also come from
# the PIRSCH_ACCESS_KEY and PIRSCH_BASE_URL environment variables.
app.config["PIRSCH_EXCLUDE_PATHS"] = ["/static/", "/health"]
pirsch = Pirsch(app)


@app.get("/")
def home() -> str:
    return HOME


@app.get("/pricing")
def pricing() -> str:
    return PRICING


@app.post("/signup")
@track_event("Signup", meta={"plan": "pro"}, duration=True)
def signup() -> str:
    return SIGNED_UP


@app.get("/api/status")
def status() -> dict[str, bool]:
    return {"ok": True}


@app.get("/old")
def old() -> ResponseReturnValue:
    return redirect("/pricing", 301)


@app.get("/static/site.css")
def stylesheet() -> Response:
    return Response(STYLESHEET, mimetype="text/css")


@app.get("/health")
@pirsch.exempt
def health() -> str:
    return "<!doctype html><title>ok</title>"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000)
