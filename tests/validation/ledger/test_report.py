"""The HTML report: statements in LaTeX that MathJax can typeset, the page's parts (contents,
filter, findings, one row per claim with its figures), and the page without MathJax."""

import re
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path

import pytest

from validation.ledger import report
from validation.ledger.claims import load_claims
from validation.ledger.report import render

MATH = re.compile(r"\\\((.*?)\\\)", re.S)


def _math_segments(statement: str) -> list[str]:
    """The inline formulas of a statement; fails on unbalanced or nested delimiters."""
    opens = [m.start() for m in re.finditer(r"\\\(", statement)]
    closes = [m.start() for m in re.finditer(r"\\\)", statement)]
    assert len(opens) == len(closes), "unbalanced \\( \\)"
    assert all(o < c for o, c in zip(opens, closes)), "\\) before its \\("
    assert all(c < o for c, o in zip(closes, opens[1:])), "nested \\("
    return MATH.findall(statement)


def _braces_balanced(tex: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}]", "", tex):  # \{ and \} are literal braces
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


# Plain TeX that MathJax reads and matplotlib's mathtext spells another way (mathtext knows a
# subset of TeX): short names, \tfrac/\dfrac, and one-token fraction arguments (\frac12).
_MATHTEXT_SPELLING = [(re.compile(r"\\(le|ge)(?![a-zA-Z])"), r"\\\1q"),
                      (re.compile(r"\\[td]frac(?![a-zA-Z])"), r"\\frac"),
                      (re.compile(r"\\frac\s*([0-9A-Za-z])"), r"\\frac{\1}"),
                      (re.compile(r"(\\frac\{[^{}]*\})\s*([0-9A-Za-z])"), r"\1{\2}")]


def _for_mathtext(tex: str) -> str:
    for pattern, spelling in _MATHTEXT_SPELLING:
        tex = pattern.sub(spelling, tex)
    return tex


@pytest.mark.parametrize("claim", load_claims(), ids=lambda c: c.id)
def test_statement_latex_is_well_formed(claim):
    """Inline math only between \\( and \\) (what the report's MathJax reads), no `$` (MathJax or
    a reader would take it for a delimiter), no TeX command outside the formulas, balanced braces,
    and every formula parses with matplotlib's mathtext, an independent TeX parser."""
    from matplotlib.mathtext import MathTextParser

    statement = claim.statement
    assert "$" not in statement
    formulas = _math_segments(statement)
    assert "\\" not in MATH.sub("", statement), "a backslash outside \\( ... \\)"
    parser = MathTextParser("path")
    for tex in formulas:
        assert tex.strip() and _braces_balanced(tex), tex
        parser.parse(f"${_for_mathtext(tex)}$")  # raises ValueError on a TeX error


def test_well_formedness_checks_can_fail():
    from matplotlib.mathtext import MathTextParser

    with pytest.raises(AssertionError):
        _math_segments(r"a \(x\) b \(y")
    with pytest.raises(AssertionError):
        _math_segments(r"\(a \(b\) c\)")
    assert not _braces_balanced(r"\frac{1}{2") and _braces_balanced(r"\{x\}")
    assert _for_mathtext(r"\tfrac12 \le \frac1{2n} \left \geq") == r"\frac{1}{2} \leq \frac{1}{2n} \left \geq"
    with pytest.raises(ValueError):
        MathTextParser("path").parse(r"$\frac{1}$")


