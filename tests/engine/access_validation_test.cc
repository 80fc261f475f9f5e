#include "engine/access_validation.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/temp_dir.h"

namespace agate::engine {
namespace {

using events::AccessType;
using namespace std::string_view_literals;

constexpr ApiVersion kV2_0{2, 0};
constexpr ApiVersion kV2_12{2, 12};
constexpr ApiVersion kV2_13{2, 13};
constexpr ApiVersion kV2_37{2, 37};
constexpr ApiVersion kV2_38{2, 38};
constexpr ApiVersion kV2_99{2, 99};

// The input as a C string literal, so that a failure shows which bytes it was about.
std::string shown(std::string_view bytes) {
  std::string out = "\"";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte >= 0x20 && byte < 0x7F) {
      out += c;
    } else {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\%03o", byte);
      out += escape;
    }
  }
  return out + "\"";
}

std::optional<std::string> text(std::optional<std::string_view> s) {
  if (!s) return std::nullopt;
  return std::string(*s);
}

// ---------------------------------------------------------------------------------------------
// Behaviour, one fact per test.

TEST(AccessValidation, RejectsIpv4WithHostBitsSet) {
  EXPECT_EQ(check_access_to(AccessType::ip, "10.0.0.1/24", kV2_0), "10.0.0.1/24 has host bits set");
  EXPECT_EQ(check_access_to(AccessType::ip, "10.0.0.1/24", kV2_38),
            "10.0.0.1/24 has host bits set");
  // The message shows the address with the prefix length, whatever form the mask had.
  EXPECT_EQ(check_access_to(AccessType::ip, "10.0.0.1/255.255.255.0", kV2_38),
            "10.0.0.1/24 has host bits set");
}

TEST(AccessValidation, AcceptsBareAddressesAndPrefixes) {
  EXPECT_EQ(check_access_to(AccessType::ip, "10.20.30.40", kV2_0), std::nullopt);
  EXPECT_EQ(check_access_to(AccessType::ip, "10.0.0.0/24", kV2_0), std::nullopt);
  EXPECT_EQ(check_access_to(AccessType::ip, "0.0.0.0/0", kV2_0), std::nullopt);
  EXPECT_EQ(check_access_to(AccessType::ip, "10.0.0.0/08", kV2_0), std::nullopt);
}

TEST(AccessValidation, AcceptsDottedNetmaskAndHostmask) {
  EXPECT_EQ(check_access_to(AccessType::ip, "10.1.0.0/255.255.0.0", kV2_0), std::nullopt);
  EXPECT_EQ(check_access_to(AccessType::ip, "10.0.0.0/0.0.0.255", kV2_0), std::nullopt);
  EXPECT_EQ(check_access_to(AccessType::ip, "10.0.0.0/255.0.255.0", kV2_0),
            "'255.0.255.0' is not a valid netmask");
}

TEST(AccessValidation, RejectsIpv6BeforeMicroversion238WithTheIpv4Message) {
  EXPECT_EQ(check_access_to(AccessType::ip, "2001:db8::1", kV2_37),
            "Expected 4 octets in '2001:db8::1'");
  EXPECT_EQ(check_access_to(AccessType::ip, "2001:db8::1", kV2_38), std::nullopt);
}

TEST(AccessValidation, GivesTheGenericMessageForAnyUnparsableNetworkFrom238) {
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.4/33", kV2_38),
            "'1.2.3.4/33' does not appear to be an IPv4 or IPv6 network");
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.4/33", kV2_37), "'33' is not a valid netmask");
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.256", kV2_37),
            "Octet 256 (> 255) not permitted in '1.2.3.256'");
}

TEST(AccessValidation, RejectsLeadingZerosAndEmptyOctets) {
  EXPECT_EQ(check_access_to(AccessType::ip, "01.2.3.4", kV2_0),
            "Leading zeros are not permitted in '01' in '01.2.3.4'");
  EXPECT_EQ(check_access_to(AccessType::ip, "1..3.4", kV2_0),
            "Empty octet not permitted in '1..3.4'");
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.4/", kV2_0), "'' is not a valid netmask");
}

TEST(AccessValidation, AcceptsIpv6ZoneIdsFrom238) {
  EXPECT_EQ(check_access_to(AccessType::ip, "fe80::1%eth0", kV2_38), std::nullopt);
  EXPECT_EQ(check_access_to(AccessType::ip, "fe80::1%eth0/64", kV2_38),
            "fe80::1%eth0/64 has host bits set");
  EXPECT_EQ(check_access_to(AccessType::ip, "fe80::1%", kV2_38),
            "'fe80::1%' does not appear to be an IPv4 or IPv6 network");
}

TEST(AccessValidation, ReportsHostBitsOfIpv6InCompressedForm) {
  EXPECT_EQ(check_access_to(AccessType::ip, "2001:0DB8:0:0:0:0:0:1/64", kV2_38),
            "2001:db8::1/64 has host bits set");
  EXPECT_EQ(check_access_to(AccessType::ip, "::1.2.3.4/64", kV2_38),
            "::102:304/64 has host bits set");
}

TEST(AccessValidation, TreatsAPrefixOfMoreThan4300DigitsAsAnInvalidNetmask) {
  // Python 3.11's int() refuses more than 4300 digits, leading zeros included; the module
  // reports that as a bad netmask.
  const std::string digits(4400, '9');
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.4/" + digits, kV2_37),
            "'" + digits + "' is not a valid netmask");
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.0/" + std::string(4298, '0') + "24", kV2_37),
            std::nullopt);
  const std::string zeros = std::string(4299, '0') + "24";
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.0/" + zeros, kV2_37),
            "'" + zeros + "' is not a valid netmask");
  EXPECT_EQ(canonical_ip_network("::/" + std::string(4298, '0') + "64"), "::/64");
  EXPECT_EQ(canonical_ip_network("::/" + std::string(4299, '0') + "64"), std::nullopt);
}

TEST(AccessValidation, EscapesNonPrintableCharactersAsPythonRepr) {
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.4\n", kV2_38),
            "'1.2.3.4\\n' does not appear to be an IPv4 or IPv6 network");
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.\u200b", kV2_38),
            "'1.2.3.\\u200b' does not appear to be an IPv4 or IPv6 network");
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.\u00e9", kV2_38),
            "'1.2.3.\u00e9' does not appear to be an IPv4 or IPv6 network");
  EXPECT_EQ(check_access_to(AccessType::ip, "it's", kV2_38),
            "\"it's\" does not appear to be an IPv4 or IPv6 network");
}

TEST(AccessValidation, CephxIsAnUnknownTypeBefore213) {
  EXPECT_EQ(check_access_type("cephx", kV2_12),
            "Only 'ip', 'user' or 'cert' access types are supported.");
  EXPECT_EQ(check_access_to(AccessType::cephx, "alice", kV2_12),
            "Only 'ip', 'user' or 'cert' access types are supported.");
  EXPECT_EQ(check_access_type("cephx", kV2_13), std::nullopt);
  EXPECT_EQ(check_access_to(AccessType::cephx, "alice", kV2_13), std::nullopt);
}

TEST(AccessValidation, AccessTypeMessageNamesCephxFrom213) {
  EXPECT_EQ(check_access_type("IP", kV2_13),
            "Only 'ip', 'user', 'cert' or 'cephx' access types are supported.");
}

TEST(AccessValidation, RejectsCephxIdsWithPeriodsOrNonAscii) {
  EXPECT_EQ(check_access_to(AccessType::cephx, "jane.doe", kV2_13),
            "Ceph IDs may not contain periods.");
  EXPECT_EQ(check_access_to(AccessType::cephx, "bj\u00f6rn", kV2_13),
            "Ceph IDs must consist of ASCII printable characters.");
  EXPECT_EQ(check_access_to(AccessType::cephx, "", kV2_13), "Ceph IDs may not be empty.");
  EXPECT_EQ(check_access_to(AccessType::cephx, "alice bob", kV2_13), std::nullopt);
  // The API lets "admin" through; the driver must put the rule in error (CVE-2020-27781).
  EXPECT_EQ(check_access_to(AccessType::cephx, "admin", kV2_13), std::nullopt);
}

TEST(AccessValidation, UserNameLengthCountsCodePointsNotBytes) {
  EXPECT_EQ(check_access_to(AccessType::user, "\u00e9\u00e9\u00e9", kV2_0),
            "Invalid user or group name. Must be 4-255 characters and consist of alphanumeric "
            "characters and exclude special characters \"/\\[]:;|=,+*?<>");
  std::string name;
  for (int i = 0; i < 255; ++i) name += "\u00e9";
  EXPECT_EQ(check_access_to(AccessType::user, name, kV2_0), std::nullopt);
}

TEST(AccessValidation, UserNameMayHaveAnyFirstCharacterButNoSpecialOnes) {
  EXPECT_EQ(check_access_to(AccessType::user, "+abc", kV2_0), std::nullopt);
  EXPECT_EQ(check_access_to(AccessType::user, "DOMAIN\\user", kV2_0).has_value(), true);
  EXPECT_EQ(check_access_to(AccessType::user, "try+", kV2_0).has_value(), true);
}

TEST(AccessValidation, UserNameOfOnlyPeriodsSpacesOrBarsHasItsOwnMessage) {
  for (const auto name : {"....", "  ", " .|", "\u3000", "\n"}) {
    EXPECT_EQ(check_access_to(AccessType::user, name, kV2_0),
              "Invalid user or group name,cannot consist solely of periods or spaces.")
        << shown(name);
  }
}

TEST(AccessValidation, UserNameMayEndWithANewlineAsItsTwoHundredFiftySixthCharacter) {
  // '$' matches before a final "\n", so 255 characters and a newline still match.
  EXPECT_EQ(check_access_to(AccessType::user, std::string(255, 'a') + "\n", kV2_0), std::nullopt);
  EXPECT_TRUE(check_access_to(AccessType::user, std::string(256, 'a'), kV2_0).has_value());
  EXPECT_TRUE(check_access_to(AccessType::user, "\nabc", kV2_0).has_value());
}

TEST(AccessValidation, CertLengthIgnoresUnicodeWhitespaceAtBothEnds) {
  EXPECT_EQ(check_access_to(AccessType::cert, "\u3000" + std::string(64, 'a') + " \n", kV2_0),
            std::nullopt);
  EXPECT_EQ(check_access_to(AccessType::cert, std::string(65, 'a'), kV2_0),
            "Invalid CN (common name). Must be 1-64 chars long.");
  EXPECT_EQ(check_access_to(AccessType::cert, " \t ", kV2_0),
            "Invalid CN (common name). Must be 1-64 chars long.");
}

