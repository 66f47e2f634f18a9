"""`harness check`: expected scores with tolerances, and run-vs-run significance tests."""
