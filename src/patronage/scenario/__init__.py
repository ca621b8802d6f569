"""Scenarios: what an analyst writes, checked before anything runs.

- `schema`: every field typed, bounded, documented and defaulted (pydantic models).
- `loader`: safe YAML/JSON reading with line numbers, overrides, reference checks.
- `paths`: dotted field paths into scenario data (list items by id).
- `generate`: random scenarios of any size, for benchmarks and scale tests.
"""
