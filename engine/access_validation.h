#pragma once

// Validation of access rules exactly as Manila does it (manila/api/common.py validate_access and
// its helpers, manila/share/api.py allow_access; docs/manila-compat.md §2), as pure functions.
//
// Each check_* function returns std::nullopt when the input is valid and otherwise the text of
// the 400 badRequest Manila would answer, byte for byte. Manila's texts come from Python 3.11:
// the ip messages are str() of the ValueError raised by the `ipaddress` module, and lengths are
// counted in Unicode code points of the decoded string.
//
// Inputs are UTF-8. Manila only ever sees decoded text, so bytes that are not UTF-8 have no exact
// Manila answer; the contract for them is stated per function below and, in short: such an
// access_to is always invalid, with the message Manila gives for that type.
//
// Thread-safety: every function is pure and may be called from any thread.

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "events/event.h"

namespace agate::engine {

// A Manila microversion, "2.45" = {2, 45}. Absent header means 2.0.
struct ApiVersion {
  int major = 2;
  int minor = 0;
  friend auto operator<=>(const ApiVersion&, const ApiVersion&) = default;
};

// The first version that accepts access type cephx.
inline constexpr ApiVersion kCephxMinVersion{2, 13};
// The first version that accepts IPv6 (ipaddress.ip_network instead of IPv4Network).
inline constexpr ApiVersion kIpv6MinVersion{2, 38};

// The access_type as sent (case-sensitive): ip, user and cert always, cephx from 2.13 (§2.1).
[[nodiscard]] std::optional<std::string> check_access_type(std::string_view type, ApiVersion v);

// The access_to for a type that check_access_type accepted (§2.2-2.5).
// - ip: from 2.38 `ipaddress.ip_network(access_to)`, before it `ipaddress.IPv4Network(access_to)`,
//   both strict (host bits must be zero), with Python 3.11's exact messages.
// - user: Manila's two regular expressions, lengths in code points.
// - cert: 1..64 code points once Unicode whitespace is stripped from both ends.
// - cephx: non-empty, string.printable only, no period. Before 2.13 cephx is an unknown type and
//   the answer is the access-type message, as validate_access gives it.
// Invalid UTF-8 is judged as Python would judge the text decoded with "surrogateescape" (each
// stray byte becomes one code point U+DC80..U+DCFF, shown by repr() as '\udcXX'), except that the
// result is never "valid": user and cert then get their format message, and an ip whose only
// fault is a stray byte in an IPv6 zone id (which Python accepts as any text) gets the generic
// "does not appear to be an IPv4 or IPv6 network" message.
[[nodiscard]] std::optional<std::string> check_access_to(events::AccessType type,
                                                         std::string_view access_to, ApiVersion v);

// access_level: absent or JSON null is valid and means rw; otherwise "rw" or "ro" (§2.6).
[[nodiscard]] std::optional<std::string> check_access_level(std::optional<std::string_view> level);

// Where metadata is being checked; Manila words the same failures differently in the two places.
enum class MetadataContext {
  allow_access,     // the detailed "Metadata property key is blank." etc. (§1.2)
  metadata_update,  // PUT .../metadata: only "Invalid metadata." / "Invalid metadata size." (§1.8)
};

// Keys non-empty and at most 255 code points, values non-empty and at most 1023 (§2.7); a byte that
// is not part of a UTF-8 sequence counts as one code point (the JSON layer rejects such text). The
// first failing entry decides the message. Manila checks entries in the order of the request's JSON
// object; Metadata is ordered by key, so when several entries are bad the message may name a
// different kind of fault than Manila would (both are 400s for the same request).
[[nodiscard]] std::optional<std::string> check_metadata(const events::Metadata& metadata,
                                                        MetadataContext context);

// The network an ip access_to denotes, as Python's str(ipaddress.ip_network(access_to)):
// "10.20.30.40/32", "10.1.0.0/16" (also for "10.1.0.0/255.255.0.0"),
// "fd8c:b029:bba6:ac54::1/128" — lower-case, compressed IPv6, the prefix always written, an IPv6
// zone id kept as given ("fe80::1%eth0/128"). Returns std::nullopt if access_to is not a valid
// network of either version (strictly: host bits set is not valid).
//
// Used for duplicate detection by value (§2.8). Manila compares ip_network() values too, but only
// among stored rules whose text starts with the new rule's address text (SQL LIKE), so it misses
// "fd8c:b029:bba6:ac54:0:0:0:1" against "fd8c:b029:bba6:ac54::1". Agate compares the canonical
// forms, so those two ARE the same rule here: that is what Manila means to do.
// IPv4 and IPv4-mapped IPv6 ("::ffff:1.2.3.4") stay different networks, as in Python, and so do
// addresses that differ only by zone id.
[[nodiscard]] std::optional<std::string> canonical_ip_network(std::string_view access_to);

// The identity of a rule for duplicate detection and for the effective rule set: for ip the
// canonical network (access_to unchanged if it is not a valid network, which validation prevents);
// for user, cert and cephx the access_to exactly as given, case-sensitive (as Manila on sqlite).
[[nodiscard]] std::string rule_identity(events::AccessType type, std::string_view access_to);

}  // namespace agate::engine
