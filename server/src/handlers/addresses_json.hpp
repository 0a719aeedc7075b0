#pragma once

#include <boost/json/object.hpp>

#include "domain/addresses/address.hpp"
#include "handlers/json_io.hpp"
#include "services/addresses/addresses_service.hpp"

namespace market::handlers {

// The address fields of a JSON object, every one checked for type and a generous byte limit (the
// domain checks characters). recipient_name, line1, city and country are required.
domain::ShippingAddress ReadAddress(FieldReader& fields);
// The same fields, each optional, plus is_default.
services::AddressPatch ReadAddressPatch(FieldReader& fields);
// Fails for fields that are not address fields (and not in `also`).
void RejectNonAddressFields(FieldReader& fields, std::initializer_list<std::string_view> also = {});

boost::json::object AddressJson(const domain::ShippingAddress& address);
boost::json::object SavedAddressJson(const domain::SavedAddress& address);
boost::json::object AddressCheckJson(const domain::AddressCheck& check);

}  // namespace market::handlers
