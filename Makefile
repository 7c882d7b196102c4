# Targets people expect. The README's test command is `go test ./...`;
# `make test` adds the race detector and shuffling (needs a C compiler).
GO ?= go
FUZZTIME ?= 60s

.PHONY: test check fuzz bench build
build:
	$(GO) build -o tidings ./cmd/tidings

test:
	$(GO) test -race -shuffle=on ./...

check:
	gofmt -l . | (! grep .)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Each fuzz target for FUZZTIME; new crashers land in testdata/fuzz.
fuzz:
	$(GO) test ./mailin -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mailin -run '^$$' -fuzz '^FuzzThread$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mailin -run '^$$' -fuzz '^FuzzMbox$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mailin -run '^$$' -fuzz '^FuzzNormalizeBody$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mailin -run '^$$' -fuzz '^FuzzForward$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mailin -run '^$$' -fuzz '^FuzzSplitReply$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mailin -run '^$$' -fuzz '^FuzzReturnPath$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mailout -run '^$$' -fuzz '^FuzzCompose$$' -fuzztime $(FUZZTIME)
	$(GO) test ./digest -run '^$$' -fuzz '^FuzzNewText$$' -fuzztime $(FUZZTIME)
	$(GO) test ./templates -run '^$$' -fuzz '^FuzzMarkdown$$' -fuzztime $(FUZZTIME)
	$(GO) test ./templates -run '^$$' -fuzz '^FuzzWrapText$$' -fuzztime $(FUZZTIME)
	$(GO) test ./links -run '^$$' -fuzz '^FuzzCheckToken$$' -fuzztime $(FUZZTIME)
	$(GO) test ./links -run '^$$' -fuzz '^FuzzSplitAddress$$' -fuzztime $(FUZZTIME)

bench:
	bash bench/run.sh
