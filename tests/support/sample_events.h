#pragma once

// Events of every kind with every field set to something other than its default, for round
// trips and log tests.

#include <random>
#include <vector>

#include "events/event.h"

namespace agate::testing {

// One event of each kind, in the order of events::Body's alternatives.
std::vector<events::Event> sample_events();

// A random event (any kind, random field contents and sizes) from `rng`.
events::Event random_event(std::mt19937_64& rng);

}  // namespace agate::testing
