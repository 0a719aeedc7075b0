#pragma once

#include <vector>

#include "storage/pg/pool.hpp"

namespace market::pg {

// Statement parameters from plain values. A function rather than a braced list at the call site:
// g++ 12 miscompiles an initializer_list inside a co_await expression ("array used as
// initializer").
template <class... Values>
std::vector<Param> Params(const Values&... values) {
  std::vector<Param> params;
  params.reserve(sizeof...(values));
  (params.push_back(ToParam(values)), ...);
  return params;
}

// For statements without parameters, instead of a `{}` that g++ 12 may destroy twice inside a
// co_await expression.
inline std::vector<Param> NoParams() { return {}; }

// Marks raw bytes for a bytea parameter.
struct Bytea {
  std::string_view bytes;
};
inline Param ToParam(Bytea value) { return ToByteaParam(value.bytes); }
inline Param ToParam(const Param& value) { return value; }

}  // namespace market::pg
