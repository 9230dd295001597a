# plait: `make demo` runs the example workflow; `make test` installs, starts services, tests.
# Both work on a fresh Debian machine as root (they install what they need).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Debian packages the tests use for real: MPI launchers, GNU parallel, procps for ps/pkill,
# Chromium for the dashboard tests (driven by Playwright from PyPI), nodejs for CWL's
# InlineJavascriptRequirement, rsync for the rsync staging tests, tmux for `plait status`.
APT_PACKAGES ?= openmpi-bin parallel procps chromium nodejs rsync tmux

.PHONY: demo test venv test-deps system-deps lint typecheck pytest perf clean services-up services-down cwl-conformance docs
# Real services the tests use (Slurm, SSH, HTTP, databases, ...): one script each in services/,
# idempotent `up`/`down`; `make test` starts them all and stops them after, pass or fail.
SERVICES := $(sort $(wildcard services/[!_]*.sh))

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# An editable install has no bytecode, and where PYTHONDONTWRITEBYTECODE is set (as on these
# machines) every plait process would compile plait again at each start (~0.2 s of CPU per
# process: the CWL scatter took 4.2 s instead of 2.2 s); a wheel's install compiles it once,
# and so does this.
COMPILE := $(PY) -m compileall -q src

venv: $(PY)
	$(PY) -m pip install --quiet -e .
	$(COMPILE)

demo: venv
	$(PY) examples/word_lengths.py

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test-deps: $(PY) system-deps
	$(PY) -m pip install --quiet -e '.[test]'
	$(COMPILE)

lint: test-deps
	$(VENV)/bin/ruff check src tests examples benchmarks

typecheck: test-deps
	$(VENV)/bin/mypy

pytest: test-deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Scripts get PLAIT_PY, the venv's python, for servers written in Python (pyftpdlib, ...).
services-up: test-deps
	@for s in $(SERVICES); do PLAIT_PY=$(abspath $(PY)) bash $$s up || exit 1; done

services-down:
	@status=0; for s in $(SERVICES); do PLAIT_PY=$(abspath $(PY)) bash $$s down || status=1; done; \
	  exit $$status

test: lint typecheck
	@$(MAKE) --no-print-directory services-up || { $(MAKE) --no-print-directory services-down; exit 1; }
	@status=0; $(MAKE) --no-print-directory pytest || status=$$?; \
	  $(MAKE) --no-print-directory services-down || status=1; exit $$status

# The whole CWL v1.2 conformance suite (378 tests, ~10 min with -j2; `make test` runs the
# `required` tag only): figures per tag. Needs Node.js for InlineJavascriptRequirement.
cwl-conformance: test-deps
	$(PY) benchmarks/cwl/conformance.py -j 2 $(CWL_CONFORMANCE_ARGS)

# The documentation site into docs/_build/html: warnings (a broken reference, a public name
# without a docstring's page) fail it. tests/docs/ builds it too, and runs the notebooks.
$(VENV)/bin/sphinx-build: $(PY)
	$(PY) -m pip install --quiet -e '.[docs]'

docs: $(VENV)/bin/sphinx-build
	$(VENV)/bin/sphinx-build -W --keep-going -n -q -b html docs docs/_build/html

perf: venv
	$(VENV)/bin/plait-perf --config benchmarks/configs/local_threads.py

clean:
	rm -rf $(VENV) runinfo .mypy_cache .ruff_cache .pytest_cache
