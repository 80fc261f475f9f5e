// Shares and share types.

#include "http/api.h"

namespace agate::http {

void add_share_type_routes(std::vector<Route>&) {}
void add_share_routes(std::vector<Route>&) {}

}  // namespace agate::http
