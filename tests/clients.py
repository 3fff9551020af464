"""Request headers as real clients send them, labelled page view or not.

Browsers: what Chromium, Firefox and Safari put on a navigation, a ``fetch()``, and the requests
htmx (https://htmx.org/reference/#request_headers), Turbo (https://turbo.hotwired.dev, its
``fetch_request.js``: ``X-Turbo-Request-Id``, ``Turbo-Frame``, Turbo 8's ``X-Sec-Purpose``) and
Unpoly (https://unpoly.com/up.protocol) make. Others: crawlers, link previewers, HTTP libraries,
health checks and uptime monitors, with the headers they send.
"""

from __future__ import annotations

from typing import NamedTuple

CHROMIUM, FIREFOX, SAFARI, OLD_SAFARI = "chromium", "firefox", "safari", "old_safari"

# Real browser user agents, by the headers their engine sends. Phones whose brand ends in "bot"
# (Cubot), in-app browsers, TVs, consoles and e-readers included: none may be taken for a bot.
BROWSERS: tuple[tuple[str, str], ...] = (
    (
        CHROMIUM,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/129.0.0.0 Safari/537.36",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Linux; Android 11; CUBOT P50 Build/RP1A.200720.011) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.6099.210 Mobile Safari/537.36",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Linux; Android 10; Cubot KingKong Mini 2) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Linux; Android 13; 23028RNCAG Build/TKQ1.221114.001) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/125.0.6422.165 Mobile Safari/537.36",
    ),
    (
        CHROMIUM,
        "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX1911 Build/QKQ1.200209.002) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 "
        "UCBrowser/13.4.0.1306 Mobile Safari/537.36",
    ),
    (
        CHROMIUM,  # Instagram's in-app browser on Android (a WebView)
        "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.193 Mobile Safari/537.36 Instagram "
        "312.0.0.32.112 Android (34/14; 480dpi; 1080x2340; samsung; SM-S918B; dm3q; qcom; en_US; "
        "548323757)",
    ),
    (
        CHROMIUM,  # Facebook's in-app browser on Android
        "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/118.0.5993.111 Mobile Safari/537.36 "
        "[FB_IAB/FB4A;FBAV/439.0.0.44.117;]",
    ),
    (
        CHROMIUM,  # WeChat on Android
        "Mozilla/5.0 (Linux; Android 12; V2134A Build/SP1A.210812.003; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 "
        "MMWEBSDK/20230405 MMWEBID/2586 MicroMessenger/8.0.35.2360(0x2800235B) WeChat/arm64 "
        "Weixin NetType/WIFI Language/zh_CN ABI/arm64",
    ),
    (
        CHROMIUM,  # Samsung Tizen TV
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "94.0.4606.31/7.0 TV Safari/537.36",
    ),
    (
        CHROMIUM,  # LG webOS TV
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/87.0.4280.88 Safari/537.36 WebAppManager",
    ),
    (
        CHROMIUM,  # Sony Android TV
        "Mozilla/5.0 (Linux; Android 11; BRAVIA 4K VH2 Build/RTM3.221102.001) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/108.0.5359.128 Safari/537.36",
    ),
    (
        CHROMIUM,  # Xbox Series X (Edge)
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    ),
    (
        FIREFOX,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
    (FIREFOX, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    (  # Firefox 110 to 119 froze "rv:" at 109: ESR 115 is still in use (Windows 7 and 8)
        FIREFOX,
        "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
    ),
    (
        FIREFOX,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0",
    ),
    (FIREFOX, "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"),
    (
        SAFARI,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
    ),
    (
        SAFARI,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    ),
    (
        SAFARI,
        "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1",
    ),
    (
        SAFARI,  # Chrome on iOS (WebKit)
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    ),
    (
        SAFARI,  # Firefox on iOS (WebKit)
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) FxiOS/132.0 Mobile/15E148 Safari/605.1.15",
    ),
    (
        SAFARI,  # Instagram on iOS
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Instagram 309.0.3.16.110 (iPhone14,5; iOS 17_1_2; "
        "en_US; en; scale=3.00; 1170x2532; 537288532)",
    ),
    (
        SAFARI,  # Facebook on iOS
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/442.0.0.41.110;FBBV/540406553;"
        "FBDV/iPhone15,3;FBMD/iPhone;FBSN/iOS;FBSV/17.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
    ),
    (
        SAFARI,  # LINE on iOS
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Safari Line/14.8.0",
    ),
    (
        SAFARI,  # PlayStation 5
        "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/13.0 Safari/605.1.15",
    ),
    (
        OLD_SAFARI,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/15.6.1 Safari/605.1.15",
    ),
    (
        OLD_SAFARI,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/15.6.6 Mobile/15E148 Safari/604.1",
    ),
    (
        OLD_SAFARI,  # Nintendo Switch
        "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) "
        "NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
    ),
    (
        OLD_SAFARI,  # Kindle
        "Mozilla/5.0 (X11; U; Linux armv7l like Android; en-us) AppleWebKit/531.2+ "
        "(KHTML, like Gecko) Version/5.0 Safari/533.2+ Kindle/3.0+",
    ),
    (
        OLD_SAFARI,  # Kobo
        "Mozilla/5.0 (Linux; U; Android 2.0; en-us;) AppleWebKit/538.1 (KHTML, like Gecko) "
        "Version/4.0 Mobile Safari/538.1 (Kobo Touch 0377/4.38.21908)",
    ),
)

_ACCEPT_PAGE = {
    CHROMIUM: "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    FIREFOX: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    SAFARI: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    OLD_SAFARI: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
_LANGUAGE = {
    CHROMIUM: "en-US,en;q=0.9",
    FIREFOX: "en-US,en;q=0.5",
    SAFARI: "en-GB,en;q=0.9",
    OLD_SAFARI: "de-DE,de;q=0.9",
}
_ENCODING = {
    CHROMIUM: "gzip, deflate, br, zstd",
    FIREFOX: "gzip, deflate, br, zstd",
    SAFARI: "gzip, deflate, br",
    OLD_SAFARI: "gzip, deflate, br",
}
PAGE = "https://example.com/"


def _base(engine: str, user_agent: str) -> dict[str, str]:
    headers = {
        "User-Agent": user_agent,
        "Accept-Language": _LANGUAGE[engine],
        "Accept-Encoding": _ENCODING[engine],
    }
    if engine == CHROMIUM:
        mobile = "Mobile" in user_agent
        headers |= {
            "Sec-CH-UA": '"Chromium";v="131", "Not_A Brand";v="24"',
            "Sec-CH-UA-Mobile": "?1" if mobile else "?0",
            "Sec-CH-UA-Platform": '"Android"' if "Android" in user_agent else '"Windows"',
        }
    return headers


def _fetch_metadata(engine: str, mode: str, dest: str, site: str) -> dict[str, str]:
    if engine == OLD_SAFARI:
        return {}
    return {"Sec-Fetch-Mode": mode, "Sec-Fetch-Dest": dest, "Sec-Fetch-Site": site}


def navigation(engine: str, user_agent: str, *, typed: bool = False) -> dict[str, str]:
    """A link followed (or, ``typed``, an address typed or a bookmark opened)."""
    headers = _base(engine, user_agent) | {"Accept": _ACCEPT_PAGE[engine]}
    if engine != SAFARI:
        headers["Upgrade-Insecure-Requests"] = "1"
    headers |= _fetch_metadata(engine, "navigate", "document", "none" if typed else "same-origin")
    if engine in (CHROMIUM, FIREFOX):
        headers["Sec-Fetch-User"] = "?1"
    if not typed:
        headers["Referer"] = PAGE
    return headers


def fetch(engine: str, user_agent: str, accept: str = "*/*", **extra: str) -> dict[str, str]:
    """A script's ``fetch()`` or XHR from a page of the site."""
    headers = _base(engine, user_agent) | {"Accept": accept, "Referer": PAGE}
    headers |= _fetch_metadata(engine, "cors", "empty", "same-origin")
    return headers | {k.replace("_", "-"): v for k, v in extra.items()}


class Sample(NamedTuple):
    """A request a real client sends, and whether it is a page view."""

    name: str
    headers: dict[str, str]
    page_view: bool
    status: int = 200


def browser_requests(engine: str, user_agent: str) -> list[Sample]:
    """Every kind of request a browser makes to an app, labelled."""
    turbo_id = "9c4a3e5e-2b7f-4f8e-9a51-0d1c6b7e2f10"
    turbo_accept = "text/html, application/xhtml+xml"
    samples = [
        Sample("link", navigation(engine, user_agent), True),
        Sample("typed", navigation(engine, user_agent, typed=True), True),
        Sample("reload 304", navigation(engine, user_agent) | {"If-None-Match": '"v1"'}, True, 304),
        Sample("fetch", fetch(engine, user_agent), False),
        Sample(
            "htmx partial",
            fetch(engine, user_agent, HX_Request="true", HX_Target="results", HX_Current_URL=PAGE),
            False,
        ),
        Sample(
            "htmx boosted",
            fetch(engine, user_agent, HX_Request="true", HX_Boosted="true", HX_Current_URL=PAGE),
            True,
        ),
        Sample(
            "htmx history restore",
            fetch(
                engine,
                user_agent,
                HX_Request="true",
                HX_History_Restore_Request="true",
                HX_Current_URL=PAGE,
            ),
            True,
        ),
        Sample(
            "turbo frame",
            fetch(
                engine,
                user_agent,
                turbo_accept,
                Turbo_Frame="comments",
                X_Turbo_Request_Id=turbo_id,
            ),
            False,
        ),
        Sample(
            "turbo drive visit",
            fetch(engine, user_agent, turbo_accept, X_Turbo_Request_Id=turbo_id),
            True,
        ),
        Sample(
            "turbo prefetch",
            fetch(
                engine,
                user_agent,
                turbo_accept,
                X_Sec_Purpose="prefetch",
                X_Turbo_Request_Id=turbo_id,
            ),
            False,
        ),
        Sample(
            "unpoly fragment",
            fetch(engine, user_agent, "text/html", X_Up_Version="3.9.5", X_Up_Target=".menu"),
            False,
        ),
        Sample("jquery xhr", fetch(engine, user_agent, X_Requested_With="XMLHttpRequest"), False),
    ]
    if engine != OLD_SAFARI:
        # Without Fetch Metadata a fetch() asking for HTML looks like a navigation: only the
        # libraries' own headers tell those apart (the README says so).
        samples.append(Sample("fetch html", fetch(engine, user_agent, "text/html"), False))
        search = navigation(engine, user_agent) | {
            "Sec-Fetch-Site": "cross-site",
            "Referer": "https://www.google.com/",
        }
        samples.append(Sample("search result", search, True))
        frame = navigation(engine, user_agent) | {"Sec-Fetch-Dest": "iframe"}
        samples.append(Sample("iframe", frame, False))
    if engine == CHROMIUM:
        prefetch = navigation(engine, user_agent) | {"Sec-Purpose": "prefetch"}
        samples.append(Sample("speculation prefetch", prefetch, False))
    if engine == FIREFOX:
        samples.append(Sample("link prefetch", fetch(engine, user_agent, X_Moz="prefetch"), False))
    if engine in (CHROMIUM, FIREFOX):
        gpc = navigation(engine, user_agent) | {"Sec-GPC": "1"}
        samples.append(Sample("global privacy control", gpc, False))
    return samples


_LIBRARY = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
_CHROME = BROWSERS[0][1]

#: Clients that are not browsers, with the headers they send (none is a page view).
OTHERS: tuple[tuple[str, dict[str, str]], ...] = (
    ("Googlebot", {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Encoding": "gzip, deflate, br"}),
    ("Googlebot smartphone", {"User-Agent": "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Encoding": "gzip, deflate, br"}),
    ("Bingbot", {"User-Agent": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}),
    ("AhrefsBot", {"User-Agent": "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}),
    ("SemrushBot", {"User-Agent": "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}),
    ("GPTBot", {"User-Agent": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", "Accept": "*/*", "Accept-Encoding": "gzip, br"}),
    ("ClaudeBot", {"User-Agent": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", "Accept": "*/*", "Accept-Encoding": "gzip"}),
    ("Applebot", {"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", "Accept": "*/*", "Accept-Language": "en-us", "Accept-Encoding": "br, gzip, deflate"}),
    ("YandexBot", {"User-Agent": "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "Accept": "*/*", "Accept-Encoding": "gzip,deflate,br"}),
    ("Baiduspider", {"User-Agent": "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", "Accept": "*/*", "Accept-Language": "zh-cn", "Accept-Encoding": "gzip"}),
    ("DuckDuckBot", {"User-Agent": "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", "Accept": "*/*", "Accept-Encoding": "gzip"}),
    ("Facebook preview", {"User-Agent": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "Accept": "*/*", "Accept-Encoding": "deflate, gzip"}),
    ("Twitter preview", {"User-Agent": "Twitterbot/1.0", "Accept": "*/*", "Accept-Encoding": "gzip"}),
    ("Slack preview", {"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Accept": "*/*", "Accept-Encoding": "gzip,deflate"}),
    ("Discord preview", {"User-Agent": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "Accept": "*/*", "Accept-Encoding": "gzip"}),
    ("Telegram preview", {"User-Agent": "TelegramBot (like TwitterBot)", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}),
    ("WhatsApp preview", {"User-Agent": "WhatsApp/2.23.20.0 A", "Accept": "*/*"}),
    ("LinkedIn preview", {"User-Agent": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", "Accept": "*/*", "Accept-Encoding": "gzip,deflate"}),
    ("iMessage preview", {"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0", "Accept": "*/*", "Accept-Language": "en-us", "Accept-Encoding": "gzip, deflate"}),
    ("curl", {"User-Agent": "curl/8.5.0", "Accept": "*/*"}),
    ("wget", {"User-Agent": "Wget/1.21.4", "Accept": "*/*", "Accept-Encoding": "identity"}),
    ("requests", {"User-Agent": "python-requests/2.32.3", **_LIBRARY}),
    ("httpx", {"User-Agent": "python-httpx/0.28.1", **_LIBRARY}),
    ("aiohttp", {"User-Agent": "Python/3.12 aiohttp/3.10.10", **_LIBRARY}),
    ("urllib", {"User-Agent": "Python-urllib/3.12", "Accept-Encoding": "identity"}),
    ("Go", {"User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}),
    ("okhttp", {"User-Agent": "okhttp/4.12.0", "Accept-Encoding": "gzip"}),
    ("Java", {"User-Agent": "Java/17.0.9", "Accept": "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"}),
    ("axios", {"User-Agent": "axios/1.7.7", "Accept": "application/json, text/plain, */*", "Accept-Encoding": "gzip, compress, deflate, br"}),
    ("node", {"User-Agent": "node", "Accept": "*/*", "Accept-Language": "*", "Accept-Encoding": "gzip, deflate"}),
    ("scraper with a browser's user agent", {"User-Agent": _CHROME, **_LIBRARY}),
    ("scraper with a browser's user agent and language", {"User-Agent": _CHROME, "Accept": "text/html", "Accept-Language": "en-US,en;q=0.9"}),
    ("headless Chrome", {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Accept": "text/html,application/xhtml+xml", "Accept-Language": "en-US", "Accept-Encoding": "gzip, deflate, br", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "none"}),
    ("kube-probe", {"User-Agent": "kube-probe/1.31", "Accept": "*/*"}),
    ("AWS ELB", {"User-Agent": "ELB-HealthChecker/2.0", "Accept-Encoding": "gzip, compressed"}),
    ("Google Cloud LB", {"User-Agent": "GoogleHC/1.0"}),
    ("Consul", {"User-Agent": "Consul Health Check", "Accept": "text/plain, text/*, */*", "Accept-Encoding": "gzip"}),
    ("Route 53", {"User-Agent": "Amazon-Route53-Health-Check-Service (ref 2a7bd5c1-a12b-4cd1-9b48-c2c3c1b0d6f9; report http://amzn.to/1vsZADi)"}),
    ("UptimeRobot", {"User-Agent": "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language": "en-US,en;q=0.8", "Accept-Encoding": "gzip, deflate"}),
    ("Pingdom", {"User-Agent": "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "Accept": "*/*"}),
    ("StatusCake", {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.5112.81 Safari/537.36 StatusCake", "Accept": "*/*", "Accept-Encoding": "gzip"}),
    ("Better Stack", {"User-Agent": "Better Stack Better Uptime Bot Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Accept": "*/*", "Accept-Encoding": "gzip"}),
    ("Site24x7", {"User-Agent": "Site24x7", "Accept": "*/*"}),
    ("Datadog", {"User-Agent": "Datadog/Synthetics", "Accept": "*/*", "Accept-Encoding": "gzip"}),
    ("New Relic", {"User-Agent": "NewRelicPinger/1.0 (1234567)", "Accept-Encoding": "gzip"}),
    ("Uptime Kuma", {"User-Agent": "Uptime-Kuma/1.23.15", "Accept": "*/*", "Accept-Encoding": "gzip, compress, deflate, br"}),
    ("no user agent", {"Accept": "*/*"}),
)  # fmt: skip


def corpus() -> list[Sample]:
    """Every browser's requests, then every other client's, labelled."""
    samples = [s for engine, ua in BROWSERS for s in browser_requests(engine, ua)]
    return samples + [Sample(name, headers, False) for name, headers in OTHERS]