TEST(AccessValidation, RejectsInvalidUtf8ForEveryType) {
  EXPECT_EQ(check_access_to(AccessType::ip, "1.2.3.\xff", kV2_37),
            "Only decimal digits permitted in '\\udcff' in '1.2.3.\\udcff'");
  EXPECT_EQ(check_access_to(AccessType::ip, "fe80::1%\xff", kV2_38),
            "'fe80::1%\\udcff' does not appear to be an IPv4 or IPv6 network");
  EXPECT_EQ(check_access_to(AccessType::user, "abc\xff", kV2_0),
            "Invalid user or group name. Must be 4-255 characters and consist of alphanumeric "
            "characters and exclude special characters \"/\\[]:;|=,+*?<>");
  EXPECT_EQ(check_access_to(AccessType::cert, "a\xff", kV2_0),
            "Invalid CN (common name). Must be 1-64 chars long.");
  EXPECT_EQ(check_access_to(AccessType::cephx, "a\xff", kV2_13),
            "Ceph IDs must consist of ASCII printable characters.");
  EXPECT_EQ(canonical_ip_network("fe80::1%\xff"), std::nullopt);
}

TEST(AccessValidation, AbsentOrNullAccessLevelMeansRw) {
  EXPECT_EQ(check_access_level(std::nullopt), std::nullopt);
  EXPECT_EQ(check_access_level("ro"), std::nullopt);
  EXPECT_EQ(check_access_level("su"), "Invalid access rule: Invalid share access level: su.");
  EXPECT_EQ(check_access_level("RW"), "Invalid access rule: Invalid share access level: RW.");
}

TEST(AccessValidation, MetadataMessagesAreDetailedOnGrantAndGenericOnUpdate) {
  const struct {
    events::Metadata metadata;
    std::optional<std::string_view> on_grant;
    std::optional<std::string_view> on_update;
  } cases[] = {
      {{}, std::nullopt, std::nullopt},
      {{{"k", "v"}}, std::nullopt, std::nullopt},
      {{{"", "v"}}, "Metadata property key is blank.", "Invalid metadata."},
      {{{"k", ""}}, "Metadata property value is blank.", "Invalid metadata."},
      {{{std::string(255, 'k'), "v"}}, std::nullopt, std::nullopt},
      {{{std::string(256, 'k'), "v"}},
       "Metadata property key is greater than 255 characters.",
       "Invalid metadata size."},
      {{{"k", std::string(1023, 'v')}}, std::nullopt, std::nullopt},
      {{{"k", std::string(1024, 'v')}},
       "Metadata property value is greater than 1023 characters.",
       "Invalid metadata size."},
      // Lengths are in code points: 255 two-byte characters are a valid key, 256 are not.
      {{{[] {
           std::string s;
           for (int i = 0; i < 255; ++i) s += "\u00e9";
           return s;
         }(),
         "v"}},
       std::nullopt,
       std::nullopt},
      {{{[] {
           std::string s;
           for (int i = 0; i < 256; ++i) s += "\u00e9";
           return s;
         }(),
         "v"}},
       "Metadata property key is greater than 255 characters.",
       "Invalid metadata size."},
      {{{"k",
         [] {
           std::string s;
           for (int i = 0; i < 1023; ++i) s += "\u00e9";
           return s;
         }()}},
       std::nullopt,
       std::nullopt},
      // The key is checked before the value, and entries in key order.
      {{{"", ""}}, "Metadata property key is blank.", "Invalid metadata."},
      {{{"a", ""}, {std::string(256, 'b'), "v"}},
       "Metadata property value is blank.",
       "Invalid metadata."},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(check_metadata(c.metadata, MetadataContext::allow_access), text(c.on_grant));
    EXPECT_EQ(check_metadata(c.metadata, MetadataContext::metadata_update), text(c.on_update));
  }
}

TEST(AccessValidation, CanonicalNetworkMakesEqualIpv6SpellingsOneRule) {
  // Manila misses this duplicate (its SQL LIKE prefilter compares text); Agate does not.
  EXPECT_EQ(canonical_ip_network("fd8c:b029:bba6:ac54:0:0:0:1"), "fd8c:b029:bba6:ac54::1/128");
  EXPECT_EQ(canonical_ip_network("FD8C:B029:BBA6:AC54::1/128"), "fd8c:b029:bba6:ac54::1/128");
  EXPECT_EQ(rule_identity(AccessType::ip, "fd8c:b029:bba6:ac54:0:0:0:1"),
            rule_identity(AccessType::ip, "fd8c:b029:bba6:ac54::1"));
}

TEST(AccessValidation, CanonicalNetworkWritesThePrefixAndNormalisesMasks) {
  EXPECT_EQ(canonical_ip_network("10.20.30.40"), "10.20.30.40/32");
  EXPECT_EQ(canonical_ip_network("10.1.0.0/255.255.0.0"), "10.1.0.0/16");
  EXPECT_EQ(canonical_ip_network("10.1.0.0/0.0.255.255"), "10.1.0.0/16");
  EXPECT_EQ(canonical_ip_network("10.1.0.0/016"), "10.1.0.0/16");
  EXPECT_EQ(canonical_ip_network("fe80::1%eth0"), "fe80::1%eth0/128");
  EXPECT_EQ(canonical_ip_network("10.0.0.1/24"), std::nullopt);
  EXPECT_EQ(canonical_ip_network("bogus"), std::nullopt);
}

TEST(AccessValidation, RuleIdentityKeepsOverlappingNetworksApart) {
  EXPECT_NE(rule_identity(AccessType::ip, "10.0.0.0/24"),
            rule_identity(AccessType::ip, "10.0.0.5"));
  EXPECT_NE(rule_identity(AccessType::ip, "1.2.3.4"),
            rule_identity(AccessType::ip, "::ffff:1.2.3.4"));
  EXPECT_NE(rule_identity(AccessType::ip, "fe80::1"),
            rule_identity(AccessType::ip, "fe80::1%eth0"));
}

TEST(AccessValidation, RuleIdentityIsTheTextAsGivenForOtherTypes) {
  EXPECT_EQ(rule_identity(AccessType::user, "Alice_01"), "Alice_01");
  EXPECT_NE(rule_identity(AccessType::user, "Alice_01"),
            rule_identity(AccessType::user, "alice_01"));
  EXPECT_EQ(rule_identity(AccessType::cert, " cn "), " cn ");
  EXPECT_EQ(rule_identity(AccessType::cephx, "alice"), "alice");
}

// ---------------------------------------------------------------------------------------------
// Tables generated by running Manila's checks under Python 3.11: every example of
// docs/manila-compat.md §2 and the edge cases found while writing the checks. Each row is what
// agate() of kOracle (below) returns for the input. kValid: Manila accepts the input.

constexpr std::nullopt_t kValid = std::nullopt;
constexpr std::nullopt_t kNoNetwork = std::nullopt;

constexpr std::string_view kUserFormat =
    "Invalid user or group name. Must be 4-255 characters and consist of alphanumeric "
    "characters and exclude special characters \"/\\[]:;|=,+*?<>";
constexpr std::string_view kUserOnlyPeriodsOrSpaces =
    "Invalid user or group name,cannot consist solely of periods or spaces.";
constexpr std::string_view kCertLength = "Invalid CN (common name). Must be 1-64 chars long.";
constexpr std::string_view kCephxEmpty = "Ceph IDs may not be empty.";
constexpr std::string_view kCephxNotPrintable =
    "Ceph IDs must consist of ASCII printable characters.";
constexpr std::string_view kCephxPeriod = "Ceph IDs may not contain periods.";
constexpr std::string_view kTypesWithCephx =
    "Only 'ip', 'user', 'cert' or 'cephx' access types are supported.";
constexpr std::string_view kTypesWithoutCephx =
    "Only 'ip', 'user' or 'cert' access types are supported.";

struct IpCase {
  std::string_view access_to;
  std::optional<std::string_view> before_2_38;  // IPv4Network
  std::optional<std::string_view> from_2_38;    // ip_network
  std::optional<std::string_view> canonical;    // str(ip_network(...))
};

