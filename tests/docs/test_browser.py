"""The report and the documentation in a real browser (headless Chromium, driven through the
DevTools protocol): the mathematics is typeset by MathJax (no raw ``\\(`` left, no TeX error),
every image loads, no request leaves the machine, nothing scrolls sideways at 1400 px. Full-page
screenshots go to ``$TTC_SCREENSHOTS`` (or the test's temporary folder) for a person to look at.

Slow (``pytest -m slow``); skipped when Debian's ``chromium`` is not installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH = 1400
LOCAL_SCHEMES = ("file:", "data:", "about:")
SCREENSHOT_SLICE = 6000  # px of page per screenshot file (one image of a long page is unwieldy)


class Page:
    """One headless Chromium with one tab, spoken to over the DevTools protocol (a websocket)."""

    def __init__(self, profile: Path):
        websocket = pytest.importorskip("websocket", reason="websocket-client is not installed")
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-default-apps", "--mute-audio",
             # every name outside this machine fails to resolve (the request list is checked too)
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
             f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        url = self._devtools_url(timeout=30)
        self.socket = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=900,
                  deviceScaleFactor=1, mobile=False)

    def _devtools_url(self, timeout: float) -> str:
        found: list[str] = []

        def read():
            for line in self.process.stderr:
                if "DevTools listening on " in line:
                    found.append(line.split("DevTools listening on ", 1)[1].strip())
                    break
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if not found:
            self.process.kill()
            pytest.fail(f"chromium printed no DevTools address within {timeout} s")
        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()
        return found[0]

    def call(self, method: str, **params):
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if getattr(self, "session", None) and not method.startswith("Target."):
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, event: str, timeout: float = 60) -> dict:
        for seen in self.events:
            if seen["method"] == event:
                return seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.socket.recv())
            if "method" in reply:
                self.events.append(reply)
                if reply["method"] == event:
                    return reply
        raise TimeoutError(event)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression (promises are awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True, timeout=60000)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        # a page with MathJax (configured, or a mathjax script) may still be loading it (deferred
        # or async script): wait until it exists, then until it has typeset the page
        self.evaluate("""new Promise(function(done){var t0=Date.now();
            var wanted=window.MathJax||document.querySelector('script[src*="mathjax" i]');
            (function poll(){
              if(window.MathJax&&MathJax.startup&&MathJax.startup.promise){
                MathJax.startup.promise.then(function(){done(true);});}
              else if(!wanted||Date.now()-t0>30000){done(false);} else {setTimeout(poll,50);}})();})""")
        self.evaluate("new Promise(function(done){setTimeout(done, 100);})")  # late image decodes

    def screenshots(self, folder: Path, name: str) -> list[Path]:
        """Full-page PNG screenshots at the page's width, in slices of SCREENSHOT_SLICE px (the
        viewport is stretched to the whole page meanwhile, so sticky bars stay at the top)."""
        import base64

        height = int(self.call("Page.getLayoutMetrics")["cssContentSize"]["height"])
        self.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height,
                  deviceScaleFactor=1, mobile=False)
        paths = []
        try:
            for index, top in enumerate(range(0, height, SCREENSHOT_SLICE)):
                clip = {"x": 0, "y": top, "width": WIDTH,
                        "height": min(SCREENSHOT_SLICE, height - top), "scale": 1}
                data = self.call("Page.captureScreenshot", format="png", clip=clip)["data"]
                path = folder / f"{name}-{index + 1:02d}.png"
                path.write_bytes(base64.b64decode(data))
                paths.append(path)
        finally:
            self.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=900,
                      deviceScaleFactor=1, mobile=False)
        return paths

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"headless Chromium is not installed ({CHROMIUM}; Debian: apt-get install chromium)")
    browser = Page(tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = os.environ.get("TTC_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


_STATE = """(function(){
  var imgs=[].slice.call(document.images);
  return {math: document.querySelectorAll('mjx-container').length,
          tex_errors: document.querySelectorAll('[data-mml-node="merror"], mjx-merror').length,
          raw: document.body.innerText.indexOf('\\\\(') >= 0 || document.body.innerText.indexOf('\\\\[') >= 0,
          images: imgs.length,
          broken: imgs.filter(function(i){return !(i.complete && i.naturalWidth > 0);})
                      .map(function(i){return i.getAttribute('src').slice(0, 80);}),
          width: document.documentElement.scrollWidth};
})()"""


def check_page(page: Page, url: str, folder: Path, name: str, math: bool = True) -> dict:
    """Open ``url`` and check it (module docstring); returns the page's state."""
    page.open(url)
    state = page.evaluate(_STATE)
    shots = page.screenshots(folder, name)
    outside = [u for u in page.requests() if not u.startswith(LOCAL_SCHEMES)]
    failed = [e["params"].get("errorText") for e in page.events if e["method"] == "Network.loadingFailed"]
    errors = [e["params"]["exceptionDetails"].get("text") for e in page.events
              if e["method"] == "Runtime.exceptionThrown"]
    assert not outside, f"{name}: requests left the machine: {outside[:5]}"
    assert not failed, f"{name}: requests failed: {failed[:5]}"
    assert not errors, f"{name}: script errors: {errors[:5]}"
    assert not state["broken"], f"{name}: images not loaded: {state['broken']}"
    assert state["width"] <= WIDTH, f"{name}: scrolls sideways ({state['width']} px > {WIDTH})"
    if math:
        assert state["math"] > 0, f"{name}: no MathJax output"
        assert not state["raw"], f"{name}: raw \\( or \\[ left in the visible text"
        assert state["tex_errors"] == 0, f"{name}: {state['tex_errors']} TeX errors"
    assert all(p.stat().st_size > 0 for p in shots)
    return state


