"""Studies: research claims as declarative, runnable experiments (studies/*.yaml)."""
