"""The page for `solara run`, as in Mesa's examples: `solara run src/patronage/app/app.py`.

`patronage app SCENARIO` serves this same file; with `solara run`, set
PATRONAGE_APP_SCENARIO to choose the scenario (default: the bundled syria_withdrawal).
"""

from patronage.app.page import Page

__all__ = ["Page"]
