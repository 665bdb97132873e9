// FlatMap (common/flat_map.h) against std::map: the same contents, in the same order, after a
// long random sequence of the operations a gossip peer uses (insert if absent, assign, find,
// count, erase while iterating).
#include "common/flat_map.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace hearsay {
namespace {

using Key = std::pair<int64_t, int>;

template <typename M>
std::vector<std::pair<Key, std::string>> Contents(const M& m) {
  std::vector<std::pair<Key, std::string>> out;
  for (const auto& [k, v] : m) out.emplace_back(k, v);
  return out;
}

TEST(FlatMap, MatchesStdMapThroughRandomInsertsFindsAndErases) {
  FlatMap<Key, std::string> flat;
  std::map<Key, std::string> ref;
  std::mt19937 rng(7);
  for (int step = 0; step < 20000; ++step) {
    // Keys mostly near the end (new rounds), sometimes anywhere (late or duplicate messages).
    const Key k{static_cast<int64_t>(step / 8 + static_cast<int>(rng() % 4)) -
                    (rng() % 10 == 0 ? static_cast<int64_t>(rng() % 20) : 0),
                static_cast<int>(rng() % 5)};
    const std::string v = std::to_string(step);
    switch (rng() % 6) {
      case 0:
      case 1: {
        const auto [it, fresh] = flat.try_emplace(k, v);
        const auto [rit, rfresh] = ref.try_emplace(k, v);
        ASSERT_EQ(fresh, rfresh);
        ASSERT_EQ(it->second, rit->second);
        break;
      }
      case 2:
        flat[k] = v;
        ref[k] = v;
        break;
      case 3: {
        ASSERT_EQ(flat.count(k), ref.count(k));
        auto it = flat.find(k);
        auto rit = ref.find(k);
        ASSERT_EQ(it == flat.end(), rit == ref.end());
        if (rit != ref.end()) {
          ASSERT_EQ(it->second, rit->second);
          flat.erase(it);
          ref.erase(rit);
        }
        break;
      }
      default: {
        // Erase every entry up to a round while iterating, as a round end does.
        const int64_t limit = k.first;
        for (auto it = flat.begin(); it != flat.end();) {
          it = it->first.first <= limit && it->first.second % 2 == 0 ? flat.erase(it) : ++it;
        }
        for (auto it = ref.begin(); it != ref.end();) {
          it = it->first.first <= limit && it->first.second % 2 == 0 ? ref.erase(it) : ++it;
        }
      }
    }
    ASSERT_EQ(flat.size(), ref.size()) << "step " << step;
  }
  EXPECT_EQ(Contents(flat), Contents(ref));
  EXPECT_FALSE(ref.empty()) << "the sequence should leave something to compare";
}

TEST(FlatMap, HoldsMoveOnlyValues) {
  FlatMap<int, std::unique_ptr<int>> m;
  m.try_emplace(3, std::make_unique<int>(30));
  m.try_emplace(1, std::make_unique<int>(10));
  m[2] = std::make_unique<int>(20);
  EXPECT_FALSE(m.try_emplace(1, std::make_unique<int>(99)).second);
  std::vector<int> seen;
  for (auto& [k, v] : m) seen.push_back(*v);
  EXPECT_EQ(seen, (std::vector<int>{10, 20, 30}));
  m.erase(m.find(2));
  EXPECT_EQ(m.count(2), 0u);
  EXPECT_EQ(*m.find(3)->second, 30);
}

}  // namespace
}  // namespace hearsay
