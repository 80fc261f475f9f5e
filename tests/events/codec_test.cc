#include "events/codec.h"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include "events/event.capnp.h"
#include "tests/support/sample_events.h"

namespace agate::events {
namespace {

using testing::sample_events;

// Re-frames a raw Cap'n Proto payload as a record with a valid header and checksum, so that a
// test can reach the decoder's checks behind the checksum.
std::string frame(std::string_view payload) {
  std::string record(kRecordHeaderBytes, '\0');
  record[4] = static_cast<char>(kRecordFormat);
  record.append(payload);
  const std::uint32_t crc = crc32c(std::string_view(record).substr(4));
  for (int i = 0; i < 4; ++i) record[i] = static_cast<char>(crc >> (8 * i));
  return record;
}

TEST(EventCodec, Crc32cMatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
}

TEST(EventCodec, FastCrc32cAgreesWithThePortableOne) {
  std::mt19937_64 rng(7);
  for (std::size_t n = 0; n < 300; ++n) {
    std::string bytes(n, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    ASSERT_EQ(crc32c(bytes), crc32c_portable(bytes)) << n << " bytes";
  }
}

TEST(EventCodec, EncodingTwiceOnOneThreadGivesTheSameBytes) {
  // The encoder reuses a per-thread segment; a big event must not leave anything behind in it.
  Event big = sample_events()[0];
  std::get<ShareTypeCreated>(big.body).description.assign(20000, 'x');
  const auto small = sample_events()[5];
  const auto before = encode(small);
  (void)encode(big);
  EXPECT_EQ(encode(small), before);
}

TEST(EventCodec, SamplesCoverEveryKindOfTheSchema) {
  const auto schema = capnp::Schema::from<schema::Event::Body>();
  ASSERT_EQ(schema.getUnionFields().size(), std::variant_size_v<Body>)
      << "events::Body and the schema's union must have the same kinds";
  const auto samples = sample_events();
  ASSERT_EQ(samples.size(), std::variant_size_v<Body>);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].body.index(), i);
    // kind_name follows the schema's member names, in the same order.
    EXPECT_EQ(kind_name(samples[i].body),
              std::string_view(schema.getUnionFields()[i].getProto().getName().cStr()));
  }
}

TEST(EventCodec, KindsKeepTheirOrdinals) {
  // The log is kept forever: a kind's ordinal never changes, and new kinds take the next ones
  // (shareTypeUpdated @23, shareSoftDeleted @24 and shareRestored @25 followed driverOutcome @22;
  // the resource locks @26 to @28 followed them, then ruleLevelUpdated @29 and entryLevelUpdated
  // @30).
  const auto fields = capnp::Schema::from<schema::Event::Body>().getUnionFields();
  for (unsigned i = 0; i < fields.size(); ++i) {
    EXPECT_EQ(fields[i].getProto().getOrdinal().getExplicit(), i + 5)
        << fields[i].getProto().getName().cStr();
  }
  EXPECT_EQ(static_cast<unsigned>(schema::Event::Body::SHARE_TYPE_UPDATED), 18u);
  EXPECT_EQ(static_cast<unsigned>(schema::Event::Body::SHARE_SOFT_DELETED), 19u);
  EXPECT_EQ(static_cast<unsigned>(schema::Event::Body::SHARE_RESTORED), 20u);
  // The resource locks (2.81, 2.82) followed shareRestored @25.
  EXPECT_EQ(fields[21].getProto().getOrdinal().getExplicit(), 26u);
  EXPECT_EQ(static_cast<unsigned>(schema::Event::Body::RESOURCE_LOCK_CREATED), 21u);
  EXPECT_EQ(static_cast<unsigned>(schema::Event::Body::RESOURCE_LOCK_UPDATED), 22u);
  EXPECT_EQ(static_cast<unsigned>(schema::Event::Body::RESOURCE_LOCK_DELETED), 23u);
  // The level changes in place (2.88) followed resourceLockDeleted @28.
  EXPECT_EQ(fields[24].getProto().getOrdinal().getExplicit(), 29u);
  EXPECT_EQ(static_cast<unsigned>(schema::Event::Body::RULE_LEVEL_UPDATED), 24u);
  EXPECT_EQ(static_cast<unsigned>(schema::Event::Body::ENTRY_LEVEL_UPDATED), 25u);
}

TEST(EventCodec, ReportsUnknownLockContext) {
  // A lock context written by a newer schema is reported, never guessed.
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  auto lock = root.getBody().initResourceLockCreated();
  lock.setLockId("lock-1");
  lock.setLockContext(static_cast<schema::LockContext>(7));
  auto flat = capnp::messageToFlatArray(message);
  auto decoded = decode(frame(std::string_view(
      reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size())));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::unknown_enumerant);
  EXPECT_EQ(decoded.error().message, "unknown lock context 7 in a resource lock event");
}

