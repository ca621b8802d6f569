"""The HTML report: one self-contained page, parsed and checked for its tables and images."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from analysis_fixtures import LEVELS, REPS, make_batch

from patronage.analysis.compare import compare
from patronage.cli import main as cli
from patronage.reporting.html import write_report

EVIL = "<script>alert('x')</script> & \"quotes\""


class Page(HTMLParser):
    """What the tests look at: tables (by class), images, tags, attributes and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.images: list[dict[str, str]] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self._table: dict | None = None
        self._in_head = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.attributes += [(tag, k, v or "") for k, v in attrs.items()]
        if tag == "table":
            self._table = {"class": attrs.get("class", ""), "header": [], "rows": []}
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(attrs)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            if self._in_head:
                self._table["header"] = self._row
            else:
                self._table["rows"].append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table" and self._table is not None:
            self.tables.append(self._table)
            self._table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> tuple[str, Page]:
    raw = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(raw)
    page.close()
    return raw, page


@pytest.fixture(scope="module")
def two(base, cut, tmp_path_factory) -> tuple[str, Page]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert write_report([base, cut], out) == out
    return parse(out)


def test_report_is_one_self_contained_page(two):
    raw, page = two
    assert raw.startswith("<!DOCTYPE html>")
    assert "link" not in page.tags and "script" not in page.tags and "iframe" not in page.tags
    for tag, name, value in page.attributes:
        assert "http://" not in value and "https://" not in value, (tag, name)
        if name in ("src", "href"):
            assert value.startswith(("data:", "#")), (tag, name, value)
    assert "url(" not in raw and "@import" not in raw


def test_report_embeds_every_figure_as_png(two):
    _, page = two
    # per batch and swept level (2): trajectories, cumulative, network; per batch a tipping
    # curve; then side by side per level
    assert len(page.images) == 2 * (3 * 2 + 1) + 2
    for image in page.images:
        assert image["src"].startswith("data:image/png;base64,")
        png = base64.b64decode(image["src"].split(",", 1)[1], validate=True)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
        assert image["alt"]
    alts = " ".join(i["alt"] for i in page.images)
    for words in ("Loyalty, trust and dependence", "Tipping curve", "Alignment network"):
        assert words in alts


def test_report_tables(two, base, cut):
    raw, page = two
    by_class: dict[str, list[dict]] = {}
    for table in page.tables:
        by_class.setdefault(table["class"], []).append(table)
    assert len(by_class["meta"]) == 4  # scenario and design of each batch
    assert len(by_class["summary"]) == 2
    assert len(by_class["comparison"]) == 1
    summary = by_class["summary"][0]
    assert summary["header"][:3] == ["withdrawal.level", "partner", "runs"]
    assert len(summary["rows"]) == len(LEVELS) * len(base.partners)
    comparison = by_class["comparison"][0]
    assert comparison["header"][:3] == ["withdrawal.level", "partner", "outcome"]
    assert "B - A [95% CI]" in comparison["header"] and "p (Holm)" in comparison["header"]
    # rows where both batches are 0 are folded into one line with their count, and the
    # rows shown come largest difference first
    compared = compare(base, cut)
    both_zero = int(((compared["k_a"] == 0) & (compared["k_b"] == 0)).sum())
    assert len(comparison["rows"]) == len(compared) - both_zero
    if both_zero:
        assert f"{both_zero} more rows where both A and B are 0" in raw
    diffs = [row[comparison["header"].index("B - A [95% CI]")] for row in comparison["rows"]]
    sizes = [abs(float(d.split()[0])) for d in diffs if d != "-"]
    assert sizes == sorted(sizes, reverse=True)
    assert all(
        row[comparison["header"].index("test")].startswith("McNemar") for row in comparison["rows"]
    )
    scenario = dict(by_class["meta"][2]["rows"])
    assert scenario["sha256"] == cut.manifest["scenario"]["sha256"]
    assert scenario["overrides (--set)"] == "budget_cut.level=0.4"
    design = dict(by_class["meta"][1]["rows"])
    assert design["replicates"] == str(REPS) and design["batch seed"] == "0"
    assert '"withdrawal.level": [0, 1]' in design["sweeps"]


def test_report_says_how_batches_were_compared(two):
    _, page = two
    text = " ".join(page.text)
    assert "paired: McNemar" in text
    assert "Holm-adjusted across all" in text


def test_report_escapes_text_and_reports_refused_comparisons(batch_root, tmp_path):
    evil = make_batch(batch_root, "evil", sets=(f"title={EVIL}",), replicates=2, every=None)
    tiny = make_batch(batch_root, "tiny", replicates=2, every=None, steps=24)
    out = tmp_path / "sub" / "evil.html"
    assert cli.main(["report", str(evil.path), str(tiny.path), "--out", str(out)]) == 0
    raw, page = parse(out)
    assert "<script>" not in raw and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in raw
    assert EVIL in " ".join(page.text)  # the title survives, as text
    # different horizons: the comparison is refused on the page, not by the command
    assert "Not compared:" in raw and "different horizons" in raw
    assert not [t for t in page.tables if t["class"] == "comparison"]
    assert not list(out.parent.glob(".*"))  # written atomically
    assert cli.main(["report", str(evil.path), "--out", str(tmp_path)]) == 2  # a folder


def test_report_opens_with_a_headline_and_contents(two, base):
    raw, _ = two
    text = re.sub(r"<[^>]+>", " ", raw)
    headline = raw.index('id="headline"')
    assert headline < raw.index('id="contents"') < raw.index('id="batch-0"')
    # generated from the tables: the likeliest mover at the last level, with its probability
    summary = base.summary()
    last = summary[summary["param.withdrawal.level"] == LEVELS[-1]]
    top = last.sort_values("p_realign", ascending=False).iloc[0]
    assert f"{top.partner} realigns in {top.p_realign:.0%} of runs" in text
    for anchor in ("#headline", "#batch-0", "#batch-1", "#comparison", "#figures"):
        assert f'href="{anchor}"' in raw
    for figure_id in re.findall(r'<figure id="([^"]+)"', raw):
        assert f'href="#{figure_id}"' in raw  # every figure is in the contents
