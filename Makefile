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

# torch first, pinned: the local CPU wheel. Unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	bash scripts/setup-browser.sh || echo "setup: no browser installed; the browser test will skip"
	touch $(STAMP)

demo: setup
	$(BIN)/harness run -m all-MiniLM-L6-v2 -m wordllama-l2-256 -t SciFact
	$(BIN)/harness results -t SciFact

test: setup
	$(BIN)/pytest -q -m "not slow"

test-slow: setup
	$(BIN)/pytest -q -m slow

bench: setup
	$(BIN)/python -m bench

check: setup
	$(BIN)/harness check ci/expected/ci-subset.yaml --markdown results/check.md --no-progress

lint: setup
	$(BIN)/ruff check harness adapters leaderboard tests

# h-fuse: every study in studies/ on the real data (reuses `make demo`'s runs and encodes)
.PHONY: studies
studies: setup
	$(BIN)/harness study run all

board: setup
	$(BIN)/harness board

clean:
	rm -rf $(VENV) results/cache results/*.duckdb
