"""One self-contained HTML page of one or more batches: scenario, design, tables, figures.

The page needs no network to open: the figures are embedded as base64 PNG `data:` URIs,
the style sheet is inline, and nothing is linked. Every piece of text that comes from a
scenario or a result folder is escaped with `html.escape`.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from patronage import __version__
from patronage.errors import InputError
from patronage.reporting.tables import cell_text, summary_display
from patronage.results import store
from patronage.results.folder import Results

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 78em; padding: 0 1em; color: #222; line-height: 1.4; }
h1, h2, h3 { line-height: 1.2; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.meta th { width: 12em; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; white-space: pre-line; }
table.comparison td, table.comparison th { white-space: nowrap; }
.wide { overflow-x: auto; }
p.headline { font-size: 1.05em; max-width: 60em; }
nav ul { columns: 2; }
.note { color: #444; font-size: 0.9em; }
.error { color: #a00; }
code { font-size: 0.95em; }
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def table_html(frame: pd.DataFrame, css_class: str = "data") -> str:
    """A DataFrame as an HTML table, every header and cell escaped."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = "".join(
            f'<td class="num">{esc(cell_text(v))}</td>' if num else f"<td>{esc(cell_text(v))}</td>"
            for v, num in zip(row, numeric, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{esc(css_class)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _meta_table(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items)
    return f'<table class="meta"><tbody>{rows}</tbody></table>'


def _values(obj: Any) -> str:
    if not obj:
        return "none"
    return json.dumps(obj, sort_keys=False)


def _batch_section(index: int, results: Results) -> str:
    from patronage.reporting.plots import batch_label

    m = results.manifest
    s = m["scenario"]
    resolved = results.resolved
    d = m["design"]
    scenario = [
        ("name", s["name"]),
        ("title", resolved.get("title") or "-"),
        ("description", resolved.get("description") or "-"),
        ("file", s.get("source", "-")),
        ("sha256", s.get("sha256", "-")),
        ("overrides (--set)", ", ".join(s.get("overrides") or []) or "none"),
        ("result folder", str(results.path)),
    ]
    design = [
        ("sweeps", _values(d.get("sweeps"))),
        ("samples (Latin hypercube)", _values(d.get("samples"))),
        ("sample points", d.get("n_samples", 0)),
        ("replicates", d.get("replicates")),
        ("batch seed", m.get("seed")),
        ("runs", f"{m['runs']['done']} done, {m['runs']['failed']} failed"),
        ("horizon", f"{m['steps']} steps (months)"),
        ("series recorded", _series(m.get("series_every"))),
        ("engine", m.get("engine", "-")),
        ("seed derivation", m.get("seed_derivation", "-")),
        ("git commit", m.get("git_commit") or "-"),
        ("versions", ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())),
    ]
    summary = results.summary()
    return (
        f'<section id="batch-{index}"><h2>{esc(chr(ord("A") + index) if index < 26 else index)}: '
        f"{esc(batch_label(results))}</h2>"
        f"<h3>Scenario</h3>{_meta_table(scenario)}"
        f"<h3>Design</h3>{_meta_table(design)}"
        "<h3>Summary</h3>"
        '<p class="note">Per partner (and per swept value): probability of realigning and of '
        "collapsing by the horizon with Wilson 95% intervals, the most frequent new patron and "
        "the median step of realignment.</p>"
        f"{table_html(summary_display(summary), 'summary')}{_sensitivity_html(results)}"
        "</section>"
    )


def _sensitivity_html(results: Results) -> str:
    """A sensitivity folder's most influential factors per partner, with 95% intervals."""
    from patronage.analysis.sensitivity import read_indices
    from patronage.reporting.sensitivity import TOP, indices_display

    indices = read_indices(results)
    if indices is None:
        return ""
    entry = results.manifest["sensitivity"]
    method = entry["method"]
    what = (
        "Morris mu* (mean absolute elementary effect: the change in the probability when the "
        "factor moves across its range), its 95% bootstrap interval, and sigma (interactions)"
        if method == "morris"
        else "Sobol' S1 (share of the variance due to the factor alone) and ST (including "
        "interactions), with 95% bootstrap intervals"
    )
    return (
        f"<h3>Sensitivity ({esc(method)}, {len(entry['factors'])} factors, "
        f"{entry['replicates']} replicates per point)</h3>"
        f'<p class="note">The {TOP} most influential factors per partner: {esc(what)}. '
        f"Every index is in <code>{esc(entry['indices'])}</code>.</p>"
        f"{table_html(indices_display(indices, method), 'sensitivity')}"
    )


def _series(every: Any) -> str:
    if every is None:
        return "none"
    return "every step" if every == 1 else f"every {every} steps"


def _comparison_section(results_list: Sequence[Results], common: bool, horizon: int | None) -> str:
    from patronage.analysis.compare import compare, notes
    from patronage.reporting.comparison import display

    if len(results_list) < 2:
        return ""
    parts = ['<section id="comparison"><h2>Comparison</h2>']
    first = results_list[0]
    for j, other in enumerate(results_list[1:], start=1):
        letter = chr(ord("A") + j) if j < 26 else str(j)
        stands = f" (in the table, B stands for {letter})" if letter != "B" else ""
        parts.append(f"<h3>{esc(letter)} against A{esc(stands)}</h3>")
        try:
            frame = compare(first, other, common=common, horizon=horizon)
        except InputError as exc:
            parts.append(f'<p class="error">Not compared: {esc(exc)}</p>')
            continue
        parts.append('<ul class="note">' + "".join(f"<li>{esc(n)}</li>" for n in notes(frame)))
        shown, folded = differences_first(frame, display(frame))
        parts.append(
            '</ul><p class="note">Rows where A and B differ come first, the largest '
            "difference on top; look at those whose interval excludes 0.</p>"
            f'<div class="wide">{table_html(shown, "comparison")}</div>'
        )
        if folded:
            parts.append(f'<p class="note">{esc(folded)}</p>')
    parts.append("</section>")
    return "".join(parts)


def differences_first(frame: pd.DataFrame, shown: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The displayed comparison with rows that differ first (largest |B - A| on top), then
    rows equal but not zero; rows where both batches are 0 folded into one sentence."""
    both_zero = ((frame["k_a"] == 0) & (frame["k_b"] == 0)).to_numpy()
    size = frame["diff"].abs().fillna(0.0).to_numpy()
    order = sorted(range(len(frame)), key=lambda i: (-size[i], i))
    keep = [i for i in order if not both_zero[i]]
    folded = ""
    if both_zero.any():
        zero = frame[both_zero]
        partners = sorted(set(zero["partner"]))
        names = ", ".join(partners) if len(partners) <= 8 else f"{len(partners)} partners"
        folded = (
            f"{int(both_zero.sum())} more rows where both A and B are 0 (no run realigns or "
            f"collapses): {names}."
        )
    return shown.iloc[keep], folded


def _figure_html(stem: str, fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": "patronage"})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    caption = "\n".join(t.get_text() for t in fig.texts if t.get_text() != title)
    return (
        f'<figure id="fig-{esc(stem)}"><h3>{esc(title or stem)}</h3>'
        f'<img src="data:image/png;base64,{data}" alt="{esc(title or stem)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def _headline_section(results_list: Sequence[Results]) -> str:
    from patronage.reporting.headline import headline
    from patronage.reporting.plots import batch_label

    parts = ['<section id="headline"><h2>Headline</h2>']
    for i, res in enumerate(results_list):
        letter = chr(ord("A") + i) if i < 26 else str(i)
        parts.append(
            f'<p class="headline"><strong>{esc(letter)}: {esc(batch_label(res))}.</strong> '
            + esc(" ".join(headline(res)))
            + "</p>"
        )
    return "".join(parts) + "</section>"


def _contents(results_list: Sequence[Results], stems: list[str]) -> str:
    from patronage.reporting.plots import batch_label

    items = ['<li><a href="#headline">Headline</a></li>']
    for i, res in enumerate(results_list):
        letter = chr(ord("A") + i) if i < 26 else str(i)
        items.append(f'<li><a href="#batch-{i}">{esc(letter)}: {esc(batch_label(res))}</a></li>')
    if len(results_list) > 1:
        items.append('<li><a href="#comparison">Comparison</a></li>')
    items.append('<li><a href="#figures">Figures</a><ul>')
    items += [f'<li><a href="#fig-{esc(stem)}">{esc(stem)}</a></li>' for stem in stems]
    items.append("</ul></li>")
    return f'<nav id="contents"><h2>Contents</h2><ul>{"".join(items)}</ul></nav>'


def render_report(
    results_list: Sequence[Results],
    *,
    step: int | None = None,
    common: bool = False,
    horizon: int | None = None,
) -> str:
    """The report's HTML text."""
    from patronage.reporting.plots import batch_label, standard_figures

    results_list = list(results_list)
    if not results_list:
        raise InputError("a report needs at least one result folder", source="report")
    names = ", ".join(batch_label(r) for r in results_list)
    figures = standard_figures(results_list, step=step)
    body = [
        f"<h1>patronage report: {esc(names)}</h1>",
        f'<p class="note">Written by patronage {esc(__version__)} from '
        f"{len(results_list)} result folder{'s' * (len(results_list) != 1)}: "
        + ", ".join(f"<code>{esc(r.path)}</code>" for r in results_list)
        + ". Self-contained: the figures are embedded.</p>",
        _headline_section(results_list),
        _contents(results_list, [stem for stem, _ in figures]),
        *(_batch_section(i, r) for i, r in enumerate(results_list)),
        _comparison_section(results_list, common, horizon),
        '<section id="figures"><h2>Figures</h2>',
        *(_figure_html(stem, fig) for stem, fig in figures),
        "</section>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>patronage report: {esc(names)}</title><style>{STYLE}</style></head>"
        "<body>" + "\n".join(body) + "</body></html>\n"
    )


def write_report(
    results_list: Sequence[Results] | Results,
    out_path: str | Path,
    *,
    step: int | None = None,
    common: bool = False,
    horizon: int | None = None,
) -> Path:
    """Write the report to `out_path` atomically (temporary name, then rename); return it.

    With two or more batches the page compares each batch after the first against the
    first (`common` and `horizon` as in `compare`); a comparison that is refused (say,
    different partners) is reported on the page instead of failing the report.
    """
    if isinstance(results_list, Results):
        results_list = [results_list]
    out = Path(out_path)
    if out.is_dir():
        raise InputError("is a folder; give the path of the HTML file to write", source=str(out))
    store.write_text(out, render_report(results_list, step=step, common=common, horizon=horizon))
    return out


__all__ = ["render_report", "table_html", "write_report"]
