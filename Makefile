# nicbed — the few commands a user needs. See README.md.
GO       ?= go
FUZZTIME ?= 30s
BIN      := bin/nicbed

.PHONY: all deps build test demo fuzz bench clean

all: build

# deps installs what the project needs on a fresh Debian 12 (run as root for
# the apt part: ping for the tests with Linux as the peer, curl and iperf3
# for the services' tests; QEMU 10 from bookworm-backports and Debian's
# kernel, extracted into .cache/, for the VM tests: initramfs/deps.sh). It is
# idempotent and fast when everything is there.
deps:
	@command -v $(GO) >/dev/null || { echo "nicbed: Go 1.26 is needed (https://go.dev/dl/)"; exit 1; }
	@command -v ping >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iputils-ping >/dev/null; } || \
	  { echo "nicbed: the tests with Linux as the peer need ping: apt-get install iputils-ping"; exit 1; }
	@command -v curl >/dev/null && command -v iperf3 >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl iperf3 >/dev/null; } || \
	  { echo "nicbed: the services' tests need curl and iperf3: apt-get install curl iperf3"; exit 1; }
	./initramfs/deps.sh
	$(GO) mod download

build: deps
	$(GO) build -o $(BIN) ./cmd/nicbed

# test runs every test: formatting, vet, the unit and integration tests, the
# VM tests (QEMU's e1000 and igb driven by nicbed through VFIO; they print
# their boot times), and
# the race detector on the packages with concurrent code (the real-time
# clock and its Post path, the TAP and AF_PACKET ports of hw/wire) and on two
# e1000 hosts on the real clock.
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v /vmtests)
	$(GO) test -count=1 -timeout 10m -v ./vmtests/
	$(GO) test -count=1 -race -timeout 10m ./kernelmodel/... ./hw/...
	$(GO) test -count=1 -race -timeout 5m -run RealClock ./testbed/ ./stack/inet/
	$(GO) test -count=1 -tags nicbed_debug ./kernelmodel/

demo: build
	./$(BIN) demo --nic e1000

# fuzz runs each native Go fuzz target for FUZZTIME (default 30s).
fuzz: deps
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
	  pkg=$$(dirname $$f); \
	  for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
	    echo "== $$t ($$pkg, $(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

bench: deps
	$(GO) test -run='^$$' -bench=. -benchmem ./...

clean:
	rm -rf bin
	$(GO) clean -testcache
