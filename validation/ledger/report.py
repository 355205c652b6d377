"""The self-contained HTML report of ``ttc reproduce``.

One file that opens anywhere, without its folder and without a network: a table of contents, a
filter by verdict, the findings, then one section per paper with one row per claim (statement,
note, decision path, predicted / measured / tolerance, verdict, time) and the claim's figures
beside it, embedded as base64 PNG. Statements carry inline LaTeX between ``\\(`` and ``\\)``;
MathJax 3 (SVG output, from the ``sphinx-mathjax-offline`` package) is inlined into the page and
typesets it. Without that package the page shows the LaTeX source and says so.
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from validation.ledger.results import atomic_write_text
from validation.papers import TOPICS

VERDICTS = ("confirmed", "refuted", "error")
MATHJAX_PACKAGE = "sphinx-mathjax-offline"
MATHJAX_FILE = "sphinx-mathjax-offline/static/mathjax/tex-svg.js"

_STYLE = """
*{box-sizing:border-box}
html{overflow-wrap:break-word}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;padding:1rem 1.5rem;
max-width:1400px;color:#222;line-height:1.45}
[hidden]{display:none!important}
a{color:#1a5fb4}
h1{font-size:1.6rem;margin:.5rem 0} h2{margin-top:2rem;border-bottom:2px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0;table-layout:fixed}
th,td{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left;
overflow-wrap:anywhere}
th{background:#f2f2f2}
.papers th:first-child{width:46%}
.key{color:#555}
.note{font-size:.82rem;color:#444;white-space:pre-wrap;overflow-wrap:anywhere}
.method{font-size:.82rem;color:#225;font-style:italic}
.warn{background:#fff3cd;border:1px solid #e0c060;padding:.4rem .6rem}
.toc ul{list-style:none;padding-left:0;margin:.2rem 0}
.toc>ul>li{margin:.5rem 0}
.chips{display:flex;flex-wrap:wrap;gap:.25rem}
.chips li{font-size:.78rem;border-radius:.3rem;padding:0 .35rem;border:1px solid #bbb}
.chips a{text-decoration:none;color:#222}
.confirmed{--verdict:#2e8b57;--tint:#eaf6ee}
.refuted{--verdict:#d68910;--tint:#fdf2e3}
.error{--verdict:#c0392b;--tint:#f9e3e1}
.chips li{background:var(--tint)}
.chips li.unexpected,.claim.unexpected{outline:3px solid #c0392b}
#filter{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.4rem 0;z-index:1;
font-size:.9rem}
#filter label{margin-right:1rem;white-space:nowrap}
.claim{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem;margin:1rem 0;
padding:.6rem .8rem;border:1px solid #ccc;border-left:8px solid var(--verdict);background:#fff}
.claim.nofigure{grid-template-columns:minmax(0,1fr)}
.claim h3{margin:0 0 .3rem;font-size:1rem;display:flex;flex-wrap:wrap;gap:.2rem .8rem;
align-items:baseline}
.claim h3 .source{font-weight:normal;color:#555;font-size:.85rem}
.badge{background:var(--verdict);color:#fff;border-radius:.3rem;padding:0 .4rem;font-size:.8rem}
.statement{margin:.3rem 0}
table.values td{font-family:ui-monospace,monospace;font-size:.75rem;white-space:pre-wrap}
table.values th:nth-child(2){width:50%}
table.values td>div{max-height:24rem;overflow-y:auto}
.figures{display:grid;grid-template-columns:minmax(0,1fr);gap:.6rem;align-content:start}
.figures.several{grid-template-columns:repeat(2,minmax(0,1fr))}
.figures figure{margin:0}
.figures img{display:block;max-width:100%;height:auto;border:1px solid #ddd;cursor:zoom-in}
.claim.wide{grid-template-columns:minmax(0,1fr)}
.claim.wide .figures.several{grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}
.claim.wide .figures img{cursor:zoom-out}
figcaption{font-size:.8rem;color:#555}
details pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.75rem}
mjx-container[jax="SVG"]{max-width:100%}
"""

# Shows the filter (a page without scripts shows every claim) and applies it: a claim is shown
# when its verdict is ticked and, with "only unexpected", when its verdict is not the expected one.
# A click on a figure shows the claim's figures at full width below its text (a second click: back).
_FILTER_SCRIPT = """
(function(){
  var bar=document.getElementById('filter'); bar.hidden=false;
  var boxes=bar.querySelectorAll('input'), count=document.getElementById('shown');
  function apply(){
    var on={}, only=document.getElementById('only-unexpected').checked, shown=0;
    bar.querySelectorAll('input[data-verdict]').forEach(function(b){on[b.dataset.verdict]=b.checked;});
    document.querySelectorAll('.claim').forEach(function(c){
      var show=on[c.dataset.verdict] && (!only || c.classList.contains('unexpected'));
      c.hidden=!show; if(show){shown++;}
      var chip=document.querySelector('.chips li[data-claim="'+c.id+'"]'); if(chip){chip.hidden=!show;}
    });
    count.textContent=shown;
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);}); apply();
  document.querySelectorAll('.figures img').forEach(function(img){
    img.addEventListener('click',function(){img.closest('.claim').classList.toggle('wide');});});
})();
"""

# A formula and the punctuation after it stay on one line (only with MathJax: LaTeX source
# must be free to wrap).
_MATH_THEN_PUNCTUATION = re.compile(r"(\\\((?:(?!\\\)).)*\\\)[.,;:)]+)")
_NO_BREAK_STYLE = ".nobr{white-space:nowrap}"

_MATHJAX_CONFIG = ("window.MathJax={tex:{inlineMath:[['\\\\(','\\\\)']],displayMath:[['\\\\[','\\\\]']]},"
                   "svg:{fontCache:'global'},options:{enableMenu:false}};")


@lru_cache(maxsize=1)
def mathjax_source() -> str | None:
    """MathJax 3's ``tex-svg.js`` (one file: SVG output needs no fonts) from the
    ``sphinx-mathjax-offline`` distribution, or ``None`` when that package is not installed."""
    try:
        path = Path(metadata.distribution(MATHJAX_PACKAGE).locate_file(MATHJAX_FILE))
        return path.read_text(encoding="utf-8")
    except (metadata.PackageNotFoundError, OSError):
        return None


def _mathjax(source: str | None) -> str:
    """The ``<script>`` elements that typeset the page, or a visible note when MathJax is absent."""
    if source is None:
        return ""
    source = source.replace("</script", "<\\/script")  # cannot end the element early
    return f"<script>{_MATHJAX_CONFIG}</script><script>{source}</script>"


def _statement(text: str) -> str:
    """A statement as HTML: escaped, its ``\\( ... \\)`` left for MathJax."""
    return _MATH_THEN_PUNCTUATION.sub(r"<span class='nobr'>\1</span>", html.escape(text))


def _no_mathjax_note(source: str | None) -> str:
    if source is not None:
        return ""
    return (f"<p class='warn' id='no-mathjax'>MathJax is not available (install the "
            f"<code>{MATHJAX_PACKAGE}</code> package): the mathematics below is shown as LaTeX "
            "source between \\( and \\).</p>")


def _fmt(value, depth: int = 0) -> str:
    """HTML for a JSON value: numbers to 6 significant digits, dicts as one line per key."""
    e = html.escape
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        if depth >= 2:
            return e(json.dumps(value)[:300])
        return "".join(f"<div><span class='key'>{e(str(k))}</span>: {_fmt(v, depth + 1)}</div>"
                       for k, v in value.items())
    if isinstance(value, list):
        text = ", ".join(_fmt(v, depth + 1) for v in value[:12])
        return f"[{text}{', ...' if len(value) > 12 else ''}]"
    return e(str(value))


def _method(record: dict) -> str:
    """The decision path of a claim (certified, exact, uncertified...), when the check names one."""
    method = record.get("method")
    return f"<div class='method'>decided by: {html.escape(method)}</div>" if method else ""


def _timings(record: dict) -> str:
    """The run time of the claim and the times its check measured (they vary between runs, so
    they are kept apart from the measured values)."""
    timings = record.get("timings") or {}
    parts = [f"{record['seconds']:.1f} s"] + [
        f"{html.escape(str(name))} {_fmt(value)}{' s' if isinstance(value, (int, float)) else ''}"
        for name, value in timings.items()]
    return f"<div class='note'>time: {'; '.join(parts)}</div>"


def _classes(record: dict) -> str:
    return record["verdict"] + ("" if record["as_expected"] else " unexpected")


def _summary(meta: dict, summary: dict) -> str:
    e = html.escape
    by = summary["by_verdict"]
    return (f"<p>Profile <b>{e(meta['profile'])}</b>, seed {meta['seed']}; "
            f"{summary['as_expected']} of {summary['claims']} claims have the verdict the ledger "
            f"expects (confirmed {by['confirmed']}, refuted {by['refuted']}, error {by['error']}). "
            "A <i>refuted</i> verdict that the ledger expects is a result: the paper's statement "
            "needs a condition, and the note gives the counterexample.</p>"
            f"<details class='note'><summary>Provenance</summary>Provenance: "
            f"{_fmt(meta['provenance'])}</details>")


def _paper_table(topics: list[str], records: list[dict]) -> str:
    e = html.escape
    rows = ["<div class='papers'><table><tr><th>paper</th><th>claims</th><th>as expected</th><th>confirmed</th>"
            "<th>refuted</th><th>error</th></tr>"]
    for topic in topics:
        mine = [r for r in records if r["topic"] == topic]
        counts = [sum(r["verdict"] == v for r in mine) for v in VERDICTS]
        rows.append(f"<tr><td><a href='#{topic}'>{e(TOPICS[topic].heading)}</a></td>"
                    f"<td>{len(mine)}</td><td>{sum(r['as_expected'] for r in mine)}</td>"
                    + "".join(f"<td>{c}</td>" for c in counts) + "</tr>")
    return "".join(rows) + "</table></div>"


def _contents(topics: list[str], records: list[dict], findings: bool) -> str:
    """Links to every section and, as chips coloured by verdict, to every claim."""
    e = html.escape
    items = ["<li><a href='#findings'>Statements that need a condition</a></li>"] if findings else []
    for topic in topics:
        chips = "".join(
            f"<li class='{_classes(r)}' data-claim='{e(r['id'])}'><a href='#{e(r['id'])}' "
            f"title='{e(r['verdict'])}'>{e(r['id'].split('.', 1)[1])}</a></li>"
            for r in records if r["topic"] == topic)
        items.append(f"<li><a href='#{topic}'>{e(TOPICS[topic].heading)}</a><ul class='chips'>"
                     f"{chips}</ul></li>")
    return f"<nav class='toc'><h2 id='contents'>Contents</h2><ul>{''.join(items)}</ul></nav>"


def _filter(records: list[dict]) -> str:
    """The verdict filter (hidden until its script runs, so a page without scripts shows all)."""
    boxes = "".join(
        f"<label><input type='checkbox' data-verdict='{v}' checked> {v} "
        f"({sum(r['verdict'] == v for r in records)})</label>" for v in VERDICTS)
    unexpected = sum(not r["as_expected"] for r in records)
    return (f"<div id='filter' hidden>Show: {boxes}<label><input type='checkbox' "
            f"id='only-unexpected'> only unexpected verdicts ({unexpected})</label> "
            f"<span class='note'><span id='shown'>{len(records)}</span> of {len(records)} "
            "claims shown</span></div>")


def _findings(records: list[dict]) -> str:
    """The results up front: every statement the ledger expects to be refuted (a paper's
    statement, or a conjecture, that needs a condition), with its verdict and decision path."""
    rows = [r for r in records if r["expected"] == "refuted"]
    if not rows:
        return ""
    e = html.escape
    items = "".join(
        f"<li><a href='#{e(r['id'])}'>{e(r['id'])}</a> ({e(r['verdict'])}"
        f"{'' if r['as_expected'] else ', NOT as expected'}): {_statement(r['statement'])}"
        f"{' <i>[' + e(r['method']) + ']</i>' if r.get('method') else ''}</li>"
        for r in rows)
    return ("<h2 id='findings'>Findings: statements that need a condition</h2><p>Each of these is "
            "refuted by a counterexample; the claim's note gives it and the corrected statement.</p>"
            f"<ul>{items}</ul>")


@lru_cache(maxsize=64)
def _embedded(path: Path, size: int, mtime: float) -> str:
    """The image as a data URL (cached by size and time: the report is rewritten after every
    claim)."""
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figure(figures_dir: Path, name: str) -> str:
    e = html.escape
    path = figures_dir / name
    if not path.is_file():
        return f"<figure><figcaption>{e(name)} (not written)</figcaption></figure>"
    stat = path.stat()
    return (f"<figure><img alt='{e(name)}' src='{_embedded(path, stat.st_size, stat.st_mtime)}'>"
            f"<figcaption>{e(name)}</figcaption></figure>")


def _claim(record: dict, figures_dir: Path) -> str:
    """One claim: its text, values and verdict on the left, its figures on the right."""
    e = html.escape
    r = record
    expected = "" if r["as_expected"] else f" &mdash; NOT as expected ({e(r['expected'])})"
    names = r.get("figures") or []
    figures = "".join(_figure(figures_dir, name) for name in names)
    traceback = (f"<details><summary>traceback</summary><pre>{e(r['traceback'])}</pre></details>"
                 if r.get("traceback") else "")
    text = (f"<div class='text'><h3><span>{e(r['id'])}</span>"
            f"<span class='badge'>{e(r['verdict'])}{expected}</span>"
            f"<span class='source'>{e(r['paper'])}, {e(r['reference'])}</span></h3>"
            f"<div class='statement'>{_statement(r['statement'])}</div>"
            f"<div class='note'>{e(r.get('note') or '')}</div>{_method(r)}{traceback}"
            "<table class='values'><tr><th>predicted</th><th>measured</th><th>tolerance</th></tr>"
            + "<tr>" + "".join(f"<td><div>{_fmt(r[key])}</div></td>"
                               for key in ("predicted", "measured", "tolerance")) + "</tr></table>"
            f"{_timings(r)}</div>")
    side = (f"<div class='figures{' several' if len(names) > 1 else ''}'>{figures}</div>"
            if figures else "")
    return (f"<article class='claim {_classes(r)}{'' if figures else ' nofigure'}' id='{e(r['id'])}' "
            f"data-verdict='{e(r['verdict'])}'>{text}{side}</article>")


def render(meta: dict, summary: dict, records: list[dict], figures_dir: Path,
           mathjax: str | None = ...) -> str:
    """The report page (see the module docstring).

    Parameters
    ----------
    meta : ``profile``, ``seed`` and ``provenance`` of the run.
    summary : ``claims``, ``as_expected`` and ``by_verdict`` counts.
    records : the claim records of ``results.json`` (ledger order).
    figures_dir : the folder holding the figures the records name.
    mathjax : the MathJax source to inline; by default :func:`mathjax_source`, ``None`` for a
        page without it (the LaTeX stays as source, with a note).
    """
    source = mathjax_source() if mathjax is ... else mathjax
    e = html.escape
    topics = [t for t in TOPICS if any(r["topic"] == t for r in records)]
    findings = _findings(records)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>Transformer theory companion: reproduction report</title>",
        f"<style>{_STYLE}{'' if source is None else _NO_BREAK_STYLE}</style>{_mathjax(source)}"
        "</head><body>",
        "<h1>Transformer theory companion: reproduction report</h1>",
        _no_mathjax_note(source),
        _summary(meta, summary),
        _paper_table(topics, records),
        _contents(topics, records, bool(findings)),
        _filter(records),
        findings,
    ]
    for topic in topics:
        parts.append(f"<section><h2 id='{topic}'>{e(TOPICS[topic].heading)}</h2>")
        parts.extend(_claim(r, figures_dir) for r in records if r["topic"] == topic)
        parts.append("</section>")
    parts.append(f"<script>{_FILTER_SCRIPT}</script></body></html>")
    return "\n".join(parts)


def write_report(path: Path, meta: dict, summary: dict, records: list[dict], figures_dir: Path) -> None:
    atomic_write_text(path, render(meta, summary, records, figures_dir))
