"""The documentation site: it builds warning-free (nitpicky: a broken reference fails), every
public name has a docstring and a page, every internal link and anchor resolves, and the
built site works in headless Chromium (the quickstart renders, the search finds python_app).
"""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from browser import chromium

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import plait_docs  # noqa: E402

# the first test builds the site (about 20 s on an idle 2-core machine; minutes under load)
pytestmark = pytest.mark.timeout(400)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as ``make docs`` builds it (-W -n), from scratch."""
    out = tmp_path_factory.mktemp("site")
    start = time.monotonic()
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html",
         "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
        capture_output=True, text=True, timeout=300)
    print(f"site built in {time.monotonic() - start:.1f} s")
    assert built.returncode == 0, built.stderr[-5000:]
    return out / "html"


def test_every_public_name_has_a_docstring() -> None:
    assert plait_docs.undocumented() == [], "add a docstring to each (the build fails too)"


def test_the_api_modules_are_the_public_ones() -> None:
    """Each public module of tests/test_exports.py that defines names of its own is in the
    reference (the others only keep Parsl's import paths)."""
    from test_exports import DOCUMENTED

    listed = set(plait_docs.API_MODULES)
    aliases = {"plait.data_provider.staging", "plait.monitoring.monitoring",
               "plait.monitoring.errors", "plait.usage_tracking.levels"}
    aliases |= {m for m in DOCUMENTED if m.startswith("plait.monitoring.radios.")}
    assert set(DOCUMENTED) - aliases <= listed, set(DOCUMENTED) - aliases - listed


def test_every_error_class_has_advice() -> None:
    names = {n for n, _ in plait_docs.error_classes()}
    advice = plait_docs.advice()
    assert names == advice.keys()
    assert all(a["when"].strip() and a["todo"].strip() for a in advice.values())


def test_one_page_per_site_entry(site: Path) -> None:
    entries = plait_docs.shipped_sites()
    assert len(entries) >= 10
    for entry in entries:
        html = (site / "generated" / "sites" / f"{entry.name}.html").read_text()
        text = unescape(re.sub(r"<[^>]+>", "", html))
        assert entry.title in text and str(entry.checked.date) in text, entry.name
        assert "config = Config(" in text and f"plait sites check {entry.name}" in text


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key == "id" and value:
                self.ids.add(value)
            if key in ("href", "src") and value and tag in ("a", "img", "link", "script"):
                self.links.append(value)


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(errors="replace"))
    return parser


def test_internal_links_resolve(site: Path) -> None:
    pages = {p: _parse(p) for p in site.rglob("*.html")}
    assert len(pages) > 50
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {link}")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {link} (no such anchor)")
    assert not broken, "\n".join(broken[:40])


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, name="docs-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_site_in_headless_chromium(served: str) -> None:
    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(served + "quickstart.html")
        heading = page.locator("h1")
        heading.wait_for(timeout=15_000)
        assert "Quickstart" in heading.inner_text()
        assert page.locator("div.highlight pre").first.is_visible()
        assert "python_app" in page.locator("article").inner_text()
        # the sidebar's search box, as a reader uses it
        page.fill("input[name=q]", "python_app")
        page.keyboard.press("Enter")
        page.wait_for_url("**/search.html?q=python_app**", timeout=15_000)
        results = page.locator("#search-results ul.search li")
        results.first.wait_for(timeout=30_000)
        found = results.all_inner_texts()
        assert any("python_app" in text for text in found), found
        links = page.locator("#search-results ul.search li a").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))")
        # the object itself, from the API reference, comes first
        assert links[0].endswith("generated/api/plait.html#plait.python_app"), links
        assert not errors, errors
