# hearsay: the two commands of the README, and a few more.
#   make demo          installs what is missing, builds, runs the 8-peer demo on an emulated slow ring
#   make test          installs what is missing, builds, runs every test
#   make sanitize      parsers and bad-payload tests under ASan+UBSan
#   make tsan          transport, emulator, peer, launcher and peer-pool tests under ThreadSanitizer
#   make fuzz          libFuzzer targets, FUZZ_SECONDS each (default 60), under ASan+UBSan
#   make format-check  clang-format --dry-run -Werror over the tracked sources
#   make reproduce     regenerates docs/results/*.md: the papers' results in the simulator
#                      (make reproduce-NAME for one: tang, choco, natural, topology, diloco)
BUILD     ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS      ?= $(shell nproc)
CMAKE_ARGS ?=
OUT       ?= results/demo
PYTHON    ?= /usr/bin/python3

.PHONY: all deps ci-deps configure build demo test sanitize tsan fuzz bench format format-check clean \
        reproduce

all: build

deps:
	@bash scripts/bootstrap.sh

ci-deps:
	@bash scripts/bootstrap.sh --ci

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: configure
	@cmake --build $(BUILD) -j $(JOBS) --target hearsay
	./$(BUILD)/apps/hearsay launch examples/demo.yaml --out $(OUT)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The papers' results (reproduce/, docs/results/): each reproduction launches its experiment
# files in the simulator and writes docs/results/NAME.md with its plots. An unknown NAME is an
# error listing the valid ones.
reproduce: configure
	@cmake --build $(BUILD) -j $(JOBS) --target hearsay
	$(PYTHON) reproduce/run.py --hearsay $(BUILD)/apps/hearsay all

reproduce-%: configure
	@cmake --build $(BUILD) -j $(JOBS) --target hearsay
	$(PYTHON) reproduce/run.py --hearsay $(BUILD)/apps/hearsay $*

# Everything that parses untrusted bytes or files -- codec payloads, network frames, topology
# files, replay logs -- and the algorithms' bad-payload handling, plus the simulator's own data
# structures (event queue, link model, Fifo), under AddressSanitizer +
# UndefinedBehaviorSanitizer: bad input must never read or write out of bounds.
SANITIZED_TESTS = compressors/compressors_test runtime/transport/transport_test \
                  topology/topology_test runtime/algorithms/algorithms_test \
                  runtime/sim/simulator_test common/common_test
sanitize: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHEARSAY_SANITIZE=ON \
	  -DHEARSAY_CUDA=OFF -DHEARSAY_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target $(notdir $(SANITIZED_TESTS))
	@set -e; for t in $(SANITIZED_TESTS); do echo "== $$t (ASan+UBSan)"; \
	  HEARSAY_SOURCE_DIR=$(CURDIR) ./$(ASAN_BUILD)/tests/$$t --gtest_brief=1; done

# Everything with threads -- transports, emulator, peer loop, launcher (which runs `hearsay peer`
# children, built with TSan too) -- under ThreadSanitizer. Each binary is bounded in time.
TSAN_TESTS = runtime/transport/transport_test runtime/emulator/emulator_test \
             runtime/peer/peer_test runtime/peer/launcher_process_test
tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEARSAY_TSAN=ON \
	  -DHEARSAY_CUDA=OFF -DHEARSAY_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(notdir $(TSAN_TESTS)) launch_test hearsay
	@set -e; for t in $(TSAN_TESTS); do echo "== $$t (ThreadSanitizer)"; \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" HEARSAY_SOURCE_DIR=$(CURDIR) \
	  timeout 900 ./$(TSAN_BUILD)/tests/$$t --gtest_brief=1; done
	@echo "== runtime/launch/launch_test: the in-process peer pool (ThreadSanitizer)"; \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" HEARSAY_SOURCE_DIR=$(CURDIR) \
	  timeout 900 ./$(TSAN_BUILD)/tests/runtime/launch/launch_test --gtest_brief=1 \
	  --gtest_filter='PeerPool.*:*InProcFaults*:*RejoinRuns*inproc*'

# libFuzzer targets (fuzz/, docs/fuzzing.md): clang-14 builds every library instrumented, then
# fuzz/run.sh runs each target FUZZ_SECONDS under ASan+UBSan from the seed corpus fuzz/corpus/.
FUZZ_TARGETS = frame_fuzz codec_fuzz topology_fuzz experiment_fuzz libsvm_fuzz
fuzz: ci-deps
	@CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DHEARSAY_FUZZ=ON -DHEARSAY_CUDA=OFF -DHEARSAY_BUILD_TESTS=OFF -DHEARSAY_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)
	@bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: build
	@echo "Benchmarks are in $(BUILD)/bench/; see bench/README.md"

format:
	@git ls-files '*.h' '*.cc' '*.cu' '*.cuh' | xargs clang-format -i

format-check: ci-deps
	@git ls-files '*.h' '*.cc' '*.cu' '*.cuh' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
