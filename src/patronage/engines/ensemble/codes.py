"""Integer codes of statuses, events and causes, and the block sizes of the ensemble.

Statuses are stored as their index in `outcomes.STATUSES` (ALIGNED here is 0, where
`outcomes.ALIGNED` is the string "aligned"); events and causes likewise.
"""

from __future__ import annotations

from patronage.model.outcomes import EVENT_KINDS, STATUSES
from patronage.model.rules import GAP_TERMS

ALIGNED, HEDGING, REALIGNED, COLLAPSED = (
    STATUSES.index(s) for s in ("aligned", "hedging", "realigned", "collapsed")
)
assert EVENT_KINDS == ("hedge", "unhedge", "realign", "collapse")
HEDGE, UNHEDGE, REALIGN, COLLAPSE = range(4)
CAUSES = (*GAP_TERMS, "initial_state", "strength_below_threat")  # causes and triggers
INITIAL_STATE = len(GAP_TERMS)
BELOW_THREAT = INITIAL_STATE + 1
N_TERMS = len(GAP_TERMS)
DENSE_UP_TO = 200  # Static.network: a dense matrix up to this many partners, CSR beyond

MAX_CELLS = 1 << 18  # runs x partners stepped together (state memory ~ 400 bytes a cell)
SERIES_CELLS = 1 << 23  # runs x partners x recorded steps kept before the tables are built
DRAW_CELLS = 1 << 17  # uniform draws generated at once (a block that stays in cache)

# The Mesa engine sums what a partner sees of its peers left to right with plain additions
# (not sum(), which compensates from Python 3.12 on), so both engines and every Python
# version round alike. RowSums can also reproduce Neumaier's compensation, if ever needed.
COMPENSATED_SUM = False
