#pragma once

#include <string_view>

namespace market::app {

// api/openapi.yaml, embedded at build time so the binary serves the contract it was built with.
std::string_view OpenApiYaml();

}  // namespace market::app
