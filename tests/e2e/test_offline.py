"""The web client is served by the platform itself and needs no other host (it works offline)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from core.webclient import WEB_DIR

URL = re.compile(r"\b(?:https?|wss?)://[A-Za-z0-9\[][^\s\"'`)<>]*", re.IGNORECASE)  # a URL that names a host
#: The vendored Socket.IO client names one page in an error message's text; the charts name SVG's
#: XML namespace, which createElementNS needs verbatim. Neither is ever fetched.
ALLOWED = {"vendor/socket.io.min.js": {"https://socket.io/docs/v3/migrating-from-2-x-to-3-0/"},
           "js/charts.js": {"http://www.w3.org/2000/svg"}}
SERVED = (".html", ".js", ".css")


def _served_files():
    return sorted(p for p in WEB_DIR.rglob("*") if p.is_file() and p.suffix in SERVED)


def test_every_served_file_names_no_other_host(client):
    files = _served_files()
    assert {"index.html", "app.css", "js/main.js", "vendor/socket.io.min.js"} <= {p.relative_to(WEB_DIR).as_posix() for p in files}
    found = {}
    for path in files:
        name = path.relative_to(WEB_DIR).as_posix()
        response = client.get("/" if name == "index.html" else f"/client/{name}")
        assert response.status_code == 200, name
        urls = set(URL.findall(response.get_data(as_text=True))) - ALLOWED.get(name, set())
        if urls:
            found[name] = urls
    assert found == {}


def test_pages_forbid_other_origins_and_keep_to_the_web_folder(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    script = client.get("/client/js/main.js")
    assert script.mimetype in ("text/javascript", "application/javascript")
    for probe in ("/client/../app.py", "/client/%2e%2e/app.py", "/client/nothing-here.js"):
        response = client.get(probe)
        assert response.status_code == 404, probe
        assert response.mimetype == "application/problem+json"


def test_every_module_import_resolves(client):
    """A typo in an import path would break the page only at run time: check each one is served."""
    imports = re.compile(r"""^import\s[^;]*?from\s+"(\./[\w./-]+)";""", re.MULTILINE)
    for path in (WEB_DIR / "js").glob("*.js"):
        for target in imports.findall(path.read_text()):
            assert client.get(f"/client/js/{target[2:]}").status_code == 200, (path.name, target)


def test_the_page_loads_with_every_other_host_unreachable(open_as, shot):
    # open_as fails the test on any request to another host and on any CSP violation.
    page = open_as("carl", log_in=False)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.evaluate("typeof window.io") == "function"  # the vendored Socket.IO client loaded
    shot(page, "login")
