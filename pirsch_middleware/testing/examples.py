"""Example answers of the statistics endpoints, as the API document shows them (its JSON made
valid), plus the newer endpoints in the same style. The fake API serves these."""

from __future__ import annotations

from typing import Any

_GOAL = {
    "id": "A5kgYzK14m",
    "def_time": "2021-05-22T10:11:12.123456Z",
    "mod_time": "2021-05-22T10:11:12.123456Z",
    "domain_id": "M03loiem34",
    "name": "My Conversion Goal",
    "path_pattern": "/path/**",
    "pattern": "(?i)^/path/[^/]+$",
    "visitor_goal": 5432,
    "cr_goal": 42.11,
    "delete_reached": True,
    "email_reached": True,
}
_FUNNEL = {
    "id": "f1",
    "def_time": "2024-01-02T10:11:12Z",
    "mod_time": "2024-01-02T10:11:12Z",
    "domain_id": "A5kgYzK14m",
    "name": "Signup",
    "steps": [
        {
            "id": "s0",
            "funnel_id": "f1",
            "name": "Pricing",
            "step": 0,
            "filter": {"path": ["/pricing"]},
        },
        {
            "id": "s1",
            "funnel_id": "f1",
            "name": "Signup",
            "step": 1,
            "filter": {"event_name": ["Signup"]},
        },
    ],
}
_VISIT = {
    "visitor_id": "17442069543258741522",
    "session_id": 3482938,
    "time": "2024-05-12T10:11:12Z",
    "duration_seconds": 42,
    "language": "en",
    "country_code": "jp",
    "city": "Tokyo",
    "referrer": "https://news.example.org/",
    "referrer_name": "news.example.org",
    "referrer_icon": "",
    "os": "Windows",
    "os_version": "10",
    "browser": "Firefox",
    "browser_version": "126.0",
    "desktop": True,
    "mobile": False,
    "screen_class": "XL",
    "utm_source": "",
    "utm_medium": "",
    "utm_campaign": "",
    "utm_content": "",
    "utm_term": "",
}


def _meta(field: str, value: str) -> list[dict[str, Any]]:
    return [{"visitors": 42, "relative_visitors": 0.342, field: value}]


_S = "/api/v1/statistics/"

