"""FastAPI with pirsch_middleware: ``python -m example_apps.fastapi_app`` (or uvicorn)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from example_apps.pages import HOME, PRICING, SIGNED_UP, STYLESHEET
from pirsch_middleware import event, set_title, track_event
from pirsch_middleware.asgi import PirschMiddleware

app = FastAPI()
# Credentials and the API address come from PIRSCH_ACCESS_KEY and PIRSCH_BASE_URL.
app.add_middleware(PirschMiddleware)


@app.get("/", response_class=HTMLResponse)
async def home() -> str:
    return HOME


@app.get("/pricing", response_class=HTMLResponse)
def pricing(plan: str | None = None) -> str:
    if plan:
        set_title(f"Pricing: {plan}")
        event("Plan viewed", meta={"plan": plan})
    return PRICING


@app.post("/signup", response_class=HTMLResponse)
@track_event("Signup", meta={"plan": "pro"}, duration=True)
async def signup() -> str:
    return SIGNED_UP


@app.get("/api/status")
async def status() -> dict[str, bool]:
    return {"ok": True}


@app.get("/old")
async def old() -> RedirectResponse:
    return RedirectResponse("/pricing", status_code=301)


@app.get("/static/site.css", response_class=PlainTextResponse)
async def stylesheet() -> PlainTextResponse:
    return PlainTextResponse(STYLESHEET, media_type="text/css")


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
