// Filled in by the access_api_test work.
#include <gtest/gtest.h>
