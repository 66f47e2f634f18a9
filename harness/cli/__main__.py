"""``python -m harness.cli`` (used by tests that need a real subprocess)."""

from harness.cli import main

main()
