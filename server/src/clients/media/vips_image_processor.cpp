#include "clients/media/vips_image_processor.hpp"

#include <vips/vips.h>

#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace market::clients {
namespace {

using services::ImageFormat;
using services::ProcessedImage;

constexpr int kSmallSide = 400;
constexpr int kLargeSide = 1200;
constexpr int kJpegQuality = 85;
constexpr int kPngCompression = 6;
constexpr int kWebpQuality = 85;
constexpr int kRenditionQuality = 80;

constexpr std::string_view kNotAnImage = "must be a JPEG, PNG or WebP image";
constexpr std::string_view kUndecodable = "could not be decoded: the file is damaged or incomplete";
constexpr std::string_view kUnprocessable = "could not be processed";

struct ImageUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using Image = std::unique_ptr<VipsImage, ImageUnref>;

// libvips reports every damaged tile of a bad upload as a GLib warning on stderr: for us that is
// an expected, already-handled outcome, so it goes to the debug log instead.
void LogVipsMessage(const gchar* /*domain*/, GLogLevelFlags /*level*/, const gchar* message,
                    gpointer /*data*/) {
  try {
    spdlog::debug("libvips: {}", message != nullptr ? message : "");
  } catch (...) {
    // Called from C: nothing may escape.
  }
}

void InitialiseVipsOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("marketplace") != 0) {
      throw std::runtime_error("libvips failed to initialise: " + std::string(vips_error_buffer()));
    }
    // Calls run on a small pool of our own: one vips worker per call keeps the pool the only
    // knob for CPU use.
    vips_concurrency_set(1);
    // The operation cache would keep decoded uploads alive across calls; nothing here is reused.
    vips_cache_set_max(0);
    // Loaders flagged untrusted (ImageMagick, PDF, …) can never run, whatever a buffer claims
    // to be. We only call our three loaders by name, so this is defence in depth.
    vips_block_untrusted_set(TRUE);
    g_log_set_handler("VIPS",
                      static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE |
                                                  G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG),
                      LogVipsMessage, nullptr);
  });
}

