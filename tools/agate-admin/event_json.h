#pragma once

// Events as JSON for `agate-admin replay`: the envelope and every field of the body, with the
// schema's names in snake_case, times in RFC 3339 UTC.

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.h"

namespace agate::admin {

// {"seq", "time", "kind", "project_id", "user_id", "request_id", "body": {…}}
boost::json::object event_json(const events::Event& e);

// The share and the group an event is about ("" if none): what replay's --share and --group
// match.
std::string_view share_of(const events::Body& body);
std::string_view group_of(const events::Body& body);

// Every kind's name, in the schema's order.
const std::vector<std::string>& kind_names();

}  // namespace agate::admin
