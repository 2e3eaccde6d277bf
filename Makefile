# The two commands of the README. Both install what is missing first, and both can be run again.
.PHONY: setup local test

PIPENV := PIPENV_VENV_IN_PROJECT=1 PIPENV_VERBOSITY=-1 python3 -m pipenv

setup:
	@./scripts/setup.sh

## Deploy every workspace to the embedded local AWS and print their outputs.
local: setup
	@$(PIPENV) run python main.py deploy --all

## Unit, policy and integration tests (the integration stage deploys to a private emulator).
test: setup
	@$(PIPENV) run pytest -m "unit or policy or integration"
