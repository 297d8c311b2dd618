# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BABEL_KEYWORDS := --no-default-keywords -k _ -k N_ -k gettext:2 -k ngettext:2,3 -k n_:1,2

.PHONY: run sandbox test lint typecheck pytest bench messages clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("partybot needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

## Run partybot: the real bot when TELEGRAM_BOT_TOKEN is set, otherwise the local sandbox.
run: $(STAMP)
	$(BIN)/partybot run

## The sandbox on http://127.0.0.1:8080 even when a token is set (`make sandbox ARGS=--reset`).
sandbox: $(STAMP)
	$(BIN)/partybot sandbox $(ARGS)

## Lint, type-check and run every test.
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

## Re-extract translatable strings and merge them into the zh_CN and en catalogs.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --sort-output --no-location \
		--project partybot -o bot/locales/partybot.pot bot handlers schedules
	$(BIN)/pybabel update --no-fuzzy-matching -i bot/locales/partybot.pot -d bot/locales -D partybot

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
