"""Result folders: the format every engine writes and every analysis reads.

- `store`: table schemas and atomic writes of tables and text.
- `manifest`: the manifest as a typed model, validated whenever a folder is opened.
- `claim`: one writer at a time (an OS lock), replacing only our folders, staged folders,
  sweeping the temporaries of processes that died.
- `params`: how designed values are recorded in the runs table (`param.<path>`).
- `provenance`: versions, commit and times recorded in the manifest.
- `folder`: `Results`, a result folder opened for analysis.
"""
