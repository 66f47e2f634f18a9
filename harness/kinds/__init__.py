"""Task kinds: how each MTEB task type turns a model's embeddings into scores (one module each)."""
