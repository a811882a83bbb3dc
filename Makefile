# make demo | make test | make bench: each installs what is missing (Debian 12), builds, runs.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=
ISOSCOPE := $(BUILD)/native/isoscope

# Debian packages: to build, to test (references and real tools), to benchmark.
# npm only where there is no npm command (nodesource's nodejs has its own and conflicts with
# Debian's): tools/ci/node.sh uses it once to install the Node and npm pinned in tools/node.
NPM_IF_MISSING := $(if $(shell command -v npm 2>/dev/null),,npm)
PKGS_BUILD := cmake make g++ pkg-config libmsgpack-cxx-dev libcli11-dev \
              nlohmann-json3-dev libcpp-httplib-dev libyaml-cpp-dev \
              prometheus-cpp-dev libssl-dev libcrypt-dev zlib1g-dev
PKGS_TEST  := libgtest-dev libgmock-dev python3 python3-numpy python3-sklearn python3-msgpack python3-yaml \
              clang-format prometheus curl openssl apache2-utils python3-bcrypt strace util-linux \
              clang libclang-rt-14-dev emscripten nodejs $(NPM_IF_MISSING) chromium fonts-dejavu-core \
              lintian systemd dpkg-dev victoria-metrics iproute2 zip unzip wrk time
PKGS_BENCH := libbenchmark-dev python3 python3-numpy python3-sklearn time prometheus curl wrk chromium \
              fonts-dejavu-core
PKGS_DEMO  := curl
# The WebAssembly core and the panel / what-if page (npm packages come from the lockfile).
PKGS_PANEL := emscripten nodejs $(NPM_IF_MISSING) libmsgpack-cxx-dev zip
PKGS_FUZZ  := clang libclang-rt-14-dev
# make deb: CPack's DEB generator (dpkg-shlibdeps) and the checks of the package.
PKGS_DEB   := dpkg-dev lintian systemd

.PHONY: all build deb deps-deb panel-zip demo test test-asan bench image panel deps-build deps-test deps-bench deps-demo deps-panel deps-fuzz fuzz format format-check clean

all: build

deps-build:
	@tools/ci/install_deps.sh $(PKGS_BUILD)

deps-test: deps-build
	@tools/ci/install_deps.sh $(PKGS_TEST)

deps-demo: deps-build
	@tools/ci/install_deps.sh $(PKGS_DEMO)

deps-panel: deps-build
	@tools/ci/install_deps.sh $(PKGS_PANEL)

deps-bench: deps-build
	@tools/ci/install_deps.sh $(PKGS_BENCH)

deps-deb: deps-build
	@tools/ci/install_deps.sh $(PKGS_DEB)

deps-fuzz: deps-build
	@tools/ci/install_deps.sh $(PKGS_FUZZ)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps-build $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# make demo: the offline demo, then `isoscope serve` on the same history (no Prometheus) until
# Ctrl-C; DEMO_SERVE_SECONDS=N stops it after N seconds (tools/demo_serve.sh lists the rest).
DEMO_SERVE_SECONDS ?=
demo: deps-demo build panel
	$(ISOSCOPE) demo --out-dir $(BUILD)/demo
	DEMO_SERVE_SECONDS=$(DEMO_SERVE_SECONDS) tools/demo_serve.sh $(ISOSCOPE) $(BUILD)/demo

# make test: the tests on the release build, then the same tests (without the style checks) on
# an ASan + UBSan build in $(SAN_BUILD), failing on any sanitizer report. SANITIZE=0 skips that.
SAN_BUILD ?= build-asan
SANITIZE ?= 1
# make panel: the core in WebAssembly (wasm/build.sh) and wasm/panel's dist (npm ci, webpack):
# the Grafana plugin and the what-if page that isoscope serve shows at /.
panel: deps-panel build
	JOBS=$(JOBS) wasm/build.sh $(BUILD)/wasm
	tests/panel/panel_step.sh deps $(BUILD) $(ISOSCOPE)
	tests/panel/panel_step.sh build $(BUILD) $(ISOSCOPE)

# make panel-zip: the Grafana plugin archive $(BUILD)/isoscope-whatif-panel-<version>.zip
# (packaging/panel_zip.sh; version from CMakeLists.txt, date from the last commit).
panel-zip: panel
	packaging/panel_zip.sh $(BUILD)/panel/dist $(BUILD) $(VERSION)

test: deps-test
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DISOSCOPE_BUILD_TESTS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -LE Benchmark
	@if [ "$(SANITIZE)" = 1 ]; then tools/ci/sanitize_test.sh $(SAN_BUILD) $(JOBS) $(CMAKE_FLAGS); fi

test-asan: deps-test
	tools/ci/sanitize_test.sh $(SAN_BUILD) $(JOBS) $(CMAKE_FLAGS)

bench: deps-bench build panel
	cmake -S . -B $(BUILD) -DISOSCOPE_BUILD_BENCH=ON
	cmake --build $(BUILD) -j$(JOBS) --target isoscope_bench isoscope_stream_bench isoscope
	/usr/bin/python3 tools/bench/run_bench.py --build $(BUILD)
	tools/bench/fleet_bench.sh $(BUILD)
	tests/panel/panel_step.sh bench $(BUILD) $(ISOSCOPE) $(BUILD)/tests/bench/isoscope_bench

# make fuzz: the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) in their own build dir,
# each run FUZZ_SECONDS on a scratch copy of its corpus; executions and findings per target.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= bundle_decode prom_json config csv http_request
fuzz: deps-fuzz
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DISOSCOPE_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(addsuffix _fuzzer,$(FUZZ_TARGETS))
	tools/fuzz/run_fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# make image: the container (Dockerfile; needs a Docker engine, which tests do not have), tagged
# with the version of CMakeLists.txt and the commit: isoscope:0.1.0 and isoscope:0.1.0-<commit>.
IMAGE ?= isoscope
DOCKER ?= docker
VERSION := $(shell sed -n 's/^project.isoscope VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
image:
	$(DOCKER) build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) \
	  -t $(IMAGE):$(VERSION) -t $(IMAGE):$(VERSION)-$(COMMIT) .

# make deb: isoscope_<version>_amd64.deb in $(DEB_BUILD)/deb (packaging/): a build with Debian's
# hardening flags (dpkg-buildflags; CMake ignores CPPFLAGS, so they go into CXXFLAGS), the
# what-if page from make panel, a systemd unit, /etc/isoscope/isoscope.yml and /etc/default/isoscope.
DEB_BUILD ?= build-deb
deb: deps-deb panel
	export DEB_BUILD_MAINT_OPTIONS=hardening=+all; eval "$$(dpkg-buildflags --export=sh)"; \
	  CXXFLAGS="$$CPPFLAGS $$CXXFLAGS" cmake -S . -B $(DEB_BUILD) -DCMAKE_BUILD_TYPE=Release \
	    -DISOSCOPE_UI_DIR=$(abspath $(BUILD))/panel/dist $(CMAKE_FLAGS) && \
	  cmake --build $(DEB_BUILD) -j$(JOBS) --target isoscope package_docs
	cd $(DEB_BUILD) && cpack -G DEB
	@ls -l $(DEB_BUILD)/deb/isoscope_*.deb

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD)
