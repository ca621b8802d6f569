"""Outcomes stored long (format 2), folders of format 1 converted on read, and output that
stays bounded however many partners a scenario has."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batch_fixtures import SYRIA, batch, copy_folder, run_cli, sha256

from patronage.experiments.verify import verify
from patronage.reporting.tables import MAX_ROWS, TOP_ROWS
from patronage.results import store
from patronage.results.folder import open_results
from patronage.scenario.loader import load

ARGS = ("--replicates", "8", "--sweep", "withdrawal.level=0,1", "--steps", "36", "--quiet")


@pytest.fixture(scope="module")
def current(tmp_path_factory):
    out = tmp_path_factory.mktemp("long") / "syria"
    result = batch(out, *ARGS, "--engine", "ensemble", "--series", "every=12", "--no-progress")
    assert result.code == 0, result.err
    return out


def as_format_1(folder, dest, scenario=SYRIA, keep_runs=None):
    """The same batch as patronage wrote it before format 2: outcomes as <partner>.<field>
    columns of the runs table, the resolved scenario in the manifest, no outcomes.parquet
    (`keep_runs`: only the first so many runs)."""
    copy_folder(folder, dest)
    results = open_results(folder)
    wide = results.runs.copy()
    long = results.outcomes
    for pid in results.partners:
        mine = long[long["partner"] == pid].set_index("run_id").loc[wide["run_id"]]
        for f in ("status", "patron", "loyalty", "dependence", "trust", "strength"):
            values = mine[f].to_numpy()
            wide[f"{pid}.{f}"] = values.astype(object) if f in ("status", "patron") else values
        for f in ("realign_step", "collapse_step"):
            wide[f"{pid}.{f}"] = mine[f].to_numpy()
    fields = [pa.field(c, pa.int32()) if c.endswith("_step") else None for c in wide.columns]
    table = pa.Table.from_pandas(wide, preserve_index=False)
    schema = pa.schema(
        [f if f is not None else table.schema.field(i) for i, f in enumerate(fields)]
    )
    table = table.cast(schema)
    if keep_runs is not None:
        table = table.slice(0, keep_runs)
    pq.write_table(table, dest / "runs.parquet", compression="zstd")
    (dest / "outcomes.parquet").unlink()
    m = json.loads((dest / "manifest.json").read_text())
    m["format"] = 1
    m["scenario"]["resolved"] = load(scenario).scenario.model_dump(mode="json")
    del m["incumbent"], m["groups"]
    m["tables"] = {name: sha256(dest / f"{name}.parquet") for name in ("runs", "events", "series")}
    (dest / "manifest.json").write_text(json.dumps(m))
    return dest


def test_outcomes_are_one_row_per_run_and_partner_and_runs_one_per_run(current):
    results = open_results(current)
    # one row per run: its id, the batch seed, the swept level and the drawn ranged inputs
    assert list(results.runs.columns)[:3] == ["run_id", "seed", "param.withdrawal.level"]
    assert all(c.startswith("param.") for c in list(results.runs.columns)[2:])
    assert not any(c.endswith((".status", ".patron")) for c in results.runs.columns)

    assert len(results.runs) == 16
    assert len(results.outcomes) == 16 * len(results.partners)
    # what a pandas user does with it: group by partner
    realigned = results.outcomes.groupby("partner", observed=True)["realign_step"].count()
    assert set(realigned.index) == set(results.partners)
    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest["format"] == store.FORMAT_VERSION == 2
    assert "resolved" not in manifest["scenario"]  # the scenario is stored once
    assert manifest["scenario"]["text"] == SYRIA.read_text()
    assert manifest["groups"] == {"pmf": ["pmf_hardline", "pmf_leadership", "pmf_mainstream"]}


def same_types(old, new):
    """Format 1's converted outcomes have format 2's columns and types (partner, status and
    patron categoricals, first steps Int32)."""
    assert list(old.outcomes.columns) == list(new.outcomes.columns)
    assert old.outcomes.dtypes.astype(str).tolist() == new.outcomes.dtypes.astype(str).tolist()
    assert list(old.outcomes["partner"].cat.categories) == old.partners


def same_outcomes(old, new):
    """... and hold what format 2 stores."""
    same_types(old, new)
    for c in ("partner", "status", "patron"):
        assert old.outcomes[c].astype(str).tolist() == new.outcomes[c].astype(str).tolist()


def test_a_format_1_folder_opens_converted(current, tmp_path):
    old = open_results(as_format_1(current, tmp_path / "old"))
    new = open_results(current)
    assert old.format == 1
    same_outcomes(old, new)
    pd.testing.assert_frame_equal(old.runs, new.runs)
    pd.testing.assert_frame_equal(
        old.finals().reset_index(drop=True), new.finals().reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(old.summary(groups=True), new.summary(groups=True))
    assert old.groups == new.groups and old.incumbent == new.incumbent
    assert verify(old, sample=4).ok  # re-run with today's engine, compared with old rows
    assert run_cli("summary", old.path).code == 0


def test_a_format_1_folder_of_one_partner_opens_converted(write_scenario, minimal_yaml, tmp_path):
    one = minimal_yaml.split("  - id: hezbollah")[0]
    scenario = write_scenario(one)
    out = tmp_path / "one"
    assert batch(out, "--replicates", "3", "--steps", "12", "--quiet", scenario=scenario).code == 0
    new = open_results(out)
    old = open_results(as_format_1(out, tmp_path / "old", scenario=scenario))
    assert old.partners == ["assad"]
    same_outcomes(old, new)
    pd.testing.assert_frame_equal(
        old.finals().reset_index(drop=True), new.finals().reset_index(drop=True)
    )


def test_a_format_1_folder_without_runs_keeps_the_column_types(current, tmp_path):
    """Every run of a batch can fail: the table's types do not depend on what happened."""
    old = open_results(as_format_1(current, tmp_path / "old", keep_runs=0))
    assert len(old.outcomes) == 0
    same_types(old, open_results(current))


