# embedding-harness — two commands do everything on a fresh machine: `make demo`, `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.setup-done
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup demo test test-slow check bench lint board clean

setup: $(STAMP)

# Quiet by design: pip shows errors only (-q -q also hides this machine's index WARNINGs), make
# does not echo recipes, and one summary line closes a successful setup.
PIP := PIP_NO_WARN_SCRIPT_LOCATION=0 PIP_DISABLE_PIP_VERSION_CHECK=1 $(BIN)/pip install -q -q \
       --disable-pip-version-check --no-input

# torch first, pinned: the local CPU wheel. Unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(PIP) --upgrade pip
	@$(PIP) torch==2.13.0
	@$(PIP) -e '.[dev]'
	@bash scripts/setup-browser.sh || echo "setup: no browser installed; the browser tests will FAIL (install Debian's chromium)"
	@touch $(STAMP)
	@echo "setup: $(VENV) ready ($$($(BIN)/pip list --format=freeze 2>/dev/null | wc -l) packages; \
	torch $$($(BIN)/python -c 'import torch; print(torch.__version__)'))"

demo: setup
	$(BIN)/harness run -m all-MiniLM-L6-v2 -m wordllama-l2-256 -t SciFact
	$(BIN)/harness results -t SciFact

# Two workers on two cores; each test file runs whole on one worker, so its module and session
# fixtures are built once (loadgroup would be finer, but pytest-xdist 3.8 ignores its groups
# under pytest 9).
test: setup
	$(BIN)/pytest -q -m "not slow" -n 2 --dist loadfile

# The full-dataset reproductions on the same two workers, files in collection order (the longest,
# marked starts_first, goes first; xdist would otherwise start the files with the most tests).
test-slow: setup
	$(BIN)/pytest -q -m slow -n 2 --dist loadfile --no-loadscope-reorder

bench: setup
	$(BIN)/python -m bench $(SECTIONS)

check: setup
	$(BIN)/harness check ci/expected/ci-subset.yaml --markdown results/check.md --no-progress

lint: setup
	$(BIN)/ruff check harness adapters leaderboard tests

# every study in studies/ on the real data (reuses `make demo`'s runs and encodes)
.PHONY: studies
studies: setup
	$(BIN)/harness study run all

board: setup
	$(BIN)/harness board

clean:
	rm -rf $(VENV) results/cache results/*.duckdb
