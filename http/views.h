#pragma once

// JSON views shared by the handlers: Manila's time format and the access-group objects.

#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "engine/model.h"

namespace agate::http {

// Manila's timestamps: "2026-11-25T12:54:58.282315", UTC, no zone. 0 (never) is null.
boost::json::value time_value(std::int64_t micros);

// {"id", "name", "access_type", "description"} — the proposal's list entry.
boost::json::object group_summary(const engine::GroupRow& g);
// The summary plus created_at, updated_at, project_id, entry_count.
boost::json::object group_detail(const engine::GroupRow& g);
// {"id", "access_group_id", "access_type", "access_to", "access_level", "created_at", "updated_at"}
boost::json::object entry_view(const engine::EntryRow& e);

}  // namespace agate::http
