"""Sphinx directives that read the library itself, so the pages never drift from the code.

``.. claims:: TOPIC``
    A table of every claim the ledger registers for ``TOPIC`` (:func:`validation.ledger.claims.
    load_claims`): id, the paper and its theorem/figure, the statement (``\\(...\\)`` and ``$...$``
    rendered as math), the expected verdict, the profiles and the module holding the check. Each id is a
    link target (``claim-<id>`` with the dot as ``-``) and names the anchor of its row in the
    report ``ttc reproduce`` writes (``reproduce-out/index.html#<id>``).

``:claim:`markov.F1```
    A link to the claim's row in the table of ``.. claims::`` on the same page; an id the ledger
    does not register is an error, so a renamed claim breaks the build instead of the link.

``.. ttc-usage::``
    The ``--help`` text of every ``ttc`` command, read from :func:`validation.cli.build_parser`.
"""

from __future__ import annotations

import argparse
import re

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx import addnodes

_MATH = re.compile(r"\\\((.+?)\\\)|\$([^$]+)\$")


def _text_with_math(text: str) -> list[nodes.Node]:
    """``a \\(x^2\\) b`` (or ``$x^2$``) as Text, math, Text nodes (MathJax renders the math)."""
    parts: list[nodes.Node] = []
    end = 0
    for match in _MATH.finditer(text):
        if match.start() > end:
            parts.append(nodes.Text(text[end:match.start()]))
        tex = match.group(1) or match.group(2)
        parts.append(nodes.math(tex, tex))
        end = match.end()
    if end < len(text):
        parts.append(nodes.Text(text[end:]))
    return parts


def _xref(kind: str, target: str, title: str | None = None) -> addnodes.pending_xref:
    ref = addnodes.pending_xref("", refdomain="py", reftype=kind, reftarget=target,
                                refexplicit=title is not None)
    ref += nodes.literal(title or target, title or target, classes=["xref", "py", f"py-{kind}"])
    return ref


def _table(headers: list[str], rows: list[list[list[nodes.Node]]], widths: list[int]) -> nodes.table:
    table = nodes.table(classes=["ttc-claims", "colwidths-given"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    row = nodes.row()
    for text in headers:
        row += nodes.entry("", nodes.paragraph(text=text))
    head += row
    group += head
    body = nodes.tbody()
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *cell)
            row += entry
        body += row
    group += body
    return table


class ClaimsDirective(Directive):
    required_arguments = 1

    def run(self):
        from validation.ledger.claims import load_claims
        from validation.papers import PAPERS, TOPICS

        topic = self.arguments[0]
        if topic not in TOPICS:
            raise self.error(f"claims: unknown topic {topic!r}; expected one of {sorted(TOPICS)}")
        rows = []
        for c in load_claims((topic,)):
            target = nodes.target("", "", ids=[f"claim-{c.id.replace('.', '-')}"])
            id_cell = [target, nodes.literal(c.id, c.id)]
            paper = PAPERS[c.paper]
            ref_cell = [nodes.Text(f"{paper.label}, {c.reference}")]
            expected = nodes.strong(c.expected, c.expected) if c.expected == "refuted" \
                else nodes.Text(c.expected)
            profiles = "quick and full" if set(c.profiles) == {"quick", "full"} else \
                " and ".join(c.profiles) + " only"
            check = [_xref("mod", c.check.__module__), nodes.Text(f" ({c.check.__name__})")]
            rows.append([id_cell, ref_cell, _text_with_math(c.statement),
                         [expected, nodes.Text(f" ({profiles})")], check])
        headers = ["claim id = report anchor", "paper, reference", "statement",
                   "expected verdict (profiles)", "check (module, function)"]
        return [_table(headers, rows, [13, 14, 45, 11, 17])]


def claim_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    from validation.ledger.claims import load_claims

    known = {c.id for c in load_claims()}
    if text not in known:
        message = inliner.reporter.error(f"claim {text!r} is not registered in the ledger",
                                         line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    ref = nodes.reference(rawtext, "", refuri=f"#claim-{text.replace('.', '-')}")
    ref += nodes.literal(text, text)
    return [ref], []


def _commands(parser: argparse.ArgumentParser, prefix: str):
    """(command line, parser) for the parser and every sub-command below it, depth first."""
    yield prefix, parser
    for action in parser._actions:            # argparse has no public walk of sub-parsers
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{prefix} {name}")


class UsageDirective(Directive):
    def run(self):
        from validation.cli import build_parser

        parser = build_parser()
        parser.prog = "ttc"
        out = []
        for command, sub in _commands(parser, "ttc"):
            section = nodes.section(ids=["usage-" + command.replace(" ", "-")])
            section += nodes.title(command, "", nodes.literal(command, command))
            text = sub.format_help()
            section += nodes.literal_block(text, text, language="text")
            out.append(section)
        return out


def setup(app):
    app.add_directive("claims", ClaimsDirective)
    app.add_directive("ttc-usage", UsageDirective)
    app.add_role("claim", claim_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
