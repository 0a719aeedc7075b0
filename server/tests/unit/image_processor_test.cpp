#include "clients/media/vips_image_processor.hpp"

#include <gtest/gtest.h>

#include <vips/vips.h>
#include <chrono>
#include <thread>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

namespace market::clients {
namespace {

using services::ImageFormat;
using services::ProcessedImage;

struct ImageUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using Image = std::unique_ptr<VipsImage, ImageUnref>;

// The processor initialises libvips; every test builds one before touching vips itself.
const VipsImageProcessor& Processor() {
  static const VipsImageProcessor processor;
  return processor;
}

void Check(int rc) {
  if (rc != 0) {
    std::string message = vips_error_buffer();
    vips_error_clear();
    throw std::runtime_error("vips: " + message);
  }
}

// Runs a vips operation writing its output image through `make(&out)`.
template <class Operation>
Image Make(Operation make) {
  VipsImage* out = nullptr;
  Check(make(&out));
  return Image(out);
}

// An orange picture with a dark square in its top-left corner, so orientation is visible.
Image Picture(int width, int height, int bands = 3) {
  Processor();
  Image black = Make(
      [&](VipsImage** out) { return vips_black(out, width, height, "bands", bands, nullptr); });
  std::array<double, 4> a = {1, 1, 1, 1};
  std::array<double, 4> b = {230, 120, 30, 255};
  Image orange = Make([&](VipsImage** out) {
    return vips_linear(black.get(), out, a.data(), b.data(), bands, "uchar", TRUE, nullptr);
  });
  Image canvas(vips_image_copy_memory(orange.get()));
  Check(canvas ? 0 : -1);
  std::array<double, 4> ink = {10, 10, 10, 255};
  if (vips_draw_rect(canvas.get(), ink.data(), bands, 0, 0, width / 4, height / 4, "fill", TRUE,
                     nullptr) != 0) {
    Check(-1);
  }
  return canvas;
}

// Runs a vips saver writing its output through `save(&buffer, &length)`.
template <class Save>
std::string Encode(Save save) {
  void* buffer = nullptr;
  std::size_t length = 0;
  Check(save(&buffer, &length));
  std::string bytes(static_cast<const char*>(buffer), length);
  g_free(buffer);
  return bytes;
}

std::string Jpeg(VipsImage* image) {
  return Encode([&](void** buffer, std::size_t* length) {
    return vips_jpegsave_buffer(image, buffer, length, "Q", 90, nullptr);
  });
}

std::string Png(VipsImage* image) {
  return Encode([&](void** buffer, std::size_t* length) {
    return vips_pngsave_buffer(image, buffer, length, nullptr);
  });
}

std::string Webp(VipsImage* image) {
  return Encode([&](void** buffer, std::size_t* length) {
    return vips_webpsave_buffer(image, buffer, length, nullptr);
  });
}

// A JPEG carrying EXIF: orientation 6 (the camera was turned: display rotated 90° clockwise)
// and a description that must not survive processing.
constexpr std::string_view kSecret = "Taken at 12 Secret Lane";

Image WithExif(int width, int height) {
  Image picture = Picture(width, height);
  Image tagged = Make([&](VipsImage** out) { return vips_copy(picture.get(), out, nullptr); });
  vips_image_set_int(tagged.get(), VIPS_META_ORIENTATION, 6);
  vips_image_set_string(tagged.get(), "exif-ifd0-ImageDescription", std::string(kSecret).c_str());
  return tagged;
}

std::string JpegWithExif(int width, int height) { return Jpeg(WithExif(width, height).get()); }

struct Decoded {
  std::string loader;
  int width = 0;
  int height = 0;
  int bands = 0;
  bool has_exif = false;
  bool has_xmp = false;
  bool has_icc = false;
  int orientation = 0;
};

Decoded Inspect(const std::string& bytes) {
  Decoded decoded;
  const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  if (loader == nullptr) throw std::runtime_error("not an image");
  decoded.loader = loader;
  Image image(vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr));
  Check(image ? 0 : -1);
  decoded.width = vips_image_get_width(image.get());
  decoded.height = vips_image_get_height(image.get());
  decoded.bands = vips_image_get_bands(image.get());
  decoded.has_exif = vips_image_get_typeof(image.get(), VIPS_META_EXIF_NAME) != 0;
  decoded.has_xmp = vips_image_get_typeof(image.get(), VIPS_META_XMP_NAME) != 0;
  decoded.has_icc = vips_image_get_typeof(image.get(), VIPS_META_ICC_NAME) != 0;
  if (vips_image_get_typeof(image.get(), VIPS_META_ORIENTATION) != 0) {
    vips_image_get_int(image.get(), VIPS_META_ORIENTATION, &decoded.orientation);
  }
  return decoded;
}

// The pixel at (x, y) of an encoded image, band 0.
double PixelAt(const std::string& bytes, int x, int y) {
  Image image(vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr));
  Check(image ? 0 : -1);
  double* values = nullptr;
  int count = 0;
  Check(vips_getpoint(image.get(), &values, &count, x, y, nullptr));
  double value = values[0];
  g_free(values);
  return value;
}

