#pragma once

// Idempotency keys: what a write that carried one came to, kept so that the same request sent
// again (a retry after a timeout, after a crash) gets the same answer and changes nothing.
//
// A key belongs to a caller (project and user): two callers' equal keys are two keys. The
// record is written in the transaction of the command it belongs to, beside its events, so a
// command and its key are durable together or not at all. Values here; storage is projections/.

#include <cstdint>
#include <optional>
#include <string>

#include "engine/model.h"
#include "events/event.h"

namespace agate::engine {

// Who a key belongs to and the key itself, as the caller sent it.
struct IdempotencyKey {
  std::string caller;  // the caller's project and user, as idempotency_caller() joins them
  std::string key;     // 1 to kMaxIdempotencyKeyLength printable ASCII characters
  friend bool operator==(const IdempotencyKey&, const IdempotencyKey&) = default;
};

inline constexpr std::size_t kMaxIdempotencyKeyLength = 255;

// Project and user joined so that no two callers share a value (ids hold no NUL).
inline std::string idempotency_caller(const Context& ctx) {
  return ctx.project_id + '\0' + ctx.user_id;
}

// What the first request with a key came to.
struct IdempotencyRecord {
  // A digest of the request (method, target, microversion, body): the same key with another
  // request is refused.
  std::string fingerprint;
  std::int64_t expires_at = 0;  // µs since the epoch; the record is gone after it
  // The command's refusal, or none: it was accepted, with its events at [first, last] (both 0
  // when it changed nothing).
  std::optional<Rejection> refusal;
  events::Seq first{0};
  events::Seq last{0};
  events::Seq position{0};  // the position the outcome stands at (X-Agate-Position)
  // The answer as it was first sent (status, then the body), once stored; empty until then.
  std::string answer;
  friend bool operator==(const IdempotencyRecord&, const IdempotencyRecord&) = default;
};

}  // namespace agate::engine
