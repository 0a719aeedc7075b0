#include "clients/geocoding/place_index.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <stdexcept>

#include "domain/addresses/place_names.hpp"

namespace market::clients {
namespace {

constexpr std::size_t kMinPrefixName = 5;

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t tab = line.find('\t', start);
    parts.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) return parts;
    start = tab + 1;
  }
}

template <class Int>
Int Number(std::string_view text, std::size_t line_number) {
  Int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size())
    throw std::runtime_error("places line " + std::to_string(line_number) + ": bad number");
  return value;
}

std::string Upper(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

bool AllDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Sorted (key, index) pairs whose key starts with `prefix`.
template <class F>
void EachWithPrefix(const std::vector<std::pair<std::string, std::uint32_t>>& sorted,
                    const std::string& prefix, F f) {
  auto it =
      std::lower_bound(sorted.begin(), sorted.end(), prefix,
                       [](const auto& entry, const std::string& p) { return entry.first < p; });
  for (; it != sorted.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    f(it->second);
}

}  // namespace

PlaceIndex PlaceIndex::Load(std::istream& places, std::istream& postal) {
  PlaceIndex index;
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(places, line)) {
    ++line_number;
    if (line.empty()) continue;
    auto parts = SplitTabs(line);
    if (parts.size() != 7 || parts[1].size() != 2)
      throw std::runtime_error("places line " + std::to_string(line_number) + ": malformed");
    Place place{.geonames_id = Number<std::int64_t>(parts[0], line_number),
                .country = std::string(parts[1]),
                .name = std::string(parts[2]),
                .admin = std::string(parts[3]),
                .population = Number<std::int64_t>(parts[4], line_number),
                .latitude_e5 = Number<std::int32_t>(parts[5], line_number),
                .longitude_e5 = Number<std::int32_t>(parts[6], line_number)};
    place.key = domain::FoldPlaceName(place.name);
    if (place.key.empty()) continue;
    index.places_.push_back(std::move(place));
  }
  // Most populous first everywhere, so that the first hit of any scan is the likeliest place.
  std::stable_sort(index.places_.begin(), index.places_.end(),
                   [](const Place& a, const Place& b) { return a.population > b.population; });
  index.country_keys_.reserve(index.places_.size());
  index.keys_.reserve(index.places_.size());
  for (std::uint32_t i = 0; i < index.places_.size(); ++i) {
    const Place& place = index.places_[i];
    index.by_country_[place.country].push_back(i);
    index.by_name_[place.country + '\t' + place.key].push_back(i);
    index.country_keys_.emplace_back(place.country + '\t' + place.key, i);
    index.keys_.emplace_back(place.key, i);
  }
  // Stable, so that equal keys stay most populous first.
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::stable_sort(index.country_keys_.begin(), index.country_keys_.end(), by_key);
  std::stable_sort(index.keys_.begin(), index.keys_.end(), by_key);

  while (std::getline(postal, line)) {
    if (line.empty()) continue;
    auto parts = SplitTabs(line);
    if (parts.size() != 3) throw std::runtime_error("postal formats: malformed line");
    auto flags = std::regex::ECMAScript | std::regex::optimize;
    if (parts[2].find('i') != std::string_view::npos) flags |= std::regex::icase;
    // A format std::regex cannot read leaves its country without a postal check.
    try {
      index.postal_.emplace(std::string(parts[0]), std::regex(std::string(parts[1]), flags));
    } catch (const std::regex_error&) {
    }
  }
  return index;
}

PlaceIndex PlaceIndex::LoadFiles(const std::string& dir) {
  std::ifstream places(dir + "/places.tsv");
  std::ifstream postal(dir + "/postal.tsv");
  if (!places || !postal)
    throw std::runtime_error("offline geocoder: no data in " + dir +
                             " (scripts/setup builds it: node data/geo/build.mjs)");
  return Load(places, postal);
}

bool PlaceIndex::HasPostalFormat(std::string_view country) const {
  return postal_.contains(std::string(country));
}

bool PlaceIndex::PostalCodeFits(std::string_view country, const std::string& postal_code) const {
  auto it = postal_.find(std::string(country));
  return it == postal_.end() || std::regex_match(postal_code, it->second);
}

