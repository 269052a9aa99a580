"""The dbt docs site in headless Chromium: the mart's model page and its lineage graph render.

The docs are generated once for the module (as `test_pipeline.py` does, in this process's Spark
session), target/ is served on a free loopback port from a thread (what `dbt docs serve` does),
and Debian's `chromium` loads the docs app through its command line (`--dump-dom`,
`--screenshot`): no Python browser driver, no browser download. `make pytest` installs
chromium when it is missing (`make browser`); without it these tests fail, they never skip."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import threading
import zlib
from collections import Counter
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from seglog.runner import dbt

pytestmark = pytest.mark.spark

PROJECT = Path(__file__).resolve().parents[2]
TARGET = PROJECT / "target"
SCREENSHOT = TARGET / "docs_smoke.png"
MODEL = "segment_log"
MODEL_PAGE = "#!/model/model.segment_spark.segment_log"
# The same page with the lineage graph open (the docs app's `g_v`), showing +segment_log+.
GRAPH_PAGE = MODEL_PAGE + "?g_v=1&g_i=%2Bsegment_log%2B"
# dbt-docs' node colours in the graph: models, sources.
MODEL_NODE, SOURCE_NODE = (0x00, 0x94, 0xB3), (0x5F, 0xB8, 0x25)


@pytest.fixture(scope="module")
def chromium() -> str | None:
    return shutil.which("chromium")


def _require(chromium: str | None) -> str:
    if chromium is None:
        pytest.fail("the docs smoke test needs Debian's `chromium` on PATH: run `make browser` "
                    "(apt-get install -y chromium) or `make pytest`, which installs it when missing")
    return chromium


@pytest.fixture(scope="module")
def docs_url(chromium: str | None, spark_dir: Path, pipeline_root: Path):
    """Generate the docs into target/ (same command as test_pipeline's docs test) and serve them.
    Whether the pipeline's tables exist yet or not: the pages and the graph come from the manifest."""
    if chromium is None:  # the tests fail at once on it: no Spark start for nothing
        yield None
        return
    dbt(["docs", "generate", "--vars", json.dumps({"date": "2023-11-08", "segment_root": str(pipeline_root)})])
    for name in ("index.html", "manifest.json", "catalog.json"):
        assert (TARGET / name).is_file(), f"dbt docs generate wrote no target/{name}"

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(TARGET)))
    thread = threading.Thread(target=server.serve_forever, name="docs-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _run_chromium(chromium: str, profile: Path, url: str, *mode: str) -> str:
    """Load url headless until the page settles (network idle, then up to 15 s of its timers)."""
    args = [chromium, "--headless", "--no-sandbox",  # no sandbox: CI runs as root (and in containers)
            "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
            f"--user-data-dir={profile}", "--window-size=1400,900", "--virtual-time-budget=15000", *mode, url]
    try:
        proc = subprocess.run(args, capture_output=True, encoding="utf-8", errors="replace", timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish loading {url} within 120 s")
    if proc.returncode != 0:
        pytest.fail(f"chromium exited {proc.returncode} on {url}:\n{proc.stderr[-3000:]}")
    return proc.stdout


class _Text(HTMLParser):
    """The page's visible text (not script or style), whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data) -> None:
        if not self.skip:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split())


def _model_description(name: str) -> str:
    """The model's description as written in models/**/*.yml."""
    found = []
    for path in sorted((PROJECT / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            if model.get("name") == name:
                found.append(model.get("description") or "")
    assert len(found) == 1 and found[0].strip(), f"expected one described model {name} in models/, got {found}"
    return found[0]


def _png_colours(path: Path) -> Counter:
    """Pixel count per (r, g, b) of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        pos += 12 + size
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and not interlace, "unexpected PNG format"
        elif kind == b"IDAT":
            idat += body
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, counts = bytearray(stride), Counter()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):  # undo the PNG row filter
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        counts.update(tuple(line[x:x + 3]) for x in range(0, stride, bpp))
        prev = line
    return counts


def test_model_page_of_the_mart_shows_its_description(chromium: str | None, docs_url: str, tmp_path: Path) -> None:
    text = _Text.of(_run_chromium(_require(chromium), tmp_path, docs_url + MODEL_PAGE, "--dump-dom"))
    # Its first sentence, inline markdown marks removed (the page renders the markdown).
    description = " ".join(re.sub(r"[`*]", "", _model_description(MODEL)).split())
    first_sentence = description.split(". ")[0]
    assert first_sentence in text, (
        f"the {MODEL} page did not render its description {first_sentence!r}; page text begins: {text[:500]!r}")


def test_lineage_graph_of_the_mart_renders(chromium: str | None, docs_url: str, tmp_path: Path) -> None:
    chromium = _require(chromium)
    dom = _run_chromium(chromium, tmp_path, docs_url + GRAPH_PAGE, "--dump-dom")
    assert re.search(r'<div class="launcher[^"]*\bon\b[^"]*" data-launcher="fullscreen"', dom), \
        "the lineage graph panel did not open"
    cy = re.search(r'<div id="cy"[^>]*class="[^"]*__________cytoscape_container[^"]*"', dom)
    assert cy, "the lineage graph (cytoscape, #cy) was not rendered"
    assert 'data-id="layer2-node"' in dom[cy.start():], "the lineage graph has no node layer"

    SCREENSHOT.unlink(missing_ok=True)
    _run_chromium(chromium, tmp_path, docs_url + GRAPH_PAGE, f"--screenshot={SCREENSHOT}")
    assert SCREENSHOT.is_file(), f"chromium wrote no screenshot to {SCREENSHOT}"
    colours = _png_colours(SCREENSHOT)
    # The nodes are drawn on a canvas: look for their colours in the picture.
    assert colours[MODEL_NODE] > 500, f"no model node drawn in the lineage graph (see {SCREENSHOT})"
    assert colours[SOURCE_NODE] > 100, f"no source node drawn in the lineage graph (see {SCREENSHOT})"
