"""Where chunks of runs are computed: in this process, a local process pool, or Dask.

Every executor takes the same picklable job and chunk tasks and yields chunk outputs as
they finish, in any order; the batch orders them by chunk index when it consolidates, so the
result never depends on the executor, the number of workers or the order of completion.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from patronage.errors import InputError, WorkerDied
from patronage.experiments.lifeline import die_with_parent

ChunkFn = Callable[[Any, Any], Any]


class Executor(Protocol):
    """Where chunks run: in process, on a local pool or on Dask."""

    def imap_unordered(self, fn: ChunkFn, job: Any, tasks: Sequence[Any]) -> Iterator[Any]:
        """Run `fn(job, task)` for each task and yield results as they finish."""
        ...


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class InProcess:
    """One worker: the chunks run here, one after another."""

    def imap_unordered(self, fn: ChunkFn, job: Any, tasks: Sequence[Any]) -> Iterator[Any]:
        """Run each task here, one after another."""
        for task in tasks:
            yield fn(job, task)


def _start_worker() -> None:
    # Ctrl-C goes to the whole process group; the parent alone decides what to do with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


class LocalPool:
    """A pool of worker processes on this machine, fed a bounded number of chunks at a time."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def imap_unordered(self, fn: ChunkFn, job: Any, tasks: Sequence[Any]) -> Iterator[Any]:
        """Run tasks on a pool of worker processes."""
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["patronage.experiments.forkserver_preload"])
        pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker)
        pending: set[Future] = set()
        queue = iter(tasks)
        try:
            # Keep a few chunks per worker in flight: enough to stay busy, few enough that
            # finished results never pile up in memory.
            for task in queue:
                pending.add(pool.submit(fn, job, task))
                if len(pending) >= 3 * self.workers:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        raise WorkerDied(
                            "a local pool worker was killed, perhaps by the out-of-memory killer"
                        ) from None
                    yield result
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.add(pool.submit(fn, job, nxt))
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A Dask distributed cluster: an existing one (`scheduler` address) or a LocalCluster."""

    def __init__(self, workers: int, scheduler: str | None = None) -> None:
        self.workers = workers
        self.scheduler = scheduler

    def imap_unordered(self, fn: ChunkFn, job: Any, tasks: Sequence[Any]) -> Iterator[Any]:
        """Run tasks on a Dask cluster, local or at the given scheduler."""
        try:
            from distributed import Client, KilledWorker, LocalCluster, as_completed
            from distributed.client import FutureCancelledError
        except ImportError:
            raise InputError(
                "the Dask executor needs the [distributed] extra: pip install -e '.[distributed]'",
                source="--executor",
            ) from None
        cluster = None
        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout="20s")
            except (OSError, ValueError, TypeError) as exc:
                raise InputError(
                    f"cannot reach the Dask scheduler at {self.scheduler}: {exc}",
                    source="--scheduler",
                ) from None
        else:
            cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        try:
            shared = client.scatter(job, broadcast=True)
            window = 4 * max(self.workers, len(client.scheduler_info().get("workers", {})) or 1)
            queue = iter(tasks)
            first = [t for _, t in zip(range(window), queue, strict=False)]
            futures = as_completed([client.submit(fn, shared, t, pure=False) for t in first])
            for future in futures:
                try:
                    result = future.result()
                except (KilledWorker, CancelledError, FutureCancelledError) as exc:
                    raise WorkerDied(f"the Dask workers were lost: {type(exc).__name__}") from None
                yield result
                future.release()
                nxt = next(queue, None)
                if nxt is not None:
                    futures.add(client.submit(fn, shared, nxt, pure=False))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def make_executor(name: str, workers: int, scheduler: str | None = None) -> Executor:
    """The executor named on the command line, refusing options that do not fit it."""
    if name == "local":
        if scheduler:
            raise InputError("--scheduler needs --executor dask", source="--scheduler")
        return InProcess() if workers == 1 else LocalPool(workers)
    if name == "dask":
        return DaskExecutor(workers, scheduler)
    raise InputError(f"must be local or dask, got '{name}'", source="--executor")
