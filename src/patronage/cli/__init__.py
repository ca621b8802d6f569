"""The `patronage` command line: one module per group of commands.

- `main`: the parser, `validate`, `run`, `generate` and the entry point `main()`.
- `options`: argument types and options shared by several commands.
- `batch`: `batch`, `summary`, `verify`.
- `analysis`: `compare`, `plot`, `report`.
"""
