// Fuzz target: the event decoder on any bytes. If the first byte is odd, the rest gets a correct
// CRC-32C written into its header first, so that inputs get past the checksum and reach Cap'n
// Proto. What decodes must encode again and decode to the same event.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "events/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string record(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) != 0 && record.size() >= 4) {
    const std::uint32_t crc = agate::events::crc32c(std::string_view(record).substr(4));
    for (int i = 0; i < 4; ++i) record[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  }
  // Through an odd offset too: LMDB values are only 2-byte aligned.
  std::string shifted = "x" + record;
  const auto event = agate::events::decode(record);
  const auto again_shifted = agate::events::decode(std::string_view(shifted).substr(1));
  if (event.has_value() != again_shifted.has_value()) {
    std::fprintf(stderr, "decoding depends on alignment\n");
    std::abort();
  }
  if (!event) return 0;
  const auto round_trip = agate::events::decode(agate::events::encode(*event));
  if (!round_trip || *round_trip != *event) {
    std::fprintf(stderr, "a decoded event does not survive encode and decode\n");
    std::abort();
  }
  return 0;
}
