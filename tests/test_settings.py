from __future__ import annotations

import re
from typing import Any

import pytest

from pirsch_middleware import DEFAULT_EXCLUDE_PATHS, ConfigurationError, Settings

from .conftest import ACCESS_KEY, CLIENT_ID, CLIENT_SECRET


def test_defaults_follow_the_api_document() -> None:
    s = Settings(environ={})
    assert s.base_url == "https://api.pirsch.io"
    assert s.timeout == 5.0
    assert s.respect_dnt is True
    assert s.exclude_bots is True
    assert s.auth_mode == "none"
    assert s.exclude_paths == DEFAULT_EXCLUDE_PATHS
    assert "127.0.0.0/8" in s.trusted_proxies
    assert "192.168.0.0/16" in s.trusted_proxies


def test_credentials_and_base_url_come_from_the_environment() -> None:
    env = {"PIRSCH_ACCESS_KEY": ACCESS_KEY, "PIRSCH_BASE_URL": "http://127.0.0.1:9/"}
    s = Settings(environ=env)
    assert s.access_key == ACCESS_KEY
    assert s.auth_mode == "access_key"
    assert s.base_url == "http://127.0.0.1:9"


def test_oauth_credentials_from_the_environment() -> None:
    s = Settings(environ={"PIRSCH_CLIENT_ID": CLIENT_ID, "PIRSCH_CLIENT_SECRET": CLIENT_SECRET})
    assert s.auth_mode == "oauth"


def test_explicit_credentials_win_over_the_environment() -> None:
    s = Settings(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, environ={"PIRSCH_ACCESS_KEY": ACCESS_KEY}
    )
    assert s.access_key is None
    assert s.auth_mode == "oauth"


def test_access_key_given_as_client_secret_is_taken_as_access_key() -> None:
    s = Settings(client_secret=ACCESS_KEY, environ={})
    assert s.access_key == ACCESS_KEY
    assert s.client_secret is None


