"""The interactive page (`patronage app`): explore a scenario live, with the ensemble's
outcome probabilities and tipping curves recomputed as the controls move.

- `settings`: a loaded scenario and the values chosen on the page (dotted paths, as `--set`).
- `ranges`: the slider bounds (the documented ranges), in one place.
- `panel`: the computation behind the ensemble panel (N runs, cancellable).
- `tipping`: the computation behind the tipping panel (P(realign) against the withdrawal
  level: the runs of a batch sweeping it, cancellable).
- `live`: one run of the Mesa engine stepped by the page.
- `figures`: the network, traces, cumulative curves and tipping curves.
- `controls`, `page`, `*_panel`: the Solara components; `app.py` is what `solara run` serves.

Solara is an optional extra (`.[app]`); nothing here imports it until the page is served.
"""

from __future__ import annotations

from pathlib import Path

APP_FILE = Path(__file__).with_name("app.py")

__all__ = ["APP_FILE", "serve"]


def serve(host: str, port: int) -> None:
    """Serve the page with Solara's server (production mode, no browser opened)."""
    from solara.__main__ import run

    run.main(
        args=[
            str(APP_FILE),
            "--host",
            host,
            "--port",
            str(port),
            "--production",
            "--no-open",
            "--no-check-version",
            "--log-level",
            "warning",
        ],
        standalone_mode=False,
    )
