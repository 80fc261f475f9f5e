#pragma once

// A minimal blocking HTTP/1.1 client for integration tests (loopback only).

#include <boost/beast/http.hpp>
#include <string>

namespace agate::testing {

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Sends one request on a new connection to 127.0.0.1:`port` and returns the response.
HttpResponse http_request(unsigned short port, boost::beast::http::verb method,
                          const std::string& target, const std::string& body = {},
                          const std::vector<std::pair<std::string, std::string>>& headers = {});

// Sends raw bytes and returns whatever the server answers until it closes or `timeout_ms`.
std::string raw_exchange(unsigned short port, const std::string& bytes, int timeout_ms = 5000);

}  // namespace agate::testing
