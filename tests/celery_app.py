"""A Celery app for tests/test_shutdown.py: kombu's filesystem transport, no broker server.

``CELERY_DIR`` names the folder that holds the queue and the results.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

from pirsch_middleware import RequestData, Tracker
from pirsch_middleware.testing import NAVIGATION_HEADERS

folder = Path(os.environ.get("CELERY_DIR", "."))
for sub in ("queue", "processed", "results"):
    (folder / sub).mkdir(parents=True, exist_ok=True)

app = Celery("tests.celery_app", broker="filesystem://", backend=f"file://{folder / 'results'}")
app.conf.broker_transport_options = {
    "data_folder_in": str(folder / "queue"),
    "data_folder_out": str(folder / "queue"),
    "data_folder_processed": str(folder / "processed"),
    "control_folder": str(folder / "control"),
}
app.conf.broker_connection_retry_on_startup = True

# Records wait for a minute: only the worker process's exit delivers them.
tracker = Tracker(flush_interval=60.0)
# A browser's navigation, as a web app hands a task the request it came from.
HEADERS = {name.lower(): value for name, value in NAVIGATION_HEADERS.items()}


@app.task
def visit(n: int) -> bool:
    request = RequestData("GET", "https", "example.com", f"/task/{n}", "", "198.51.100.1", HEADERS)
    return tracker.track_page_view(request)
