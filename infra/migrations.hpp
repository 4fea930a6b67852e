// Numbered SQL migrations per backend, embedded in the binary at build time from
// migrations/{sqlite,postgres}/NNNN_name.sql, so the binary migrates a database wherever it runs.
#pragma once

#include <span>
#include <string_view>

namespace realmkit::infra {

struct migration {
  int version;            // NNNN of the file name
  std::string_view name;  // the file name without extension
  std::string_view sql;
};

enum class backend { sqlite, postgres };

// In ascending version order.
std::span<const migration> migrations_for(backend b);

}  // namespace realmkit::infra
