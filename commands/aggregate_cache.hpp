// A bounded LRU of recently folded aggregate states, so a hot aggregate is not re-folded from its
// whole stream on every command. It is only a hint: the expected-version check on append keeps it
// honest, and a conflict reloads from the store.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <typeindex>
#include <unordered_map>

namespace realmkit::commands {

class aggregate_cache {
 public:
  explicit aggregate_cache(std::size_t capacity) : capacity_(capacity) {}

  template <class T>
  std::shared_ptr<const T> get(const std::string& stream_id) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(stream_id);
    if (it == index_.end() || it->second->type != typeid(T)) {
      ++misses_;
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    ++hits_;
    return std::static_pointer_cast<const T>(it->second->value);
  }

  // Keeps the newer of two states for a stream: concurrent commands may finish out of order.
  template <class T>
  void put(const std::string& stream_id, std::shared_ptr<const T> value, std::int64_t version) {
    if (capacity_ == 0) return;
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(stream_id); it != index_.end()) {
      if (it->second->version > version) return;
      it->second->type = typeid(T);
      it->second->value = std::move(value);
      it->second->version = version;
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    lru_.push_front(node{stream_id, typeid(T), std::move(value), version});
    index_.emplace(stream_id, lru_.begin());
    if (lru_.size() > capacity_) {
      index_.erase(lru_.back().stream_id);
      lru_.pop_back();
    }
  }

  void erase(const std::string& stream_id) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(stream_id); it != index_.end()) {
      lru_.erase(it->second);
      index_.erase(it);
    }
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return lru_.size();
  }
  std::uint64_t hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
  }
  std::uint64_t misses() const {
    std::lock_guard lock(mutex_);
    return misses_;
  }

 private:
  struct node {
    std::string stream_id;
    std::type_index type;
    std::shared_ptr<const void> value;
    std::int64_t version;
  };

  const std::size_t capacity_;
  mutable std::mutex mutex_;  // guards lru_, index_, hits_ and misses_
  std::list<node> lru_;       // most recently used first
  std::unordered_map<std::string, std::list<node>::iterator> index_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace realmkit::commands
