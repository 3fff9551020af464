// A stand-in for Pirsch's pa.js, served by FakePirschAPI at /pa.js so that tests and the demo
// run offline. It sends what the real snippet sends (pirsch-analytics/pirsch-php-proxy: pa.js,
// pageviews.js, events.js, sessions.js) to the endpoints its data-* attributes name: a page view
// as a GET with url, t, ref, w, h, code and nc; events by navigator.sendBeacon as JSON; session
// keep-alives as a POST. It clicks nothing by itself. Written for this project.
(function () {
    "use strict";
    var script = document.getElementById("pianjs");
    if (!script) {
        return;
    }
    var host = location.hostname;
    if (!script.hasAttribute("data-dev") &&
        (/^localhost/.test(host) || /^127(\.[0-9]{1,3}){3}$/.test(host) || location.protocol === "file:")) {
        return;  // as the real snippet: nothing from a local server without data-dev
    }
    var hitEndpoint = script.getAttribute("data-hit-endpoint") || "/p/pv";
    var eventEndpoint = script.getAttribute("data-event-endpoint") || "/p/e";
    var sessionEndpoint = script.getAttribute("data-session-endpoint") || "/p/s";
    var code = script.getAttribute("data-code") || "not-set";

    function pageView() {
        var query = "?nc=" + Date.now() +
            "&code=" + encodeURIComponent(code) +
            "&url=" + encodeURIComponent(location.href.substring(0, 1800)) +
            "&t=" + encodeURIComponent(document.title) +
            "&ref=" + encodeURIComponent(document.referrer) +
            "&w=" + screen.width + "&h=" + screen.height;
        var request = new XMLHttpRequest();
        request.open("GET", hitEndpoint + query);
        request.send();
    }

    window.pirsch = function (name, options) {
        var meta = (options && options.meta) || {};
        Object.keys(meta).forEach(function (key) { meta[key] = String(meta[key]); });
        var body = JSON.stringify({
            identification_code: code,
            url: location.href.substring(0, 1800),
            title: document.title,
            referrer: encodeURIComponent(document.referrer),
            screen_width: screen.width,
            screen_height: screen.height,
            event_name: name,
            event_duration: (options && typeof options.duration === "number") ? options.duration : 0,
            event_meta: meta
        });
        return navigator.sendBeacon(eventEndpoint, body) ? Promise.resolve() : Promise.reject();
    };

    if (!script.hasAttribute("data-disable-page-views")) {
        pageView();
        var pushState = history.pushState;
        history.pushState = function () {
            pushState.apply(this, arguments);
            pageView();
        };
        window.addEventListener("popstate", pageView);
    }

    if (script.hasAttribute("data-enable-sessions")) {
        var interval = parseInt(script.getAttribute("data-interval-ms"), 10) || 60000;
        setInterval(function () {
            var request = new XMLHttpRequest();
            request.open("POST", sessionEndpoint + "?nc=" + Date.now() +
                "&code=" + encodeURIComponent(code) + "&url=" + encodeURIComponent(location.href));
            request.send();
        }, interval);
    }

    function outboundLinks() {
        Array.prototype.forEach.call(document.getElementsByTagName("a"), function (link) {
            var url;
            try {
                url = new URL(link.href);
            } catch (error) {
                return;
            }
            if (url.hostname !== location.hostname) {
                link.addEventListener("click", function () {
                    window.pirsch("Outbound Link Click", {meta: {url: url.href}});
                });
            }
        });
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", outboundLinks);
    } else {
        outboundLinks();
    }
})();
