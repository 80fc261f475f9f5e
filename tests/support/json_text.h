#pragma once

// Reading JSON answers in tests.

#include <boost/json/value.hpp>
#include <string>

namespace agate::testing {

// The string `v` holds, or "" if it is not a string (null, a number, missing).
inline std::string text(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : "";
}

}  // namespace agate::testing
