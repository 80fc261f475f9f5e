// Fuzz target: raw bytes as they would arrive on a connection, parsed by Beast with the
// server's limits and answered by http::handle_request — the whole path of a request except the
// socket. Up to four pipelined requests per input.

#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>

#include "http/server.h"
#include "tests/fuzz/fuzz_api.h"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& f = agate::fuzz::fuzz_api();
  const agate::http::ServerOptions limits;
  boost::asio::const_buffer input(data, size);
  for (int message = 0; message < 4 && input.size() > 0; ++message) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(limits.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done() && input.size() > 0) {
      const auto used = parser.put(input, ec);
      input += used;
      if (ec || used == 0) break;
    }
    if (!parser.is_done() && !ec) parser.put_eof(ec);
    // What the parser refuses, the server answers itself (http/server.cc) and closes.
    if (ec || !parser.is_done()) return 0;
    const auto request = parser.release();
    agate::fuzz::check_response(request, agate::http::handle_request_sync(f.api.services(), request));
  }
  return 0;
}
