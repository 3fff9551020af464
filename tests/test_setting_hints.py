"""A misspelt ``proxy`` preset is answered with the closest one, as a misspelt setting name is."""

from __future__ import annotations

import pytest

from pirsch_middleware import ConfigurationError, Settings


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("cloudfare", "cloudflare"), ("Heroku", "heroku"), ("reverse-proxy", "reverse_proxy")],
)
def test_misspelt_proxy_preset_suggests_the_closest(typed: str, meant: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(proxy=typed, environ={})
    message = str(info.value)
    assert message.startswith("proxy: expected one of 'none', 'reverse_proxy'")
    assert f"(did you mean {meant!r}?), got {typed!r}" in message


def test_misspelt_proxy_in_environment_names_variable_and_suggests() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(environ={"PIRSCH_PROXY": "cloudfare"})
    message = str(info.value)
    assert message.startswith("PIRSCH_PROXY: expected one of")
    assert "(did you mean 'cloudflare'?), got 'cloudfare'" in message


def test_unlike_proxy_preset_gets_no_suggestion() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(proxy="nginx", environ={})
    assert "did you mean" not in str(info.value)
