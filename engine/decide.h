#pragma once

// decide(): the one place where a command is checked against the current state and turned into
// events, or refused. Pure: it reads only through `State`, and everything it makes up — ids and
// the time — comes from `DecideInputs`, so that the same inputs always give the same events.
// Applying events never makes anything up.

#include <boost/system/result.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/commands.h"
#include "engine/model.h"
#include "engine/state.h"
#include "events/event.h"

namespace agate::engine {

// Makes ids (UUIDs) for new objects.
class IdSource {
 public:
  virtual ~IdSource() = default;
  virtual std::string next_id() = 0;
};

// Time-ordered version-7 UUIDs, random bits from the operating system's entropy: ids made one
// after another sort one after another (write locality for everything keyed by id).
std::unique_ptr<IdSource> make_random_ids();
// The same from a seeded generator and a clock of its own: the same seed gives the same ids.
std::unique_ptr<IdSource> make_seeded_ids(std::uint64_t seed);

struct DecideInputs {
  std::int64_t now_micros = 0;  // the time stamped on the events
  IdSource* ids = nullptr;
};

using Decision = boost::system::result<std::vector<events::Event>, Rejection>;

// Decides `command` for `context` against `state`. Returns the events to append (possibly none:
// a command that changes nothing, such as denying a rule already being denied) or a rejection.
// Never throws on bad input.
[[nodiscard]] Decision decide(const State& state, const Context& context, const Command& command,
                              const DecideInputs& inputs);

// The status of a share instance's access rules as Manila shows it at 2.28 and later:
// "active", "syncing" or "error".
std::string_view access_rules_status(const ShareRow& share, const InstanceRow& instance);

}  // namespace agate::engine