TEST(EventCodec, RoundTripsEveryKind) {
  Seq seq{1};
  for (auto event : sample_events()) {
    event.seq = seq;
    seq = seq.next();
    const auto record = encode(event);
    auto decoded = decode(record);
    ASSERT_TRUE(decoded) << kind_name(event.body) << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, event) << kind_name(event.body);
  }
}

TEST(EventCodec, RoundTripsEmptyAndBinaryFields) {
  Event event;
  event.seq = Seq{~std::uint64_t{0}};
  event.time_micros = -1;
  event.project_id = std::string("a\0b\xff", 4);
  event.body = RuleAllowed{};
  auto decoded = decode(encode(event));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, event);
}

TEST(EventCodec, DecodesFromAnyAlignment) {
  const auto event = sample_events()[2];
  const auto record = encode(event);
  // An 8-aligned buffer, then the record at offsets 0..7 within it.
  std::vector<std::uint64_t> storage(record.size() / 8 + 2);
  auto* base = reinterpret_cast<char*>(storage.data());
  for (std::size_t offset = 0; offset < 8; ++offset) {
    std::memcpy(base + offset, record.data(), record.size());
    auto decoded = decode(std::string_view(base + offset, record.size()));
    ASSERT_TRUE(decoded) << "offset " << offset << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, event) << "offset " << offset;
  }
}

TEST(EventCodec, RejectsEveryTruncation) {
  const auto record = encode(sample_events()[2]);
  for (std::size_t n = 0; n < record.size(); ++n) {
    auto decoded = decode(std::string_view(record).substr(0, n));
    ASSERT_FALSE(decoded) << "a record cut to " << n << " bytes was accepted";
    if (n < kRecordHeaderBytes) {
      EXPECT_EQ(decoded.error().code, DecodeErrc::truncated);
      EXPECT_NE(decoded.error().message.find("shorter than its 8-byte header"), std::string::npos)
          << decoded.error().message;
    } else {
      EXPECT_EQ(decoded.error().code, DecodeErrc::checksum_mismatch) << n;
    }
  }
}

TEST(EventCodec, RejectsEveryFlippedBit) {
  const auto record = encode(sample_events()[10]);
  for (std::size_t bit = 0; bit < record.size() * 8; ++bit) {
    std::string flipped = record;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    auto decoded = decode(flipped);
    ASSERT_FALSE(decoded) << "bit " << bit << " flipped was accepted";
    EXPECT_EQ(decoded.error().code, DecodeErrc::checksum_mismatch);
    EXPECT_NE(decoded.error().message.find("checksum mismatch: stored 0x"), std::string::npos)
        << decoded.error().message;
  }
}

TEST(EventCodec, RejectsOversizedRecord) {
  Event event = sample_events()[0];
  std::get<ShareTypeCreated>(event.body).description.assign(5u << 20, 'x');
  const auto record = encode(event);
  auto decoded = decode(record);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::too_large);
  EXPECT_NE(decoded.error().message.find("exceeds the limit of 4194304"), std::string::npos)
      << decoded.error().message;
  // The limit is the caller's to set.
  DecodeLimits generous;
  generous.max_record_bytes = 8u << 20;
  generous.traversal_limit_words = 2u << 20;
  EXPECT_TRUE(decode(record, generous));
}

TEST(EventCodec, EnforcesTheTraversalLimit) {
  Event event = sample_events()[0];
  std::get<ShareTypeCreated>(event.body).description.assign(64u << 10, 'x');
  DecodeLimits tight;
  tight.traversal_limit_words = 1024;  // 8 KiB, less than the text
  auto decoded = decode(encode(event), tight);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::malformed);
  EXPECT_NE(decoded.error().message.find("malformed Cap'n Proto message"), std::string::npos)
      << decoded.error().message;
}

TEST(EventCodec, ReadsNoMoreWordsThanTheRecordHolds) {
  // A list of empty structs takes no space in a message, yet each element would decode into a
  // rule: 100,000 of them in a record of a few words. Cap'n Proto counts one word per element
  // against the traversal limit, which the record's own size bounds.
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  auto outcome = root.getBody().initDriverOutcome();
  const auto slot = capnp::Schema::from<schema::DriverOutcome>()
                        .getFieldByName("removed")
                        .getProto()
                        .getSlot()
                        .getOffset();
  capnp::AnyStruct::Builder(root.getBody().getDriverOutcome())
      .getPointerSection()[slot]
      .initAsListOfAnyStruct(0, 0, 100000);
  ASSERT_EQ(outcome.asReader().getRemoved().size(), 100000u);
  auto flat = capnp::messageToFlatArray(message);
  const std::string_view payload(reinterpret_cast<const char*>(flat.asBytes().begin()),
                                 flat.asBytes().size());
  ASSERT_LT(payload.size(), 200u);
  auto decoded = decode(frame(payload));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::malformed) << decoded.error().message;

  // Rules that take their space decode, however many.
  auto samples = sample_events();
  Event big = *std::find_if(samples.begin(), samples.end(), [](const Event& e) {
    return std::holds_alternative<DriverOutcome>(e.body);
  });
  auto& removed = std::get<DriverOutcome>(big.body).removed;
  removed.assign(20000, RuleKey{AccessType::ip, ""});
  auto round_trip = decode(encode(big));
  ASSERT_TRUE(round_trip) << round_trip.error().message;
  EXPECT_EQ(*round_trip, big);
}

