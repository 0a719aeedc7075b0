#include <libpq-fe.h>

#include <charconv>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include "storage/pg/pool.hpp"

namespace market::pg {
namespace {

using namespace std::chrono;

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads exactly `width` digits at `pos`.
bool ReadFixed(std::string_view text, std::size_t& pos, std::size_t width, int& out) {
  if (pos + width > text.size()) return false;
  const char* first = text.data() + pos;
  auto [end, ec] = std::from_chars(first, first + width, out);
  if (ec != std::errc() || end != first + width) return false;
  pos += width;
  return true;
}

bool Expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// PostgreSQL's ISO output of timestamptz: "2026-11-29 12:55:57.123456+00"; the fraction is
// omitted when zero and the offset may carry minutes and seconds ("+05:30", "-03:00:00").
std::optional<TimePoint> ParseTimestamp(std::string_view text) {
  if (text == "infinity") return TimePoint::max();
  if (text == "-infinity") return TimePoint::min();
  const std::size_t year_digits = text.find('-');
  if (year_digits == std::string_view::npos || year_digits < 4 || year_digits > 6) {
    return std::nullopt;
  }
  std::size_t pos = 0;
  int year = 0;
  if (!ReadFixed(text, pos, year_digits, year)) return std::nullopt;
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Expect(text, pos, '-') || !ReadFixed(text, pos, 2, month) || !Expect(text, pos, '-') ||
      !ReadFixed(text, pos, 2, day) || !Expect(text, pos, ' ') || !ReadFixed(text, pos, 2, hour) ||
      !Expect(text, pos, ':') || !ReadFixed(text, pos, 2, minute) || !Expect(text, pos, ':') ||
      !ReadFixed(text, pos, 2, second)) {
    return std::nullopt;
  }
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits == 6) return std::nullopt;
      micros = micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 6; ++digits) micros *= 10;
  }
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return std::nullopt;
  const int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  int offset_hours = 0, offset_minutes = 0, offset_seconds = 0;
  if (!ReadFixed(text, pos, 2, offset_hours)) return std::nullopt;
  if (pos < text.size() && !(Expect(text, pos, ':') && ReadFixed(text, pos, 2, offset_minutes))) {
    return std::nullopt;
  }
  if (pos < text.size() && !(Expect(text, pos, ':') && ReadFixed(text, pos, 2, offset_seconds))) {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const year_month_day date{std::chrono::year{year}, std::chrono::month{unsigned(month)},
                            std::chrono::day{unsigned(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const microseconds offset =
      sign * (hours{offset_hours} + minutes{offset_minutes} + seconds{offset_seconds});
  const microseconds since_epoch = sys_days{date}.time_since_epoch() + hours{hour} +
                                   minutes{minute} + seconds{second} + microseconds{micros} -
                                   offset;
  // TimePoint counts nanoseconds: about the years 1678 to 2262.
  constexpr auto kLimit = duration_cast<microseconds>(TimePoint::duration::max());
  if (since_epoch >= kLimit || since_epoch <= -kLimit) return std::nullopt;
  return TimePoint{duration_cast<TimePoint::duration>(since_epoch)};
}

}  // namespace

Param ToParam(std::int64_t v) { return std::to_string(v); }
Param ToParam(int v) { return std::to_string(v); }
Param ToParam(bool v) { return v ? "true" : "false"; }
Param ToParam(std::string_view v) { return std::string(v); }
Param ToParam(const std::string& v) { return v; }
Param ToParam(const char* v) { return std::string(v); }
Param ToParam(std::nullopt_t) { return std::nullopt; }

Param ToParam(TimePoint v) {
  // PostgreSQL keeps microseconds; flooring keeps the order of instants that differ below that.
  const auto micros = floor<microseconds>(v);
  const auto day = floor<days>(micros);
  const year_month_day date{day};
  const hh_mm_ss<microseconds> time{micros - day};
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d.%06lld+00", int(date.year()),
                unsigned(date.month()), unsigned(date.day()), int(time.hours().count()),
                int(time.minutes().count()), int(time.seconds().count()),
                static_cast<long long>(time.subseconds().count()));
  return std::string(text);
}

Param ToByteaParam(std::string_view bytes) {
  std::string text;
  text.reserve(2 + 2 * bytes.size());
  text += "\\x";
  for (unsigned char c : bytes) {
    text += kHexDigits[c >> 4];
    text += kHexDigits[c & 0xf];
  }
  return text;
}

QueryResult::QueryResult(PGresult* res) : res_(res, PQclear) {}

int QueryResult::size() const { return res_ ? PQntuples(res_.get()) : 0; }

std::int64_t QueryResult::affected_rows() const {
  if (!res_) return 0;
  const std::string_view text = PQcmdTuples(res_.get());
  std::int64_t rows = 0;
  std::from_chars(text.data(), text.data() + text.size(), rows);
  return rows;
}

int QueryResult::Column(std::string_view column) const {
  if (!res_) throw std::logic_error("pg result is empty");
  const int count = PQnfields(res_.get());
  // Exact match, unlike PQfnumber, which folds case and wants a NUL-terminated name.
  for (int i = 0; i < count; ++i) {
    if (column == PQfname(res_.get(), i)) return i;
  }
  throw std::logic_error("pg result has no column " + std::string(column));
}

bool QueryResult::IsNull(int row, std::string_view column) const {
  const int col = Column(column);
  if (row < 0 || row >= size())
    throw std::out_of_range("pg result has no row " + std::to_string(row));
  return PQgetisnull(res_.get(), row, col) != 0;
}

std::string_view QueryResult::Text(int row, std::string_view column) const {
  if (IsNull(row, column)) {
    throw std::logic_error("pg column " + std::string(column) + " is NULL; use the Opt accessor");
  }
  const int col = Column(column);
  return {PQgetvalue(res_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

std::optional<std::string> QueryResult::OptString(int row, std::string_view column) const {
  if (IsNull(row, column)) return std::nullopt;
  return String(row, column);
}

std::int64_t QueryResult::Int(int row, std::string_view column) const {
  const std::string_view text = Text(row, column);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::logic_error("pg column " + std::string(column) + " is not an integer");
  }
  return value;
}

std::optional<std::int64_t> QueryResult::OptInt(int row, std::string_view column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Int(row, column);
}

bool QueryResult::Bool(int row, std::string_view column) const {
  const std::string_view text = Text(row, column);
  if (text == "t") return true;
  if (text == "f") return false;
  throw std::logic_error("pg column " + std::string(column) + " is not a boolean");
}

TimePoint QueryResult::Time(int row, std::string_view column) const {
  const std::string_view text = Text(row, column);
  if (auto time = ParseTimestamp(text)) return *time;
  throw std::logic_error("pg column " + std::string(column) +
                         " is not a timestamptz in range: " + std::string(text));
}

std::optional<TimePoint> QueryResult::OptTime(int row, std::string_view column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Time(row, column);
}

std::string QueryResult::Bytes(int row, std::string_view column) const {
  const std::string_view text = Text(row, column);
  if (!text.starts_with("\\x") || text.size() % 2 != 0) {
    throw std::logic_error("pg column " + std::string(column) + " is not bytea in hex form");
  }
  std::string bytes;
  bytes.reserve(text.size() / 2 - 1);
  for (std::size_t i = 2; i < text.size(); i += 2) {
    const int high = HexValue(text[i]);
    const int low = HexValue(text[i + 1]);
    if (high < 0 || low < 0) {
      throw std::logic_error("pg column " + std::string(column) + " is not bytea in hex form");
    }
    bytes += static_cast<char>(high << 4 | low);
  }
  return bytes;
}

}  // namespace market::pg