def test_finals_are_the_outcomes_with_each_runs_designed_values(current):
    results = open_results(current)
    finals = results.finals()
    params = [c for c in results.runs.columns if c.startswith("param.")]
    outcomes = list(results.outcomes.columns)
    assert list(finals.columns) == ["run_id", *params, *outcomes[1:]]
    pd.testing.assert_frame_equal(
        finals[outcomes].astype({c: str for c in ("partner", "status", "patron")}),
        results.outcomes.astype({c: str for c in ("partner", "status", "patron")}),
        check_dtype=False,
    )
    for c in ("partner", "status", "patron"):  # plain labels, to merge with other tables
        assert finals[c].dtype == object
    designed = finals[["run_id", *params]].merge(results.runs, on="run_id", suffixes=("", ".run"))
    for c in params:
        assert designed[c].tolist() == designed[f"{c}.run"].tolist()
    assert set(finals["param.withdrawal.level"]) == {0.0, 1.0}


def test_first_events_are_each_partners_first_of_a_kind(current):
    results = open_results(current)
    rows = [  # run, step, partner, kind, from, to
        (0, 3, "assad", "hedge", "iran", None),
        (0, 5, "assad", "realign", "iran", "russia"),
        (0, 9, "assad", "realign", "russia", "gulf"),  # a second realignment: not the first
        (0, 7, "hamas", "realign", "iran", "turkey"),
        (1, 4, "assad", "collapse", "iran", None),
        (1, 6, "hamas", "hedge", "iran", None),
    ]
    events = pd.DataFrame(rows, columns=["run_id", "step", "partner", "kind", "from", "to"])
    results.__dict__["events"] = events  # the table as read from events.parquet
    first = results.first_events("realign")
    assert list(first.columns) == ["run_id", "partner", "step", "from", "to"]
    assert first.values.tolist() == [
        [0, "assad", 5, "iran", "russia"],
        [0, "hamas", 7, "iran", "turkey"],
    ]
    collapse = results.first_events("collapse")
    assert collapse[["run_id", "partner", "step", "from"]].values.tolist() == [
        [1, "assad", 4, "iran"]
    ]
    assert results.first_events("hedge")[["run_id", "partner", "step"]].values.tolist() == [
        [0, "assad", 3],
        [1, "hamas", 6],
    ]


def test_a_folder_of_an_unknown_format_is_refused_in_one_line(current, tmp_path):
    folder = copy_folder(current, tmp_path / "future")
    m = json.loads((folder / "manifest.json").read_text())
    m["format"] = 99
    (folder / "manifest.json").write_text(json.dumps(m))
    result = run_cli("summary", folder)
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "format 99" in result.err and "formats 1, 2" in result.err


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A generated scenario of 150 partners: more summary rows than a terminal wants."""
    base = tmp_path_factory.mktemp("many")
    scenario = base / "many.json"
    assert run_cli("generate", "--partners", "150", "--out", scenario).code == 0
    out = base / "out"
    result = batch(
        out,
        "--engine",
        "ensemble",
        "--replicates",
        "20",
        "--steps",
        "30",
        "--series",
        "none",
        "--quiet",
        "--no-progress",
        scenario=scenario,
    )
    assert result.code == 0, result.err
    return out


def test_summary_of_many_partners_prints_the_likeliest_rows_and_a_count(many):
    result = run_cli("summary", many)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert MAX_ROWS < 150
    assert len(lines) == 2 + TOP_ROWS + 1  # header, rule, rows, the note
    assert f"and {150 - TOP_ROWS:,} more rows" in lines[-1] and "--all" in lines[-1]
    # the rows shown are the likeliest
    full = open_results(many).summary()
    likeliest = (
        full[["p_realign", "p_collapse"]].max(axis=1).sort_values(ascending=False, kind="stable")
    )  # ties in table order, as the summary breaks them
    shown = {line.split()[0] for line in lines[2:-1]}
    assert shown == set(full.loc[likeliest.index[:TOP_ROWS], "partner"])
    # every row on demand, and in full for programs
    assert len(run_cli("summary", many, "--all").out.splitlines()) == 2 + 150
    assert len(run_cli("summary", many, "--format", "csv").out.splitlines()) == 1 + 150


def test_messages_cut_long_id_lists(many, current):
    result = run_cli("compare", current, many)
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "and 140 more" in result.err and len(result.err) < 600


def test_figures_of_many_partners_show_the_likeliest_twelve_and_no_network(many, tmp_path):
    from patronage.reporting import plots

    results = open_results(many)
    figures = dict(plots.standard_figures([results]))
    assert set(figures) == {"cumulative"}  # no series, no sweep; no network of 150 partners
    realign_axis = figures["cumulative"].axes[0]
    drawn = [line.get_label() for line in realign_axis.lines]
    assert len(drawn) == plots.MAX_PARTNERS_DRAWN
    full = results.summary()
    likeliest = full[["p_realign", "p_collapse"]].max(axis=1)
    cut = likeliest.sort_values(ascending=False).iloc[plots.MAX_PARTNERS_DRAWN - 1]
    shown = full[full["partner"].isin(drawn)]
    assert (shown[["p_realign", "p_collapse"]].max(axis=1) >= cut).all()
    assert "12 of 150 partners shown" in plots.style.caption_of(figures["cumulative"])
