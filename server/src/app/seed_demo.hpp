#pragma once

#include "app/config.hpp"

namespace market::app {

// `marketplace seed-demo`: demo sellers and buyers (password kDemoPassword) and a few hundred
// listings with pictures drawn by libvips. Does nothing if the demo accounts already exist.
int SeedDemo(const Config& config);

inline constexpr const char* kDemoPassword = "marketplace-demo";

}  // namespace market::app