// The vips error buffer is one for the process, shared by concurrent calls: its text is only ever
// logged, never decided on, and it is taken and cleared in one locked step.
std::string TakeVipsError() {
  char* text = vips_error_buffer_copy();
  std::string message = text != nullptr ? text : "";
  g_free(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

// Bad input is the expected failure here: what vips said goes to the log for us, the client gets
// a plain sentence that reveals nothing about the decoder.
Error Refuse(std::string_view message) {
  std::string detail = TakeVipsError();
  if (!detail.empty()) spdlog::debug("image refused ({}): {}", message, detail);
  return ValidationError({{"image", std::string(message)}});
}

std::optional<ImageFormat> DetectFormat(std::string_view bytes) {
  // Sniffers only read a few bytes; the decision is then ours, from an allow-list.
  const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  vips_error_clear();
  if (loader == nullptr) return std::nullopt;
  std::string_view name = loader;
  if (name == "VipsForeignLoadJpegBuffer") return ImageFormat::kJpeg;
  if (name == "VipsForeignLoadPngBuffer") return ImageFormat::kPng;
  if (name == "VipsForeignLoadWebpBuffer") return ImageFormat::kWebp;
  return std::nullopt;
}

// Reads the header only: sequential access defers decoding to the first pixel read. fail_on
// ERROR makes truncation and decoder errors fail that read instead of yielding grey pixels.
Image OpenHeader(std::string_view bytes, ImageFormat format) {
  void* data = const_cast<char*>(bytes.data());
  VipsImage* out = nullptr;
  int rc = -1;
  switch (format) {
    case ImageFormat::kJpeg:
      rc = vips_jpegload_buffer(data, bytes.size(), &out, "access", VIPS_ACCESS_SEQUENTIAL,
                                "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
      break;
    case ImageFormat::kPng:
      rc = vips_pngload_buffer(data, bytes.size(), &out, "access", VIPS_ACCESS_SEQUENTIAL,
                               "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
      break;
    case ImageFormat::kWebp:
      rc = vips_webpload_buffer(data, bytes.size(), &out, "access", VIPS_ACCESS_SEQUENTIAL,
                                "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
      break;
  }
  return Image(rc == 0 ? out : nullptr);
}

// Everything leaves as 8-bit sRGB (or greyscale) with no profile: metadata is stripped on save,
// and stripping a wide-gamut profile (phones embed Display P3) without converting would shift
// the colours. A profile that cannot be applied is ignored rather than refusing the photo.
Image ToSrgb(Image image) {
  VipsImage* out = nullptr;
  if (vips_image_get_typeof(image.get(), VIPS_META_ICC_NAME) != 0) {
    if (vips_icc_transform(image.get(), &out, "srgb", "embedded", TRUE, nullptr) == 0) {
      image.reset(out);
    } else {
      spdlog::debug("image: embedded colour profile ignored: {}", TakeVipsError());
    }
  }
  VipsInterpretation interpretation = vips_image_guess_interpretation(image.get());
  bool eight_bit = vips_image_get_format(image.get()) == VIPS_FORMAT_UCHAR;
  if (!eight_bit ||
      (interpretation != VIPS_INTERPRETATION_sRGB && interpretation != VIPS_INTERPRETATION_B_W)) {
    VipsInterpretation target =
        vips_image_get_bands(image.get()) <= 2 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
    if (vips_colourspace(image.get(), &out, target, nullptr) != 0) return Image();
    image.reset(out);
  }
  if (vips_image_get_format(image.get()) != VIPS_FORMAT_UCHAR) {
    if (vips_cast_uchar(image.get(), &out, nullptr) != 0) return Image();
    image.reset(out);
  }
  return image;
}

// Nothing the camera or the editor wrote may leave with the image: GPS position, serial numbers,
// an EXIF thumbnail of the uncropped photo. "strip" alone is not enough in libvips 8.14: webpsave
// still writes an EXIF block rebuilt from the image's fields, so the fields themselves go.
Image WithoutMetadata(VipsImage* image) {
  VipsImage* out = nullptr;
  if (vips_copy(image, &out, nullptr) != 0) return Image();
  Image copy(out);
  gchar** fields = vips_image_get_fields(copy.get());
  // Header fields (width, bands, …) are not metadata and are left alone by vips_image_remove.
  for (gchar** field = fields; *field != nullptr; ++field) vips_image_remove(copy.get(), *field);
  g_strfreev(fields);
  return copy;
}

std::optional<std::string> TakeBuffer(int rc, void* buffer, std::size_t length) {
  if (rc != 0) return std::nullopt;
  std::string bytes(static_cast<const char*>(buffer), length);
  g_free(buffer);
  return bytes;
}

std::optional<std::string> Encode(VipsImage* image, ImageFormat format) {
  void* buffer = nullptr;
  std::size_t length = 0;
  int rc = -1;
  switch (format) {
    case ImageFormat::kJpeg:
      rc = vips_jpegsave_buffer(image, &buffer, &length, "Q", kJpegQuality, "strip", TRUE,
                                "optimize_coding", TRUE, nullptr);
      break;
    case ImageFormat::kPng:
      rc = vips_pngsave_buffer(image, &buffer, &length, "compression", kPngCompression, "strip",
                               TRUE, nullptr);
      break;
    case ImageFormat::kWebp:
      rc = vips_webpsave_buffer(image, &buffer, &length, "Q", kWebpQuality, "strip", TRUE, nullptr);
      break;
  }
  return TakeBuffer(rc, buffer, length);
}

std::optional<std::string> Rendition(VipsImage* image, int longer_side) {
  VipsImage* out = nullptr;
  // A box of longer_side × longer_side bounds the longer side whatever the orientation; DOWN
  // leaves a smaller image at its own size.
  if (vips_thumbnail_image(image, &out, longer_side, "height", longer_side, "size", VIPS_SIZE_DOWN,
                           nullptr) != 0) {
    return std::nullopt;
  }
  Image thumbnail(out);
  void* buffer = nullptr;
  std::size_t length = 0;
  int rc = vips_webpsave_buffer(thumbnail.get(), &buffer, &length, "Q", kRenditionQuality, "strip",
                                TRUE, nullptr);
  return TakeBuffer(rc, buffer, length);
}

}  // namespace

VipsImageProcessor::VipsImageProcessor(ImageLimits limits) : limits_(limits) {
  InitialiseVipsOnce();
}

Result<ProcessedImage> VipsImageProcessor::Process(std::string_view bytes) const {
  std::optional<ImageFormat> format = DetectFormat(bytes);
  if (!format) return Refuse(kNotAnImage);

  Image header = OpenHeader(bytes, *format);
  if (!header) return Refuse(kUndecodable);
  long long width = vips_image_get_width(header.get());
  long long height = vips_image_get_height(header.get());
  if (width > limits_.max_side || height > limits_.max_side ||
      width * height > limits_.max_pixels) {
    return Refuse(fmt::format("must be at most {} pixels on each side and {:g} megapixels in total",
                              limits_.max_side, static_cast<double>(limits_.max_pixels) / 1e6));
  }

  Image converted = ToSrgb(std::move(header));
  if (!converted) return Refuse(kUndecodable);
  // The one full decode: every pixel is read here, so truncation and corrupt data fail now, and
  // the three encodes below (and rotation, which needs random access) work from memory.
  Image decoded(vips_image_copy_memory(converted.get()));
  if (!decoded) return Refuse(kUndecodable);

  VipsImage* out = nullptr;
  if (vips_autorot(decoded.get(), &out, nullptr) != 0) return Refuse(kUnprocessable);
  Image upright_tagged(out);
  Image upright = WithoutMetadata(upright_tagged.get());
  if (!upright) return Refuse(kUnprocessable);

  auto original = Encode(upright.get(), *format);
  auto small = Rendition(upright.get(), kSmallSide);
  auto large = Rendition(upright.get(), kLargeSide);
  if (!original || !small || !large) return Refuse(kUnprocessable);
  ProcessedImage result;
  result.format = *format;
  result.width = vips_image_get_width(upright.get());
  result.height = vips_image_get_height(upright.get());
  result.original = std::move(*original);
  result.small = std::move(*small);
  result.large = std::move(*large);
  vips_error_clear();
  return result;
}

}  // namespace market::clients
