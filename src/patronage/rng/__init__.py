"""Random numbers: where every run's seed comes from and how its draws are made.

- `seeds`: run k's SeedSequence as child k of the batch seed.
- `streams`: counter-based draws, a pure function of (key, step, draw, partner).
- `pcg64`: numpy's SeedSequence and PCG64 seeding done on arrays of runs (the ensemble's keys).
"""
