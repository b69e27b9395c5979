"""Representations: linear read-outs of the decision per layer, their surface independence, causal
interventions along them, and their stability under the fine-tuning attack (``rearing probe``)."""
