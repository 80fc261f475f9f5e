#pragma once

// Builds a back end's driver from its configuration: the driver's name and its options as text
// (tools/config.h's [backends.NAME] tables).
//
//   driver = "fake"         options: fail_rules_matching, failure_message, delay_ms
//   driver = "nfs_exports"  options: see nfs_exports_driver.h (exports_file, …)
//   driver = "samba"        options: see samba_driver.h (config_file, …)
//   driver = "exec"         options: command (absolute path), arguments (split on spaces),
//                                    timeout_ms (default 30000)

#include <boost/system/result.hpp>
#include <map>
#include <memory>
#include <string>

#include "drivers/driver.h"

namespace agate::drivers {

// Returns the driver, or a message naming the back end and what is wrong with its options.
[[nodiscard]] boost::system::result<std::shared_ptr<Driver>, std::string> make_driver(
    const std::string& backend, const std::string& driver,
    const std::map<std::string, std::string>& options);

}  // namespace agate::drivers
