# hearsay: the two commands of the README, and a few more.
#   make demo   installs what is missing, builds, runs the 8-peer demo on an emulated slow ring
#   make test   installs what is missing, builds, runs every test
BUILD     ?= build
ASAN_BUILD ?= build-asan
JOBS      ?= $(shell nproc)
CMAKE_ARGS ?=
OUT       ?= results/demo

.PHONY: all deps configure build demo test sanitize bench format clean

all: build

deps:
	@bash scripts/bootstrap.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: configure
	@cmake --build $(BUILD) -j $(JOBS) --target hearsay
	./$(BUILD)/apps/hearsay launch examples/demo.yaml --out $(OUT)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# Everything that parses untrusted bytes or files -- codec payloads, network frames, topology
# files -- and the algorithms' bad-payload handling, under AddressSanitizer +
# UndefinedBehaviorSanitizer: bad input must never read or write out of bounds.
SANITIZED_TESTS = compressors/compressors_test runtime/transport/transport_test \
                  topology/topology_test runtime/algorithms/algorithms_test
sanitize: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHEARSAY_SANITIZE=ON \
	  -DHEARSAY_CUDA=OFF -DHEARSAY_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target $(notdir $(SANITIZED_TESTS))
	@set -e; for t in $(SANITIZED_TESTS); do echo "== $$t (ASan+UBSan)"; \
	  HEARSAY_SOURCE_DIR=$(CURDIR) ./$(ASAN_BUILD)/tests/$$t --gtest_brief=1; done

bench: build
	@echo "Benchmarks are in $(BUILD)/bench/; see bench/README.md"

format:
	@git ls-files '*.h' '*.cc' '*.cu' '*.cuh' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