class _Page(HTMLParser):
    """Element ids, links, and which claim row each image and formula sits in."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.images, self.external = [], [], {}, []
        self.claim = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "article":
            self.claim = attrs["id"]
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])
        if tag == "img":
            self.images.setdefault(self.claim, []).append(attrs["src"][:21])
        if tag in ("script", "link", "iframe") and (attrs.get("src") or attrs.get("href")):
            self.external.append(tag)

    def handle_endtag(self, tag):
        if tag == "article":
            self.claim = None


def _records(tmp_path: Path):
    figure = tmp_path / "f.png"
    figure.write_bytes(_PNG)
    base = {"paper": "P", "reference": "R", "predicted": 1, "measured": {"a": 0.5, "b": [1, 2]},
            "tolerance": 0, "note": "a note", "figures": [], "seconds": 0.1, "method": "",
            "timings": {}}
    return [
        {**base, "id": "markov.a", "topic": "markov", "statement": r"holds: \(x < y\) & more",
         "verdict": "confirmed", "expected": "confirmed", "as_expected": True, "figures": ["f.png"]},
        {**base, "id": "markov.b", "topic": "markov", "statement": "<script>alert(1)</script>",
         "verdict": "refuted", "expected": "refuted", "as_expected": True,
         "figures": ["f.png", "gone.png"]},
        {**base, "id": "lsa.c", "topic": "lsa", "statement": r"\(\tilde f^*\)", "verdict": "error",
         "expected": "confirmed", "as_expected": False, "note": "RuntimeError: boom",
         "traceback": "Traceback (most recent call last):\nRuntimeError: boom",
         "timings": {"solve": 0.25}},
    ]


# a 1x1 PNG (written by hand: signature, IHDR, IDAT, IEND)
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")
_META = {"profile": "quick", "seed": 0, "provenance": {"python": "3.11"}}
_SUMMARY = {"claims": 3, "as_expected": 2, "by_verdict": {"confirmed": 1, "refuted": 1, "error": 1}}


def test_report_parts(tmp_path):
    page = render(_META, _SUMMARY, _records(tmp_path), tmp_path, mathjax="/* mathjax */")
    parsed = _Page()
    parsed.feed(page)
    # contents: every paper section and every claim row, by the ids other tooling links to
    for anchor in ("markov", "lsa", "markov.a", "markov.b", "lsa.c", "findings"):
        assert anchor in parsed.ids and anchor in parsed.links, anchor
    assert page.index("id='contents'") < page.index("<h2 id='findings'>") < page.index("<h2 id='markov'>")
    assert page.index("<h2 id='markov'>") < page.index("<h2 id='lsa'>")  # registry order
    # each claim's figures sit in its own row, embedded; a missing figure is named, not fatal
    assert parsed.images == {"markov.a": ["data:image/png;base64"], "markov.b": ["data:image/png;base64"]}
    assert "gone.png (not written)" in page
    # the verdict filter: one box per verdict with its count, and the unexpected verdicts
    for verdict in ("confirmed", "refuted", "error"):
        assert f"data-verdict='{verdict}' checked> {verdict} (1)" in page
    assert "id='only-unexpected'> only unexpected verdicts (1)" in page
    assert "class='claim error unexpected nofigure' id='lsa.c'" in page
    # escaped HTML, LaTeX delimiters intact for MathJax
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert r"\(x &lt; y\) &amp; more" in page and r"\(\tilde f^*\)" in page
    assert "Traceback (most recent call last)" in page and "solve 0.25 s" in page
    assert "/* mathjax */" in page and "inlineMath" in page and "no-mathjax" not in page


def test_report_inlines_the_installed_mathjax(tmp_path):
    source = report.mathjax_source()
    if source is None:
        pytest.skip("sphinx-mathjax-offline is not installed")
    assert "MathJax" in source and len(source) > 1_000_000  # tex-svg.js of MathJax 3
    page = render(_META, _SUMMARY, _records(tmp_path), tmp_path)
    # configuration, MathJax, the filter; nothing inside a script can end it early
    assert page.count("<script>") == page.count("</script") == 3
    parsed = _Page()
    parsed.feed(page)
    assert not parsed.external  # nothing loaded from elsewhere: one self-contained file


def test_report_without_mathjax_says_so(tmp_path, monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(report.metadata, "distribution", missing)
    report.mathjax_source.cache_clear()
    try:
        assert report.mathjax_source() is None
        page = render(_META, _SUMMARY, _records(tmp_path), tmp_path)
    finally:
        report.mathjax_source.cache_clear()
    assert "id='no-mathjax'" in page and "sphinx-mathjax-offline" in page
    assert "inlineMath" not in page and r"\(\tilde f^*\)" in page
    assert ".nobr{" not in page  # LaTeX source must be free to wrap
