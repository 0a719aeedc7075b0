#pragma once

#include <cstdint>
#include <string>

namespace market::clients {

// A JPEG of `width`×`height` drawn with libvips from `seed`: a two-colour gradient with a few
// discs, so that demo listings have distinct pictures without any download. Throws
// std::runtime_error if libvips fails.
std::string DrawDemoImage(std::uint32_t seed, int width = 960, int height = 720);

}  // namespace market::clients
