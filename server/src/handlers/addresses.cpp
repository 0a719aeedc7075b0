#include "handlers/addresses.hpp"

#include <boost/json.hpp>

#include "handlers/addresses_json.hpp"
#include "handlers/json_io.hpp"

namespace market::handlers {
namespace {

namespace json = boost::json;
using domain::AddressId;
using http::Request;
using http::Response;
using services::AddressesService;
using services::AuthService;

struct AddressBody {
  domain::ShippingAddress address;
  bool is_default = false;
};

// A JSON body of address fields, and is_default when `with_default`.
Result<AddressBody> ReadAddressBody(const Request& request, bool with_default) {
  auto body = ParseJsonObject(request);
  if (!body.ok()) return std::move(body).error();
  FieldReader fields(*body);
  AddressBody out{.address = ReadAddress(fields)};
  if (with_default) {
    out.is_default = fields.OptionalBool("is_default").value_or(false);
    RejectNonAddressFields(fields, {"is_default"});
  } else {
    RejectNonAddressFields(fields);
  }
  if (!fields.ok()) return fields.error();
  return out;
}

Response NoSuchAddress() {
  return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such address."));
}

Task<Response> ListAddresses(AuthService& auth, AddressesService& addresses, Request& request) {
  auto user = co_await auth.Authenticate(request.Header("authorization"));
  if (!user.ok()) co_return AuthErrorResponse(user.error());
  json::array items;
  for (const auto& saved : co_await addresses.List(*user)) items.push_back(SavedAddressJson(saved));
  co_return http::Json(200, json::object{{"addresses", std::move(items)}});
}

Task<Response> AddAddress(AuthService& auth, AddressesService& addresses, Request& request) {
  auto user = co_await auth.Authenticate(request.Header("authorization"));
  if (!user.ok()) co_return AuthErrorResponse(user.error());
  auto body = ReadAddressBody(request, true);
  if (!body.ok()) co_return http::ErrorResponse(body.error());

  auto added =
      co_await addresses.Add(*user, std::move(body->address), body->is_default, request.remote_ip);
  if (!added.ok()) co_return http::ErrorResponse(added.error());
  Response response = http::Json(201, SavedAddressJson(*added));
  response.SetHeader("Location", "/api/v1/me/addresses/" + std::to_string(added->id.value));
  co_return response;
}

Task<Response> UpdateAddress(AuthService& auth, AddressesService& addresses, Request& request) {
  auto user = co_await auth.Authenticate(request.Header("authorization"));
  if (!user.ok()) co_return AuthErrorResponse(user.error());
  auto id = PathId<AddressId>(request, "id");
  if (!id) co_return NoSuchAddress();
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  FieldReader fields(*body);
  services::AddressPatch patch = ReadAddressPatch(fields);
  RejectNonAddressFields(fields, {"is_default"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());

  auto updated = co_await addresses.Update(*user, *id, std::move(patch), request.remote_ip);
  if (!updated.ok()) co_return http::ErrorResponse(updated.error());
  co_return http::Json(200, SavedAddressJson(*updated));
}

Task<Response> RemoveAddress(AuthService& auth, AddressesService& addresses, Request& request) {
  auto user = co_await auth.Authenticate(request.Header("authorization"));
  if (!user.ok()) co_return AuthErrorResponse(user.error());
  auto id = PathId<AddressId>(request, "id");
  if (!id) co_return NoSuchAddress();
  auto removed = co_await addresses.Remove(*user, *id);
  if (!removed.ok()) co_return http::ErrorResponse(removed.error());
  co_return http::NoContent();
}

Task<Response> ValidateAddress(AuthService& auth, AddressesService& addresses, Request& request) {
  auto user = co_await auth.Authenticate(request.Header("authorization"));
  if (!user.ok()) co_return AuthErrorResponse(user.error());
  auto body = ReadAddressBody(request, false);
  if (!body.ok()) co_return http::ErrorResponse(body.error());

  auto check = co_await addresses.Validate(*user, request.remote_ip, std::move(body->address));
  if (!check.ok()) co_return http::ErrorResponse(check.error());
  co_return http::Json(200, AddressCheckJson(*check));
}

Task<Response> Suggest(AuthService& auth, AddressesService& addresses, Request& request) {
  auto user = co_await auth.Authenticate(request.Header("authorization"));
  if (!user.ok()) co_return AuthErrorResponse(user.error());
  std::optional<std::string> country;
  if (std::string value = request.QueryParam("country"); !value.empty()) country = value;
  auto found = co_await addresses.Suggest(*user, request.remote_ip, request.QueryParam("q"),
                                          country, request.QueryParam("session"));
  if (!found.ok()) co_return http::ErrorResponse(found.error());
  json::array items;
  for (const auto& s : *found) {
    items.push_back(json::object{{"description", s.description},
                                 {"city", s.city},
                                 {"region", s.region},
                                 {"country", s.country},
                                 {"postal_code", s.postal_code},
                                 {"place_id", s.place_id}});
  }
  co_return http::Json(200, json::object{{"suggestions", std::move(items)}});
}

}  // namespace

void AddAddressRoutes(http::Router& router, AuthService& auth, AddressesService& addresses) {
  using http::Method;
  auto route = [&](Method method, std::string_view pattern,
                   Task<Response> (*handler)(AuthService&, AddressesService&, Request&)) {
    router.Add(method, std::string(pattern),
               [&auth, &addresses, handler](Request& r) { return handler(auth, addresses, r); });
  };
  route(Method::kGet, "/api/v1/me/addresses", ListAddresses);
  route(Method::kPost, "/api/v1/me/addresses", AddAddress);
  route(Method::kPatch, "/api/v1/me/addresses/{id}", UpdateAddress);
  route(Method::kDelete, "/api/v1/me/addresses/{id}", RemoveAddress);
  route(Method::kPost, "/api/v1/geo/validate", ValidateAddress);
  route(Method::kGet, "/api/v1/geo/suggest", Suggest);
}

}  // namespace market::handlers
