#pragma once

// Strict reading of JSON request bodies: the wrong type, a missing required key or an unknown
// key is a 400 with a message naming it, never a 500 and never a guess.

#include <boost/json.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "events/event.h"

namespace agate::http {

// Parses `body` as JSON whose top level is an object. Returns the 400 message otherwise.
// Limits nesting depth, so that a hostile body cannot exhaust the stack.
boost::system::result<boost::json::object, std::string> parse_object(std::string_view body);

// The one member of a body such as {"access-group": {...}}: an object under `key`.
// Returns the 400 message if the body lacks it, has it with another type, or has other members.
boost::system::result<const boost::json::object*, std::string> only_member(
    const boost::json::object& body, std::string_view key);

// Reads members of one JSON object, remembering the first problem. After a problem every read
// returns an empty value; check error() before using any.
class ObjectReader {
 public:
  // `where` names the object in messages ("access-group").
  ObjectReader(const boost::json::object& object, std::string where);

  // A string member; absent (or null, when null_ok) gives nullopt.
  std::optional<std::string> string(std::string_view key, bool null_ok = true);
  std::string required_string(std::string_view key);
  // true/false, or the strings "true"/"false" in any case (Manila's is_public accepts both).
  std::optional<bool> boolean(std::string_view key);
  // An integer, or a string holding one (Manila's size accepts "1").
  std::optional<std::int64_t> integer(std::string_view key);
  // An object of string values.
  std::optional<events::Metadata> string_map(std::string_view key);
  // Marks a member as known without reading it.
  void ignore(std::string_view key) { known_.insert(std::string(key)); }

  // Records an error for any member not read; returns the first error, if any.
  const std::optional<std::string>& finish();
  const std::optional<std::string>& error() const { return error_; }
  void fail(std::string message);

 private:
  const boost::json::value* find(std::string_view key);

  const boost::json::object& object_;
  std::string where_;
  std::set<std::string, std::less<>> known_;
  std::optional<std::string> error_;
};

}  // namespace agate::http
