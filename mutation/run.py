"""Mutation testing, one module at a time against that module's own tests (mutmut 3).

    .venv/bin/python mutation/run.py                  # every module in [tool.patronage.mutation]
    .venv/bin/python mutation/run.py loader design    # some of them (the keys of that table)
    .venv/bin/python mutation/run.py --jobs 2 store   # more mutants at once (default: 1)
    .venv/bin/python mutation/run.py --table loader   # the last run's table again

mutmut reads its configuration from the pyproject.toml of the folder it runs in, and keeps its
state in a `mutants/` folder there. So each module gets a work folder of its own,
`.mutation/<module>/`, holding copies of src/, tests/ and scenarios/ and a pyproject.toml whose
`[tool.mutmut]` is the repository's plus the module to mutate (`only_mutate`) and its test files
(`pytest_add_cli_args_test_selection`) from `[tool.patronage.mutation]`. mutmut then runs, for
each mutant, only those tests among that module's test files that execute the mutated function.

The table printed at the end counts, per module, the mutants killed (a test failed or timed
out), those that survived, those listed as equivalent in mutation/equivalent.toml (a surviving
mutant that no test could kill, with the reason), and the time taken. A survivor that is not
listed is a behaviour no test pins: read it with `mutmut show NAME` in the module's work folder
(the names are printed) and write the test that kills it, or list it as equivalent with why.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
COPIED = ("src", "tests", "scenarios")
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
RESULT_LINE = re.compile(r"^\s+(\S+): (.+)$")


@dataclass
class Tally:
    module: str
    killed: int = 0
    equivalent: list[str] = field(default_factory=list)
    survived: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # listed as equivalent, yet killed or gone
    seconds: float = 0.0

    @property
    def score(self) -> float:
        """Killed over the mutants that are not equivalent."""
        judged = self.killed + len(self.survived)
        return self.killed / judged if judged else 1.0


def load_config() -> tuple[dict, dict[str, dict]]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    tool = pyproject["tool"]
    return tool["mutmut"], tool["patronage"]["mutation"]


def equivalents() -> dict[str, str]:
    path = ROOT / "mutation" / "equivalent.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def prepare(name: str, module: dict, base: dict) -> Path:
    """A fresh work folder for one module: copies of the code and tests, its own config."""
    folder = WORK / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for part in COPIED:
        shutil.copytree(ROOT / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    config = {
        **base,
        "only_mutate": [module["path"]],
        "pytest_add_cli_args_test_selection": list(module["tests"]),
    }
    lines = ["[tool.mutmut]", *(f"{k} = {toml_value(v)}" for k, v in config.items())]
    pytest_ini = (ROOT / "pyproject.toml").read_text().split("[tool.pytest.ini_options]", 1)
    text = "\n".join(lines) + "\n"
    if len(pytest_ini) == 2:  # markers and options, so the copied tests run as they do here
        text += "\n[tool.pytest.ini_options]" + pytest_ini[1].split("\n[", 1)[0] + "\n"
    (folder / "pyproject.toml").write_text(text)
    return folder


def mutmut(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("mutmut")
    # the analysis tests' batches, built once (by the unmutated code, while mutmut maps the
    # tests) instead of once per mutant: see batch_root in tests/conftest.py
    batches = folder / "batches"
    env = {**os.environ, "MPLBACKEND": "Agg", "PATRONAGE_TEST_BATCHES": str(batches)}
    # SIGHUP ignored, as under nohup, whatever the terminal: a mutant that signals a pid the
    # tests give as alive (their own) would otherwise take the test run down with it and be
    # counted "suspicious" from a terminal but "killed" under nohup. Tests that need the
    # default disposition (the live-writer test of claim.py) restore it in their child.
    return subprocess.run(
        [str(exe), *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )


def run_module(name: str, module: dict, base: dict, jobs: int, known: dict[str, str]) -> Tally:
    folder = prepare(name, module, base)
    started = time.perf_counter()
    done = mutmut(folder, "run", "--max-children", str(jobs))
    seconds = time.perf_counter() - started
    (folder / "run.log").write_text(done.stdout + done.stderr)
    (folder / "seconds").write_text(f"{seconds:.1f}\n")
    if done.returncode != 0:
        raise SystemExit(f"mutmut failed for {name}; see {folder / 'run.log'}")
    return tally_module(name, module, known)


def dotted(module: dict) -> str:
    """The module's import name, the prefix of its mutants' names (src/a/b.py -> a.b)."""
    return module["path"].removeprefix("src/").removesuffix(".py").replace("/", ".")


def tally_module(name: str, module: dict, known: dict[str, str]) -> Tally:
    """Count the results of the last run in a module's work folder. An entry of
    equivalent.toml for this module that names no mutant (its function changed or went) is
    stale, like one that was killed."""
    folder = WORK / name
    seconds = folder / "seconds"
    tally = Tally(name, seconds=float(seconds.read_text()) if seconds.exists() else 0.0)
    listing = mutmut(folder, "results", "--all", "true").stdout
    seen = set()
    for line in listing.splitlines():
        match = RESULT_LINE.match(line)
        if not match:
            continue
        mutant, status = match.groups()
        seen.add(mutant)
        if status in KILLED:
            tally.killed += 1
            if mutant in known:
                tally.stale.append(mutant)
        elif mutant in known:
            tally.equivalent.append(mutant)
        else:
            tally.survived.append(f"{mutant} ({status})")
    prefix = dotted(module) + "."
    gone = [m for m in known if m.startswith(prefix) and m not in seen]
    tally.stale += [f"{m} (no such mutant)" for m in gone]
    return tally


def report(tallies: list[Tally]) -> str:
    rows = [
        "| module | mutants | killed | survived | equivalent | killed / non-equivalent | time |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in tallies:
        total = t.killed + len(t.survived) + len(t.equivalent)
        rows.append(
            f"| {t.module} | {total} | {t.killed} | {len(t.survived)} | {len(t.equivalent)} "
            f"| {t.score:.1%} | {t.seconds:.0f} s |"
        )
    lines = ["\n".join(rows)]
    for t in tallies:
        if t.survived:
            lines.append(
                f"\nSurvivors in {t.module} (read with: cd .mutation/{t.module} && "
                "../../.venv/bin/mutmut show NAME):"
            )
            lines += [f"  {s}" for s in t.survived]
        if t.stale:
            lines.append(
                f"\nListed as equivalent in {t.module} but killed or gone (re-judge them in "
                "equivalent.toml):"
            )
            lines += [f"  {s}" for s in t.stale]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    base, modules = load_config()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"any of {', '.join(modules)}")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument(
        "--table",
        action="store_true",
        help="only count the last run's results again (after editing equivalent.toml)",
    )
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in modules]
    if unknown:
        parser.error(f"unknown module {unknown[0]}; choose from {', '.join(modules)}")
    known = equivalents()
    tallies = []
    for name in args.modules or list(modules):
        if args.table:
            tallies.append(tally_module(name, modules[name], known))
            continue
        print(f"== {name}: mutating {modules[name]['path']}", flush=True)
        tally = run_module(name, modules[name], base, args.jobs, known)
        print(
            f"   {tally.killed} killed, {len(tally.survived)} survived, "
            f"{len(tally.equivalent)} equivalent in {tally.seconds:.0f} s",
            flush=True,
        )
        tallies.append(tally)
    text = report(tallies)
    (WORK / "report.md").write_text(text + "\n")
    print(text)
    return 0 if all(not t.survived and not t.stale for t in tallies) else 1


if __name__ == "__main__":
    sys.exit(main())
