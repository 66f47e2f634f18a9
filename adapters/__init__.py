"""Model adapters, one module per family; see ``adapters.registry`` for the names."""
