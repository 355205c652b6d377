"""The self-contained HTML report of ``ttc reproduce``: a table of claims and, per paper, the
figures embedded as base64 PNG (the file opens anywhere, without its folder)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from validation.ledger.results import atomic_write_text
from validation.papers import TOPICS


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1500px;
color:#222;line-height:1.4}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#f2f2f2} td.num{font-family:ui-monospace,monospace;font-size:.75rem;min-width:13rem;
max-width:22rem;overflow-wrap:break-word} .key{color:#555}
.confirmed{background:#e5f5e0}.refuted{background:#fdebd0}.error{background:#f8d7da}
.unexpected{outline:3px solid #c0392b}
figure{display:inline-block;margin:.5rem;max-width:48%;vertical-align:top}
figure img{max-width:100%;border:1px solid #ddd} figcaption{font-size:.85rem;color:#555}
.note{font-size:.8rem;color:#444}
.method{font-size:.8rem;color:#225;font-style:italic}
"""


def _method(record: dict) -> str:
    """The decision path of a claim (certified, exact, uncertified...), when the check names one."""
    method = record.get("method")
    return f"<div class='method'>decided by: {html.escape(method)}</div>" if method else ""


def _timings(record: dict) -> str:
    """The times a check measured (they vary between runs, so they are kept apart from the
    measured values)."""
    timings = record.get("timings") or {}
    if not timings:
        return ""
    return f"<div class='note'>{_fmt(timings)}</div>"


def _findings(records: list[dict]) -> str:
    """The results up front: every statement the ledger expects to be refuted (a paper's
    statement, or a conjecture, that needs a condition), with its verdict and decision path."""
    rows = [r for r in records if r["expected"] == "refuted"]
    if not rows:
        return ""
    e = html.escape
    items = "".join(
        f"<li><a href='#{e(r['id'])}'>{e(r['id'])}</a> ({e(r['verdict'])}"
        f"{'' if r['as_expected'] else ', NOT as expected'}): {e(r['statement'])}"
        f"{' <i>[' + e(r['method']) + ']</i>' if r.get('method') else ''}</li>"
        for r in rows)
    return ("<h2>Findings: statements that need a condition</h2><p>Each of these is refuted by "
            "a counterexample; the claim's note gives it and the corrected statement.</p>"
            f"<ul>{items}</ul>")


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


def _embed(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def render(meta: dict, summary: dict, records: list[dict], figures_dir: Path) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<title>Transformer theory companion: reproduction report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Transformer theory companion: reproduction report</h1>",
        f"<p>Profile <b>{e(meta['profile'])}</b>, seed {meta['seed']}; "
        f"{summary['as_expected']} of {summary['claims']} claims have the verdict the ledger expects "
        f"(confirmed {summary['by_verdict']['confirmed']}, refuted {summary['by_verdict']['refuted']}, "
        f"error {summary['by_verdict']['error']}). A <i>refuted</i> verdict that the ledger expects "
        "is a result: the paper's statement needs a condition, and the note gives the counterexample.</p>",
        f"<p class='note'>Provenance: {e(json.dumps(meta['provenance']))}</p>",
    ]
    topics = [t for t in TOPICS if any(r["topic"] == t for r in records)]
    parts.append("<table><tr><th>paper</th><th>claims</th><th>as expected</th><th>confirmed</th>"
                 "<th>refuted</th><th>error</th></tr>")
    for topic in topics:
        rows = [r for r in records if r["topic"] == topic]
        counts = [sum(r["verdict"] == v for r in rows) for v in ("confirmed", "refuted", "error")]
        parts.append(f"<tr><td><a href='#{topic}'>{e(TOPICS[topic].heading)}</a></td><td>{len(rows)}</td>"
                     f"<td>{sum(r['as_expected'] for r in rows)}</td>"
                     + "".join(f"<td>{c}</td>" for c in counts) + "</tr>")
    parts.append("</table>")
    parts.append(_findings(records))
    for topic in topics:
        rows = [r for r in records if r["topic"] == topic]
        parts.append(f"<h2 id='{topic}'>{e(TOPICS[topic].heading)}</h2><table><tr><th>claim</th>"
                     "<th>source</th><th>statement</th><th>predicted</th><th>measured</th>"
                     "<th>tolerance</th><th>verdict</th><th>s</th></tr>")
        for r in rows:
            cls = r["verdict"] + ("" if r["as_expected"] else " unexpected")
            expected = "" if r["as_expected"] else f" (expected {e(r['expected'])})"
            parts.append(
                f"<tr class='{cls}' id='{e(r['id'])}'><td>{e(r['id'])}</td><td>{e(r['paper'])}<br>{e(r['reference'])}</td>"
                f"<td>{e(r['statement'])}<div class='note'>{e(r.get('note') or '')}</div>"
                f"{_method(r)}</td>"
                f"<td class='num'>{_fmt(r['predicted'])}</td><td class='num'>{_fmt(r['measured'])}</td>"
                f"<td class='num'>{_fmt(r['tolerance'])}</td><td>{e(r['verdict'])}{expected}</td>"
                f"<td>{r['seconds']:.1f}{_timings(r)}</td></tr>")
        parts.append("</table>")
        figures: dict[str, list[str]] = {}
        for r in rows:
            for name in r.get("figures") or []:
                figures.setdefault(name, []).append(r["id"])
        for name, ids in figures.items():
            path = figures_dir / name
            if path.exists():
                parts.append(f"<figure>{_embed(path)}<figcaption>{e(name)}: "
                             f"{e(', '.join(ids))}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: Path, meta: dict, summary: dict, records: list[dict], figures_dir: Path) -> None:
    atomic_write_text(path, render(meta, summary, records, figures_dir))
