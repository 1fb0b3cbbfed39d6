# mcusparse: `make demo` and `make test` set up everything they need
# (idempotently) on a fresh machine; see README.md.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: all venv build emulators iree test test-lit test-python demo clean

all: build

venv:
	@scripts/bootstrap-venv.sh

build: venv
	@scripts/build.sh

# QEMU, cross toolchains, picolibc and the instruction-counting plugin.
emulators:
	@scripts/setup-emulators.sh

# IREE wheels check, qemu-user and the aarch64 iree-run-module (docs/iree.md).
iree: venv
	@scripts/setup-iree.sh

test-lit: build
	@echo "[mcusparse] lit tests (test/)"
	@$(VENV)/bin/lit -sv test

test-python: build emulators iree
	@echo "[mcusparse] pytest (test/python)"
	@$(PY) -m pytest -q test/python

# lit first, so that pytest's summary is the last line.
test: test-lit test-python

demo: build emulators
	@$(PY) -m mcusparse.demo

clean:
	rm -rf build build.log