const IpCase kIpCases[] = {
    {"1.2.3.4/33"sv, "'33' is not a valid netmask"sv,
     "'1.2.3.4/33' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"10.0.0.1/24"sv, "10.0.0.1/24 has host bits set"sv, "10.0.0.1/24 has host bits set"sv,
     kNoNetwork},
    {"2001:db8::1"sv, "Expected 4 octets in '2001:db8::1'"sv, kValid, "2001:db8::1/128"sv},
    {"1.2.3.256"sv, "Octet 256 (> 255) not permitted in '1.2.3.256'"sv,
     "'1.2.3.256' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"10.1.0.0/255.255.0.0"sv, kValid, kValid, "10.1.0.0/16"sv},
    {"10.0.0.0/0.0.0.255"sv, kValid, kValid, "10.0.0.0/24"sv},
    {"fe80::1%eth0"sv, "Expected 4 octets in 'fe80::1%eth0'"sv, kValid, "fe80::1%eth0/128"sv},
    {" 1.2.3.4"sv, "Only decimal digits permitted in ' 1' in ' 1.2.3.4'"sv,
     "' 1.2.3.4' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4 "sv, "Only decimal digits permitted in '4 ' in '1.2.3.4 '"sv,
     "'1.2.3.4 ' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.*"sv, "Only decimal digits permitted in '*' in '1.2.3.*'"sv,
     "'1.2.3.*' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.1.1.-"sv, "Only decimal digits permitted in '-' in '1.1.1.-'"sv,
     "'1.1.1.-' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.*/23"sv, "Only decimal digits permitted in '*' in '1.2.3.*'"sv,
     "'1.2.3.*/23' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.1|23"sv, "Only decimal digits permitted in '1|23' in '1.2.3.1|23'"sv,
     "'1.2.3.1|23' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.1/-1"sv, "'-1' is not a valid netmask"sv,
     "'1.2.3.1/-1' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.1/"sv, "'' is not a valid netmask"sv,
     "'1.2.3.1/' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"ad80::abaa:0:c2:2/-3"sv, "Expected 4 octets in 'ad80::abaa:0:c2:2'"sv,
     "'ad80::abaa:0:c2:2/-3' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"AD80:ABAA::|26"sv, "Expected 4 octets in 'AD80:ABAA::|26'"sv,
     "'AD80:ABAA::|26' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"2001:DB8:2de:0:0:0:0:e13:200a"sv, "Expected 4 octets in '2001:DB8:2de:0:0:0:0:e13:200a'"sv,
     "'2001:DB8:2de:0:0:0:0:e13:200a' does not appear to be an IPv4 or IPv6 ne"
     "twork"sv,
     kNoNetwork},
    {"10.20.30.40"sv, kValid, kValid, "10.20.30.40/32"sv},
    {"10.20.30.40/32"sv, kValid, kValid, "10.20.30.40/32"sv},
    {"fd8c:b029:bba6:ac54:0:0:0:1"sv, "Expected 4 octets in 'fd8c:b029:bba6:ac54:0:0:0:1'"sv,
     kValid, "fd8c:b029:bba6:ac54::1/128"sv},
    {"fd8c:b029:bba6:ac54::1"sv, "Expected 4 octets in 'fd8c:b029:bba6:ac54::1'"sv, kValid,
     "fd8c:b029:bba6:ac54::1/128"sv},
    {"fd8c:b029:bba6:ac54::1/128"sv, "Expected 4 octets in 'fd8c:b029:bba6:ac54::1'"sv, kValid,
     "fd8c:b029:bba6:ac54::1/128"sv},
    {"FD8C:B029:BBA6:AC54::1"sv, "Expected 4 octets in 'FD8C:B029:BBA6:AC54::1'"sv, kValid,
     "fd8c:b029:bba6:ac54::1/128"sv},
    {"0.0.0.0/0"sv, kValid, kValid, "0.0.0.0/0"sv},
    {"10.0.0.0/24"sv, kValid, kValid, "10.0.0.0/24"sv},
    {"10.0.0.5"sv, kValid, kValid, "10.0.0.5/32"sv},
    {"2001:db8::/64"sv, "Expected 4 octets in '2001:db8::'"sv, kValid, "2001:db8::/64"sv},
    {"10.1.0.0/16"sv, kValid, kValid, "10.1.0.0/16"sv},
    {""sv, "Address cannot be empty"sv, "'' does not appear to be an IPv4 or IPv6 network"sv,
     kNoNetwork},
    {"/"sv, "Address cannot be empty"sv, "'/' does not appear to be an IPv4 or IPv6 network"sv,
     kNoNetwork},
    {"/24"sv, "Address cannot be empty"sv, "'/24' does not appear to be an IPv4 or IPv6 network"sv,
     kNoNetwork},
    {"1.2.3.4/"sv, "'' is not a valid netmask"sv,
     "'1.2.3.4/' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4//24"sv, "Only one '/' permitted in '1.2.3.4//24'"sv,
     "'1.2.3.4//24' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/24/1"sv, "Only one '/' permitted in '1.2.3.4/24/1'"sv,
     "'1.2.3.4/24/1' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1/2/3"sv, "Only one '/' permitted in '1/2/3'"sv,
     "'1/2/3' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3"sv, "Expected 4 octets in '1.2.3'"sv,
     "'1.2.3' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4.5"sv, "Expected 4 octets in '1.2.3.4.5'"sv,
     "'1.2.3.4.5' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1..3.4"sv, "Empty octet not permitted in '1..3.4'"sv,
     "'1..3.4' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {".1.2.3"sv, "Empty octet not permitted in '.1.2.3'"sv,
     "'.1.2.3' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3."sv, "Empty octet not permitted in '1.2.3.'"sv,
     "'1.2.3.' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"..."sv, "Empty octet not permitted in '...'"sv,
     "'...' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"01.2.3.4"sv, "Leading zeros are not permitted in '01' in '01.2.3.4'"sv,
     "'01.2.3.4' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.00"sv, "Leading zeros are not permitted in '00' in '1.2.3.00'"sv,
     "'1.2.3.00' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.0"sv, kValid, kValid, "1.2.3.0/32"sv},
    {"0.0.0.0"sv, kValid, kValid, "0.0.0.0/32"sv},
    {"255.255.255.255"sv, kValid, kValid, "255.255.255.255/32"sv},
    {"1.2.3.1234"sv, "At most 3 characters permitted in '1234' in '1.2.3.1234'"sv,
     "'1.2.3.1234' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.999"sv, "Octet 999 (> 255) not permitted in '1.2.3.999'"sv,
     "'1.2.3.999' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4a"sv, "Only decimal digits permitted in '4a' in '1.2.3.4a'"sv,
     "'1.2.3.4a' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.0x1"sv, "Only decimal digits permitted in '0x1' in '1.2.3.0x1'"sv,
     "'1.2.3.0x1' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.-1"sv, "Only decimal digits permitted in '-1' in '1.2.3.-1'"sv,
     "'1.2.3.-1' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.+1"sv, "Only decimal digits permitted in '+1' in '1.2.3.+1'"sv,
     "'1.2.3.+1' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"\357\274\221.2.3.4"sv,
     "Only decimal digits permitted in '\357\274\221' in '\357\274\221.2.3.4'"sv,
     "'\357\274\221.2.3.4' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\331\244"sv, "Only decimal digits permitted in '\331\244' in '1.2.3.\331\244'"sv,
     "'1.2.3.\331\244' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\302\262"sv, "Only decimal digits permitted in '\302\262' in '1.2.3.\302\262'"sv,
     "'1.2.3.\302\262' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"localhost"sv, "Expected 4 octets in 'localhost'"sv,
     "'localhost' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"a.b.c.d"sv, "Only decimal digits permitted in 'a' in 'a.b.c.d'"sv,
     "'a.b.c.d' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1 .2.3.4"sv, "Only decimal digits permitted in '1 ' in '1 .2.3.4'"sv,
     "'1 .2.3.4' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/32"sv, kValid, kValid, "1.2.3.4/32"sv},
    {"1.2.3.4/032"sv, kValid, kValid, "1.2.3.4/32"sv},
    {"1.2.3.4/0032"sv, kValid, kValid, "1.2.3.4/32"sv},
    {"0.0.0.0/00"sv, kValid, kValid, "0.0.0.0/0"sv},
    {"10.0.0.0/08"sv, kValid, kValid, "10.0.0.0/8"sv},
    {"1.2.3.4/+32"sv, "'+32' is not a valid netmask"sv,
     "'1.2.3.4/+32' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/ 32"sv, "' 32' is not a valid netmask"sv,
     "'1.2.3.4/ 32' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/32 "sv, "'32 ' is not a valid netmask"sv,
     "'1.2.3.4/32 ' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/3 2"sv, "'3 2' is not a valid netmask"sv,
     "'1.2.3.4/3 2' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/4294967328"sv, "'4294967328' is not a valid netmask"sv,
     "'1.2.3.4/4294967328' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/-0"sv, "'-0' is not a valid netmask"sv,
     "'1.2.3.4/-0' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/0x20"sv, "'0x20' is not a valid netmask"sv,
     "'1.2.3.4/0x20' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/\357\274\223\357\274\222"sv, "'\357\274\223\357\274\222' is not a valid netmask"sv,
     "'1.2.3.4/\357\274\223\357\274\222' does not appear to be an IPv4 or IPv6"
     " network"sv,
     kNoNetwork},
    {"0.0.0.0/0.0.0.0"sv, kValid, kValid, "0.0.0.0/0"sv},
    {"1.2.3.4/0.0.0.0"sv, "1.2.3.4/0 has host bits set"sv, "1.2.3.4/0 has host bits set"sv,
     kNoNetwork},
    {"1.2.3.0/255.255.255.0"sv, kValid, kValid, "1.2.3.0/24"sv},
    {"1.2.3.4/255.255.255.255"sv, kValid, kValid, "1.2.3.4/32"sv},
    {"1.2.3.0/255.0.255.0"sv, "'255.0.255.0' is not a valid netmask"sv,
     "'1.2.3.0/255.0.255.0' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.0/255.255.255.256"sv, "'255.255.255.256' is not a valid netmask"sv,
     "'1.2.3.0/255.255.255.256' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.0/255.255.255"sv, "'255.255.255' is not a valid netmask"sv,
     "'1.2.3.0/255.255.255' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.0/255.255.255.00"sv, "'255.255.255.00' is not a valid netmask"sv,
     "'1.2.3.0/255.255.255.00' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.0/ff.ff.ff.0"sv, "'ff.ff.ff.0' is not a valid netmask"sv,
     "'1.2.3.0/ff.ff.ff.0' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.0/0.0.0.255"sv, kValid, kValid, "1.2.3.0/24"sv},
    {"1.0.0.0/0.255.255.255"sv, kValid, kValid, "1.0.0.0/8"sv},
    {"128.0.0.0/128.0.0.0"sv, kValid, kValid, "128.0.0.0/1"sv},
    {"128.0.0.0/127.255.255.255"sv, kValid, kValid, "128.0.0.0/1"sv},
    {"0.0.0.0/255.255.255.254"sv, kValid, kValid, "0.0.0.0/31"sv},
    {"0.0.0.0/0.0.0.1"sv, kValid, kValid, "0.0.0.0/31"sv},
    {"1.2.3.0/255.255.255.0 "sv, "'255.255.255.0 ' is not a valid netmask"sv,
     "'1.2.3.0/255.255.255.0 ' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.1/31"sv, "1.2.3.1/31 has host bits set"sv, "1.2.3.1/31 has host bits set"sv,
     kNoNetwork},
    {"1.2.3.4/999"sv, "'999' is not a valid netmask"sv,
     "'1.2.3.4/999' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/."sv, "'.' is not a valid netmask"sv,
     "'1.2.3.4/.' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/a"sv, "'a' is not a valid netmask"sv,
     "'1.2.3.4/a' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4'"sv, "Only decimal digits permitted in \"4'\" in \"1.2.3.4'\""sv,
     "\"1.2.3.4'\" does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4\""sv, "Only decimal digits permitted in '4\"' in '1.2.3.4\"'"sv,
     "'1.2.3.4\"' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"'\""sv, "Expected 4 octets in '\\'\"'"sv,
     "'\\'\"' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"it's"sv, "Expected 4 octets in \"it's\""sv,
     "\"it's\" does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4\012"sv, "Only decimal digits permitted in '4\\n' in '1.2.3.4\\n'"sv,
     "'1.2.3.4\\n' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4\011"sv, "Only decimal digits permitted in '4\\t' in '1.2.3.4\\t'"sv,
     "'1.2.3.4\\t' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4\015"sv, "Only decimal digits permitted in '4\\r' in '1.2.3.4\\r'"sv,
     "'1.2.3.4\\r' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4\000"sv, "Only decimal digits permitted in '4\\x00' in '1.2.3.4\\x00'"sv,
     "'1.2.3.4\\x00' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4\177"sv, "Only decimal digits permitted in '4\\x7f' in '1.2.3.4\\x7f'"sv,
     "'1.2.3.4\\x7f' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\033"sv, "Only decimal digits permitted in '\\x1b' in '1.2.3.\\x1b'"sv,
     "'1.2.3.\\x1b' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1\\2.3.4"sv, "Expected 4 octets in '1\\\\2.3.4'"sv,
     "'1\\\\2.3.4' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\342\200\213"sv, "Only decimal digits permitted in '\\u200b' in '1.2.3.\\u200b'"sv,
     "'1.2.3.\\u200b' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\303\251"sv, "Only decimal digits permitted in '\303\251' in '1.2.3.\303\251'"sv,
     "'1.2.3.\303\251' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\360\237\230\200"sv,
     "Only decimal digits permitted in '\360\237\230\200' in '1.2.3.\360\237"
     "\230\200'"sv,
     "'1.2.3.\360\237\230\200' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\302\240"sv, "Only decimal digits permitted in '\\xa0' in '1.2.3.\\xa0'"sv,
     "'1.2.3.\\xa0' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\302\205"sv, "Only decimal digits permitted in '\\x85' in '1.2.3.\\x85'"sv,
     "'1.2.3.\\x85' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\302\255"sv, "Only decimal digits permitted in '\\xad' in '1.2.3.\\xad'"sv,
     "'1.2.3.\\xad' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\363\240\200\201"sv,
     "Only decimal digits permitted in '\\U000e0001' in '1.2.3.\\U000e0001'"sv,
     "'1.2.3.\\U000e0001' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\315\270"sv, "Only decimal digits permitted in '\\u0378' in '1.2.3.\\u0378'"sv,
     "'1.2.3.\\u0378' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\364\217\277\277"sv,
     "Only decimal digits permitted in '\\U0010ffff' in '1.2.3.\\U0010ffff'"sv,
     "'1.2.3.\\U0010ffff' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\342\200\250"sv, "Only decimal digits permitted in '\\u2028' in '1.2.3.\\u2028'"sv,
     "'1.2.3.\\u2028' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.\343\200\200"sv, "Only decimal digits permitted in '\\u3000' in '1.2.3.\\u3000'"sv,
     "'1.2.3.\\u3000' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"\303\277.2.3.4"sv, "Only decimal digits permitted in '\303\277' in '\303\277.2.3.4'"sv,
     "'\303\277.2.3.4' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::"sv, "Expected 4 octets in '::'"sv, kValid, "::/128"sv},
    {"::/0"sv, "Expected 4 octets in '::'"sv, kValid, "::/0"sv},
    {"::1"sv, "Expected 4 octets in '::1'"sv, kValid, "::1/128"sv},
    {"::1/128"sv, "Expected 4 octets in '::1'"sv, kValid, "::1/128"sv},
    {"::1/127"sv, "Expected 4 octets in '::1'"sv, "::1/127 has host bits set"sv, kNoNetwork},
    {"::1/129"sv, "Expected 4 octets in '::1'"sv,
     "'::1/129' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::/128"sv, "Expected 4 octets in '::'"sv, kValid, "::/128"sv},
    {":::"sv, "Expected 4 octets in ':::'"sv,
     "':::' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1::2::3"sv, "Expected 4 octets in '1::2::3'"sv,
     "'1::2::3' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {":1::2"sv, "Expected 4 octets in ':1::2'"sv,
     "':1::2' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1::2:"sv, "Expected 4 octets in '1::2:'"sv,
     "'1::2:' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {":1:2:3:4:5:6:7"sv, "Expected 4 octets in ':1:2:3:4:5:6:7'"sv,
     "':1:2:3:4:5:6:7' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1:2:3:4:5:6:7:"sv, "Expected 4 octets in '1:2:3:4:5:6:7:'"sv,
     "'1:2:3:4:5:6:7:' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1:2:3:4:5:6:7:8"sv, "Expected 4 octets in '1:2:3:4:5:6:7:8'"sv, kValid,
     "1:2:3:4:5:6:7:8/128"sv},
    {"1:2:3:4:5:6:7:8:9"sv, "Expected 4 octets in '1:2:3:4:5:6:7:8:9'"sv,
     "'1:2:3:4:5:6:7:8:9' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1:2:3:4:5:6:7"sv, "Expected 4 octets in '1:2:3:4:5:6:7'"sv,
     "'1:2:3:4:5:6:7' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1:2:3:4:5:6:7::"sv, "Expected 4 octets in '1:2:3:4:5:6:7::'"sv, kValid,
     "1:2:3:4:5:6:7:0/128"sv},
    {"::1:2:3:4:5:6:7"sv, "Expected 4 octets in '::1:2:3:4:5:6:7'"sv, kValid,
     "0:1:2:3:4:5:6:7/128"sv},
    {"1:2:3:4:5:6:7:8::"sv, "Expected 4 octets in '1:2:3:4:5:6:7:8::'"sv,
     "'1:2:3:4:5:6:7:8::' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1:2:3:4:5:6:7:8"sv, "Expected 4 octets in '::1:2:3:4:5:6:7:8'"sv,
     "'::1:2:3:4:5:6:7:8' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1:2:3:4::5:6:7:8"sv, "Expected 4 octets in '1:2:3:4::5:6:7:8'"sv,
     "'1:2:3:4::5:6:7:8' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1:2:3::4:5:6:7"sv, "Expected 4 octets in '1:2:3::4:5:6:7'"sv, kValid,
     "1:2:3:0:4:5:6:7/128"sv},
    {"12345::"sv, "Expected 4 octets in '12345::'"sv,
     "'12345::' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"01234::"sv, "Expected 4 octets in '01234::'"sv,
     "'01234::' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"g::"sv, "Expected 4 octets in 'g::'"sv,
     "'g::' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1::2"sv, "Expected 4 octets in '1::2'"sv, kValid, "1::2/128"sv},
    {"1:2"sv, "Expected 4 octets in '1:2'"sv,
     "'1:2' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {":"sv, "Expected 4 octets in ':'"sv, "':' does not appear to be an IPv4 or IPv6 network"sv,
     kNoNetwork},
    {"::ffff:1.2.3.4"sv, "Only decimal digits permitted in '::ffff:1' in '::ffff:1.2.3.4'"sv,
     kValid, "::ffff:102:304/128"sv},
    {"::ffff:1.2.3.4/96"sv, "Only decimal digits permitted in '::ffff:1' in '::ffff:1.2.3.4'"sv,
     "::ffff:102:304/96 has host bits set"sv, kNoNetwork},
    {"::ffff:1.2.3.4/128"sv, "Only decimal digits permitted in '::ffff:1' in '::ffff:1.2.3.4'"sv,
     kValid, "::ffff:102:304/128"sv},
    {"::ffff:1.2.3.256"sv, "Only decimal digits permitted in '::ffff:1' in '::ffff:1.2.3.256'"sv,
     "'::ffff:1.2.3.256' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::ffff:01.2.3.4"sv, "Only decimal digits permitted in '::ffff:01' in '::ffff:01.2.3.4'"sv,
     "'::ffff:01.2.3.4' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1.2.3.4"sv, "Only decimal digits permitted in '::1' in '::1.2.3.4'"sv, kValid,
     "::102:304/128"sv},
    {"::1.2.3"sv, "Expected 4 octets in '::1.2.3'"sv,
     "'::1.2.3' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1:2:3:4:5:6:1.2.3.4"sv,
     "Only decimal digits permitted in '1:2:3:4:5:6:1' in '1:2:3:4:5:6:1.2.3.4"
     "'"sv,
     kValid, "1:2:3:4:5:6:102:304/128"sv},
    {"1:2:3:4:5:6:7:1.2.3.4"sv,
     "Only decimal digits permitted in '1:2:3:4:5:6:7:1' in '1:2:3:4:5:6:7:1.2"
     ".3.4'"sv,
     "'1:2:3:4:5:6:7:1.2.3.4' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4::"sv, "Only decimal digits permitted in '4::' in '1.2.3.4::'"sv,
     "'1.2.3.4::' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1.2.3.4:5"sv, "Only decimal digits permitted in '::1' in '::1.2.3.4:5'"sv,
     "'::1.2.3.4:5' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1.2.3.4/127"sv, "Only decimal digits permitted in '::1' in '::1.2.3.4'"sv, kValid,
     "::102:304/127"sv},
    {"fe80::1%eth0/64"sv, "Expected 4 octets in 'fe80::1%eth0'"sv,
     "fe80::1%eth0/64 has host bits set"sv, kNoNetwork},
    {"fe80::%eth0/10"sv, "Expected 4 octets in 'fe80::%eth0'"sv, kValid, "fe80::%eth0/10"sv},
    {"fe80::1%"sv, "Expected 4 octets in 'fe80::1%'"sv,
     "'fe80::1%' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"fe80::1%%"sv, "Expected 4 octets in 'fe80::1%%'"sv,
     "'fe80::1%%' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"fe80::1%a%b"sv, "Expected 4 octets in 'fe80::1%a%b'"sv,
     "'fe80::1%a%b' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"fe80::1%eth0%"sv, "Expected 4 octets in 'fe80::1%eth0%'"sv,
     "'fe80::1%eth0%' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"fe80::1%eth 0"sv, "Expected 4 octets in 'fe80::1%eth 0'"sv, kValid, "fe80::1%eth 0/128"sv},
    {"fe80::1%\303\251"sv, "Expected 4 octets in 'fe80::1%\303\251'"sv, kValid,
     "fe80::1%\303\251/128"sv},
    {"fe80::1%eth0/128"sv, "Expected 4 octets in 'fe80::1%eth0'"sv, kValid, "fe80::1%eth0/128"sv},
    {"fe80::1%1.2.3.4"sv, "Only decimal digits permitted in 'fe80::1%1' in 'fe80::1%1.2.3.4'"sv,
     kValid, "fe80::1%1.2.3.4/128"sv},
    {"fe80::1%:"sv, "Expected 4 octets in 'fe80::1%:'"sv, kValid, "fe80::1%:/128"sv},
    {"fe80::1%\000"sv, "Expected 4 octets in 'fe80::1%\\x00'"sv, kValid, "fe80::1%\000/128"sv},
    {"%eth0"sv, "Expected 4 octets in '%eth0'"sv,
     "'%eth0' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::%eth0"sv, "Expected 4 octets in '::%eth0'"sv, kValid, "::%eth0/128"sv},
    {"1.2.3.4%eth0"sv, "Only decimal digits permitted in '4%eth0' in '1.2.3.4%eth0'"sv,
     "'1.2.3.4%eth0' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"fe80::/10"sv, "Expected 4 octets in 'fe80::'"sv, kValid, "fe80::/10"sv},
    {"fe80::/010"sv, "Expected 4 octets in 'fe80::'"sv, kValid, "fe80::/10"sv},
    {"2001:db8::/32"sv, "Expected 4 octets in '2001:db8::'"sv, kValid, "2001:db8::/32"sv},
    {"2001:db8::1/64"sv, "Expected 4 octets in '2001:db8::1'"sv,
     "2001:db8::1/64 has host bits set"sv, kNoNetwork},
    {"2001:0db8:0000:0000:0000:0000:0000:0001"sv,
     "Expected 4 octets in '2001:0db8:0000:0000:0000:0000:0000:0001'"sv, kValid,
     "2001:db8::1/128"sv},
    {"2001:DB8::1"sv, "Expected 4 octets in '2001:DB8::1'"sv, kValid, "2001:db8::1/128"sv},
    {"2001:db8:0:0:1:0:0:1"sv, "Expected 4 octets in '2001:db8:0:0:1:0:0:1'"sv, kValid,
     "2001:db8::1:0:0:1/128"sv},
    {"2001:db8::1:0:0:1"sv, "Expected 4 octets in '2001:db8::1:0:0:1'"sv, kValid,
     "2001:db8::1:0:0:1/128"sv},
    {"0:0:0:0:0:0:0:0"sv, "Expected 4 octets in '0:0:0:0:0:0:0:0'"sv, kValid, "::/128"sv},
    {"1:0:0:0:0:0:0:0/16"sv, "Expected 4 octets in '1:0:0:0:0:0:0:0'"sv, kValid, "1::/16"sv},
    {" ::1"sv, "Expected 4 octets in ' ::1'"sv,
     "' ::1' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1 "sv, "Expected 4 octets in '::1 '"sv,
     "'::1 ' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1/ 128"sv, "Expected 4 octets in '::1'"sv,
     "'::1/ 128' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1/+128"sv, "Expected 4 octets in '::1'"sv,
     "'::1/+128' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1/ff"sv, "Expected 4 octets in '::1'"sv,
     "'::1/ff' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1/255.255.255.255"sv, "Expected 4 octets in '::1'"sv,
     "'::1/255.255.255.255' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1%"sv, "Expected 4 octets in '::1%'"sv,
     "'::1%' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"[::1]"sv, "Expected 4 octets in '[::1]'"sv,
     "'[::1]' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::1/128/128"sv, "Only one '/' permitted in '::1/128/128'"sv,
     "'::1/128/128' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"0000:0000::"sv, "Expected 4 octets in '0000:0000::'"sv, kValid, "::/128"sv},
    {"00000::"sv, "Expected 4 octets in '00000::'"sv,
     "'00000::' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"2001:db8:0:0:0:0:0:1/127"sv, "Expected 4 octets in '2001:db8:0:0:0:0:0:1'"sv,
     "2001:db8::1/127 has host bits set"sv, kNoNetwork},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"sv,
     "Expected 4 octets in 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'"sv, kValid,
     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"sv},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/64"sv,
     "Expected 4 octets in 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'"sv,
     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/64 has host bits set"sv, kNoNetwork},
    {"::ffff:0:0/96"sv, "Expected 4 octets in '::ffff:0:0'"sv, kValid, "::ffff:0:0/96"sv},
    {"1::"sv, "Expected 4 octets in '1::'"sv, kValid, "1::/128"sv},
    {"1::/16"sv, "Expected 4 octets in '1::'"sv, kValid, "1::/16"sv},
    {"1:0::/16"sv, "Expected 4 octets in '1:0::'"sv, kValid, "1::/16"sv},
    {"1:0:0:1:0:0:0:0"sv, "Expected 4 octets in '1:0:0:1:0:0:0:0'"sv, kValid, "1:0:0:1::/128"sv},
    {"0:0:1:0:0:1:0:0"sv, "Expected 4 octets in '0:0:1:0:0:1:0:0'"sv, kValid,
     "::1:0:0:1:0:0/128"sv},
    {"1:0:1:0:1:0:1:0"sv, "Expected 4 octets in '1:0:1:0:1:0:1:0'"sv, kValid,
     "1:0:1:0:1:0:1:0/128"sv},
    {"0:1:0:0:1:0:0:0"sv, "Expected 4 octets in '0:1:0:0:1:0:0:0'"sv, kValid, "0:1:0:0:1::/128"sv},
    {"fd8c::1/0"sv, "Expected 4 octets in 'fd8c::1'"sv, "fd8c::1/0 has host bits set"sv,
     kNoNetwork},
    {"ABCD:EF01::"sv, "Expected 4 octets in 'ABCD:EF01::'"sv, kValid, "abcd:ef01::/128"sv},
    {"abcd:ef01::/32"sv, "Expected 4 octets in 'abcd:ef01::'"sv, kValid, "abcd:ef01::/32"sv},
    {"::\357\274\221"sv, "Expected 4 octets in '::\357\274\221'"sv,
     "'::\357\274\221' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::\331\241"sv, "Expected 4 octets in '::\331\241'"sv,
     "'::\331\241' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"::ffff:1.2.3.4%eth0"sv,
     "Only decimal digits permitted in '::ffff:1' in '::ffff:1.2.3.4%eth0'"sv, kValid,
     "::ffff:102:304%eth0/128"sv},
    {"::1.2.3.4%1/128"sv, "Only decimal digits permitted in '::1' in '::1.2.3.4%1'"sv, kValid,
     "::102:304%1/128"sv},
    {"2001:db8::1%x"sv, "Expected 4 octets in '2001:db8::1%x'"sv, kValid, "2001:db8::1%x/128"sv},
    {"2001:db8::%x/32"sv, "Expected 4 octets in '2001:db8::%x'"sv, kValid, "2001:db8::%x/32"sv},
    {"fe80::1%eth0/0128"sv, "Expected 4 octets in 'fe80::1%eth0'"sv, kValid, "fe80::1%eth0/128"sv},
    {"1.2.3.0/0000000000000000000000000000024"sv, kValid, kValid, "1.2.3.0/24"sv},
    {"1.2.3.\377"sv, "Only decimal digits permitted in '\\udcff' in '1.2.3.\\udcff'"sv,
     "'1.2.3.\\udcff' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"\377"sv, "Expected 4 octets in '\\udcff'"sv,
     "'\\udcff' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"\300\200"sv, "Expected 4 octets in '\\udcc0\\udc80'"sv,
     "'\\udcc0\\udc80' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"\355\240\200"sv, "Expected 4 octets in '\\udced\\udca0\\udc80'"sv,
     "'\\udced\\udca0\\udc80' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"\364\220\200\200"sv, "Expected 4 octets in '\\udcf4\\udc90\\udc80\\udc80'"sv,
     "'\\udcf4\\udc90\\udc80\\udc80' does not appear to be an IPv4 or IPv6 net"
     "work"sv,
     kNoNetwork},
    {"\341\200"sv, "Expected 4 octets in '\\udce1\\udc80'"sv,
     "'\\udce1\\udc80' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"1.2.3.4/\377"sv, "'\\udcff' is not a valid netmask"sv,
     "'1.2.3.4/\\udcff' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"fe80::1%\377"sv, "Expected 4 octets in 'fe80::1%\\udcff'"sv,
     "'fe80::1%\\udcff' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"fe80::1%\377/64"sv, "Expected 4 octets in 'fe80::1%\\udcff'"sv,
     "'fe80::1%\\udcff/64' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"fe80::1%eth\303"sv, "Expected 4 octets in 'fe80::1%eth\\udcc3'"sv,
     "'fe80::1%eth\\udcc3' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"fe80::1%\377/x"sv, "Expected 4 octets in 'fe80::1%\\udcff'"sv,
     "'fe80::1%\\udcff/x' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
    {"\377::1"sv, "Expected 4 octets in '\\udcff::1'"sv,
     "'\\udcff::1' does not appear to be an IPv4 or IPv6 network"sv, kNoNetwork},
};

struct TextCase {
  std::string_view access_to;
  std::optional<std::string_view> expected;
};

const TextCase kUserCases[] = {
    {"try+"sv, kUserFormat},
    {""sv, kUserFormat},
    {"abc"sv, kUserFormat},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"sv,
     kUserFormat},
    {"alice_01"sv, kValid},
    {"Alice_01"sv, kValid},
    {"...."sv, kUserOnlyPeriodsOrSpaces},
    {"    "sv, kUserOnlyPeriodsOrSpaces},
    {" . |"sv, kUserOnlyPeriodsOrSpaces},
    {"|"sv, kUserOnlyPeriodsOrSpaces},
    {"."sv, kUserOnlyPeriodsOrSpaces},
    {" "sv, kUserOnlyPeriodsOrSpaces},
    {"\012"sv, kUserOnlyPeriodsOrSpaces},
    {" \012"sv, kUserOnlyPeriodsOrSpaces},
    {". \011\015\013\014"sv, kUserOnlyPeriodsOrSpaces},
    {"abcd"sv, kValid},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"sv,
     kValid},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\012"sv,
     kValid},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\012"sv,
     kValid},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\012"sv,
     kUserFormat},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\012\012"sv,
     kValid},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\012\012"sv,
     kValid},
    {"\012abc"sv, kUserFormat},
    {"\012abcd"sv, kUserFormat},
    {"abc\012"sv, kValid},
    {"abcd\012"sv, kValid},
    {"a\012bc"sv, kValid},
    {"ab\012\012"sv, kValid},
    {"ab:c"sv, kUserFormat},
    {":abc"sv, kValid},
    {"\"abc"sv, kValid},
    {"abc\""sv, kUserFormat},
    {"a/bc"sv, kUserFormat},
    {"a\\bc"sv, kUserFormat},
    {"a[bc"sv, kUserFormat},
    {"a]bc"sv, kUserFormat},
    {"a;bc"sv, kUserFormat},
    {"a|bc"sv, kUserFormat},
    {"a=bc"sv, kUserFormat},
    {"a,bc"sv, kUserFormat},
    {"a+bc"sv, kUserFormat},
    {"a*bc"sv, kUserFormat},
    {"a?bc"sv, kUserFormat},
    {"a<bc"sv, kUserFormat},
    {"a>bc"sv, kUserFormat},
    {"DOMAIN\\user"sv, kUserFormat},
    {"\\abc"sv, kValid},
    {"+abc"sv, kValid},
    {"user name"sv, kValid},
    {"ab c"sv, kValid},
    {".abc"sv, kValid},
    {"a..."sv, kValid},
    {"....a"sv, kValid},
    {"\303\274ser"sv, kValid},
    {"\303\251\303\251\303\251"sv, kUserFormat},
    {"\303\251\303\251\303\251\303\251"sv, kValid},
    {"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251"sv,
     kValid},
    {"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251"sv,
     kUserFormat},
    {"\343\200\200\343\200\200"sv, kUserOnlyPeriodsOrSpaces},
    {"\302\240\302\240\302\240\302\240"sv, kUserOnlyPeriodsOrSpaces},
    {"\342\200\250"sv, kUserOnlyPeriodsOrSpaces},
    {"\034\035\036\037"sv, kUserOnlyPeriodsOrSpaces},
    {".\343\200\200."sv, kUserOnlyPeriodsOrSpaces},
    {"a\342\200\250bc"sv, kValid},
    {"\360\237\230\200\360\237\230\200\360\237\230\200"sv, kUserFormat},
    {"\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"sv, kValid},
    {"\011\011\011\011"sv, kUserOnlyPeriodsOrSpaces},
    {"\015"sv, kUserOnlyPeriodsOrSpaces},
    {"a\015bc"sv, kValid},
    {"\342\200\213\342\200\213\342\200\213\342\200\213"sv, kValid},
    {"a\000bc"sv, kValid},
    {"abc\302\205"sv, kValid},
    {"\302\205\302\205"sv, kUserOnlyPeriodsOrSpaces},
    {"abc\377"sv, kUserFormat},
    {"\377\377\377\377"sv, kUserFormat},
    {"  \377"sv, kUserFormat},
    {"\351t\351s"sv, kUserFormat},
    {"....\377"sv, kUserFormat},
    {"abcd\355\240\200"sv, kUserFormat},
};

