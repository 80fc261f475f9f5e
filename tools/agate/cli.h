#pragma once

// The agate command line: parses the arguments, talks to agated, prints tables or JSON.

#include <ostream>

namespace agate::cli {

// Runs one agate command. Tables, JSON and help go to `out`; errors go to `err` as
// "ERROR: <message>". Returns the exit status: 0 on success; 1 when the server refuses the request
// (its Manila message is printed with the HTTP status and the request id) or a name matches no
// object or several; 2 for a usage error or when agated cannot be reached or does not answer in
// time. Reads AGATE_URL, AGATE_TOKEN (or OS_TOKEN), AGATE_API_VERSION and AGATE_TIMEOUT.
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace agate::cli
