"""Result folders: the format every engine writes and every analysis reads.

- `store`: table schemas, atomic writes, folder creation and replacement.
- `params`: how designed values are recorded in the runs table (`param.<path>`).
- `provenance`: versions, commit and times recorded in the manifest.
- `folder`: `Results`, a result folder opened for analysis.
"""