const TextCase kCertCases[] = {
    {""sv, kCertLength},
    {" "sv, kCertLength},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"sv, kValid},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"sv, kCertLength},
    {" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "sv, kValid},
    {"\343\200\200aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaa"sv,
     kValid},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\342\200"
     "\250"sv,
     kValid},
    {"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251"sv,
     kValid},
    {"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251"sv,
     kCertLength},
    {"\034 abc \037"sv, kValid},
    {"CN=foo"sv, kValid},
    {"client.example.com"sv, kValid},
    {"\342\200\213"sv, kValid},
    {"\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"
     "\342\200\213\342\200\213\342\200\213\342\200\213\342\200\213"sv,
     kCertLength},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\012"sv, kValid},
    {"\012"sv, kCertLength},
    {"\011 x \011"sv, kValid},
    {"\302\205a\302\240"sv, kValid},
    {"                                                                        "
     "                            "sv,
     kCertLength},
    {"a                                                                       "
     "                             b"sv,
     kCertLength},
    {"\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200"sv,
     kValid},
    {"\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237"
     "\230\200\360\237\230\200\360\237\230\200\360\237\230\200\360\237\230\200"
     "\360\237\230\200\360\237\230\200"sv,
     kCertLength},
    {"\377"sv, kCertLength},
    {"a\377"sv, kCertLength},
    {"  \377  "sv, kCertLength},
    {"\355\240\200"sv, kCertLength},
};

