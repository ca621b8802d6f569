"""The page's settings: a loaded scenario plus the values chosen on the page.

Chosen values are kept as overrides by dotted path (`withdrawal.level`,
`partners.hezbollah.loyalty`, `coefficients.w_fear`), the same paths as `--set`, and applied
with the loader's own functions, so a value the schema refuses gives the loader's one-line
message. The edited scenario is written out as YAML and read back with `from_text`: what the
page runs, downloads and saves is exactly a scenario file that `patronage validate` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from patronage.errors import InputError
from patronage.scenario.loader import (
    LoadedScenario,
    PathKey,
    apply_override,
    from_text,
    load,
    validate,
)

MAX_UPLOAD_BYTES = 2 * 2**20  # hand-written scenarios are kilobytes; the page reads them whole


@dataclass(frozen=True)
class Settings:
    """A scenario as loaded and the values chosen on top of it (dotted path -> value)."""

    base: LoadedScenario
    chosen: dict[str, Any] = field(default_factory=dict)

    def with_value(self, path: str, value: Any) -> Settings:
        return Settings(self.base, {**self.chosen, path: value})

    def reset(self) -> Settings:
        return Settings(self.base)

    def data(self) -> dict[str, Any]:
        """The scenario's fields with the chosen values applied (the loader's override rules)."""
        return self._applied[0]

    @cached_property
    def _applied(self) -> tuple[dict[str, Any], list[PathKey]]:
        data: dict[str, Any] = self.base.data
        touched: list[PathKey] = []
        for path, value in self.chosen.items():
            data = apply_override(data, path, value, source=self.base.source, touched=touched)
        return data, touched

    def yaml_text(self) -> str:
        """The edited scenario as a YAML file (comments of the original are not kept)."""
        header = f"# {Path(self.base.source).name} with values chosen in `patronage app`\n"
        return header + yaml.safe_dump(self.data(), sort_keys=False, allow_unicode=True)

    def loaded(self) -> LoadedScenario:
        """The edited scenario, validated by the loader (InputError if a value is refused).

        A refused value is blamed on the control that set it (`FILE (--set): path: ...`).
        """
        if not self.chosen:
            return self.base
        data, touched = self._applied
        validate(data, self.base.source, self.base.lines, touched)
        return from_text(self.yaml_text(), f"{self.base.source} (edited)")


def load_bundled(path: str | Path) -> Settings:
    return Settings(load(path))


def load_uploaded(name: str, content: bytes) -> Settings:
    """A scenario uploaded through the page: the loader's checks, on text held in memory."""
    source = Path(name).name or "upload"
    if len(content) > MAX_UPLOAD_BYTES:
        raise InputError(
            f"file is over {MAX_UPLOAD_BYTES} bytes, the limit for uploads to the page",
            source=source,
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", source=source
        ) from None
    if not text.strip():
        raise InputError("empty file, expected a scenario mapping", source=source)
    return Settings(from_text(text, source))


def bundled_scenarios(*folders: Path) -> list[Path]:
    """Scenario files (.yaml, .yml, .json) in the given folders, deduplicated, sorted by name."""
    found: dict[Path, None] = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
                    found[path.resolve()] = None
    return sorted(found, key=lambda p: p.name)
