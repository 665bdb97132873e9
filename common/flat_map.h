// FlatMap: an ordered map kept as one sorted vector of (key, value) pairs, for the small maps a
// peer touches on every message (a gossip peer's buffered payloads: a few entries, inserted near
// the end and erased from the front). std::map allocates a node per insert and frees it per
// erase, and walks pointers to iterate; here inserts and erases move a few pairs within memory
// that stays allocated, and iteration is a scan. Iteration order is the key order, as std::map's.
//
// Differences from std::map that callers must respect: insert and erase invalidate iterators and
// references past the position (use erase's return value), and both cost O(size) moves -- meant
// for maps of tens of entries, not thousands.
// Thread-safety: none (like std::map).
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

namespace hearsay {

template <typename K, typename V>
class FlatMap {
 public:
  using value_type = std::pair<K, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  void clear() { items_.clear(); }

  iterator find(const K& key) {
    auto it = LowerBound(key);
    return it != items_.end() && it->first == key ? it : items_.end();
  }
  size_t count(const K& key) const {
    auto it = std::lower_bound(items_.begin(), items_.end(), key,
                               [](const value_type& a, const K& k) { return a.first < k; });
    return it != items_.end() && it->first == key ? 1 : 0;
  }
  // Inserts (key, value) unless key is present; returns its position and whether it was new.
  std::pair<iterator, bool> try_emplace(const K& key, V value) {
    auto it = LowerBound(key);
    if (it != items_.end() && it->first == key) return {it, false};
    return {items_.emplace(it, key, std::move(value)), true};
  }
  V& operator[](const K& key) { return try_emplace(key, V()).first->second; }
  // Removes the entry at `it`; returns the position of the next one.
  iterator erase(iterator it) { return items_.erase(it); }

 private:
  // Messages mostly arrive in key order: look at the end first.
  iterator LowerBound(const K& key) {
    if (items_.empty() || items_.back().first < key) return items_.end();
    return std::lower_bound(items_.begin(), items_.end(), key,
                            [](const value_type& a, const K& k) { return a.first < k; });
  }

  std::vector<value_type> items_;
};

}  // namespace hearsay