TEST(EventCodec, RejectsUnknownRecordFormat) {
  std::string record = encode(sample_events()[0]);
  std::string payload = record.substr(kRecordHeaderBytes);
  std::string reframed = frame(payload);
  reframed[4] = 2;
  const std::uint32_t crc = crc32c(std::string_view(reframed).substr(4));
  for (int i = 0; i < 4; ++i) reframed[i] = static_cast<char>(crc >> (8 * i));
  auto decoded = decode(reframed);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::unknown_format);
  EXPECT_EQ(decoded.error().message, "unknown record format 2 (this reader knows 1)");
}

TEST(EventCodec, RejectsGarbageBehindAValidChecksum) {
  std::string garbage(64, '\xab');
  auto decoded = decode(frame(garbage));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::malformed) << decoded.error().message;
}

TEST(EventCodec, RejectsPayloadThatIsNotWholeWords) {
  auto decoded = decode(frame("12345"));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::truncated);
  EXPECT_EQ(decoded.error().message, "message of 5 bytes is not a whole number of 8-byte words");
}

TEST(EventCodec, RejectsTrailingBytes) {
  std::string payload = encode(sample_events()[0]).substr(kRecordHeaderBytes);
  payload.append(16, '\0');
  auto decoded = decode(frame(payload));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::trailing_bytes);
  EXPECT_EQ(decoded.error().message, "16 bytes follow the end of the message");
}

// Builds the payload of an event whose union discriminant is `which`, as a newer schema might.
std::string payload_with_discriminant(std::uint16_t which) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  root.setSeq(1);
  root.getBody().initAccessSyncRequested().setShareId("share-1");
  const auto offset =
      capnp::Schema::from<schema::Event::Body>().getProto().getStruct().getDiscriminantOffset();
  auto data = capnp::AnyStruct::Builder(kj::mv(root)).getDataSection();
  std::memcpy(data.begin() + offset * 2, &which, sizeof which);
  auto flat = capnp::messageToFlatArray(message);
  return std::string(reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size());
}

TEST(EventCodec, ReportsUnknownKindFromANewerSchema) {
  auto decoded = decode(frame(payload_with_discriminant(999)));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::unknown_kind);
  EXPECT_EQ(decoded.error().message, "unknown event kind 999 (written by a newer schema?)");
  // The same bytes with a known kind decode: the test reaches the check it means to.
  EXPECT_TRUE(decode(frame(payload_with_discriminant(
      static_cast<std::uint16_t>(schema::Event::Body::ACCESS_SYNC_REQUESTED)))));
}

TEST(EventCodec, ReportsUnknownAccessType) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  auto rule = root.getBody().initRuleAllowed();
  rule.setAccessType(static_cast<schema::AccessType>(7));
  auto flat = capnp::messageToFlatArray(message);
  auto decoded = decode(frame(std::string_view(
      reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size())));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::unknown_enumerant);
  EXPECT_EQ(decoded.error().message, "unknown access type 7 in ruleAllowed");
}

TEST(EventCodec, ValueThrowsWithTheMessage) {
  auto decoded = decode("short");
  EXPECT_THROW(
      {
        try {
          (void)decoded.value();
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("shorter than its 8-byte header"),
                    std::string::npos);
          throw;
        }
      },
      std::runtime_error);
}

TEST(EventCodec, EqualEventsEncodeToEqualBytes) {
  for (const auto& event : sample_events()) {
    EXPECT_EQ(encode(event), encode(Event(event))) << kind_name(event.body);
  }
}

TEST(EventModel, AccessTypesAndLevelsParseCaseSensitively) {
  EXPECT_EQ(parse_access_type("cephx"), AccessType::cephx);
  EXPECT_EQ(parse_access_type("IP"), std::nullopt);
  EXPECT_EQ(parse_access_level("ro"), AccessLevel::ro);
  EXPECT_EQ(parse_access_level("su"), std::nullopt);
  for (auto t : {AccessType::ip, AccessType::user, AccessType::cert, AccessType::cephx}) {
    EXPECT_EQ(parse_access_type(to_string(t)), t);
  }
}

}  // namespace
}  // namespace agate::events
