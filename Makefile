# Two entry points: `make run` and `make test`. Each creates .venv and installs the project on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test ruff lint fuzz

# Every dependency is pinned in constraints.txt, so a fresh machine gets what CI tested.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot run --demo-if-no-token

ruff: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint: ruff
	$(BIN)/mypy

# Most tests wait on the loopback Bot API, not the CPU: eight workers share the two cores, and
# mypy runs beside them (the fuzz and its guard share a worker: --dist loadgroup). Python and
# pytest skip their caches of compiled modules and rewritten tests where PYTHONDONTWRITEBYTECODE
# is set, as on our machines: each worker then redid them, a third of the suite's CPU. One
# collection fills the caches first. A skip says why (-rs). Any failure fails the target.
test: ruff
	$(BIN)/mypy & types=$$!; \
	export PYTHONDONTWRITEBYTECODE=; \
	$(BIN)/python -m pytest -q --collect-only -n 0 >/dev/null; \
	$(BIN)/python -m pytest -q -rs -n 8 --dist loadgroup; tests=$$?; \
	wait $$types && exit $$tests

# The hostile-update fuzz at length (make test runs a bounded part of it).
fuzz: $(STAMP)
	JIGIYA_FUZZ_EXAMPLES=60 $(BIN)/python -m pytest -q tests/test_fuzz.py
