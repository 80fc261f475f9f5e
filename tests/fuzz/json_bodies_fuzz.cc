// Fuzz target: JSON bodies of every endpoint that reads one. The first byte picks the endpoint
// (modulo their number), the second the microversion; the rest is the body, sent as the
// endpoint's usual caller would (an administrator for share types, a project member otherwise).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_api.h"

namespace {

using Verb = boost::beast::http::verb;

struct Endpoint {
  Verb method;
  std::string_view path;  // "{share}", "{group}" and "{rule}" stand for the seeded objects
  bool admin = false;
};

constexpr std::array<Endpoint, 9> kEndpoints = {{
    {Verb::post, "/v2/types", true},
    {Verb::post, "/v2/shares"},
    {Verb::post, "/v2/shares/{share}/action"},
    {Verb::post, "/v2/shares/{share}/action", true},
    {Verb::post, "/v2/access-groups"},
    {Verb::put, "/v2/access-groups/{group}"},
    {Verb::post, "/v2/access-groups/{group}/action"},
    {Verb::post, "/v2/access-groups/{group}/entries"},
    {Verb::put, "/v2/share-access-rules/{rule}/metadata"},
}};

constexpr std::array<std::string_view, 6> kVersions = {"2.0", "2.6", "2.7", "2.13", "2.38", "2.45"};

std::string expand(std::string_view path, const agate::fuzz::FuzzApi& f) {
  std::string out(path);
  const auto replace = [&](std::string_view name, const std::string& id) {
    if (auto at = out.find(name); at != std::string::npos) out.replace(at, name.size(), id);
  };
  replace("{share}", f.share_id);
  replace("{group}", f.group_id);
  replace("{rule}", f.rule_id);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  auto& f = agate::fuzz::fuzz_api();
  const auto& endpoint = kEndpoints[data[0] % kEndpoints.size()];
  const auto version = kVersions[data[1] % kVersions.size()];
  const std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto request = agate::testing::ApiHarness::request(
      endpoint.method, expand(endpoint.path, f), body,
      endpoint.admin ? agate::testing::ApiHarness::kAdmin : agate::testing::ApiHarness::kAlice,
      std::string(version));
  agate::fuzz::check_response(request, agate::http::handle_request_sync(f.api.services(), request));
  return 0;
}
