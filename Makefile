# Harken's verbs. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(CURDIR)/var
PORT ?= 8000

export HARKEN_DATA_DIR ?= $(DATA_DIR)

.PHONY: run test lint format install install-dev assets browser system-deps bench clean demo-reset check-deploy

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.package-lock.json
install-dev: $(VENV)/.installed-dev node_modules/.package-lock.json
assets: node_modules/.package-lock.json

$(DATA_DIR)/secret_key:
	mkdir -p $(DATA_DIR)
	$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	chmod 600 $@

# The demo runs on plain HTTP on the loopback interface: no HTTPS-only cookies.
RUN_ENV := HARKEN_SECRET_KEY_FILE=$(DATA_DIR)/secret_key HARKEN_HTTPS=0 \
	HARKEN_EMAIL_BACKEND=$${HARKEN_EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend} \
	HARKEN_COMPANY_NAME="$${HARKEN_COMPANY_NAME:-Aldermoor Precision}"

run: install system-deps $(DATA_DIR)/secret_key
	$(RUN_ENV) $(BIN)/harken migrate --noinput -v 0
	$(RUN_ENV) $(BIN)/harken demo
	@echo ""
	@echo "Harken is starting on http://127.0.0.1:$(PORT)/  (Ctrl+C stops it)"
	@echo "Sign in as one of (password: harken-demo-2026):"
	@echo "  quality  quality manager      analyst  quality analyst"
	@echo "  sales    customer-facing      owner    action owner"
	@echo "  auditor  auditor (read-only)  admin    administrator"
	@echo ""
	$(RUN_ENV) $(BIN)/harken serve --port $(PORT)

# Debian packages Harken uses: Pango for PDF review packs (WeasyPrint); for the tests also
# Chromium (browser tests) and poppler-utils (reading the PDFs back). Installed when
# missing and we are root; otherwise the tests that need them are skipped.
define apt_install
	@missing=""; for pkg in $(1); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			echo "installing Debian packages:$$missing"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
			|| echo "warning: could not install$$missing"; \
		else echo "warning: missing Debian packages:$$missing (install them as root)"; fi; \
	fi
endef

system-deps:
	$(call apt_install,libpango-1.0-0 libpangoft2-1.0-0)

browser: system-deps
	$(call apt_install,chromium poppler-utils dovecot-imapd openssl)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	HARKEN_DEBUG=1 $(BIN)/mypy

format: install-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# The whole suite on SQLite, then again on PostgreSQL when HARKEN_TEST_DATABASE_URL is set.
test: install-dev browser
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/pytest -n 2 --dist loadfile
	@if [ -n "$$HARKEN_TEST_DATABASE_URL" ]; then \
		echo "== the suite again on PostgreSQL"; \
		HARKEN_TEST_ENGINE=postgres $(BIN)/pytest -n 2 --dist loadfile; \
	fi

check-deploy: install
	HARKEN_SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))') \
		HARKEN_ALLOWED_HOSTS=harken.example.com $(BIN)/harken check --deploy --fail-level WARNING

bench: install-dev
	@cat bench/README.md

demo-reset:
	rm -f $(DATA_DIR)/harken.sqlite3 $(DATA_DIR)/harken.sqlite3-wal $(DATA_DIR)/harken.sqlite3-shm

clean:
	rm -rf $(VENV) node_modules $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache
