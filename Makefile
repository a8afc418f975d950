# Two entry points for a new user (see README "Quick start"):
#   make demo   set up .venv, make toy ADE20K, train + test EMO DeepLabv3 on CPU
#   make test   set up .venv (with test extras) and run the test suite
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
C := -c requirements/constraints.txt
STAMP := $(VENV)/.mmlightvit-installed
TEST_STAMP := $(VENV)/.mmlightvit-tests-installed

.PHONY: install demo test clean-venv

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# mmcv 2.1.0 has no wheel for this torch: it is built from source with its C++ ops
# (~20 min on 2 cores). torch 2.14's headers need C++20 while mmcv's setup.py asks
# for C++17: requirements/cxx20.sh swaps that flag. pip keeps the built wheel in
# its cache and the stamp file skips this step on a second run, so mmcv is never
# rebuilt on the same machine.
$(STAMP): $(VENV)/bin/python requirements/*.txt setup.py
	$(PIP) install $(C) -r requirements/build.txt
	CXX=$(CURDIR)/requirements/cxx20.sh MMCV_WITH_OPS=1 MAX_JOBS=$${MAX_JOBS:-2} $(PIP) install $(C) --no-build-isolation mmcv==2.1.0
	$(PIP) install $(C) -r requirements/runtime.txt
	$(PIP) install $(C) --no-build-isolation --no-deps -e .
	$(PY) -c "import mmcv.ops, mmseg, mmdet, mmlightvit; print('stack ok: torch', __import__('torch').__version__, 'mmcv', mmcv.__version__)"
	touch $@

$(TEST_STAMP): $(STAMP) requirements/tests.txt
	$(PIP) install $(C) -r requirements/tests.txt
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(PY) tools/toy_demo.py

test: $(TEST_STAMP)
	$(PY) -m pytest tests -q -n 2 --dist loadfile --durations=15

clean-venv:
	rm -rf $(VENV)
