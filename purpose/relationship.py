"""Pure relationship metrics: RFM, Pareto share, pyramid level, relationship style.

Imports neither Flask nor the database, so it can be used from a notebook.
"""

#: The relationship pyramid, from the shallowest level to the deepest.
#: Level numbers are 1-based positions in this tuple; 0 means "no relationship yet".
PYRAMID_LEVELS = (
    "utility",
    "convenience",
    "ease",
    "recognition",
    "self_expression",
    "co_creation",
)

#: The relationship styles a person can want, from no contact to the deepest.
STYLES = ("none", "fling", "friendship", "marriage")
