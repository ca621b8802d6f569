"""The package's plan, enforced: every module imports only from its own layer or below.

The folders of src/patronage are layers of one one-way flow: a scenario is loaded, the
model's rules and agents run it, engines run many of it, experiments plan and store
batches, analysis reads result folders, reporting shows them, and the command line, the
Python API and the page sit on top. A module may import from its own layer or any layer
below it, never above, and never another module's private (`_name`) names. This test reads
every module's imports (including those inside functions) from its source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "patronage"

# Lowest first. A top-level module (errors.py) or subpackage (scenario/) belongs to one layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "atomic"),
    ("scenario",),
    ("rng",),
    ("model",),
    ("results",),
    ("engines",),
    ("experiments",),
    ("analysis",),
    ("reporting",),
    ("cli", "api", "app"),
)
LAYER_OF = {name: rank for rank, names in enumerate(LAYERS) for name in names}

# The one declared exception, and why: `Results.summary()` is the notebook shortcut README
# promises (`res.summary()`); it delegates to the analysis layer, imported only when called.
UPWARD_ALLOWED = {("results/folder.py", "patronage.analysis.summary")}


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py"))


def unit_of(path: Path) -> str:
    """The top-level module or subpackage a source file belongs to."""
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported patronage module, names taken from it) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name, []) for a in node.names if a.name.startswith("patronage")
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "patronage":
                found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append((node.lineno, "." * node.level + (node.module or ""), []))
    return found


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(p) for p in modules()} - {"__init__"}
    assert units <= set(LAYER_OF), f"give these a layer in LAYERS: {units - set(LAYER_OF)}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    unit = unit_of(path)
    if unit == "__init__":  # the root package: only its lazy `api` hook, by design
        return
    rank = LAYER_OF[unit]
    wrong = []
    for line, module, names in imports(path):
        assert not module.startswith("."), f"{path.name}:{line}: use absolute imports"
        parts = module.split(".")
        if len(parts) == 1:  # `from patronage import __version__`
            assert names == ["__version__"], f"{path.name}:{line}: import from a module"
            continue
        target = parts[1]
        if (str(path.relative_to(SRC)), module) in UPWARD_ALLOWED:
            continue
        if LAYER_OF.get(target, rank) > rank:
            wrong.append(
                f"line {line}: {unit} (layer {rank}) imports {module} (layer {LAYER_OF[target]})"
            )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_private_names_imported(path: Path) -> None:
    private = [
        f"line {line}: {name} from {module}"
        for line, module, names in imports(path)
        for name in names
        if name.startswith("_") and name != "__version__"
    ]
    assert not private, "\n".join(private)


def test_no_module_is_too_long() -> None:
    """Small modules with one job; a module over 500 lines is a sign of two jobs."""
    long = {
        str(p.relative_to(SRC)): n
        for p in modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert not long, long
