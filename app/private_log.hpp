// The log as the CRM reads and writes it: personal fields sealed on the way in and opened on the
// way out (infra/privacy/private_event_store.hpp), over a store the caller owns, with the keys in
// the same database.
#pragma once

#include <memory>

#include "app/read_models.hpp"
#include "infra/privacy/private_event_store.hpp"
#include "infra/store_factory.hpp"

namespace realmkit::app {

class private_log {
 public:
  // `stored` must outlive this; `config` names its database.
  private_log(infra::event_store& stored, const infra::store_config& config)
      : db_(open_read_database(config)), keys_(*db_), store_(stored, keys_) {}
  private_log(const private_log&) = delete;
  private_log& operator=(const private_log&) = delete;

  infra::privacy::private_event_store& store() { return store_; }
  infra::privacy::subject_key_store& keys() { return keys_; }

 private:
  std::unique_ptr<infra::sql::database> db_;
  infra::privacy::subject_key_store keys_;
  infra::privacy::private_event_store store_;
};

}  // namespace realmkit::app
