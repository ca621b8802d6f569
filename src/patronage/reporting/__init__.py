"""Showing results to people: tables, figures, text and HTML reports.

- `tables`: rendering tables for the terminal, Markdown, CSV and JSON.
- `comparison`: a comparison as people read it (proportions, differences, notes).
- `plots`: figures of batches (matplotlib Figures).
- `text`: the plain-text report of one run.
- `html`: one self-contained HTML page of one or more batches.
"""