def _synthetic_report(folder: Path, mathjax=...) -> Path:
    """The report of every registered claim (its real statement, so MathJax typesets all of
    them) with made-up outcomes of every kind and two small figures, written by the report's
    own function."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from validation.ledger.claims import citation, load_claims
    from validation.ledger.report import render

    figures = folder / "figures"
    figures.mkdir()
    for name, shape in (("wide.png", (8, 3)), ("square.png", (4, 4))):
        fig, ax = plt.subplots(figsize=shape)
        ax.plot([0, 1, 2], [0, 1, 4])
        ax.set_title(name)
        fig.savefig(figures / name, dpi=80)
        plt.close(fig)
    records = []
    for index, claim in enumerate(load_claims()):
        verdict = ("confirmed", "refuted", "error")[index % 7 % 3] if index % 7 < 3 else "confirmed"
        records.append({
            "id": claim.id, "topic": claim.topic, "paper": citation(claim),
            "reference": claim.reference, "statement": claim.statement, "expected": claim.expected,
            "predicted": {"value": 1 / 3, "digits": "0." + "3" * 150}, "measured": [0.1] * 20,
            "tolerance": 1e-8, "verdict": verdict, "as_expected": verdict == claim.expected,
            "note": "a note with a long token " + "x" * 300, "method": "exact" if index % 5 else "",
            "figures": [["wide.png"], ["square.png", "wide.png"], [], ["missing.png"]][index % 4],
            "seconds": 0.5, "timings": {"solve": 0.25} if index % 3 else {},
            **({"traceback": "Traceback ...\nRuntimeError: boom"} if verdict == "error" else {}),
        })
    summary = {"claims": len(records), "as_expected": sum(r["as_expected"] for r in records),
               "by_verdict": {v: sum(r["verdict"] == v for r in records)
                              for v in ("confirmed", "refuted", "error")}}
    meta = {"profile": "quick", "seed": 0, "provenance": {"python": sys.version.split()[0]}}
    page = folder / "index.html"
    page.write_text(render(meta, summary, records, figures, mathjax=mathjax), encoding="utf-8")
    return page


def test_report_in_browser(page, screenshots, tmp_path):
    from validation.ledger.report import mathjax_source

    if mathjax_source() is None:
        pytest.skip("sphinx-mathjax-offline is not installed (the report has no MathJax)")
    report = _synthetic_report(tmp_path)
    state = check_page(page, report.as_uri(), screenshots, "report")
    assert state["images"] >= 40  # every claim with a figure shows it beside its row
    # the verdict filter: untick "confirmed", then show only the unexpected verdicts
    counts = page.evaluate("""(function(){
      function shown(){return [].slice.call(document.querySelectorAll('.claim'))
                          .filter(function(c){return c.offsetParent !== null;});}
      var all=shown().length, box=document.querySelector('input[data-verdict=confirmed]');
      box.click(); var left=shown(), noneConfirmed=left.every(function(c){return c.dataset.verdict!=='confirmed';});
      box.click(); document.getElementById('only-unexpected').click();
      var unexpected=shown(), allUnexpected=unexpected.every(function(c){return c.classList.contains('unexpected');});
      return {all: all, without_confirmed: left.length, none_confirmed: noneConfirmed,
              unexpected: unexpected.length, all_unexpected: allUnexpected,
              counter: document.getElementById('shown').textContent};})()""")
    assert counts["all"] == len(page.evaluate("[].slice.call(document.querySelectorAll('.claim'))"))
    assert 0 < counts["without_confirmed"] < counts["all"] and counts["none_confirmed"]
    assert 0 < counts["unexpected"] < counts["all"] and counts["all_unexpected"]
    assert counts["counter"] == str(counts["unexpected"])


def test_report_without_mathjax_in_browser(page, screenshots, tmp_path):
    """Without MathJax the page still works: LaTeX source and a visible note."""
    path = _synthetic_report(tmp_path, mathjax=None)
    state = check_page(page, path.as_uri(), screenshots, "report-without-mathjax", math=False)
    assert state["math"] == 0 and state["raw"]
    assert page.evaluate("document.getElementById('no-mathjax').offsetHeight") > 0


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory) -> Path:
    if not (ROOT / "docs" / "conf.py").exists():
        pytest.skip("docs/conf.py does not exist yet: no documentation site to open")
    out = tmp_path_factory.mktemp("docs-html")
    env = {**os.environ, "TTC_DOCS_SMALL": "1"}
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "docs", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    return out


def test_docs_in_browser(page, screenshots, built_docs):
    """The home page, the gallery (images) and every paper page (mathematics)."""
    check_page(page, (built_docs / "index.html").as_uri(), screenshots, "docs-index", math=False)
    gallery = built_docs / "auto_examples" / "index.html"
    if gallery.exists():
        state = check_page(page, gallery.as_uri(), screenshots, "docs-gallery", math=False)
        assert state["images"] > 0
    papers = sorted(p for p in (built_docs / "papers").glob("*.html") if p.name != "index.html")
    assert papers, f"no paper page in {built_docs / 'papers'}"
    for paper in papers:
        check_page(page, paper.as_uri(), screenshots, f"docs-{paper.stem}")
