"""The verdict: a pre-registered plan, seed-level statistics, equivalence testing and power.

``plan`` freezes the analysis plan from the config (the pre-registration); ``metrics`` turns results
into per-model metrics and the composite robustness index; ``stats`` holds the seed-level tests and
the sensitivity analyses; ``power`` simulates the design; ``verdict`` puts them together; ``simulate``
makes results with a known truth, on which the test suite validates the whole instrument.
"""
