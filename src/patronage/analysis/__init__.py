"""Analysis of result folders: probabilities with honest intervals, and comparisons.

- `stats`: the cited statistics (Wilson, Newcombe, McNemar, z and Fisher tests, Holm).
- `summary`: per-partner probabilities of realigning and collapsing, with Wilson intervals.
- `matching`: what two batches have in common: outcomes per run, pairing, common sweeps.
- `compare`: two batches side by side, paired run by run when they share their streams.
"""
