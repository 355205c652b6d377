"""The documentation site loads nothing from the network.

``remote_resources(folder)`` lists every resource a browser would fetch from an http(s) URL when
showing the built pages: ``src`` of scripts, images, frames, media; ``href`` of ``<link>``
(stylesheets, preloads, icons); CSS ``url(...)`` and ``@import``. Plain links (``<a href>``, e.g.
to arXiv) are navigation, not loads, and are allowed.

The site is built by ``.ci/run`` (``python -m sphinx -W --keep-going -b html docs
docs/_build/html``), which then runs this file with ``TTC_DOCS_HTML=docs/_build/html``: the scan
must then find the build. Without the variable the scan runs on ``docs/_build/html`` when a build
is there and is skipped otherwise; the scanner itself is always tested on pages made here.
"""

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
LOADING_SRC = {"script", "img", "iframe", "frame", "embed", "source", "audio", "video", "track",
               "input"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""", re.I)


class _Loads(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self._style = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in LOADING_SRC and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        if tag in ("img", "source") and attrs.get("srcset"):
            self.urls += [part.split()[0] for part in attrs["srcset"].split(",") if part.strip()]
        if attrs.get("style"):
            self.urls += _css_urls(attrs["style"])
        self._style = tag == "style"

    def handle_data(self, data):
        if self._style:
            self.urls += _css_urls(data)


def _css_urls(text: str) -> list[str]:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)          # comments load nothing
    return [a or b for a, b in CSS_URL.findall(text)]


def remote_resources(folder: Path) -> list[str]:
    """``"file: url"`` for every http(s) resource the pages under ``folder`` would load."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".html":
            parser = _Loads()
            parser.feed(path.read_text(errors="replace"))
            urls = parser.urls
        elif path.suffix == ".css":
            urls = _css_urls(path.read_text(errors="replace"))
        else:
            continue
        found += [f"{path.relative_to(folder)}: {url}" for url in urls if REMOTE.match(url)]
    return found


def test_the_scanner_finds_remote_loads_and_ignores_links(tmp_path):
    (tmp_path / "page.html").write_text(
        '<html><head><script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/f.css">'
        '<script src="_static/local.js"></script><style>body{background:url(http://e.org/a.png)}</style>'
        '</head><body><a href="https://arxiv.org/abs/2402.04161">paper</a>'
        '<img src="_images/fig.png"></body></html>')
    (tmp_path / "s.css").write_text('/* https://license.example.org */ @import "https://e.org/b.css";'
                                    ' .a{src:url("fonts/x.woff2")}')
    assert remote_resources(tmp_path) == [
        "page.html: https://cdn.example.org/x.js", "page.html: //fonts.example.org/f.css",
        "page.html: http://e.org/a.png", "s.css: https://e.org/b.css"]


def _built_site() -> Path | None:
    given = os.environ.get("TTC_DOCS_HTML")
    if given:
        folder = Path(given) if Path(given).is_absolute() else ROOT / given
        assert (folder / "index.html").is_file(), f"TTC_DOCS_HTML={given}: no built site there"
        return folder
    folder = ROOT / "docs" / "_build" / "html"
    return folder if (folder / "index.html").is_file() else None


def test_the_built_site_loads_nothing_from_the_network():
    folder = _built_site()
    if folder is None:
        pytest.skip("no built site: python -m sphinx -b html docs docs/_build/html")
    assert remote_resources(folder) == []
    mathjax = folder / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file() and (mathjax / "output" / "chtml" / "fonts").is_dir()
    page = (folder / "papers" / "markov.html").read_text()
    assert 'src="../_static/mathjax/tex-chtml.js' in page       # MathJax from the build itself
    assert 'id="claim-markov-F1"' in page                        # the generated claim table
