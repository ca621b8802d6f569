"""Names shared by both engines and the result tables: statuses and recorded state fields.

Kept free of Mesa and pandas so that light processes (the CLI, the ensemble engine, readers
of result folders) need not import them.
"""

ALIGNED = "aligned"
HEDGING = "hedging"
REALIGNED = "realigned"
COLLAPSED = "collapsed"
STATUSES = (ALIGNED, HEDGING, REALIGNED, COLLAPSED)

EVENT_KINDS = ("hedge", "unhedge", "realign", "collapse")

# Per (run, step, partner) in series.parquet, after run_id, step and partner.
SERIES_FIELDS = ("loyalty", "dependence", "trust", "expected", "support", "strength", "gap")

# Per (run, partner) in outcomes.parquet, after run_id and partner.
FINAL_FIELDS = ("status", "patron", "loyalty", "dependence", "trust", "strength")
