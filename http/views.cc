#include "http/views.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace agate::http {

boost::json::value time_value(std::int64_t micros) {
  if (micros == 0) return nullptr;
  const std::int64_t seconds = micros / 1'000'000;
  const std::int64_t fraction = micros % 1'000'000;
  const std::chrono::sys_seconds tp{std::chrono::seconds(seconds)};
  return boost::json::string(fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}", tp, fraction));
}

boost::json::object group_summary(const engine::GroupRow& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"access_type", events::to_string(g.access_type)},
          {"description", g.description}};
}

boost::json::object group_detail(const engine::GroupRow& g) {
  auto o = group_summary(g);
  o["created_at"] = time_value(g.created_at);
  o["updated_at"] = time_value(g.updated_at);
  o["project_id"] = g.project_id;
  o["entry_count"] = g.entry_count;
  o["share_count"] = g.share_count;
  return o;
}

boost::json::object entry_view(const engine::EntryRow& e) {
  return {{"id", e.id},
          {"access_group_id", e.group_id},
          {"access_type", events::to_string(e.access_type)},
          {"access_to", e.access_to},
          {"access_level", events::to_string(e.access_level)},
          {"created_at", time_value(e.created_at)},
          {"updated_at", nullptr}};
}

}  // namespace agate::http
