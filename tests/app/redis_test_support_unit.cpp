// The Redis test helpers (a private redis-server, REALMKIT_TEST_REDIS_URL) compiled into this
// suite too: the test suites are built from their own folders only.
#include "tests/infra/redis_test_support.cpp"  // NOLINT(bugprone-suspicious-include)
