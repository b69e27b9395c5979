"""The corpus stage: one scenario set rendered into every condition, ordered, matched, tokenized."""
