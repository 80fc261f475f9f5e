#include "engine/model.h"

#include <stdexcept>

namespace agate::engine {

std::string_view to_string(errc code) {
  switch (code) {
    case errc::bad_request: return "bad request";
    case errc::forbidden: return "forbidden";
    case errc::not_found: return "not found";
    case errc::conflict: return "conflict";
    case errc::over_limit: return "over limit";
    case errc::out_of_space: return "out of space";
    case errc::unavailable: return "unavailable";
  }
  return "unknown";
}

void throw_exception_from_error(const Rejection& r, const boost::source_location&) {
  throw std::runtime_error(std::string(to_string(r.code)) + ": " + r.message);
}

}  // namespace agate::engine
