# faultlab: two commands on a fresh Debian/Ubuntu machine.
#   make lab    set everything up, then start JupyterLab on your working copy work/ (prints the URL)
#   make test   set everything up, then run every test suite (pytest + nbval), one summary line
#   make fresh CHAPTER=03c   replace your copy of one notebook by the repository's (old one kept)
# Variables: PYTHON (python3), VENV (.venv), PORT (8888), WORK (work), PYTEST_ARGS (tests), NBVAL (1),
#            NBVAL_PATHS (notebooks labs). Example: make test PYTEST_ARGS=tests/test_setup.py NBVAL=0
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8888
WORK ?= work
PYTEST_ARGS ?= tests
NBVAL ?= 1
NBVAL_PATHS ?= notebooks labs
export PYTHON VENV PORT WORK PYTEST_ARGS NBVAL NBVAL_PATHS

# Re-install only when one of these changes (a second `make test` skips straight to the tests).
STAMP := $(VENV)/.faultlab-setup-stamp
SETUP_INPUTS := pyproject.toml requirements/lock.txt jupyter/overrides.json scripts/setup-venv.sh
T0 := $(shell date +%s)

.PHONY: lab test fresh setup system-packages doctor lock help

help:
	@sed -n '2,6p' Makefile | sed 's/^# \{0,1\}//'

lab: setup
	@scripts/lab.sh

test: setup
	@FAULTLAB_T0=$(T0) scripts/run-tests.sh

# Standard library only: works before (and without) the set-up.
fresh:
	@$(PYTHON) scripts/working_copy.py --work "$(WORK)" fresh "$(CHAPTER)"

setup: system-packages $(STAMP)

# Cheap every time: checks dpkg and installs only what is missing (needs root or passwordless sudo).
system-packages:
	@scripts/system-packages.sh

$(STAMP): $(SETUP_INPUTS) | system-packages
	@scripts/setup-venv.sh
	@touch $@

doctor: setup
	@$(VENV)/bin/faultlab doctor

# Re-resolve the newest allowed versions from PyPI into requirements/lock.txt.
lock:
	@scripts/lock.sh
