"""patronage: scenario simulation of alliance dynamics under withdrawn patronage."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("patronage")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"


_API = ("run_batch", "open_results", "sensitivity", "tipping", "Design", "Results", "Search")


def __getattr__(name: str):
    # The API pulls in pandas and pyarrow; load it on first use so that `import patronage`
    # (and every worker process) stays light.
    if name in _API:
        from patronage import api

        return getattr(api, name)
    raise AttributeError(f"module 'patronage' has no attribute {name!r}")


__all__ = [
    "Design",
    "Results",
    "Search",
    "__version__",
    "open_results",
    "run_batch",
    "sensitivity",
    "tipping",
]