@pytest.mark.parametrize(
    ("options", "setting", "expected"),
    [
        ({"timeout": 0}, "timeout", "above 0"),
        ({"timeout": "5"}, "timeout", "number of seconds"),
        ({"flush_interval": float("nan")}, "flush_interval", "above 0"),
        ({"batch_size": 0}, "batch_size", "from 1 to 10000"),
        ({"max_queue_size": True}, "max_queue_size", "whole number"),
        ({"max_retries": -1}, "max_retries", "from 0"),
        ({"shutdown_timeout": -1}, "shutdown_timeout", "0 or more"),
        ({"respect_dnt": "yes"}, "respect_dnt", "True or False"),
        ({"base_url": "api.pirsch.io"}, "base_url", "http(s) URL"),
        ({"trusted_proxies": ["10.0.0.0/33"]}, "trusted_proxies", "CIDR"),
        ({"trusted_proxies": ["10.0.0.1/8"]}, "trusted_proxies", "without host bits"),
        ({"proxy": "nginx"}, "proxy", "'reverse_proxy', 'forwarded', 'cloudflare'"),
        ({"proxy": "custom"}, "proxy_header", "with proxy='custom'"),
        ({"proxy": "custom", "proxy_header": "X Real"}, "proxy_header", "a header name"),
        ({"proxy_header": "X-Real-IP"}, "proxy_header", "None unless proxy='custom'"),
        ({"proxy": "custom", "proxy_header": "X-Real-IP", "proxy_hops": 0}, "proxy_hops", "1 to"),
        ({"proxy_only": 1}, "proxy_only", "True or False"),
        ({"proxy_sets_host": "yes"}, "proxy_sets_host", "True or False"),
        # Nothing in front writes X-Forwarded-Host or -Proto: the setting would change nothing.
        ({"proxy": "none", "proxy_sets_host": True}, "proxy_sets_host", "False with proxy='none'"),
        ({"proxy": "none", "proxy_sets_proto": True}, "proxy_sets_proto", "False with"),
        ({"exclude_paths": "/admin/*"}, "exclude_paths", "a list"),
        ({"exclude_paths": ["re:("]}, "exclude_paths", "regular expression"),
        ({"before_send": 42}, "before_send", "callable"),
        ({"client_id": CLIENT_ID}, "client_secret", "when the other"),
        ({"bach_size": 7}, "Settings()", "did you mean 'batch_size'?"),
    ],
)
def test_bad_option_names_setting_expected_form_and_value(
    options: dict[str, object], setting: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(environ={}, **options)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(f"{setting}: expected ")
    assert expected in message
    assert info.value.setting == setting


@pytest.mark.parametrize("proxy", ["reverse_proxy", "cloudflare", "google_load_balancer"])
def test_proxy_hops_with_a_preset_is_refused_not_ignored(proxy: str) -> None:
    # A preset's hops are its platform's; proxy_hops=2 there used to change nothing, silently.
    with pytest.raises(ConfigurationError, match=r"proxy_hops: expected 1 unless .* got 2$"):
        Settings(environ={}, proxy=proxy, proxy_hops=2)
    assert Settings(environ={}, proxy=proxy, proxy_hops=1).preset().hops >= 1


@pytest.mark.parametrize(
    ("options", "sets"),
    [
        ({}, (False, False)),
        ({"proxy_sets_host": True}, (True, False)),
        ({"proxy": "custom", "proxy_header": "X-Real-IP", "proxy_sets_proto": True}, (False, True)),
        # A platform that writes a header believes it whatever the setting says.
        ({"proxy": "azure_front_door"}, (True, True)),
        ({"proxy": "aws_alb", "proxy_sets_host": True}, (True, True)),
    ],
)
def test_preset_believes_the_host_and_scheme_headers_its_platform_or_the_user_names(
    options: dict[str, Any], sets: tuple[bool, bool]
) -> None:
    preset = Settings(environ={}, **options).preset()
    assert (preset.sets_host, preset.sets_proto) == sets


def test_bad_value_is_shown_in_the_message() -> None:
    with pytest.raises(ConfigurationError, match=r"batch_size: expected .* got 0$"):
        Settings(environ={}, batch_size=0)


def test_bad_access_key_is_not_echoed() -> None:
    secret = "sk_live_do_not_print_this_0123456789"
    with pytest.raises(ConfigurationError) as info:
        Settings(access_key=secret, environ={})
    assert secret not in str(info.value)
    assert "starting with 'pa_'" in str(info.value)
    assert f"{len(secret)} characters" in str(info.value)


def test_repr_hides_secrets() -> None:
    s = Settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, environ={})
    assert CLIENT_SECRET not in repr(s)
    assert "client_secret='***'" in repr(s)
    s = Settings(access_key=ACCESS_KEY, environ={})
    assert ACCESS_KEY not in repr(s)


def test_trusted_proxies_accept_a_comma_separated_string() -> None:
    s = Settings(trusted_proxies="10.1.0.0/16, 2001:db8::/32", environ={})
    assert s.trusted_proxies == ("10.1.0.0/16", "2001:db8::/32")


def test_ipv4_mapped_trusted_network_is_compared_as_ipv4() -> None:
    s = Settings(trusted_proxies=["::ffff:10.0.0.0/104", "::ffff:192.0.2.7"], environ={})
    assert s.trusted_proxies == ("10.0.0.0/8", "192.0.2.7/32")


def test_proxy_is_read_from_the_environment_when_not_given() -> None:
    assert Settings(environ={"PIRSCH_PROXY": "cloudflare"}).proxy == "cloudflare"
    assert Settings(proxy="heroku", environ={"PIRSCH_PROXY": "cloudflare"}).proxy == "heroku"
    with pytest.raises(ConfigurationError, match=r"^PIRSCH_PROXY: expected"):
        Settings(environ={"PIRSCH_PROXY": "ngnix"})


def test_regex_excludes_are_compiled() -> None:
    s = Settings(exclude_paths=["/admin/*", "re:^/api/", re.compile(r"\.json$")], environ={})
    assert s.exclude_paths[0] == "/admin/*"
    assert isinstance(s.exclude_paths[1], re.Pattern)


