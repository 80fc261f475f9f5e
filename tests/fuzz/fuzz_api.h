#pragma once

// What the HTTP fuzz targets share: one API over an engine harness, seeded with a share type, a
// share with a direct rule, and an access group with an entry attached to it, so that inputs
// can reach the handlers behind an id; and the checks every answer must pass.

#include <string>

#include "tests/support/api_harness.h"

namespace agate::fuzz {

struct FuzzApi {
  testing::ApiHarness api;
  // The seeded objects' ids (fixed: the harness's ids are seeded). The corpora use them.
  std::string share_id;
  std::string group_id;
  std::string entry_id;
  std::string rule_id;
};

// The process's API, built on first use. Inputs change its state, so an input's answer may
// depend on the inputs run before it; a crash must still reproduce from the input alone, since
// the checks below never depend on that state.
FuzzApi& fuzz_api();

// Aborts, naming the request, unless `res` is an answer the API may give to any input: never a
// 500 (an escaped exception), every body valid JSON (so valid UTF-8), and every error body
// Manila's {"<fault>": {"code", "message"}} with the response's own status.
void check_response(const http::Request& req, const http::Response& res);

}  // namespace agate::fuzz
