# Two commands do all the set-up: `make report` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
GEMEENTE ?= Herenthout
REFERENTIE ?= ISOM
JAAR ?=
# The report's parameters reach the shell as environment variables, never pasted into the
# command line, and unexpanded by make: `make report REFERENTIE='Geel, Mol, Balen'` or
# GEMEENTE="Braine-l'Alleud" arrive as one argument each, and nothing in them is run
# (not `; touch X`, not `$$(touch X)`, not make's own `$$(shell …)`).
unexport GEMEENTE REFERENTIE JAAR
export REPORT_GEMEENTE = $(value GEMEENTE)
export REPORT_REFERENTIE = $(value REFERENTIE)
export REPORT_JAAR = $(value JAAR)

.PHONY: env system-deps test report bench bench-alle data fetch lint clean

# The environment: a virtualenv with the package (editable) and its test tools.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

env: $(STAMP)

# Debian packages: Chromium (PDF, browser test), poppler-utils, fonts; only when missing.
system-deps:
	scripts/system_deps.sh

test: env system-deps
	$(BIN)/ruff check lsbanalysis tests notebooks
	$(BIN)/python -m pytest

# The PDF needs Chromium: installed here when possible; without it the HTML is still made and
# lsb report says how to get the PDF.
report: env
	-scripts/system_deps.sh
	"$(BIN)/lsb" report --gemeente "$$REPORT_GEMEENTE" --referentie "$$REPORT_REFERENTIE" \
		$${REPORT_JAAR:+--jaar "$$REPORT_JAAR"} \
		--pdf

bench: env
	$(BIN)/python -m lsbanalysis.bench

# All 285 Flemish municipalities against their arrondissement (HTML) in a temporary folder:
# total time, time per report, where it goes, failures. Long; not part of `make test`.
bench-alle: env
	$(BIN)/python -m lsbanalysis.bench_alle

# Rebuild the embedded store from the local mirror of the official files.
data: env
	$(BIN)/lsb data build --raw "$${LSB_DATA_MIRROR:-../shared/data}"

fetch: env
	$(BIN)/lsb data fetch

lint: env
	$(BIN)/ruff check lsbanalysis tests notebooks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
