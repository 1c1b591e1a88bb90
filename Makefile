# Thin wrapper over CMake. `make devnet` and `make test` are the two entry points.
BUILD      ?= build
TESTBUILD  ?= build-test
JOBS       ?= $(shell nproc)
DEVNET_ARGS ?=
# `make devnet` runs an L1 (anvil) with the rollup's contracts beside the
# node; L1=none runs the L2 alone.
L1         ?= anvil
# A user's build does not stop on warnings; `make test` (and CI) always does.
WERROR     ?= OFF

.PHONY: all deps build devnet test bench fuzz coverage format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOL_WERROR=$(WERROR) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

devnet: build
ifeq ($(L1),none)
	$(BUILD)/openledgerd --dev $(DEVNET_ARGS)
else
	OPENLEDGERD=$(BUILD)/openledgerd scripts/devnet.sh $(DEVNET_ARGS)
endif

# The test build: ASan + UBSan, any report aborts the test that triggered it.
test: deps
	cmake -S . -B $(TESTBUILD) -DCMAKE_BUILD_TYPE=Debug -DOL_SANITIZE=ON -DOL_WERROR=ON >/dev/null
	cmake --build $(TESTBUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(TESTBUILD) --output-on-failure -j$(JOBS)

bench: build
	OL_DEPS_BENCH=1 scripts/deps.sh
	bench/run all

# The libFuzzer programs only (tests/integration/fuzz_build.sh builds the same).
FUZZ_TARGETS := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DOL_SANITIZE=ON -DOL_FUZZ=ON -DOL_WERROR=ON >/dev/null
	cmake --build build-fuzz -j$(JOBS) --target $(FUZZ_TARGETS)

# Line coverage per module (gcov): builds build-cov, runs the suite (failures
# are reported but do not stop the report), prints the table. Not a gate.
coverage: deps
	cmake -S . -B build-cov -DCMAKE_BUILD_TYPE=Debug -DOL_COVERAGE=ON >/dev/null
	cmake --build build-cov -j$(JOBS)
	find build-cov -name '*.gcda' -delete
	-ctest --test-dir build-cov -j$(JOBS) -E 'release_build|lint/' >build-cov/ctest.log 2>&1
	@grep -E 'tests passed|tests failed' build-cov/ctest.log || true
	python3 scripts/coverage.py build-cov

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TESTBUILD) build-fuzz build-cov
