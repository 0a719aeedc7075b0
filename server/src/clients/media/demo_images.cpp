#include "clients/media/demo_images.hpp"

#include <vips/vips.h>

#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

namespace market::clients {
namespace {

struct ImageUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using Image = std::unique_ptr<VipsImage, ImageUnref>;

void Check(int status) {
  if (status != 0) {
    std::string message = vips_error_buffer();
    vips_error_clear();
    throw std::runtime_error("libvips: " + message);
  }
}

}  // namespace

std::string DrawDemoImage(std::uint32_t seed, int width, int height) {
  Check(VIPS_INIT("marketplace"));
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);

  VipsImage* out = nullptr;
  Check(vips_xyz(&out, width, height, nullptr));
  Image xy(out);

  // Each colour channel runs from one level to another along its own mix of x and y.
  std::vector<Image> channels;
  for (int c = 0; c < 3; ++c) {
    double from = 30 + 190 * unit(random);
    double to = 30 + 190 * unit(random);
    double along_x = unit(random);
    // bandmean halves the sum of the two bands, hence the factor 2.
    double a[2] = {2 * (to - from) / width * along_x, 2 * (to - from) / height * (1 - along_x)};
    double b[2] = {2 * from * along_x, 2 * from * (1 - along_x)};
    Check(vips_linear(xy.get(), &out, a, b, 2, nullptr));
    Image mixed(out);
    Check(vips_bandmean(mixed.get(), &out, nullptr));
    channels.emplace_back(out);
  }
  VipsImage* bands[3] = {channels[0].get(), channels[1].get(), channels[2].get()};
  Check(vips_bandjoin(bands, &out, 3, nullptr));
  Image joined(out);
  Check(vips_cast_uchar(joined.get(), &out, nullptr));
  Image rgb(out);
  // Drawing works in place, on pixels in memory.
  Image canvas(vips_image_copy_memory(rgb.get()));
  if (!canvas) Check(-1);
  int discs = 2 + static_cast<int>(unit(random) * 4);
  for (int i = 0; i < discs; ++i) {
    double ink[3] = {255 * unit(random), 255 * unit(random), 255 * unit(random)};
    int radius = static_cast<int>((0.05 + 0.2 * unit(random)) * height);
    Check(vips_draw_circle(canvas.get(), ink, 3, static_cast<int>(unit(random) * width),
                           static_cast<int>(unit(random) * height), radius, "fill", TRUE, nullptr));
  }
  void* buffer = nullptr;
  size_t length = 0;
  Check(vips_jpegsave_buffer(canvas.get(), &buffer, &length, "Q", 85, nullptr));
  std::string jpeg(static_cast<const char*>(buffer), length);
  g_free(buffer);
  return jpeg;
}

}  // namespace market::clients
