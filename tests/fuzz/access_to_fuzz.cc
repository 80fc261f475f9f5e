// Fuzz target: access_to validation. The first byte picks the access type, the second the
// microversion; the rest is the access_to. Besides not crashing, what validation accepts must be
// something the rest of the engine can use: a valid ip has a canonical network, and that network
// is itself valid and its own canonical form.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/access_validation.h"

namespace {

using agate::engine::ApiVersion;
using agate::events::AccessType;

constexpr std::array<ApiVersion, 4> kVersions = {{{2, 0}, {2, 13}, {2, 38}, {2, 45}}};
constexpr std::array<AccessType, 4> kTypes = {AccessType::ip, AccessType::user, AccessType::cert,
                                              AccessType::cephx};

[[noreturn]] void fail(const char* what, std::string_view access_to, std::string_view detail) {
  std::fprintf(stderr, "%s: access_to '%.*s' (%zu bytes): %.*s\n", what,
               static_cast<int>(access_to.size()), access_to.data(), access_to.size(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const AccessType type = kTypes[data[0] % kTypes.size()];
  const ApiVersion version = kVersions[data[1] % kVersions.size()];
  const std::string_view access_to(reinterpret_cast<const char*>(data) + 2, size - 2);

  const auto type_error = agate::engine::check_access_type(agate::events::to_string(type), version);
  const auto error = agate::engine::check_access_to(type, access_to, version);
  const auto identity = agate::engine::rule_identity(type, access_to);
  const auto canonical = agate::engine::canonical_ip_network(access_to);
  if (error && error->empty()) fail("an empty message", access_to, "");

  if (type == AccessType::ip && !error) {
    if (!canonical) fail("valid but without a canonical network", access_to, "");
    if (identity != *canonical) fail("identity is not the canonical network", access_to, identity);
  }
  if (canonical) {
    if (auto again = agate::engine::canonical_ip_network(*canonical); again != canonical) {
      fail("canonical form not stable", access_to, again ? *again : "(none)");
    }
    // A zone id keeps whatever bytes it had, and stray ones make any access_to invalid.
    const bool ascii = std::all_of(canonical->begin(), canonical->end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) {
      if (auto e = agate::engine::check_access_to(AccessType::ip, *canonical, {2, 45})) {
        fail("canonical form refused", access_to, *e);
      }
    }
  }
  (void)type_error;
  return 0;
}
