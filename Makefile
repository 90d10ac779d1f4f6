# The two commands: `make portfolio` (set up, build the example site) and `make test`.
# Everything installs into .venv; Debian's chromium is installed for the browser tests,
# Debian's graphviz for keras.utils.plot_model.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv pip install --python $(BIN)/python --compile-bytecode -c constraints.txt
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: portfolio test test-fast lint bench serve clean chromium graphviz web quality quality-tools java

portfolio: $(VENV)/.base graphviz
	$(BIN)/portfolio build
	@echo
	@echo "The site is in site/, made to be served (opened from disk, its links and demos"
	@echo "do not work). Look at it with:"
	@echo "    $(BIN)/portfolio serve     # then open the address it prints"

# Two pytest workers, each given whole test files (--dist loadfile: a module's shared
# fixture, one trained model or built site, is made once): 12.5 minutes instead of 20.6
# on 2 cores (BENCHMARKS.md). Four workers on 2 cores were no faster and overloaded the
# timing-sensitive fault tests.
WORKERS ?= 2
test: $(VENV)/.test chromium graphviz web quality-tools
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile
	$(MAKE) --no-print-directory quality

# The contributor's loop: the in-process tests only, no child process, browser, cluster
# or fresh venv (markers by cost in pyproject.toml), in well under a minute.
FAST := not (cli or training or cluster or browser or venv)
test-fast: $(VENV)/.test
	$(BIN)/python -m pytest -q -m "$(FAST)"

# The site's quality gates (quality/gates.py): Lighthouse (accessibility, best practices
# and SEO at 100 on the home page, every project page and the results page), the Nu Html
# Checker over every page, every internal link and anchor, and each project page's weight.
quality: $(VENV)/.test chromium quality-tools
	$(BIN)/python quality/gates.py

lint: $(VENV)/.test
	$(BIN)/ruff check .

serve: $(VENV)/.base
	$(BIN)/portfolio serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade uv

# --compile-bytecode matters: without .pyc files every child re-compiles TensorFlow's
# Python on import (20 s instead of 8 s here, where PYTHONDONTWRITEBYTECODE may be set).
$(VENV)/.base: pyproject.toml constraints.txt | $(BIN)/python
	$(UV) -e '.[examples]'
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(UV) -e '.[dev]'
	touch $@

# Debian's chromium for the Playwright tests; never `playwright install`.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-liberation; }

# Graphviz's dot, which keras.utils.plot_model needs (with pydot, a Python dependency).
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq --no-install-recommends graphviz; }

# onnxruntime-web, which runs each project's model in the visitor's browser: installed
# from npm with the lock file (exact versions, integrity hashes, no install scripts), its
# WebAssembly build copied into generator/portfolio/web/ort/, which the package ships (so
# `make portfolio` and an installed portfolio need no npm). The tests check the copy.
WEB      := generator/portfolio/web
ORT_DIST := $(WEB)/node_modules/onnxruntime-web/dist
web: $(WEB)/node_modules/.package-lock.json

$(WEB)/node_modules/.package-lock.json: $(WEB)/package.json $(WEB)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq --no-install-recommends npm; }
	cd $(WEB) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	cp $(ORT_DIST)/ort.wasm.min.js $(ORT_DIST)/ort-wasm-simd-threaded.mjs \
	  $(ORT_DIST)/ort-wasm-simd-threaded.wasm $(WEB)/ort/

# Lighthouse and vnu.jar at exact versions from quality/package-lock.json, without install
# scripts (vnu-jar's would download a Java runtime: Debian's runs it).
quality-tools: quality/node_modules/.package-lock.json java

quality/node_modules/.package-lock.json: quality/package.json quality/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq --no-install-recommends npm; }
	cd quality && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

java:
	@command -v java >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq --no-install-recommends default-jre-headless; }

clean:
	rm -rf .build site .pytest_cache

# Benchmarks against mkdocs-gallery (installed in its own venv under bench/): several
# minutes; the report goes to BENCHMARKS.md.
bench: $(VENV)/.test chromium quality-tools
	$(BIN)/python bench/run_bench.py > BENCHMARKS.md.new
	mv BENCHMARKS.md.new BENCHMARKS.md
	cat BENCHMARKS.md