const TextCase kCephxCases[] = {
    // at 2.13
    {""sv, kCephxEmpty},
    {"alice"sv, kValid},
    {"jane.doe"sv, kCephxPeriod},
    {"bj\303\266rn"sv, kCephxNotPrintable},
    {"alice bob"sv, kValid},
    {"admin"sv, kValid},
    {"."sv, kCephxPeriod},
    {"client.alice"sv, kCephxPeriod},
    {"a\011b"sv, kValid},
    {"a\013b"sv, kValid},
    {"a\014b"sv, kValid},
    {"a\015b\012"sv, kValid},
    {"a\000b"sv, kCephxNotPrintable},
    {"a\177b"sv, kCephxNotPrintable},
    {"a\033b"sv, kCephxNotPrintable},
    {"bj\303\266.rn"sv, kCephxNotPrintable},
    {" "sv, kValid},
    {"\012"sv, kValid},
    {"~!@#$%^&*()"sv, kValid},
    {"\377"sv, kCephxNotPrintable},
    {"a.\377"sv, kCephxNotPrintable},
};

struct TypeCase {
  std::string_view access_type;
  ApiVersion version;
  std::optional<std::string_view> expected;
};

const TypeCase kTypeCases[] = {
    {"ip"sv, {2, 0}, kValid},
    {"ip"sv, {2, 12}, kValid},
    {"ip"sv, {2, 13}, kValid},
    {"ip"sv, {2, 99}, kValid},
    {"user"sv, {2, 0}, kValid},
    {"user"sv, {2, 12}, kValid},
    {"user"sv, {2, 13}, kValid},
    {"user"sv, {2, 99}, kValid},
    {"cert"sv, {2, 0}, kValid},
    {"cert"sv, {2, 12}, kValid},
    {"cert"sv, {2, 13}, kValid},
    {"cert"sv, {2, 99}, kValid},
    {"cephx"sv, {2, 0}, kTypesWithoutCephx},
    {"cephx"sv, {2, 12}, kTypesWithoutCephx},
    {"cephx"sv, {2, 13}, kValid},
    {"cephx"sv, {2, 99}, kValid},
    {"IP"sv, {2, 0}, kTypesWithoutCephx},
    {"IP"sv, {2, 12}, kTypesWithoutCephx},
    {"IP"sv, {2, 13}, kTypesWithCephx},
    {"IP"sv, {2, 99}, kTypesWithCephx},
    {"Ip"sv, {2, 0}, kTypesWithoutCephx},
    {"Ip"sv, {2, 12}, kTypesWithoutCephx},
    {"Ip"sv, {2, 13}, kTypesWithCephx},
    {"Ip"sv, {2, 99}, kTypesWithCephx},
    {"User"sv, {2, 0}, kTypesWithoutCephx},
    {"User"sv, {2, 12}, kTypesWithoutCephx},
    {"User"sv, {2, 13}, kTypesWithCephx},
    {"User"sv, {2, 99}, kTypesWithCephx},
    {"CEPHX"sv, {2, 0}, kTypesWithoutCephx},
    {"CEPHX"sv, {2, 12}, kTypesWithoutCephx},
    {"CEPHX"sv, {2, 13}, kTypesWithCephx},
    {"CEPHX"sv, {2, 99}, kTypesWithCephx},
    {""sv, {2, 0}, kTypesWithoutCephx},
    {""sv, {2, 12}, kTypesWithoutCephx},
    {""sv, {2, 13}, kTypesWithCephx},
    {""sv, {2, 99}, kTypesWithCephx},
    {"ip "sv, {2, 0}, kTypesWithoutCephx},
    {"ip "sv, {2, 12}, kTypesWithoutCephx},
    {"ip "sv, {2, 13}, kTypesWithCephx},
    {"ip "sv, {2, 99}, kTypesWithCephx},
    {" ip"sv, {2, 0}, kTypesWithoutCephx},
    {" ip"sv, {2, 12}, kTypesWithoutCephx},
    {" ip"sv, {2, 13}, kTypesWithCephx},
    {" ip"sv, {2, 99}, kTypesWithCephx},
    {"nfs"sv, {2, 0}, kTypesWithoutCephx},
    {"nfs"sv, {2, 12}, kTypesWithoutCephx},
    {"nfs"sv, {2, 13}, kTypesWithCephx},
    {"nfs"sv, {2, 99}, kTypesWithCephx},
    {"kerberos"sv, {2, 0}, kTypesWithoutCephx},
    {"kerberos"sv, {2, 12}, kTypesWithoutCephx},
    {"kerberos"sv, {2, 13}, kTypesWithCephx},
    {"kerberos"sv, {2, 99}, kTypesWithCephx},
    {"ipv6"sv, {2, 0}, kTypesWithoutCephx},
    {"ipv6"sv, {2, 12}, kTypesWithoutCephx},
    {"ipv6"sv, {2, 13}, kTypesWithCephx},
    {"ipv6"sv, {2, 99}, kTypesWithCephx},
    {"cephx\012"sv, {2, 0}, kTypesWithoutCephx},
    {"cephx\012"sv, {2, 12}, kTypesWithoutCephx},
    {"cephx\012"sv, {2, 13}, kTypesWithCephx},
    {"cephx\012"sv, {2, 99}, kTypesWithCephx},
};

