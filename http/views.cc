#include "http/views.h"

#include <fmt/format.h>

#include <chrono>

namespace agate::http {

namespace {

// Writes `value` as exactly `width` decimal digits ending just before `end`.
char* put_digits(char* end, std::int64_t value, int width) {
  for (int i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return end;
}

}  // namespace

boost::json::value time_value(std::int64_t micros) {
  if (micros == 0) return nullptr;
  // Rendered by hand: this runs for every rule of every list, and a chrono format costs more
  // than the rest of a rule's view.
  std::int64_t seconds = micros / 1'000'000;
  std::int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  // Years 1 to 9999 only, as Python's datetime (and so Manila) can show; a time outside them
  // (which no clock gives: it could only come from a damaged record) has no text.
  constexpr std::int64_t kFirst = -62'135'596'800;  // 0001-01-01T00:00:00
  constexpr std::int64_t kLast = 253'402'300'799;   // 9999-12-31T23:59:59
  if (seconds < kFirst || seconds > kLast) return nullptr;
  const std::chrono::sys_seconds tp{std::chrono::seconds(seconds)};
  const auto day = std::chrono::floor<std::chrono::days>(tp);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{tp - day};
  const int year = static_cast<int>(date.year());
  char text[26];  // YYYY-MM-DDTHH:MM:SS.ffffff
  char* end = text + sizeof text;
  end = put_digits(end, fraction, 6);
  *--end = '.';
  end = put_digits(end, time.seconds().count(), 2);
  *--end = ':';
  end = put_digits(end, time.minutes().count(), 2);
  *--end = ':';
  end = put_digits(end, time.hours().count(), 2);
  *--end = 'T';
  end = put_digits(end, static_cast<unsigned>(date.day()), 2);
  *--end = '-';
  end = put_digits(end, static_cast<unsigned>(date.month()), 2);
  *--end = '-';
  put_digits(end, year, 4);
  return boost::json::string(std::string_view(text, sizeof text));
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
  o["version"] = g.version;  // as the ETag of its show gives it, unquoted
  return o;
}

boost::json::object entry_view(const engine::EntryRow& e) {
  return {{"id", e.id},
          {"access_group_id", e.group_id},
          {"access_type", events::to_string(e.access_type)},
          {"access_to", e.access_to},
          {"access_level", events::to_string(e.access_level)},
          {"created_at", time_value(e.created_at)},
          {"updated_at", nullptr},
          {"version", e.version}};
}

}  // namespace agate::http
