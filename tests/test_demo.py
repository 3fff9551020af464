from __future__ import annotations

import pytest

from pirsch_middleware.__main__ import main


def test_demo_delivers_to_the_local_fake_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "PIRSCH_ACCESS_KEY",
        "PIRSCH_CLIENT_ID",
        "PIRSCH_CLIENT_SECRET",
        "PIRSCH_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "received hit: https://demo.example/pricing?utm_source=newsletter" in out
    assert "received event: https://demo.example/signup Signup" in out
    assert "/static/site.css" in out
    assert "-> excluded_path" in out
    assert "-> content_type" in out
    assert "sent 3," in out
