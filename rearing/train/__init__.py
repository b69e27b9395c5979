"""Training: raise Hugging Face causal LMs on each condition's token stream, in its order."""
