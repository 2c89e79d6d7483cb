# tspcr-lab: `make demo` runs the main job, `make test` runs the tests.
# Both install what they need (Debian packages, a virtual environment) on a fresh Debian machine, as root.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TSPCR := $(VENV)/bin/tspcr-lab
export DEBIAN_FRONTEND := noninteractive

# What the machine itself needs: the virtual hosts run on a root file system of their own (the
# image, built by mmdebstrap from Debian's repositories, see tspcr_lab/data/image.toml and each
# lab's [lab] packages), never on the machine's programs.
APT_PACKAGES := mmdebstrap uidmap util-linux iproute2 openssh-client python3 python3-venv qemu-system-x86
# What the tests add: a real browser (Debian's Chromium, driven by Playwright), an SSH client, and
# aircrack-ng (the wifi probe's dictionary attack is checked against it on the same capture).
TEST_APT_PACKAGES := chromium openssh-client aircrack-ng cpio

.PHONY: setup apt npm image demo test test-deps unit e2e clean

setup: apt $(VENV)/.installed node_modules/.installed image

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		[ "$$(id -u)" = 0 ] || { echo "make setup needs root to install: $$missing" >&2; exit 2; }; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# The portal's front-end packages (xterm.js), from the npm registry, at the versions of package-lock.json.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "installing: npm"; [ "$$(id -u)" = 0 ] || { echo "make setup needs root to install npm" >&2; exit 2; }; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends npm >/dev/null; }
	npm ci --no-audit --no-fund --omit=dev --loglevel=error
	touch $@

test-deps: $(VENV)/.test-installed
	@missing=$$(for p in $(TEST_APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		[ "$$(id -u)" = 0 ] || { echo "make test needs root to install: $$missing" >&2; exit 2; }; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# The hosts' root file system: built once, again only when the package list changes (about a minute).
image: apt $(VENV)/.installed
	@$(TSPCR) image build

$(VENV)/.installed: pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

demo: setup
	@$(TSPCR) down ip-plan >/dev/null 2>&1 || true
	$(TSPCR) up ip-plan --seed 2026 --trainee "Camille Demo"
	$(TSPCR) params ip-plan
	$(TSPCR) solve ip-plan --sample partial
	$(TSPCR) grade ip-plan --out demo-results || [ $$? -eq 1 ]
	@echo
	@echo "The lab is still up. Explore it:"
	@echo "  $(TSPCR) status                  # hosts and their state"
	@echo "  $(TSPCR) shell pc1               # a root shell on pc1"
	@echo "  $(TSPCR) exec pc2 -- ip -br addr # one command on pc2"
	@echo "  $(TSPCR) check ip-plan           # self-check with hints"
	@echo "  $(TSPCR) solve ip-plan && $(TSPCR) grade ip-plan --out demo-results"
	@echo "Take it down: $(TSPCR) down ip-plan"

# Each e2e module builds instances of its own (isolated, named apart): modules run side by side,
# three at a time on 2 cores (they wait on boots, DHCP and timeouts: a third of the CPU was idle
# with two), handed out longest first (tests/e2e/conftest.py: FIRST).
test: setup test-deps
	$(PY) -m pytest tests -p no:cacheprovider -q -n 3 --dist loadfile --no-loadscope-reorder

unit: setup
	$(PY) -m pytest tests/unit -p no:cacheprovider -q

e2e: setup test-deps
	$(PY) -m pytest tests/e2e -p no:cacheprovider -q -n 3 --dist loadfile --no-loadscope-reorder

clean:
	rm -rf $(VENV) node_modules demo-results *.egg-info
