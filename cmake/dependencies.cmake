# Third-party libraries, all from Debian 12 packages (scripts/bootstrap installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(RapidJSON CONFIG REQUIRED)
find_package(CLI11 CONFIG QUIET)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# SHA-256 of the log's hash chain: OpenSSL's uses the CPU's SHA extensions. TLS (SSL) for
# webhooks delivered to https:// receivers.
find_package(OpenSSL REQUIRED COMPONENTS Crypto SSL)
# Distributed mode: the Kafka outbox relay and consumers, and Redis fan-out and shared limits.
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)

# RapidJSON's config only sets include directories.
add_library(realmkit_rapidjson INTERFACE)
target_include_directories(realmkit_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIRS})
target_compile_definitions(realmkit_rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)

if(TARGET CLI11::CLI11)
  set(REALMKIT_CLI11 CLI11::CLI11)
else()
  add_library(realmkit_cli11 INTERFACE)
  set(REALMKIT_CLI11 realmkit_cli11)
endif()