struct LevelCase {
  std::optional<std::string_view> access_level;
  std::optional<std::string_view> expected;
};

const LevelCase kLevelCases[] = {
    {std::nullopt, kValid},
    {"rw"sv, kValid},
    {"ro"sv, kValid},
    {"RW"sv, "Invalid access rule: Invalid share access level: RW."sv},
    {"Ro"sv, "Invalid access rule: Invalid share access level: Ro."sv},
    {"su"sv, "Invalid access rule: Invalid share access level: su."sv},
    {""sv, "Invalid access rule: Invalid share access level: ."sv},
    {" rw"sv, "Invalid access rule: Invalid share access level:  rw."sv},
    {"rw "sv, "Invalid access rule: Invalid share access level: rw ."sv},
    {"r"sv, "Invalid access rule: Invalid share access level: r."sv},
    {"rwx"sv, "Invalid access rule: Invalid share access level: rwx."sv},
    {"ro\012"sv, "Invalid access rule: Invalid share access level: ro\012."sv},
    {"none"sv, "Invalid access rule: Invalid share access level: none."sv},
};

TEST(AccessValidation, MatchesManilaOnEveryIpCaseOfTheTable) {
  for (const auto& c : kIpCases) {
    SCOPED_TRACE(shown(c.access_to));
    EXPECT_EQ(check_access_to(AccessType::ip, c.access_to, kV2_0), text(c.before_2_38));
    EXPECT_EQ(check_access_to(AccessType::ip, c.access_to, kV2_37), text(c.before_2_38));
    EXPECT_EQ(check_access_to(AccessType::ip, c.access_to, kV2_38), text(c.from_2_38));
    EXPECT_EQ(check_access_to(AccessType::ip, c.access_to, kV2_99), text(c.from_2_38));
    EXPECT_EQ(canonical_ip_network(c.access_to), text(c.canonical));
  }
}

TEST(AccessValidation, MatchesManilaOnEveryUserCertAndCephxCaseOfTheTable) {
  for (const auto& c : kUserCases) {
    EXPECT_EQ(check_access_to(AccessType::user, c.access_to, kV2_0), text(c.expected))
        << "user " << shown(c.access_to);
  }
  for (const auto& c : kCertCases) {
    EXPECT_EQ(check_access_to(AccessType::cert, c.access_to, kV2_0), text(c.expected))
        << "cert " << shown(c.access_to);
  }
  for (const auto& c : kCephxCases) {
    EXPECT_EQ(check_access_to(AccessType::cephx, c.access_to, kV2_13), text(c.expected))
        << "cephx " << shown(c.access_to);
  }
}

