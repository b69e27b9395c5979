"""Evaluation: held-out items in many formats and pressures, agentic episodes, attacks, scoring."""
