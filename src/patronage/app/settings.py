"""The page's settings: a loaded scenario plus the values chosen on the page.

Chosen values are kept by dotted path (`withdrawal.level`, `partners.hezbollah.loyalty`,
`coefficients.w_fear`) and run as `--set` overrides of the file, through the loader's own
checks: a value the schema refuses gives the loader's one-line message, and ranged inputs
stay ranged. The download is the file's fields with the values applied, as YAML, which
`patronage validate` accepts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from patronage.scenario.loader import LoadedScenario, decode_text, from_text, load, parse_yaml
from patronage.scenario.overrides import apply_override

MAX_UPLOAD_BYTES = 2 * 2**20  # hand-written scenarios are kilobytes; the page reads them whole


@dataclass(frozen=True)
class Settings:
    """A scenario as loaded and the values chosen on top of it (dotted path -> value)."""

    base: LoadedScenario
    chosen: dict[str, Any] = field(default_factory=dict)

    def with_value(self, path: str, value: Any) -> Settings:
        """The settings with one more input edited; the old ones stay unchanged."""
        return Settings(self.base, {**self.chosen, path: value})

    def reset(self) -> Settings:
        """The settings with every edit undone."""
        return Settings(self.base)

    def data(self) -> dict[str, Any]:
        """The file's fields with the chosen values applied (ranges stay ranges)."""
        return self._data

    @cached_property
    def _data(self) -> dict[str, Any]:
        data = parse_yaml(self.base.text, self.base.source)[0]
        for path, value in self.chosen.items():
            data = apply_override(data, path, value)
        return data

    def overrides(self) -> tuple[str, ...]:
        """The chosen values as `--set` overrides (JSON values, which YAML reads as written)."""
        return tuple(f"{path}={json.dumps(value)}" for path, value in self.chosen.items())

    def yaml_text(self) -> str:
        """The edited scenario as a YAML file (comments of the original are not kept)."""
        header = f"# {Path(self.base.source).name} with values chosen in `patronage app`\n"
        return header + yaml.safe_dump(self.data(), sort_keys=False, allow_unicode=True)

    def loaded(self) -> LoadedScenario:
        """The file with the chosen values as overrides, through the loader's own checks: a
        refused value is blamed on the control that set it (`FILE (--set): path: ...`), and
        a batch saved from it records the file and the overrides in its manifest."""
        if not self.chosen:
            return self.base
        return from_text(self.base.text, self.base.source, self.overrides())


def load_bundled(path: str | Path) -> Settings:
    """Settings for a scenario file, with nothing edited yet."""
    return Settings(load(path))


def load_uploaded(name: str, content: bytes) -> Settings:
    """A scenario uploaded through the page: the loader's checks, on text held in memory."""
    source = Path(name).name or "upload"
    text = decode_text(content, source, MAX_UPLOAD_BYTES, "the limit for uploads to the page")
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
