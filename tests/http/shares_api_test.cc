// Filled in by the shares_api_test work.
#include <gtest/gtest.h>
