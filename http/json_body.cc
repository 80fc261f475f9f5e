#include "http/json_body.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <cctype>
#include <charconv>
#include <string>
#include <vector>

namespace agate::http {

namespace {

constexpr std::size_t kMaxDepth = 32;

std::string type_name(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "a value";
}

// A basic_parser handler that builds nothing and stops at the first object with a key seen
// twice. boost::json::parse keeps one of the two values silently; a client (or a proxy checking
// bodies in front of Agate) may have meant the other.
class DuplicateKeyFinder {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  // The first key seen twice in one object, if any.
  const std::optional<std::string>& duplicate() const { return duplicate_; }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::system::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::system::error_code&) {
    return true;
  }
  bool on_key_part(boost::json::string_view part, std::size_t, boost::system::error_code&) {
    key_.append(part.data(), part.size());
    return true;
  }
  bool on_key(boost::json::string_view part, std::size_t, boost::system::error_code& ec) {
    key_.append(part.data(), part.size());
    if (!keys_.back().insert(key_).second) {
      duplicate_ = std::move(key_);
      ec = boost::json::error::extra_data;  // any error: the parser stops
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, boost::system::error_code&) {
    return true;
  }
  bool on_uint64(std::uint64_t, boost::json::string_view, boost::system::error_code&) {
    return true;
  }
  bool on_double(double, boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

 private:
  std::vector<std::set<std::string, std::less<>>> keys_;
  std::string key_;
  std::optional<std::string> duplicate_;
};

}  // namespace

boost::system::result<boost::json::object, std::string> parse_object(std::string_view body) {
  if (body.empty()) return std::string("The request body is empty; a JSON object is expected.");
  boost::json::parse_options options;
  options.max_depth = kMaxDepth;
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec, {}, options);
  if (ec) return fmt::format("Malformed request body: {}.", ec.message());
  // Only a body that parses is looked at again, so the depth limit already holds.
  boost::json::basic_parser<DuplicateKeyFinder> finder(options);
  finder.write_some(false, body.data(), body.size(), ec);
  if (const auto& key = finder.handler().duplicate()) {
    return fmt::format("Malformed request body: the key '{}' appears twice in one object.", *key);
  }
  if (!value.is_object()) return std::string("Malformed request body: a JSON object is expected.");
  return std::move(value.as_object());
}

boost::system::result<const boost::json::object*, std::string> only_member(
    const boost::json::object& body, std::string_view key) {
  const auto* v = body.if_contains(key);
  if (!v) return fmt::format("Missing required element '{}' in request body.", key);
  if (!v->is_object()) return fmt::format("'{}' must be an object, not {}.", key, type_name(*v));
  for (const auto& member : body) {
    if (member.key() != key) {
      return fmt::format("Unexpected element '{}' in request body beside '{}'.",
                         std::string_view(member.key()), key);
    }
  }
  return &v->as_object();
}

ObjectReader::ObjectReader(const boost::json::object& object, std::string where)
    : object_(object), where_(std::move(where)) {}

void ObjectReader::fail(std::string message) {
  if (!error_) error_ = std::move(message);
}

const boost::json::value* ObjectReader::find(std::string_view key) {
  known_.insert(std::string(key));
  if (error_) return nullptr;
  return object_.if_contains(key);
}

std::optional<std::string> ObjectReader::string(std::string_view key, bool null_ok) {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_null() && null_ok) return std::nullopt;
  if (!v->is_string()) {
    fail(fmt::format("'{}' in '{}' must be a string, not {}.", key, where_, type_name(*v)));
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::string ObjectReader::required_string(std::string_view key) {
  const bool present = !error_ && object_.if_contains(key) && !object_.at(key).is_null();
  auto s = string(key, false);
  if (!present && !error_) fail(fmt::format("'{}' is required in '{}'.", key, where_));
  return s.value_or("");
}

std::optional<bool> ObjectReader::boolean(std::string_view key) {
  const auto* v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_bool()) return v->as_bool();
  if (v->is_string()) {
    std::string s(v->as_string());
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  }
  fail(fmt::format("'{}' in '{}' must be a boolean.", key, where_));
  return std::nullopt;
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key) {
  const auto* v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= INT64_MAX) return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_string()) {
    const auto& s = v->as_string();
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) return n;
  }
  fail(fmt::format("'{}' in '{}' must be an integer.", key, where_));
  return std::nullopt;
}

std::optional<events::Metadata> ObjectReader::string_map(std::string_view key) {
  const auto* v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_object()) {
    fail(fmt::format("'{}' in '{}' must be an object, not {}.", key, where_, type_name(*v)));
    return std::nullopt;
  }
  events::Metadata m;
  for (const auto& member : v->as_object()) {
    if (!member.value().is_string()) {
      fail(fmt::format("'{}' in '{}' must map strings to strings; '{}' is {}.", key, where_,
                       std::string_view(member.key()), type_name(member.value())));
      return std::nullopt;
    }
    m.insert_or_assign(std::string(member.key()), std::string(member.value().as_string()));
  }
  return m;
}

const std::optional<std::string>& ObjectReader::finish() {
  for (const auto& member : object_) {
    if (error_) break;
    if (!known_.contains(std::string_view(member.key()))) {
      fail(fmt::format("Unknown element '{}' in '{}'.", std::string_view(member.key()), where_));
    }
  }
  return error_;
}

}  // namespace agate::http