TEST(AccessValidation, MatchesManilaOnEveryAccessTypeAndLevelCaseOfTheTable) {
  for (const auto& c : kTypeCases) {
    EXPECT_EQ(check_access_type(c.access_type, c.version), text(c.expected))
        << shown(c.access_type) << " at 2." << c.version.minor;
  }
  for (const auto& c : kLevelCases) {
    EXPECT_EQ(check_access_level(c.access_level), text(c.expected))
        << (c.access_level ? shown(*c.access_level) : "null");
  }
}

// ---------------------------------------------------------------------------------------------
// Differential test against python3: seeded random candidates, Manila's checks run by Python.

// Manila's checks as Python runs them, and Agate's documented answers for text that is not UTF-8.
constexpr std::string_view kOracle =
    R"py(# Manila's access validation run by Python 3.11 itself (manila/api/common.py), plus Agate's
# documented answers for input that is not UTF-8.
# Usage: python3 oracle.py CANDIDATES RESULTS UNICODE_TABLES
#   CANDIDATES: one JSON string per line; each character U+0000..U+00FF stands for one byte.
#   RESULTS: one line per candidate, six tab-separated fields, each '-' (valid / no network) or
#   the hex of the UTF-8 message: ip before 2.38, ip from 2.38, canonical network, user, cert,
#   cephx (at 2.13).
#   UNICODE_TABLES: 'printable' and 'space' lines of hex code points (ranges 'a-b').
import ipaddress, json, re, string, sys

if sys.version_info[:2] != (3, 11):
    open(sys.argv[2], 'w').write('SKIP python %d.%d\n' % sys.version_info[:2])
    sys.exit(0)

USER_FORMAT = ('Invalid user or group name. Must be 4-255 characters and consist of '
               'alphanumeric characters and exclude special characters "/\\[]:;|=,+*?<>')
CERT_LENGTH = 'Invalid CN (common name). Must be 1-64 chars long.'


def manila_ip(s, enable_ipv6):
    try:
        (ipaddress.ip_network if enable_ipv6 else ipaddress.IPv4Network)(str(s))
    except ValueError as e:
        return str(e)
    return None


def manila_user(s):
    if re.match(r'[\s|\.]+$', s):
        return 'Invalid user or group name,cannot consist solely of periods or spaces.'
    if not re.match(r'.[^\"\/\\\[\]\:\;\|\=\,\+\*\?\<\>]{3,254}$', s):
        return USER_FORMAT
    return None


def manila_cert(s):
    return None if 0 < len(s.strip()) < 65 else CERT_LENGTH


def manila_cephx(s):
    if not s:
        return 'Ceph IDs may not be empty.'
    if not set(s) <= set(string.printable):
        return 'Ceph IDs must consist of ASCII printable characters.'
    if '.' in s:
        return 'Ceph IDs may not contain periods.'
    return None


def canonical(s):
    try:
        return str(ipaddress.ip_network(s))
    except ValueError:
        return None


def escaped(c):
    return '\udc80' <= c <= '\udcff'


def agate(raw):
    """What Agate answers for the bytes `raw`: Manila's answer for their surrogateescape
    decoding, except that text which is not UTF-8 is never valid."""
    s = raw.decode('utf-8', 'surrogateescape')
    well_formed = not any(escaped(c) for c in s)
    v4, v6, net = manila_ip(s, False), manila_ip(s, True), canonical(s)
    user, cert, cephx = manila_user(s), manila_cert(s), manila_cephx(s)
    if not well_formed:
        zone = s.split('/')[0].partition('%')[2]
        if any(escaped(c) for c in zone) and (v6 is None or v6.endswith(' has host bits set')):
            v6 = '%r does not appear to be an IPv4 or IPv6 network' % s
            net = None
        if user is None:
            user = USER_FORMAT
        cert = CERT_LENGTH
    return [v4, v6, net, user, cert, cephx]


def field(m):
    return '-' if m is None else m.encode('utf-8', 'surrogateescape').hex()


def ranges(pred):
    out, start = [], None
    for cp in range(0x110000):
        if pred(cp):
            if start is None:
                start = cp
        elif start is not None:
            out.append((start, cp - 1))
            start = None
    if start is not None:
        out.append((start, 0x10FFFF))
    return ' '.join('%x-%x' % r for r in out)


if __name__ == '__main__':
    with open(sys.argv[1], encoding='utf-8') as f, open(sys.argv[2], 'w') as out:
        for line in f:
            raw = json.loads(line).encode('latin-1')
            out.write('\t'.join(field(m) for m in agate(raw)) + '\n')
    with open(sys.argv[3], 'w') as out:
        out.write('printable ' + ranges(lambda c: chr(c).isprintable()) + '\n')
        out.write('space ' + ranges(lambda c: chr(c).isspace()) + '\n')
)py";

constexpr std::uint64_t kSeed = 20240611;

// Builds candidate access_to strings: well-formed networks of both versions in every spelling
// Python accepts, then damaged on purpose; user names and CNs around the length limits; junk.
class CandidateGenerator {
 public:
  explicit CandidateGenerator(std::uint64_t seed) : rng_(seed) {}

  std::string ipv4() {
    std::uint32_t address = static_cast<std::uint32_t>(rng_());
    const int prefix = uniform(0, 32);
    const std::uint32_t netmask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    if (chance(0.6)) address &= netmask;
    std::string out;
    const int octets = chance(0.9) ? 4 : uniform(1, 6);
    for (int i = 0; i < octets; ++i) {
      if (i) out += '.';
      const unsigned value = i < 4 ? (address >> (24 - 8 * i)) & 0xFF : uniform(0, 255);
      if (chance(0.04)) {
        out += std::to_string(uniform(256, 999));
      } else if (chance(0.03)) {
        out += "0" + std::to_string(value);
      } else if (chance(0.02)) {
        // empty octet
      } else {
        out += std::to_string(value);
      }
    }
    switch (uniform(0, 9)) {
      case 0:
      case 1:
        break;  // bare address
      case 2:
        out += "/" + dotted(netmask);
        break;
      case 3:
        out += "/" + dotted(~netmask);
        break;
      case 4:
        out += "/" + dotted(static_cast<std::uint32_t>(rng_()));
        break;
      case 5:
        out += "/" + std::to_string(uniform(0, 40));
        break;
      case 6:
        out += "/" + std::string(uniform(1, 3), '0') + std::to_string(prefix);
        break;
      default:
        out += "/" + std::to_string(prefix);
    }
    return chance(0.3) ? mutate(out) : out;
  }

  std::string ipv6() {
    std::uint16_t hextets[8];
    for (auto& h : hextets) h = chance(0.45) ? 0 : static_cast<std::uint16_t>(uniform(0, 0xFFFF));
    const int prefix = uniform(0, 128);
    if (chance(0.6)) {
      for (int i = 0; i < 8; ++i) {
        const int keep = std::clamp(prefix - 16 * i, 0, 16);
        hextets[i] &= static_cast<std::uint16_t>(0xFFFF0000u >> keep);
      }
    }
    const bool v4_tail = chance(0.15);
    const int written = v4_tail ? 6 : 8;
    std::vector<std::string> parts;
    for (int i = 0; i < written; ++i) parts.push_back(hex(hextets[i]));
    if (v4_tail) {
      parts.push_back(std::to_string(hextets[6] >> 8) + "." + std::to_string(hextets[6] & 0xFF) +
                      "." + std::to_string(hextets[7] >> 8) + "." +
                      std::to_string(hextets[7] & 0xFF));
    }
    // Compress a run of zero hextets into "::" (not always the longest, not always at all).
    std::string out;
    int run_start = -1, run_length = 0;
    if (chance(0.7)) {
      for (int i = 0; i < written; ++i) {
        int end = i;
        while (end < written && hextets[end] == 0) ++end;
        if (end - i > run_length && (run_length == 0 || chance(0.7))) {
          run_start = i;
          run_length = end - i;
        }
        i = std::max(i, end);
      }
    }
    for (int i = 0; i < static_cast<int>(parts.size()); ++i) {
      if (i == run_start) {
        out += "::";
        i += run_length - 1;
        continue;
      }
      if (!out.empty() && out.back() != ':') out += ':';
      out += parts[i];
    }
    if (chance(0.1)) out += "%" + pick({"eth0", "1", "", "%", "a%b", "en p0", "\xc3\xa9", "\xff"});
    if (chance(0.7)) {
      out += "/" + (chance(0.1) ? std::to_string(uniform(0, 140)) : std::to_string(prefix));
    }
    return chance(0.35) ? mutate(out) : out;
  }

  std::string user() {
    if (chance(0.15)) return repeat({" ", ".", "|", "\t", "\n", "\xe3\x80\x80", "\xc2\xa0"});
    const int length = pick_length({0, 1, 2, 3, 4, 5, 253, 254, 255, 256, 257}, 300);
    std::string name = chance(0.6)
                           ? random_text(length, {"a", "b", "Z", "0", "_", "-", ".", " ",
                                                  "\xc3\xa9", "\xe3\x80\x80", "\xf0\x9f\x98\x80"})
                           : random_text(length, {"a",
                                                  "b",
                                                  "Z",
                                                  "0",
                                                  "_",
                                                  "-",
                                                  ".",
                                                  " ",
                                                  "\n",
                                                  "\\",
                                                  "/",
                                                  ":",
                                                  "+",
                                                  "*",
                                                  "|",
                                                  "\"",
                                                  "<",
                                                  "\xc3\xa9",
                                                  "\xe3\x80\x80",
                                                  "\xf0\x9f\x98\x80",
                                                  "\xff"});
    // '$' also matches before a final newline; put one where it matters.
    if (chance(0.15)) name += "\n";
    if (chance(0.05)) name.insert(0, "\n");
    return name;
  }

