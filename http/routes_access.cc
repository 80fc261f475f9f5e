// Share access: the share actions and /share-access-rules.

#include "http/api.h"

namespace agate::http {

void add_share_action_routes(std::vector<Route>&) {}
void add_access_rule_routes(std::vector<Route>&) {}

}  // namespace agate::http
