// Manila's timestamps as views render them: checked against a chrono format of the same instant.

#include "http/views.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace agate {
namespace {

std::string reference(std::int64_t micros) {
  std::int64_t seconds = micros / 1'000'000, fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const std::chrono::sys_seconds tp{std::chrono::seconds(seconds)};
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}", tp, fraction);
}

TEST(TimeValue, KnownInstants) {
  EXPECT_TRUE(http::time_value(0).is_null()) << "0 means never";
  EXPECT_EQ(http::time_value(1).as_string(), "1970-01-01T00:00:00.000001");
  EXPECT_EQ(http::time_value(1'764'072'000'123'456).as_string(), "2025-11-25T12:00:00.123456");
  EXPECT_EQ(http::time_value(951'782'400'000'000).as_string(), "2000-02-29T00:00:00.000000");
  EXPECT_EQ(http::time_value(253'402'300'799'999'999).as_string(), "9999-12-31T23:59:59.999999");
  EXPECT_EQ(http::time_value(-1).as_string(), "1969-12-31T23:59:59.999999");
  EXPECT_EQ(http::time_value(-62'135'596'800'000'000).as_string(), "0001-01-01T00:00:00.000000");
  // Outside Python's years 1 to 9999 (only a damaged record could hold such a time): no text.
  EXPECT_TRUE(http::time_value(253'402'300'800'000'000).is_null());
  EXPECT_TRUE(http::time_value(-62'135'596'800'000'001).is_null());
  EXPECT_TRUE(http::time_value(INT64_MAX).is_null());
  EXPECT_TRUE(http::time_value(INT64_MIN).is_null());
}

// fmt's chrono format goes through nanoseconds since 1970, so it is the reference only for
// years 1678 to 2261; the years beyond are checked by KnownInstants.
TEST(TimeValue, AgreesWithAChronoFormatOverRandomInstants) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::int64_t> any(-9'000'000'000'000'000, 9'000'000'000'000'000);
  for (int i = 0; i < 100'000; ++i) {
    const auto micros = any(rng);
    if (micros == 0) continue;
    ASSERT_EQ(http::time_value(micros).as_string(), reference(micros)) << micros;
  }
}

}  // namespace
}  // namespace agate