void ExpectWebpWithin(const std::string& bytes, int width, int height) {
  ASSERT_GE(bytes.size(), 12u);
  EXPECT_EQ(bytes.substr(0, 4), "RIFF");
  EXPECT_EQ(bytes.substr(8, 4), "WEBP");
  Decoded decoded = Inspect(bytes);
  EXPECT_EQ(decoded.loader, "VipsForeignLoadWebpBuffer");
  EXPECT_EQ(decoded.width, width);
  EXPECT_EQ(decoded.height, height);
  // libvips 8.14 always writes a minimal EXIF block into WebP; it must carry nothing of ours.
  EXPECT_EQ(bytes.find(kSecret), std::string::npos);
  EXPECT_LE(decoded.orientation, 1) << "upright, whether the tag is absent (0) or says so (1)";
}

void ExpectRefused(const Result<ProcessedImage>& result, std::string_view message_part = "") {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kValidationFailed);
  ASSERT_EQ(result.error().fields.size(), 1u);
  EXPECT_EQ(result.error().fields[0].field, "image");
  EXPECT_NE(result.error().fields[0].message.find(message_part), std::string::npos)
      << result.error().fields[0].message;
  // Whatever vips complained about stays in the process, and is cleared.
  EXPECT_STREQ(vips_error_buffer(), "");
}