  std::string cert() {
    std::string core = random_text(
        pick_length({0, 1, 2, 63, 64, 65, 66}, 80),
        {"a", "B", "=", ",", " ", ".", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xe2\x80\x8b", "\xfe"});
    const std::vector<std::string_view> padding = {
        " ",        "\t",           "\n",       "\x1c",        "\xe3\x80\x80",
        "\xc2\xa0", "\xe2\x80\xa8", "\xc2\x85", "\xe2\x80\x8b"};
    return random_text(uniform(0, 3), padding) + core + random_text(uniform(0, 3), padding);
  }

  std::string cephx() {
    std::string out;
    const int length = uniform(0, 12);
    for (int i = 0; i < length; ++i) {
      out += chance(0.9) ? static_cast<char>(uniform(0x20, 0x7E))
                         : static_cast<char>(uniform(0, 0xFF));
    }
    return out;
  }

  // Insertions, deletions and replacements with characters that trip one check or another.
  std::string mutate(std::string s) {
    static const std::vector<std::string_view> kJunk = {" ",
                                                        "\t",
                                                        "\n",
                                                        "*",
                                                        "|",
                                                        "%",
                                                        ":",
                                                        ".",
                                                        "/",
                                                        "-",
                                                        "+",
                                                        "'",
                                                        "\"",
                                                        "\\",
                                                        std::string_view("\0", 1),
                                                        "x",
                                                        "f",
                                                        "F",
                                                        "0",
                                                        "00",
                                                        "::",
                                                        "%eth0",
                                                        "\xc3\xa9",
                                                        "\xe2\x80\x8b",
                                                        "\xe3\x80\x80",
                                                        "\xef\xbc\x91",
                                                        "\xff",
                                                        "\xc3",
                                                        "\xed\xa0\x80",
                                                        "\xf0\x9f\x98\x80",
                                                        "\x85",
                                                        "\xc2\x85",
                                                        "\xc2\xa0",
                                                        "255",
                                                        "1.2.3.4",
                                                        "ffff"};
    const int edits = uniform(1, 3);
    for (int i = 0; i < edits; ++i) {
      const std::size_t at = s.empty() ? 0 : uniform(0, static_cast<int>(s.size()));
      switch (uniform(0, 2)) {
        case 0:
          s.insert(at, pick(kJunk));
          break;
        case 1:
          if (at < s.size()) s.erase(at, 1);
          break;
        default:
          if (at < s.size()) s.replace(at, 1, pick(kJunk));
      }
    }
    return s;
  }

 private:
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  std::string pick(const std::vector<std::string_view>& choices) {
    return std::string(choices[uniform(0, static_cast<int>(choices.size()) - 1)]);
  }
  int pick_length(const std::vector<int>& favourites, int max) {
    return chance(0.6) ? favourites[uniform(0, static_cast<int>(favourites.size()) - 1)]
                       : uniform(0, max);
  }
  std::string random_text(int length, const std::vector<std::string_view>& alphabet) {
    std::string out;
    for (int i = 0; i < length; ++i) out += pick(alphabet);
    return out;
  }
  std::string repeat(const std::vector<std::string_view>& alphabet) {
    return random_text(uniform(1, 8), alphabet);
  }
  std::string hex(std::uint16_t value) {
    static constexpr char kDigits[] = "0123456789abcdef0123456789ABCDEF";
    const bool upper = chance(0.2);
    std::string out;
    for (int shift = 12; shift >= 0; shift -= 4) {
      out += kDigits[((value >> shift) & 0xF) + (upper ? 16 : 0)];
    }
    // Python accepts 1 to 4 digits: usually drop the leading zeros, sometimes keep some.
    const std::size_t zeros = std::min<std::size_t>(out.find_first_not_of('0'), 3);
    return out.substr(chance(0.8) ? zeros : std::min<std::size_t>(zeros, uniform(0, 1)));
  }
  static std::string dotted(std::uint32_t bits) {
    return std::to_string(bits >> 24) + "." + std::to_string((bits >> 16) & 0xFF) + "." +
           std::to_string((bits >> 8) & 0xFF) + "." + std::to_string(bits & 0xFF);
  }

  std::mt19937_64 rng_;
};

// A JSON string carrying arbitrary bytes: each byte is the character of the same number, which
// the oracle turns back into bytes with .encode('latin-1').
std::string json_bytes(std::string_view bytes) {
  std::string out = "\"";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F && c != '"' && c != '\\') {
      out += c;
    } else {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", byte);
      out += escape;
    }
  }
  return out + "\"";
}

std::optional<std::string> from_hex_field(std::string_view field) {
  if (field == "-") return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i + 1 < field.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(field.substr(i, 2)), nullptr, 16));
  }
  return out;
}

std::vector<std::string_view> split_fields(std::string_view line, char sep) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const std::size_t at = line.find(sep, start);
    fields.push_back(line.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return fields;
    start = at + 1;
  }
}

// Inclusive code point ranges from a line "name a-b c-d ..." of the oracle's Unicode tables.
std::vector<std::pair<char32_t, char32_t>> parse_ranges(const std::string& line) {
  std::vector<std::pair<char32_t, char32_t>> ranges;
  std::istringstream in(line);
  std::string word;
  in >> word;  // the name
  while (in >> word) {
    const auto dash = word.find('-');
    ranges.emplace_back(std::stoul(word.substr(0, dash), nullptr, 16),
                        std::stoul(word.substr(dash + 1), nullptr, 16));
  }
  return ranges;
}

std::string utf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

// Runs the oracle once for the whole suite; each test skips if python3 (3.11) is not there.
class AccessValidationVsPython : public ::testing::Test {
 protected:
  static constexpr int kIpv4Candidates = 1500;
  static constexpr int kIpv6Candidates = 1500;
  static constexpr int kUserCandidates = 800;
  static constexpr int kCertCandidates = 500;
  static constexpr int kCephxCandidates = 300;

  static void SetUpTestSuite() {
    const std::filesystem::path python = "/usr/bin/python3";
    if (!std::filesystem::exists(python)) {
      skip_reason_ = "no /usr/bin/python3";
      return;
    }
    CandidateGenerator generate(kSeed);
    candidates_.clear();
    for (int i = 0; i < kIpv4Candidates; ++i) candidates_.push_back(generate.ipv4());
    for (int i = 0; i < kIpv6Candidates; ++i) candidates_.push_back(generate.ipv6());
    for (int i = 0; i < kUserCandidates; ++i) candidates_.push_back(generate.user());
    for (int i = 0; i < kCertCandidates; ++i) candidates_.push_back(generate.cert());
    for (int i = 0; i < kCephxCandidates; ++i) candidates_.push_back(generate.cephx());

    const testing::TempDir dir;
    const auto script = dir.path() / "oracle.py";
    const auto input = dir.path() / "candidates.jsonl";
    const auto output = dir.path() / "results.tsv";
    const auto tables = dir.path() / "unicode.txt";
    std::ofstream(script) << kOracle;
    {
      std::ofstream out(input, std::ios::binary);
      for (const auto& c : candidates_) out << json_bytes(c) << '\n';
    }
    const std::string command = python.string() + " " + script.string() + " " + input.string() +
                                " " + output.string() + " " + tables.string();
    run_status_ = std::system(command.c_str());
    results_.clear();
    std::ifstream in(output, std::ios::binary);
    for (std::string line; std::getline(in, line);) results_.push_back(line);
    if (results_.size() == 1 && results_[0].starts_with("SKIP ")) {
      skip_reason_ = "the oracle needs Python 3.11, found " + results_[0].substr(5);
      return;
    }
    std::ifstream unicode(tables);
    std::getline(unicode, printable_line_);
    std::getline(unicode, space_line_);
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_EQ(run_status_, 0) << "python3 failed";
    ASSERT_EQ(results_.size(), candidates_.size());
  }

  static inline std::string skip_reason_;
  static inline int run_status_ = -1;
  static inline std::vector<std::string> candidates_;
  static inline std::vector<std::string> results_;
  static inline std::string printable_line_;
  static inline std::string space_line_;
};

TEST_F(AccessValidationVsPython, AgreesOnEverySeededRandomCandidate) {
  const char* const kRules[] = {"ip at 2.37", "ip at 2.38", "canonical network",
                                "user",       "cert",       "cephx at 2.13"};
  int mismatches = 0, checked = 0, valid_networks = 0;
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    const std::string& c = candidates_[i];
    const auto fields = split_fields(results_[i], '\t');
    ASSERT_EQ(fields.size(), 6u) << results_[i];
    const std::optional<std::string> ours[] = {check_access_to(AccessType::ip, c, kV2_37),
                                               check_access_to(AccessType::ip, c, kV2_38),
                                               canonical_ip_network(c),
                                               check_access_to(AccessType::user, c, kV2_0),
                                               check_access_to(AccessType::cert, c, kV2_0),
                                               check_access_to(AccessType::cephx, c, kV2_13)};
    if (ours[2]) ++valid_networks;
    for (int rule = 0; rule < 6; ++rule, ++checked) {
      const auto theirs = from_hex_field(fields[rule]);
      if (ours[rule] == theirs) continue;
      if (++mismatches <= 20) {
        const char* none = rule == 2 ? "no network" : "valid";
        ADD_FAILURE() << kRules[rule] << " of " << shown(c) << ": agate "
                      << (ours[rule] ? shown(*ours[rule]) : none) << ", python "
                      << (theirs ? shown(*theirs) : none);
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << checked << " checks (seed " << kSeed << ")";
  // The generator must keep producing a good share of valid networks, or the test proves little.
  EXPECT_GT(valid_networks, static_cast<int>(candidates_.size()) / 5);
}

TEST_F(AccessValidationVsPython, ReprEscapesExactlyTheCharactersPythonFindsNonPrintable) {
  const auto printable = parse_ranges(printable_line_);
  ASSERT_FALSE(printable.empty());
  std::size_t next = 0;
  int mismatches = 0;
  for (char32_t c = 0x80; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;  // surrogates have no UTF-8 form
    while (next < printable.size() && printable[next].second < c) ++next;
    const bool python = next < printable.size() && printable[next].first <= c;
    // One character is never a network, so the message is repr(text) and a fixed suffix.
    const auto message = check_access_to(AccessType::ip, utf8(c), kV2_38);
    const bool ours = message && message->starts_with("'" + utf8(c) + "'");
    if (ours != python && ++mismatches <= 10) {
      ADD_FAILURE() << "U+" << std::hex << static_cast<std::uint32_t>(c) << ": python " << python
                    << ", agate " << ours;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_F(AccessValidationVsPython, WhitespaceIsExactlyWhatPythonStripsAndMatchesWithBackslashS) {
  const auto spaces = parse_ranges(space_line_);
  ASSERT_FALSE(spaces.empty());
  int mismatches = 0;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    bool python = false;
    for (const auto& [first, last] : spaces) python = python || (first <= c && c <= last);
    // A CN of only that character is empty once stripped; a user name of four of them is
    // "solely periods or spaces" exactly when it is whitespace (or '.' or '|').
    const bool stripped = check_access_to(AccessType::cert, utf8(c), kV2_0).has_value();
    const auto user =
        check_access_to(AccessType::user, utf8(c) + utf8(c) + utf8(c) + utf8(c), kV2_0);
    const bool solely = user && user->find(",cannot consist solely") != std::string::npos;
    const bool user_expected = python || c == U'.' || c == U'|';
    if ((stripped != python || solely != user_expected) && ++mismatches <= 10) {
      ADD_FAILURE() << "U+" << std::hex << static_cast<std::uint32_t>(c) << ": python isspace "
                    << python;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace agate::engine
