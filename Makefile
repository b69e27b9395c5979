# Two commands for a fresh machine: `make demo` and `make test`.
# torch is installed first and pinned: on these machines pip then takes the local CPU wheel,
# whereas an unpinned torch would pull a multi-GB CUDA build. See README for GPU machines.
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
# The report's browser test drives Debian's Chromium; installed here when absent (root, or with sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test install clean bench chromium

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m rearing.train.allocator install $(VENV)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rearing run --preset smoke

test: $(STAMP) chromium
	$(PY) -m pytest -q

chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium >/dev/null || \
	    { $(SUDO) apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium >/dev/null; }; }

bench: $(STAMP)
	$(PY) bench/bench_world_generate.py
	$(PY) bench/bench_corpus_build.py
	$(PY) bench/bench_train.py
	$(PY) bench/bench_scorer.py
	$(PY) bench/bench_agentic.py

clean:
	rm -rf $(VENV) runs .pytest_cache
