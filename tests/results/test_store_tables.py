"""The tables of a result folder as written: schemas, the long outcomes table both engines
build, and parquet files written whole (zstd, with statistics, no temporary left)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from patronage.model.outcomes import STATUSES
from patronage.results import store


def test_runs_schema_types_each_designed_field():
    """Numbers are float64 columns; anything else is recorded as JSON text."""
    assert store.runs_schema({"withdrawal.level": 0.5, "partners.assad.leaders": "[]"}) == (
        pa.schema(
            [
                ("run_id", pa.int64()),
                ("seed", pa.int64()),
                ("param.withdrawal.level", pa.float64()),
                ("param.partners.assad.leaders", pa.string()),
            ]
        )
    )
    assert store.runs_schema({}).names == ["run_id", "seed"]


def outcomes():
    """Two runs (7 and 9) of two partners, run-major."""
    final = {
        "status": np.array([[0, 2], [3, 1]]),  # codes into STATUSES
        "patron": np.array([[0, 1], [2, 0]]),  # codes into the alternatives
        "loyalty": np.array([[0.5, 0.25], [0.0, 1.0]]),
        "dependence": np.array([[0.1, 0.2], [0.3, 0.4]]),
        "trust": np.array([[0.9, 0.8], [0.7, 0.6]]),
        "strength": np.array([[1.0, 2.0], [0.0, 1.5]]),
        "realign_step": np.array([[-1, 4], [-1, 0]]),  # step 0 is a step; -1 is none
        "collapse_step": np.array([[-1, -1], [11, -1]]),
    }
    return store.outcomes_table(
        np.array([7, 9]), ["assad", "hamas"], ["iran", "russia", "none"], final
    )


def test_outcomes_table_rows():
    table = outcomes()
    assert table.schema == store.OUTCOMES_SCHEMA
    assert table.to_pylist() == [
        {"run_id": 7, "partner": "assad", "status": STATUSES[0], "patron": "iran", "loyalty": 0.5,
         "dependence": 0.1, "trust": 0.9, "strength": 1.0, "realign_step": None,
         "collapse_step": None},
        {"run_id": 7, "partner": "hamas", "status": STATUSES[2], "patron": "russia",
         "loyalty": 0.25, "dependence": 0.2, "trust": 0.8, "strength": 2.0, "realign_step": 4,
         "collapse_step": None},
        {"run_id": 9, "partner": "assad", "status": STATUSES[3], "patron": "none", "loyalty": 0.0,
         "dependence": 0.3, "trust": 0.7, "strength": 0.0, "realign_step": None,
         "collapse_step": 11},
        {"run_id": 9, "partner": "hamas", "status": STATUSES[1], "patron": "iran", "loyalty": 1.0,
         "dependence": 0.4, "trust": 0.6, "strength": 1.5, "realign_step": 0,
         "collapse_step": None},
    ]  # fmt: skip


def test_outcome_labels_hold_every_label_of_the_scenario():
    """Each chunk carries the full dictionaries, used or not, so chunks and engines agree."""
    table = outcomes()
    assert table["partner"].chunk(0).dictionary.to_pylist() == ["assad", "hamas"]
    assert table["status"].chunk(0).dictionary.to_pylist() == list(STATUSES)
    assert table["patron"].chunk(0).dictionary.to_pylist() == ["iran", "russia", "none"]


def test_rows_and_dicts_tables():
    schema = pa.schema([("run_id", pa.int64()), ("note", pa.string()), ("step", pa.int32())])
    rows = store.rows_table([(1, "a", 3), (2, None, None)], schema)
    assert rows.schema == schema
    assert rows.to_pylist() == [
        {"run_id": 1, "note": "a", "step": 3},
        {"run_id": 2, "note": None, "step": None},
    ]
    empty = store.rows_table([], schema)
    assert empty.schema == schema and empty.num_rows == 0
    table = store.dicts_table([{"run_id": 3}, {"note": "b", "run_id": 4, "step": 7}], schema)
    assert table.schema == schema
    assert table.to_pylist() == [
        {"run_id": 3, "note": None, "step": None},
        {"run_id": 4, "note": "b", "step": 7},
    ]


def test_write_table_is_zstd_with_statistics_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "outcomes.parquet"
    store.write_table(outcomes(), path)
    assert pq.read_table(path).equals(outcomes())
    column = pq.ParquetFile(path).metadata.row_group(0).column(0)
    assert column.compression == "ZSTD"
    assert column.statistics is not None and column.statistics.has_min_max
    assert (column.statistics.min, column.statistics.max) == (7, 9)
    assert [p.name for p in tmp_path.iterdir()] == ["outcomes.parquet"]
