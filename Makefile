# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test lint format bench clean docs docs-serve figures

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

# the tests also build the book (tests/test_docs.py), so `make test` installs the docs extra too
$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[dev,docs]"
	touch $(VENV)/.installed $(VENV)/.installed-docs $@

$(VENV)/.installed-docs: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[docs]"
	touch $(VENV)/.installed $@

DOCS_CHECK = $(PY) -c "import mkdocs, material, mkdocs_static_i18n, mkdocstrings_handlers.python, jieba" 2>/dev/null \
	|| { echo "make docs needs the docs extra: $(PIP) install -e '.[docs]'" >&2; exit 1; }

# The book: docs/ -> site/ (offline: open site/index.html), strict (a broken link or anchor fails).
docs: $(VENV)/.installed-docs
	@$(DOCS_CHECK)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# The book's figures made by code (docs/snippets/*/figure_*.py), rewritten under docs/img/.
# `make figures QUICK=1`: a fast check; each script runs in a temp folder with QUICK=1 (small
# settings, heavy parts skipped) and docs/img/ is left alone (tests/test_docs.py does the same).
figures: $(VENV)/.installed
ifneq ($(filter-out 0,$(QUICK)),)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && for f in $(CURDIR)/docs/snippets/*/figure_*.py; do \
		(cd "$$tmp" && QUICK=1 MPLBACKEND=Agg $(abspath $(PY)) $$f) || exit 1; done
else
	cd docs && for f in snippets/*/figure_*.py; do QUICK= MPLBACKEND=Agg $(abspath $(PY)) $$f || exit 1; done
endif

docs-serve: $(VENV)/.installed-docs
	@$(DOCS_CHECK)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

demo: $(VENV)/.installed
	$(VENV)/bin/cnnlab train

test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: $(VENV)/.installed-dev
	for f in benchmarks/*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf runs .pytest_cache build site src/*.egg-info
