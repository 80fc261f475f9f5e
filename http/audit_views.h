#pragma once

// JSON of the audit answers (projections/audit.h): the bodies of the admin audit endpoints, and
// what `agate-admin … --format json` prints. Times are RFC 3339 in UTC ("…Z"), unlike Manila's
// zone-less timestamps, since these are read by auditors and scripts rather than Manila clients.

#include <boost/json.hpp>

#include "projections/audit.h"

namespace agate::http {

// {"seq", "time", "kind", "project_id", "user_id", "request_id"}
boost::json::object cause_view(const projections::audit::Cause& c);
// {"type": "rule", "rule_id"} or {"type": "access_group", "access_group_id", "entry_id"} plus
// "mapping_id" when `mapping_id` is given.
boost::json::object source_view(const engine::RuleSource& s,
                                const std::string* mapping_id = nullptr);

// {"effective_access": {"share_id", "existed", "as_of": {"seq", "time"}, "rules": […], …}}
boost::json::object access_at_view(const projections::audit::ShareAccessAt& a);
// {"access_history": {"share_id", …, "changes": [{"cause", "added", "removed",
// "driver_outcomes", …}]}}
boost::json::object access_history_view(const projections::audit::AccessHistory& h);
// {"who_had_access": {"access_to", …, "intervals": [{"share_id", "granted", "revoked", …}]}}
boost::json::object who_had_access_view(const projections::audit::WhoQuery& q,
                                        const std::vector<projections::audit::AccessInterval>& in);

}  // namespace agate::http
