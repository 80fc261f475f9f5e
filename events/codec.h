#pragma once

// The one place where events become bytes and bytes become events.
//
// A record is an 8-byte header followed by a flat (unpacked) Cap'n Proto message:
//
//   bytes 0..3  CRC-32C (Castagnoli), little-endian, of bytes 4..end
//   byte  4     record format, currently 1
//   bytes 5..7  zero (reserved)
//   bytes 8..   the `Event` message, segment table first, a whole number of 8-byte words
//
// The checksum makes a flipped bit or a torn value detectable, which Cap'n Proto alone is not
// (a flipped bit inside a text field still parses). The header keeps the message 8-aligned
// relative to the start of the record.

#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/event.h"

namespace agate::events {

inline constexpr std::size_t kRecordHeaderBytes = 8;
inline constexpr std::uint8_t kRecordFormat = 1;

enum class DecodeErrc {
  truncated,          // shorter than a header, or the message ends early
  too_large,          // over DecodeLimits::max_record_bytes
  checksum_mismatch,  // the stored CRC-32C does not match the bytes
  unknown_format,     // a header this reader does not know
  malformed,          // Cap'n Proto rejected the message
  trailing_bytes,     // bytes after the end of the message
  unknown_kind,       // an event kind from a newer schema
  unknown_enumerant,  // an access type or level from a newer schema
};

std::string_view to_string(DecodeErrc code);

// What is wrong with a record; `message` names it in words ("checksum mismatch: …").
struct DecodeError {
  DecodeErrc code;
  std::string message;
};

// Called by boost::system::result::value() when it holds an error.
[[noreturn]] void throw_exception_from_error(const DecodeError& e,
                                             const boost::source_location& loc);

// Bounds on what one record may make the reader do. The defaults are far above any event Agate
// writes; they exist so that a corrupt or hostile record cannot make the reader work without end.
struct DecodeLimits {
  std::size_t max_record_bytes = 4u << 20;
  std::uint64_t traversal_limit_words = 1u << 20;
  int nesting_limit = 16;
};

// Encodes `event` (its `seq` included) as a record.
std::string encode(const Event& event);
// Same, into `out` (cleared first), reusing its capacity.
void encode_into(const Event& event, std::string& out);

// Decodes a record. `record` may have any alignment: unaligned input is copied to an aligned
// buffer first. Never throws on bad input; every failure is a DecodeError.
[[nodiscard]] boost::system::result<Event, DecodeError> decode(std::string_view record,
                                                               const DecodeLimits& limits = {});

// CRC-32C (Castagnoli) of `bytes`, with the CPU's instruction when it has one; exposed for
// tests and tools. crc32c_portable is the table-driven version the fast one is tested against.
std::uint32_t crc32c(std::string_view bytes);
std::uint32_t crc32c_portable(std::string_view bytes);

}  // namespace agate::events
