# The two commands: `make run` and `make test`. Everything else is a step of theirs.
.PHONY: run test build build-asan test-asan services-up services-down format clean

run:
	@scripts/run

test:
	@scripts/test

build:
	@scripts/build release

build-asan:
	@scripts/build asan

# The unit and db suites under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan:
	@SUITES="asan" scripts/test

services-up:
	@scripts/services up

services-down:
	@scripts/services down

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
