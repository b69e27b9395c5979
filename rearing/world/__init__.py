"""The world stage: scenarios (generated or imported), the developmental ladder, and splits."""
