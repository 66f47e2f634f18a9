"""Tasks: metadata (``base``), BEIR loading (``beir``) and the name registry (``registry``)."""
