# The two commands of the README. Both install what is missing first, and both can be run again.
.PHONY: setup local ruff lint test

PIPENV := PIPENV_VENV_IN_PROJECT=1 PIPENV_VERBOSITY=-1 python3 -m pipenv

setup:
	@./scripts/setup.sh

## Deploy every workspace to the embedded local AWS and print their outputs.
local: setup
	@$(PIPENV) run python main.py bootstrap
	@$(PIPENV) run python main.py deploy --all

## ruff (lint and format check) over everything; pyproject.toml holds its settings.
ruff: setup
	@$(PIPENV) run ruff check --no-cache .
	@$(PIPENV) run ruff format --check --no-cache .

## The static gate alone: ruff, then mypy over surgepress/, modules/, dr/. Zero findings, or it stops.
lint: ruff
	@$(PIPENV) run mypy --no-incremental

## ruff, then mypy and the unit and policy tests beside a full local harness run: deploy ->
## verify -> drill -> teardown (its own emulator and build directory; reports under
## build/reports/<run id>/). mypy's findings stop the harness; see scripts/test.sh.
test: ruff
	@$(PIPENV) run scripts/test.sh
