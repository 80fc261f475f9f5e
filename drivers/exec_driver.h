#pragma once

// The exec driver: hands each update to an operator's executable. The request goes to its
// standard input as one JSON object, and the result is read from its standard output:
//
//   stdin:  {"instance": {"id", "share_id", "host", "share_proto", "export_path"},
//            "access_rules": [{"access_type", "access_to", "access_level"}, …],
//            "add_rules": [… the same …],
//            "delete_rules": [{"access_type", "access_to"}, …],
//            "update_rules": [{"access_type", "access_to", "access_level"}, …]}
//           update_rules are rules the back end holds at another level: each at its new one.
//   stdout: {"failures": [{"access_type", "access_to", "message"}, …],
//            "access_keys": [{"access_type", "access_to", "access_key"}, …]}
//           (both optional; empty output means success with nothing to report)
//
// Exit status 0 with such an answer is success (per-rule failures included). A non-zero exit, a
// signal, output that is not that JSON, or running past the timeout fails the whole call, with
// the program's standard error (or the reason) in the message.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace agate::drivers {

struct ExecOptions {
  std::filesystem::path command;       // an absolute path; run without a shell
  std::vector<std::string> arguments;  // given after the command
  std::chrono::milliseconds timeout{30'000};
};

std::unique_ptr<Driver> make_exec_driver(ExecOptions options);

// The request as the executable receives it (exposed for tests and documentation).
std::string exec_request_json(const UpdateRequest& request);
// Parses the executable's output; returns the whole-call failure message if it is not valid.
UpdateResult parse_exec_result(std::string_view output);

}  // namespace agate::drivers
