#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace market::domain {

// The key places are compared by: lower case, Latin letters without their accents ("São Paulo"
// and "SAO PAULO" are both "sao paulo", "Straße" is "strasse"), every run of spaces and
// punctuation one space, trimmed. Letters of other scripts are kept as they are; invalid UTF-8
// bytes are dropped.
std::string FoldPlaceName(std::string_view utf8);

// The optimal-string-alignment distance (insertions, deletions, substitutions and swaps of
// neighbours, counted in bytes of the folded keys), or `limit` + 1 when it is above `limit`.
std::size_t EditDistance(std::string_view a, std::string_view b, std::size_t limit);

// How many edits a folded name of this length may be away and still be taken for it: none for
// short names, where one letter makes another town, up to 3 for long ones.
std::size_t AllowedEdits(std::size_t folded_length);

}  // namespace market::domain
