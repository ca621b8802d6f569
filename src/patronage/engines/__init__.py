"""Engines: one design point's runs in, the rows of the result tables out.

- `base`: the `Engine` protocol both engines implement, and the registry by name.
- `mesa`: each run an `AllianceModel` (the reference).
- `ensemble`: all runs stepped together on (runs, partners) arrays, bit-identical to `mesa`.
"""
