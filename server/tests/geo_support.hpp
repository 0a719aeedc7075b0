#pragma once

// The offline geocoder's real data (data/geo/build, made by scripts/setup), for the unit and db
// tests of address checks.

#include <filesystem>
#include <stdexcept>

#include "clients/geocoding/place_index.hpp"

namespace market {

inline std::filesystem::path GeoDataDir() {
  namespace fs = std::filesystem;
  const fs::path here = fs::absolute(fs::path(__FILE__)).parent_path();
  for (fs::path dir = here; !dir.empty(); dir = dir.parent_path()) {
    if (fs::is_directory(dir / "data" / "geo")) return dir / "data" / "geo" / "build";
    if (dir == dir.parent_path()) break;
  }
  throw std::runtime_error("data/geo not found above " + here.string());
}

// Loaded once per test process (about 135,000 places).
inline const clients::PlaceIndex& RealPlaces() {
  static const clients::PlaceIndex places = clients::PlaceIndex::LoadFiles(GeoDataDir().string());
  return places;
}

}  // namespace market