def test_replace_validates_again() -> None:
    s = Settings(environ={})
    assert s.replace(batch_size=7).batch_size == 7
    with pytest.raises(ConfigurationError, match="batch_size"):
        s.replace(batch_size=-7)


def test_credentials_lose_surrounding_whitespace() -> None:
    s = Settings(environ={"PIRSCH_ACCESS_KEY": f" {ACCESS_KEY}\n"})
    assert s.access_key == ACCESS_KEY


def test_settings_options_name_every_field() -> None:
    import dataclasses

    from pirsch_middleware.settings import SettingsOptions

    assert list(SettingsOptions.__annotations__) == [f.name for f in dataclasses.fields(Settings)]


def test_access_key_and_oauth_client_together_are_kept() -> None:
    s = Settings(
        environ={
            "PIRSCH_ACCESS_KEY": ACCESS_KEY,
            "PIRSCH_CLIENT_ID": CLIENT_ID,
            "PIRSCH_CLIENT_SECRET": CLIENT_SECRET,
        }
    )
    assert (s.access_key, s.client_id, s.client_secret) == (ACCESS_KEY, CLIENT_ID, CLIENT_SECRET)
    assert s.auth_mode == "access_key"


@pytest.mark.parametrize(
    ("variable", "raw", "name", "value"),
    [
        ("PIRSCH_ENABLED", "false", "enabled", False),
        ("PIRSCH_ENABLED", "0", "enabled", False),
        ("PIRSCH_RESPECT_DNT", "Off", "respect_dnt", False),
        ("PIRSCH_SYNC", "yes", "sync", True),
        ("PIRSCH_BATCH_SIZE", "25", "batch_size", 25),
        ("PIRSCH_TIMEOUT", "2.5", "timeout", 2.5),
        ("PIRSCH_EXCLUDE_PATHS", "/admin/*, /health", "exclude_paths", ("/admin/*", "/health")),
        (
            "PIRSCH_PARTIAL_HEADERS",
            "HX-Request, X-Livewire",
            "partial_headers",
            ("HX-Request", "X-Livewire"),
        ),
        ("PIRSCH_PROXY_ONLY", "yes", "proxy_only", True),
        ("PIRSCH_PROXY_SETS_HOST", "true", "proxy_sets_host", True),
        ("PIRSCH_PROXY_SETS_PROTO", "1", "proxy_sets_proto", True),
        ("PIRSCH_NAVIGATIONS_ONLY", "off", "navigations_only", False),
        ("PIRSCH_TRUSTED_PROXIES", "", "trusted_proxies", ()),
    ],
)
def test_every_plain_setting_reads_its_environment_variable(
    variable: str, raw: str, name: str, value: object
) -> None:
    assert getattr(Settings(environ={variable: raw}), name) == value


def test_every_plain_typed_field_has_an_environment_variable() -> None:
    import dataclasses

    from pirsch_middleware.environment import env_parser

    without = {f.name for f in dataclasses.fields(Settings) if env_parser(str(f.type)) is None}
    assert without == {"should_track", "before_send", "environ"}


@pytest.mark.parametrize(
    ("variable", "raw", "expected"),
    [
        ("PIRSCH_ENABLED", "maybe", "true/false"),
        ("PIRSCH_BATCH_SIZE", "lots", "a whole number"),
        ("PIRSCH_BATCH_SIZE", "-1", "from 1 to 10000"),
        ("PIRSCH_TRUSTED_PROXIES", "10.0.0.0/33", "CIDR"),
        ("PIRSCH_BASE_URL", "api.pirsch.io", "http(s) URL"),
    ],
)
def test_bad_environment_value_names_the_variable(variable: str, raw: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(environ={variable: raw})
    assert str(info.value).startswith(f"{variable}: expected ")
    assert expected in str(info.value)
    assert info.value.setting == variable


def test_explicit_value_wins_over_the_environment_even_when_it_is_the_default() -> None:
    env = {"PIRSCH_ENABLED": "false", "PIRSCH_BATCH_SIZE": "9"}
    s = Settings(enabled=True, batch_size=500, environ=env)
    assert (s.enabled, s.batch_size) == (True, 500)
    assert Settings(environ=env).enabled is False