#: Path to example answer.
EXAMPLES: dict[str, Any] = {
    "/api/v1/domain": [
        {
            "id": "A5kgYzK14m",
            "def_time": "2021-05-22T10:11:12.123456Z",
            "mod_time": "2021-05-22T10:11:12.123456Z",
            "user_id": "pzy1bjD1lv",
            "hostname": "example.com",
            "subdomain": "example",
            "identification_code": "oSdiAe...",
            "public": False,
            "google_user_id": None,
            "google_user_email": None,
            "gsc_domain": None,
            "new_owner": None,
            "user_role": "",
        }
    ],
    "/api/v1/funnel": [_FUNNEL],
    _S + "duration/session": [{"day": "2021-05-12T00:00:00Z", "average_time_spent_seconds": 42}],
    _S + "duration/page": [
        {"day": "2021-05-12T00:00:00Z", "path": "/home", "average_time_spent_seconds": 42}
    ],
    _S + "utm/source": _meta("utm_source", "source"),
    _S + "utm/medium": _meta("utm_medium", "medium"),
    _S + "utm/campaign": _meta("utm_campaign", "campaign"),
    _S + "utm/content": _meta("utm_content", "content"),
    _S + "utm/term": _meta("utm_term", "term"),
    _S + "visitor": [
        {
            "day": "2021-05-12T00:00:00Z",
            "visitors": 42,
            "views": 56,
            "sessions": 48,
            "bounces": 23,
            "bounce_rate": 0.4791,
        }
    ],
    _S + "page": [
        {
            "path": "/home",
            "title": "Home",
            "visitors": 42,
            "views": 56,
            "sessions": 48,
            "bounces": 23,
            "relative_visitors": 0.342,
            "relative_views": 0.298,
            "bounce_rate": 0.765,
            "average_time_spent_seconds": 42,
        }
    ],
    _S + "page/entry": [
        {
            "path": "/home",
            "title": "Home",
            "visitors": 42,
            "sessions": 67,
            "entries": 56,
            "entry_rate": 0.298,
            "average_time_spent_seconds": 42,
        }
    ],
    _S + "page/exit": [
        {
            "path": "/bye",
            "title": "Bye",
            "visitors": 42,
            "sessions": 67,
            "exits": 56,
            "exit_rate": 0.298,
        }
    ],
    _S + "goals": [{"page_goal": _GOAL, "stats": {"visitors": 432, "views": 563, "cr": 0.065}}],
    _S + "events": [
        {
            "name": "event name",
            "visitors": 432,
            "views": 563,
            "cr": 0.065,
            "average_duration_seconds": 42,
            "meta_keys": ["meta", "keys"],
        }
    ],
    _S + "event/meta": [
        {
            "name": "event name",
            "visitors": 432,
            "views": 563,
            "cr": 0.065,
            "average_duration_seconds": 42,
            "meta_value": "value",
        }
    ],
    _S + "growth": {
        "visitors_growth": 0.34,
        "views_growth": -0.05,
        "sessions_growth": 0.32,
        "bounces_growth": 0.65,
        "time_spent_growth": 0.45,
    },
    _S + "active": {"stats": [{"path": "/home", "visitors": 42}], "visitors": 298},
    _S + "hours": [{"hour": 0, "visitors": 42}, {"hour": 1, "visitors": 29}],
    _S + "language": [{"visitors": 42, "relative_visitors": 0.24, "language": "en"}],
    _S + "referrer": [
        {
            "referrer": "Referrer",
            "referrer_name": "Name",
            "referrer_icon": "Icon",
            "visitors": 42,
            "sessions": 123,
            "relative_visitors": 0.256,
            "bounces": 21,
            "bounce_rate": 0.5,
        }
    ],
    _S + "os": [{"visitors": 42, "relative_visitors": 0.24, "os": "Windows"}],
    _S + "os/version": [
        {"visitors": 42, "relative_visitors": 0.24, "os": "Windows", "os_version": "10.0"}
    ],
    _S + "browser": [{"visitors": 42, "relative_visitors": 0.24, "browser": "Firefox"}],
    _S + "browser/version": [
        {"visitors": 42, "relative_visitors": 0.24, "browser": "Firefox", "browser_version": "89.0"}
    ],
    _S + "country": [{"visitors": 42, "relative_visitors": 0.24, "country": "jp"}],
    _S + "city": [{"visitors": 42, "relative_visitors": 0.24, "city": "London"}],
    _S + "platform": {
        "platform_desktop": 457,
        "platform_mobile": 204,
        "platform_unknown": 98,
        "relative_platform_desktop": 0.56,
        "relative_platform_mobile": 0.34,
        "relative_platform_unknown": 0.17,
    },
    _S + "screen": [{"visitors": 42, "relative_visitors": 0.24, "screen_class": "XXL"}],
    _S + "keywords": [
        {"keys": ["key", "word"], "clicks": 456, "impressions": 920, "ctr": 0.49, "position": 4}
    ],
    # Newer endpoints
    _S + "total": {
        "visitors": 420,
        "views": 560,
        "sessions": 480,
        "bounces": 230,
        "bounce_rate": 0.479,
        "cr": 0.0,
        "custom_metric_avg": 0.0,
        "custom_metric_total": 0.0,
    },
    _S + "region": [
        {"visitors": 42, "relative_visitors": 0.24, "country_code": "de", "region": "Bavaria"}
    ],
    _S + "tags": [
        {
            "key": "author",
            "visitors": 42,
            "views": 56,
            "relative_visitors": 0.2,
            "relative_views": 0.3,
        }
    ],
    _S + "tag/details": [
        {
            "key": "author",
            "value": "kim",
            "visitors": 42,
            "views": 56,
            "relative_visitors": 0.2,
            "relative_views": 0.3,
        }
    ],
    _S + "event/list": [
        {"name": "Download", "meta": {"file": "report.pdf"}, "visitors": 12, "count": 15}
    ],
    _S + "event/page": [
        {
            "path": "/downloads",
            "title": "Downloads",
            "visitors": 12,
            "views": 15,
            "sessions": 13,
            "bounces": 2,
            "relative_visitors": 0.1,
            "relative_views": 0.1,
            "bounce_rate": 0.15,
            "average_time_spent_seconds": 30,
        }
    ],
    _S + "funnel": {
        "definition": _FUNNEL,
        "data": [
            {
                "step": 0,
                "visitors": 100,
                "relative_visitors": 1.0,
                "previous_visitors": 0,
                "relative_previous_visitors": 0.0,
                "dropped": 0,
                "drop_off": 0.0,
            },
            {
                "step": 1,
                "visitors": 25,
                "relative_visitors": 0.25,
                "previous_visitors": 100,
                "relative_previous_visitors": 0.25,
                "dropped": 75,
                "drop_off": 0.75,
            },
        ],
    },
    _S + "hostname": [
        {
            "hostname": "example.com",
            "visitors": 42,
            "views": 56,
            "sessions": 48,
            "bounces": 23,
            "relative_visitors": 1.0,
            "relative_views": 1.0,
            "bounce_rate": 0.479,
        }
    ],
    _S + "channel": [
        {
            "channel": "Organic Search",
            "visitors": 42,
            "views": 56,
            "sessions": 48,
            "bounces": 23,
            "relative_visitors": 0.5,
            "relative_views": 0.5,
            "bounce_rate": 0.479,
        }
    ],
    _S + "minutes": [{"minute": 5, "visitors": 3, "views": 4, "sessions": 3, "bounces": 1}],
    _S + "weekdays": [{"weekday": 0, "hour": 9, "visitors": 12, "views": 20}],
    _S + "overview": {
        "visitors": 1200,
        "views": 3400,
        "visitor_growth": 0.12,
        "views_growth": -0.02,
        "member": 3,
    },
    _S + "session/list": [
        {
            **_VISIT,
            "start": "2024-05-12T10:10:30Z",
            "entry_path": "/",
            "exit_path": "/pricing",
            "entry_title": "Home",
            "exit_title": "Pricing",
            "page_views": 2,
            "is_bounce": False,
            "extended": 0,
        }
    ],
    _S + "session/details": [
        {
            "page_view": {
                **_VISIT,
                "visitor_id": 17442069543258741522,
                "path": "/",
                "title": "Home",
                "tag_keys": ["author"],
                "tag_values": ["kim"],
            },
            "event": None,
        },
        {
            "page_view": None,
            "event": {
                **_VISIT,
                "name": "Signup",
                "path": "/signup",
                "meta_keys": ["plan"],
                "meta_values": ["pro"],
            },
        },
    ],
}
