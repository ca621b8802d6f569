"""Executors: the same batch with one worker, a local pool, Dask, and any chunk size gives
byte-identical tables."""

from __future__ import annotations

import logging
import subprocess

import pandas as pd
import pytest
from batch_fixtures import (
    REF,
    SYRIA,
    TABLES,
    batch,
    cached_batch,
    console_script,
    manifest,
    reference_batch,
    table_bytes,
)

from patronage.errors import InputError
from patronage.experiments.executors import (
    DaskExecutor,
    InProcess,
    LocalPool,
    default_workers,
    make_executor,
)
from patronage.results.folder import open_results


def test_make_executor():
    assert isinstance(make_executor("local", 1), InProcess)
    pool = make_executor("local", 2)
    assert isinstance(pool, LocalPool) and pool.workers == 2
    dask = make_executor("dask", 3, "tcp://10.0.0.5:8786")
    assert isinstance(dask, DaskExecutor)
    assert (dask.workers, dask.scheduler) == (3, "tcp://10.0.0.5:8786")
    with pytest.raises(InputError, match="--scheduler"):
        make_executor("local", 2, "tcp://10.0.0.5:8786")
    with pytest.raises(InputError, match="local or dask"):
        make_executor("ray", 2)
    assert default_workers() >= 1


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return reference_batch(tmp_path_factory)


def assert_same_tables(folder, ref) -> None:
    assert table_bytes(folder) == table_bytes(ref)
    a, b = open_results(folder), open_results(ref)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert manifest(folder)["tables"] == manifest(ref)["tables"]


@pytest.mark.parametrize(
    ("workers", "chunk_runs"),
    [(1, "1"), (1, "4"), (2, None), (2, "1"), (2, "5")],
)
def test_workers_and_chunks_give_identical_bytes(tmp_path_factory, ref, workers, chunk_runs):
    extra = () if chunk_runs is None else ("--chunk-runs", chunk_runs)
    folder = cached_batch(tmp_path_factory, *REF, *extra, workers=workers)
    assert_same_tables(folder, ref)
    m = manifest(folder)
    assert m["executor"] == "local"
    if chunk_runs:
        assert m["chunk_runs"] == int(chunk_runs)


def test_empty_event_chunks_consolidate(tmp_path_factory, ref):
    """Level 0 gives chunks without realignments; chunk size 1 makes many such chunks."""
    folder = cached_batch(tmp_path_factory, *REF, "--chunk-runs", "1", workers=1)
    events = open_results(folder).events
    assert events["run_id"].is_monotonic_increasing
    assert table_bytes(folder)["events"] == table_bytes(ref)["events"]


# --- Dask -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster


@pytest.mark.slow
@pytest.mark.distributed
def test_dask_scheduler_gives_identical_bytes(tmp_path, ref, dask_cluster):
    out = tmp_path / "dask"
    result = batch(
        out,
        *REF,
        "--chunk-runs",
        "4",
        "--executor",
        "dask",
        "--scheduler",
        dask_cluster.scheduler_address,
        workers=2,
    )
    assert result.code == 0, result.err
    assert_same_tables(out, ref)
    assert manifest(out)["executor"] == "dask"


@pytest.mark.slow
@pytest.mark.distributed
def test_dask_local_cluster_gives_identical_bytes(tmp_path, ref):
    """`--executor dask --workers 2` without a scheduler starts a LocalCluster of 2 workers."""
    pytest.importorskip("distributed")
    out = tmp_path / "dask-local"
    proc = subprocess.run(
        [
            console_script(),
            "batch",
            str(SYRIA),
            *REF,
            "--executor",
            "dask",
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert_same_tables(out, ref)