std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string BigEndian(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

std::string PngChunk(std::string_view type, std::string_view data) {
  std::string typed = std::string(type) + std::string(data);
  return BigEndian(static_cast<std::uint32_t>(data.size())) + typed + BigEndian(Crc32(typed));
}

// A PNG whose header claims width × height RGB pixels followed by a tiny, valid zlib stream: a
// decoder that trusted the header would allocate for all of them.
std::string PngClaiming(std::uint32_t width, std::uint32_t height) {
  std::string ihdr = BigEndian(width) + BigEndian(height) + std::string("\x08\x02\x00\x00\x00", 5);
  std::string empty_zlib("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
  return std::string("\x89PNG\r\n\x1a\n", 8) + PngChunk("IHDR", ihdr) +
         PngChunk("IDAT", empty_zlib) + PngChunk("IEND", "");
}

TEST(VipsImageProcessor, ReencodesAJpegRotatedUprightWithoutMetadata) {
  std::string jpeg = JpegWithExif(300, 200);
  ASSERT_NE(jpeg.find(kSecret), std::string::npos) << "the fixture must carry the EXIF text";
  ASSERT_EQ(Inspect(jpeg).orientation, 6);

  auto result = Processor().Process(jpeg);
  ASSERT_TRUE(result.ok()) << result.error().fields[0].message;
  EXPECT_EQ(result->format, ImageFormat::kJpeg);
  EXPECT_EQ(result->width, 200);
  EXPECT_EQ(result->height, 300);

  Decoded original = Inspect(result->original);
  EXPECT_EQ(original.loader, "VipsForeignLoadJpegBuffer");
  EXPECT_EQ(original.width, 200);
  EXPECT_EQ(original.height, 300);
  EXPECT_FALSE(original.has_exif);
  EXPECT_FALSE(original.has_xmp);
  EXPECT_EQ(original.orientation, 0);
  EXPECT_EQ(result->original.find(kSecret), std::string::npos);
  EXPECT_EQ(result->original.find("Exif"), std::string::npos);
  ExpectWebpWithin(result->small, 200, 300);
  ExpectWebpWithin(result->large, 200, 300);
  // The dark corner was top-left as stored; turned 90° clockwise it is top-right.
  EXPECT_LT(PixelAt(result->original, 190, 10), 60);
  EXPECT_GT(PixelAt(result->original, 10, 10), 180);
}

TEST(VipsImageProcessor, MakesWebpRenditionsOnTheLongerSide) {
  Image picture = Picture(3000, 2000);
  auto result = Processor().Process(Jpeg(picture.get()));
  ASSERT_TRUE(result.ok()) << result.error().fields[0].message;
  EXPECT_EQ(result->width, 3000);
  EXPECT_EQ(result->height, 2000);
  ExpectWebpWithin(result->small, 400, 267);
  ExpectWebpWithin(result->large, 1200, 800);

  Image portrait = Picture(1000, 2500);
  auto tall = Processor().Process(Png(portrait.get()));
  ASSERT_TRUE(tall.ok());
  ExpectWebpWithin(tall->small, 160, 400);
  ExpectWebpWithin(tall->large, 480, 1200);
}

TEST(VipsImageProcessor, NeverUpscalesASmallImage) {
  Image picture = Picture(300, 200);
  auto result = Processor().Process(Jpeg(picture.get()));
  ASSERT_TRUE(result.ok());
  ExpectWebpWithin(result->small, 300, 200);
  ExpectWebpWithin(result->large, 300, 200);
}

TEST(VipsImageProcessor, KeepsPngAsPngWithItsAlpha) {
  Image picture = Picture(640, 480, 4);
  auto result = Processor().Process(Png(picture.get()));
  ASSERT_TRUE(result.ok()) << result.error().fields[0].message;
  EXPECT_EQ(result->format, ImageFormat::kPng);
  Decoded original = Inspect(result->original);
  EXPECT_EQ(original.loader, "VipsForeignLoadPngBuffer");
  EXPECT_EQ(original.width, 640);
  EXPECT_EQ(original.height, 480);
  EXPECT_EQ(original.bands, 4);
  EXPECT_FALSE(original.has_exif);
  ExpectWebpWithin(result->small, 400, 300);
}

TEST(VipsImageProcessor, StoresSixteenBitPngAsEightBit) {
  Image picture = Picture(100, 80);
  Image wide = Make(
      [&](VipsImage** out) { return vips_cast(picture.get(), out, VIPS_FORMAT_USHORT, nullptr); });
  Image scaled =
      Make([&](VipsImage** out) { return vips_linear1(wide.get(), out, 256.0, 0.0, nullptr); });
  Image cast = Make(
      [&](VipsImage** out) { return vips_cast(scaled.get(), out, VIPS_FORMAT_USHORT, nullptr); });
  Image sixteen = Make([&](VipsImage** out) {
    return vips_copy(cast.get(), out, "interpretation", VIPS_INTERPRETATION_RGB16, nullptr);
  });
  std::string png = Png(sixteen.get());
  ASSERT_EQ(png[24], 16) << "the fixture must be 16 bits per sample";

  auto result = Processor().Process(png);
  ASSERT_TRUE(result.ok()) << result.error().fields[0].message;
  EXPECT_EQ(result->original[24], 8);
  EXPECT_GT(PixelAt(result->original, 90, 70), 200);
}

TEST(VipsImageProcessor, KeepsWebpAsWebpUprightWithoutItsMetadata) {
  std::string webp = Webp(WithExif(600, 800).get());
  ASSERT_NE(webp.find(kSecret), std::string::npos) << "the fixture must carry the EXIF text";
  auto result = Processor().Process(webp);
  ASSERT_TRUE(result.ok()) << result.error().fields[0].message;
  EXPECT_EQ(result->format, ImageFormat::kWebp);
  EXPECT_EQ(result->width, 800);
  ExpectWebpWithin(result->original, 800, 600);
  ExpectWebpWithin(result->small, 400, 300);
  ExpectWebpWithin(result->large, 800, 600);
}

TEST(VipsImageProcessor, RefusesTruncatedImages) {
  Image picture = Picture(600, 400);
  std::string jpeg = Jpeg(picture.get());
  ExpectRefused(Processor().Process(std::string_view(jpeg).substr(0, jpeg.size() / 2)),
                "damaged or incomplete");
  std::string png = Png(picture.get());
  ExpectRefused(Processor().Process(std::string_view(png).substr(0, png.size() / 2)));
  std::string webp = Webp(picture.get());
  ExpectRefused(Processor().Process(std::string_view(webp).substr(0, webp.size() / 2)));
}

TEST(VipsImageProcessor, RefusesFormatsOtherThanJpegPngAndWebp) {
  Image picture = Picture(64, 64);
  std::string gif = Encode([&](void** buffer, std::size_t* length) {
    return vips_gifsave_buffer(picture.get(), buffer, length, nullptr);
  });
  ASSERT_EQ(gif.substr(0, 3), "GIF");
  ExpectRefused(Processor().Process(gif), "JPEG, PNG or WebP");

  std::string tiff = Encode([&](void** buffer, std::size_t* length) {
    return vips_tiffsave_buffer(picture.get(), buffer, length, nullptr);
  });
  ExpectRefused(Processor().Process(tiff), "JPEG, PNG or WebP");

  std::string svg = R"(<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">)"
                    R"(<rect width="64" height="64" fill="red"/></svg>)";
  ASSERT_NE(vips_foreign_find_load_buffer(svg.data(), svg.size()), nullptr)
      << "vips would load this SVG if asked";
  ExpectRefused(Processor().Process(svg), "JPEG, PNG or WebP");
}

TEST(VipsImageProcessor, RefusesTextEmptyAndRandomBytes) {
  ExpectRefused(Processor().Process("name,price\nshoe,12.50\n"), "JPEG, PNG or WebP");
  ExpectRefused(Processor().Process(""), "JPEG, PNG or WebP");
  std::mt19937 generator(42);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(generator());
  ExpectRefused(Processor().Process(noise));
  // Random bytes behind a valid signature get past sniffing and must fail in the decoder.
  ExpectRefused(Processor().Process("\xff\xd8\xff\xe0" + noise), "damaged or incomplete");
  ExpectRefused(Processor().Process(std::string("\x89PNG\r\n\x1a\n", 8) + noise));
}

TEST(VipsImageProcessor, RefusesADecompressionBombFromItsHeader) {
  // Refused for its size, not for its (absent) pixels: the limit is checked before decoding.
  ExpectRefused(Processor().Process(PngClaiming(100000, 100000)), "megapixels");
  ExpectRefused(Processor().Process(PngClaiming(12001, 10)), "megapixels");
  ExpectRefused(Processor().Process(PngClaiming(7000, 7000)), "megapixels");
  // Within the limits the same forgery gets as far as decoding, and fails there.
  ExpectRefused(Processor().Process(PngClaiming(100, 100)), "damaged or incomplete");
}

// libvips registers every live object in a global table, which keeps a forgotten image reachable
// and so invisible to LeakSanitizer: count them instead.
int LiveVipsObjects() {
  int count = 0;
  vips_object_map(
      [](void*, void* counter, void*) -> void* {
        ++*static_cast<int*>(counter);
        return nullptr;
      },
      &count, nullptr);
  return count;
}

TEST(VipsImageProcessor, ReleasesEveryImageAndPixelBufferItMade) {
  std::string jpeg = JpegWithExif(900, 600);
  Image picture = Picture(500, 300, 4);
  std::string png = Png(picture.get());
  std::string webp = Webp(picture.get());
  auto run_all = [&] {
    EXPECT_TRUE(Processor().Process(jpeg).ok());
    EXPECT_TRUE(Processor().Process(png).ok());
    EXPECT_TRUE(Processor().Process(webp).ok());
    EXPECT_FALSE(Processor().Process(std::string_view(jpeg).substr(0, jpeg.size() / 2)).ok());
    EXPECT_FALSE(Processor().Process(std::string_view(png).substr(0, png.size() / 2)).ok());
    EXPECT_FALSE(Processor().Process(PngClaiming(100000, 100000)).ok());
    EXPECT_FALSE(Processor().Process("not an image").ok());
  };
  run_all();  // first use creates libvips' own singletons
  int objects = LiveVipsObjects();
  std::size_t memory = vips_tracked_get_mem();
  int allocations = vips_tracked_get_allocs();
  for (int i = 0; i < 3; ++i) run_all();
  // libvips' worker threads hand their pixel buffers back asynchronously after a call returns:
  // wait (with a deadline) for the counts to settle before comparing them exactly.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((vips_tracked_get_mem() != memory || vips_tracked_get_allocs() != allocations) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(LiveVipsObjects(), objects);
  EXPECT_EQ(vips_tracked_get_mem(), memory);
  EXPECT_EQ(vips_tracked_get_allocs(), allocations);
}

TEST(VipsImageProcessor, AppliesConfiguredLimits) {
  VipsImageProcessor strict(ImageLimits{.max_side = 500, .max_pixels = 100'000});
  Image wide = Picture(501, 10);
  ExpectRefused(strict.Process(Png(wide.get())), "500 pixels");
  Image square = Picture(400, 400);
  ExpectRefused(strict.Process(Png(square.get())), "megapixels");
  Image fits = Picture(300, 300);
  EXPECT_TRUE(strict.Process(Png(fits.get())).ok());
}

}  // namespace
}  // namespace market::clients
