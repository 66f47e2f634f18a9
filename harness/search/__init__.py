"""Search backends: each turns (query embeddings, document embeddings, k) into a top-k ranking."""