std::string PlaceIndex::NormalizePostalCode(std::string_view country,
                                            std::string_view postal_code) {
  std::string code = Upper(postal_code);
  std::string compact;
  for (char c : code) {
    if (c != ' ' && c != '-') compact += c;
  }
  if (country == "GB" && compact.size() >= 5 && compact.size() <= 7 && code.find(' ') == code.npos)
    return compact.substr(0, compact.size() - 3) + ' ' + compact.substr(compact.size() - 3);
  if (country == "CA" && compact.size() == 6) return compact.substr(0, 3) + ' ' + compact.substr(3);
  if (country == "JP" && compact.size() == 7 && AllDigits(compact))
    return compact.substr(0, 3) + '-' + compact.substr(3);
  if (country == "BR" && compact.size() == 8 && AllDigits(compact))
    return compact.substr(0, 5) + '-' + compact.substr(5);
  return code;
}

const Place* PlaceIndex::Best(const std::vector<std::uint32_t>& candidates,
                              std::string_view region) const {
  if (candidates.empty()) return nullptr;
  if (!region.empty()) {
    std::string wanted = Upper(region);
    for (std::uint32_t i : candidates) {
      if (places_[i].admin == wanted) return &places_[i];
    }
  }
  return &places_[candidates.front()];
}

PlaceMatch PlaceIndex::Find(std::string_view country, std::string_view city,
                            std::string_view region) const {
  std::string key = domain::FoldPlaceName(city);
  PlaceMatch match;
  if (key.empty()) return match;
  std::string country_code(country);
  if (auto it = by_name_.find(country_code + '\t' + key); it != by_name_.end()) {
    match.kind = MatchKind::kExact;
    match.place = Best(it->second, region);
    return match;
  }
  // Only a name long enough to mean something on its own ("New" is no town).
  std::vector<std::uint32_t> starting;
  if (key.size() >= kMinPrefixName)
    EachWithPrefix(country_keys_, country_code + '\t' + key + ' ',
                   [&starting](std::uint32_t i) { starting.push_back(i); });
  if (!starting.empty()) {
    std::sort(starting.begin(), starting.end());  // indices are in population order
    match.kind = MatchKind::kPrefix;
    match.place = Best(starting, region);
    return match;
  }
  if (auto it = by_country_.find(country_code); it != by_country_.end()) {
    std::size_t allowed = domain::AllowedEdits(key.size());
    std::size_t best = allowed + 1;
    std::vector<std::uint32_t> closest;
    for (std::uint32_t i : it->second) {
      std::size_t d = domain::EditDistance(key, places_[i].key, std::min(best, allowed));
      if (d < best) {
        best = d;
        closest.clear();
      }
      if (d == best && d <= allowed) closest.push_back(i);
    }
    if (!closest.empty()) {
      match.kind = MatchKind::kClose;
      match.place = Best(closest, region);
      return match;
    }
  }
  // Most populous first: the first of that name anywhere is the one people mean.
  EachWithPrefix(keys_, key, [&](std::uint32_t i) {
    const Place& place = places_[i];
    if (place.key == key && place.country != country &&
        (match.elsewhere == nullptr || place.population > match.elsewhere->population))
      match.elsewhere = &place;
  });
  return match;
}

std::vector<const Place*> PlaceIndex::StartingWith(std::string_view prefix,
                                                   const std::optional<std::string>& country,
                                                   std::size_t limit) const {
  std::string key = domain::FoldPlaceName(prefix);
  std::vector<std::uint32_t> found;
  if (key.empty() || limit == 0) return {};
  auto collect = [&found](std::uint32_t i) { found.push_back(i); };
  if (country) {
    EachWithPrefix(country_keys_, *country + '\t' + key, collect);
  } else {
    EachWithPrefix(keys_, key, collect);
  }
  std::sort(found.begin(), found.end());
  if (found.size() > limit) found.resize(limit);
  std::vector<const Place*> places;
  for (std::uint32_t i : found) places.push_back(&places_[i]);
  return places;
}

}  // namespace market::clients
