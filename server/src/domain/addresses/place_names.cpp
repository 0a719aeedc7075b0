#include "domain/addresses/place_names.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace market::domain {
namespace {

// U+00C0 to U+024F: the ASCII letters each folds to (generated from Unicode's
// canonical decompositions, plus ligatures and stroked letters); empty: kept as it is.
constexpr std::string_view kLatin[] = {
    "a", "a", "a",  "a",  "a", "a", "ae", "c",  "e",  "e", "e", "e", "i",  "i",  "i", "i", "d", "n",
    "o", "o", "o",  "o",  "o", "",  "o",  "u",  "u",  "u", "u", "y", "th", "ss", "a", "a", "a", "a",
    "a", "a", "ae", "c",  "e", "e", "e",  "e",  "i",  "i", "i", "i", "d",  "n",  "o", "o", "o", "o",
    "o", "",  "o",  "u",  "u", "u", "u",  "y",  "th", "y", "a", "a", "a",  "a",  "a", "a", "c", "c",
    "c", "c", "c",  "c",  "c", "c", "d",  "d",  "d",  "d", "e", "e", "e",  "e",  "e", "e", "e", "e",
    "e", "e", "g",  "g",  "g", "g", "g",  "g",  "g",  "g", "h", "h", "h",  "h",  "i", "i", "i", "i",
    "i", "i", "i",  "i",  "i", "i", "ij", "ij", "j",  "j", "k", "k", "k",  "l",  "l", "l", "l", "l",
    "l", "l", "l",  "l",  "l", "n", "n",  "n",  "n",  "n", "n", "n", "n",  "n",  "o", "o", "o", "o",
    "o", "o", "oe", "oe", "r", "r", "r",  "r",  "r",  "r", "s", "s", "s",  "s",  "s", "s", "s", "s",
    "t", "t", "t",  "t",  "t", "t", "u",  "u",  "u",  "u", "u", "u", "u",  "u",  "u", "u", "u", "u",
    "w", "w", "y",  "y",  "y", "z", "z",  "z",  "z",  "z", "z", "s", "",   "",   "",  "",  "",  "",
    "",  "",  "",   "",   "",  "",  "",   "",   "",   "",  "",  "",  "",   "",   "",  "",  "",  "",
    "",  "",  "",   "",   "",  "",  "",   "",   "o",  "o", "",  "",  "",   "",   "",  "",  "",  "",
    "",  "",  "",   "",   "",  "u", "u",  "",   "",   "",  "",  "",  "",   "",   "",  "",  "",  "",
    "",  "",  "",   "",   "",  "",  "",   "",   "",   "",  "",  "",  "",   "",   "",  "",  "",  "a",
    "a", "i", "i",  "o",  "o", "u", "u",  "u",  "u",  "u", "u", "u", "u",  "u",  "u", "",  "a", "a",
    "a", "a", "",   "",   "",  "",  "g",  "g",  "k",  "k", "o", "o", "o",  "o",  "",  "",  "j", "",
    "",  "",  "g",  "g",  "",  "",  "n",  "n",  "a",  "a", "",  "",  "",   "",   "a", "a", "a", "a",
    "e", "e", "e",  "e",  "i", "i", "i",  "i",  "o",  "o", "o", "o", "r",  "r",  "r", "r", "u", "u",
    "u", "u", "s",  "s",  "t", "t", "",   "",   "h",  "h", "",  "",  "",   "",   "",  "",  "a", "a",
    "e", "e", "o",  "o",  "o", "o", "o",  "o",  "o",  "o", "y", "y", "",   "",   "",  "",  "",  "",
    "",  "",  "",   "",   "",  "",  "",   "",   "",   "",  "",  "",  "",   "",   "",  "",  "",  "",
    "",  "",  "",   "",
};
// U+1E00 to U+1EFF: the ASCII letters each folds to (generated from Unicode's
// canonical decompositions, plus ligatures and stroked letters); empty: kept as it is.
constexpr std::string_view kLatinAdditional[] = {
    "a", "a", "b", "b", "b", "b", "b",  "b", "c", "c", "d", "d", "d", "d", "d", "d", "d", "d", "d",
    "d", "e", "e", "e", "e", "e", "e",  "e", "e", "e", "e", "f", "f", "g", "g", "h", "h", "h", "h",
    "h", "h", "h", "h", "h", "h", "i",  "i", "i", "i", "k", "k", "k", "k", "k", "k", "l", "l", "l",
    "l", "l", "l", "l", "l", "m", "m",  "m", "m", "m", "m", "n", "n", "n", "n", "n", "n", "n", "n",
    "o", "o", "o", "o", "o", "o", "o",  "o", "p", "p", "p", "p", "r", "r", "r", "r", "r", "r", "r",
    "r", "s", "s", "s", "s", "s", "s",  "s", "s", "s", "s", "t", "t", "t", "t", "t", "t", "t", "t",
    "u", "u", "u", "u", "u", "u", "u",  "u", "u", "u", "v", "v", "v", "v", "w", "w", "w", "w", "w",
    "w", "w", "w", "w", "w", "x", "x",  "x", "x", "y", "y", "z", "z", "z", "z", "z", "z", "h", "t",
    "w", "y", "",  "",  "",  "",  "ss", "",  "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a",
    "a", "a", "a", "a", "a", "a", "a",  "a", "a", "a", "a", "a", "a", "e", "e", "e", "e", "e", "e",
    "e", "e", "e", "e", "e", "e", "e",  "e", "e", "e", "i", "i", "i", "i", "o", "o", "o", "o", "o",
    "o", "o", "o", "o", "o", "o", "o",  "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o",
    "u", "u", "u", "u", "u", "u", "u",  "u", "u", "u", "u", "u", "u", "u", "y", "y", "y", "y", "y",
    "y", "y", "y", "",  "",  "",  "",   "",  "",
};

// The next code point of `text` from `i`, advancing `i`; 0xFFFFFFFF for a byte that does not
// start valid UTF-8 (one byte is skipped).
std::uint32_t NextCodePoint(std::string_view text, std::size_t& i) {
  constexpr std::uint32_t kInvalid = 0xFFFFFFFF;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  std::size_t extra = lead < 0x80           ? 0
                      : (lead >> 5) == 0x6  ? 1
                      : (lead >> 4) == 0xE  ? 2
                      : (lead >> 3) == 0x1E ? 3
                                            : 4;
  if (extra == 4 || i + extra >= text.size() + (extra == 0 ? 1 : 0)) {
    ++i;
    return kInvalid;
  }
  std::uint32_t cp = extra == 0 ? lead : lead & (0x3F >> extra);
  for (std::size_t k = 1; k <= extra; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return kInvalid;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  i += extra + 1;
  return cp;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool IsSeparator(std::uint32_t cp) {
  if (cp < 0x80)
    return !((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'));
  // Latin-1 punctuation and symbols, general punctuation (’ ‘ – —), ideographic space and comma.
  return (cp >= 0x80 && cp < 0xC0) || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp < 0x2070) ||
         cp == 0x3000 || cp == 0x3001;
}

}  // namespace

std::string FoldPlaceName(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < utf8.size();) {
    std::uint32_t cp = NextCodePoint(utf8, i);
    if (cp == 0xFFFFFFFF) continue;
    if (IsSeparator(cp)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    if (cp < 0x80) {
      out += static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
    } else if (cp >= 0xC0 && cp < 0x250 && !kLatin[cp - 0xC0].empty()) {
      out += kLatin[cp - 0xC0];
    } else if (cp >= 0x1E00 && cp < 0x1F00 && !kLatinAdditional[cp - 0x1E00].empty()) {
      out += kLatinAdditional[cp - 0x1E00];
    } else {
      AppendUtf8(out, cp);
    }
  }
  return out;
}

std::size_t EditDistance(std::string_view a, std::string_view b, std::size_t limit) {
  std::size_t n = a.size(), m = b.size();
  if ((n > m ? n - m : m - n) > limit) return limit + 1;
  // Three rows of the dynamic programme: two back for the swap.
  std::vector<std::size_t> before(m + 1), previous(m + 1), current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = i;
    std::size_t row_min = current[0];
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
      row_min = std::min(row_min, current[j]);
    }
    if (row_min > limit) return limit + 1;
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return std::min(previous[m], limit + 1);
}

std::size_t AllowedEdits(std::size_t folded_length) {
  if (folded_length < 4) return 0;
  if (folded_length < 8) return 1;
  if (folded_length < 14) return 2;
  return 3;
}

}  // namespace market::domain
