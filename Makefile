# The two commands: `make run` and `make test`. Everything else is a step of theirs.
.PHONY: run test build build-asan build-web test-asan test-web services-up services-down format clean

run:
	@scripts/run

test:
	@scripts/test

build:
	@scripts/build release

build-asan:
	@scripts/build asan

# The web app into web/dist (what the server serves), with .br/.gz copies and hidden source maps.
build-web:
	@cd web && npm run --silent build

# The unit and db suites under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan:
	@SUITES="asan" scripts/test

# The web suite (schema drift, types, lint, vitest) and the Playwright flows.
test-web:
	@SUITES="web e2e" scripts/test

services-up:
	@scripts/services up

services-down:
	@scripts/services down

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
