"""Hostile strings aimed at the page, at htmx, and at the markup around a message."""

PAYLOADS = [
    "<script>window.__xss = 'script'</script>",
    "<img src=x onerror=\"window.__xss = 'img'\">",
    "<svg onload=\"window.__xss = 'svg'\"></svg>",
    "\"><script>window.__xss = 'attr'</script>",
    "<a href=\"javascript:window.__xss='href'\">click</a>",
    '<div hx-get="/" hx-trigger="load" hx-swap="outerHTML">htmx get</div>',
    "<button hx-on:click=\"window.__xss = 'hx-on'\">hx-on</button>",
    '<div id="messages" hx-swap-oob="true">hijack the list</div>',
    "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
    "{{ 7|add:7 }} {% now 'Y' %}",
]
