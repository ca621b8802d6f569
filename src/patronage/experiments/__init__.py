"""Experiments: designs of many runs, cut into chunks, computed anywhere, stored as they finish.

- `design`: sweeps, Latin hypercube samples, replicates -> design points.
- `chunks`: the picklable job and chunk tasks, and `run_chunk` (used by `verify` too).
- `chunkfiles`: chunk files, the journal that vouches for them (run ids, sha256), and
  their consolidation into the folder's tables.
- `batch`: plan, run, resume and consolidate a batch into a result folder.
- `executors`: in-process, local process pool, Dask.
- `lifeline`, `forkserver_preload`: pool workers and their forkserver die with the batch.
- `progress`: the progress bar.
- `single`: `patronage run`, a batch of one run.
- `verify`: re-run a sample of a folder's runs and confirm identical rows.
"""
