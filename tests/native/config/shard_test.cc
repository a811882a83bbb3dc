#include "shard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace isoscope::native {
namespace {

// Written by tools/shard_hash.py, an independent Python implementation of the spec in shard.h.
nlohmann::json Golden() {
  std::ifstream in(std::string(ISOSCOPE_GOLDEN_DIR) + "/shard/group_hash.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

std::string Hex(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

TEST(Fnv1a64, PublishedTestVectors) {
  const nlohmann::json golden = Golden();
  ASSERT_EQ(golden["fnv1a64"].size(), 3u);
  for (const auto& [text, hash] : golden["fnv1a64"].items()) {
    EXPECT_EQ(Hex(Fnv1a64(text)), hash.get<std::string>()) << "'" << text << "'";
  }
}

TEST(GroupHash, MatchesTheIndependentPythonImplementation) {
  const nlohmann::json golden = Golden();
  ASSERT_GE(golden["groups"].size(), 9u);
  for (const auto& g : golden["groups"]) {
    std::map<std::string, std::string> labels;
    for (const auto& [k, v] : g["labels"].items()) labels[k] = v.get<std::string>();
    const uint64_t h = GroupHash(labels);
    EXPECT_EQ(Hex(h), g["hash"].get<std::string>()) << g["labels"].dump();
    for (const auto& [n, index] : g["shard_of"].items()) {
      auto shard = ParseShard(std::to_string(index.get<int>()) + "/" + n);
      ASSERT_TRUE(shard.ok()) << shard.status().ToString();
      EXPECT_TRUE(shard->Owns(h)) << g["labels"].dump() << " shard " << shard->Label();
    }
  }
}

TEST(GroupHash, DependsOnNamesAndValuesNotOnInsertionOrder) {
  const uint64_t a = GroupHash({{"detector", "checkout"}, {"job", "a"}});
  EXPECT_NE(a, GroupHash({{"detector", "checkout"}, {"job", "b"}}));
  EXPECT_NE(a, GroupHash({{"detector", "checkout"}, {"jobs", "a"}}));
  // The separator (0xFF, never in UTF-8 label values) keeps "x=1" + "y=2" apart from one
  // label whose value holds the rest.
  EXPECT_NE(GroupHash({{"x", "1"}, {"y", "2"}}), GroupHash({{"x", "1y=2"}}));
  EXPECT_NE(GroupHash({{"x", "1"}, {"y", "2"}}), GroupHash({{"x", "1,y=2"}}));
  std::map<std::string, std::string> m;
  m.emplace("job", "a");
  m.emplace("detector", "checkout");
  EXPECT_EQ(GroupHash(m), a);
}

// Every group is owned by exactly one of the N shards, and no shard is left nearly empty.
TEST(Shard, PartitionIsCompleteAndDisjoint) {
  constexpr int kGroups = 3000;
  for (int n : {1, 2, 3, 5, 16}) {
    std::vector<int> per_shard(n, 0);
    for (int g = 0; g < kGroups; ++g) {
      const uint64_t h = GroupHash({{"detector", "d"}, {"job", "job-" + std::to_string(g)}});
      int owners = 0;
      for (int i = 0; i < n; ++i) {
        auto s = ParseShard(std::to_string(i) + "/" + std::to_string(n));
        ASSERT_TRUE(s.ok());
        if (s->Owns(h)) {
          ++owners;
          ++per_shard[i];
        }
      }
      ASSERT_EQ(owners, 1) << "group " << g << " with N=" << n;
    }
    for (int i = 0; i < n; ++i) {
      // Binomial(3000, 1/n): more than 5 standard deviations below the mean would be a bug.
      const double mean = static_cast<double>(kGroups) / n;
      EXPECT_GT(per_shard[i], mean - 5 * std::sqrt(mean)) << "shard " << i << "/" << n;
    }
  }
}

TEST(ParseShard, AcceptsIOverN) {
  auto s = ParseShard("2/3");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 3);
  EXPECT_TRUE(s->configured);
  EXPECT_EQ(s->Label(), "2/3");
  EXPECT_TRUE(ParseShard("0/1").ok());
  EXPECT_TRUE(ParseShard("1023/1024").ok());
}

TEST(ParseShard, RejectsWithAnExample) {
  for (const char* bad : {"", "3", "3/3", "-1/3", "1/0", "1/1025", "a/3", "1/3x", " 1/3", "1//3",
                          "1/3/4", "99999999/3"}) {
    auto s = ParseShard(bad);
    ASSERT_FALSE(s.ok()) << "'" << bad << "'";
    EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("e.g. 0/3"), std::string::npos) << s.status().message();
  }
}

// A training Job of N pods: exactly one trains a detector's pooled model, shard 0, and a run
// without --shard trains it too.
TEST(Shard, ExactlyShardZeroOfATrainingJobTrainsThePooledModel) {
  EXPECT_TRUE(Shard().TrainsPooledModel());
  for (int n : {1, 2, 3, 7}) {
    int trainers = 0;
    for (int i = 0; i < n; ++i) {
      auto s = ParseShard(std::to_string(i) + "/" + std::to_string(n));
      ASSERT_TRUE(s.ok());
      if (s->TrainsPooledModel()) {
        ++trainers;
        EXPECT_EQ(i, 0);
      }
    }
    EXPECT_EQ(trainers, 1) << "N=" << n;
  }
}

}  // namespace
}  // namespace isoscope::native
