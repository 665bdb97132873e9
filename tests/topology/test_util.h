// Helpers shared by the topology tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "topology/topology_spec.h"

namespace hearsay::testing {

inline Result<TopologySpec> Parse(const std::string& yaml, const std::string& name = "t.yaml") {
  return ParseTopology(yaml, name);
}

// The error message of a parse that must fail ("" when it unexpectedly succeeds).
inline std::string ErrorOf(const std::string& yaml, const std::string& name = "t.yaml") {
  auto r = ParseTopology(yaml, name);
  return r.ok() ? std::string() : r.status().message();
}

// A fresh temporary folder for files a test writes.
inline std::filesystem::path TempDir(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() /
             ("hearsay_topo_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

inline void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

inline std::string SourceDir() {
  const char* d = std::getenv("HEARSAY_SOURCE_DIR");
  return d ? d : HEARSAY_TEST_SOURCE_DIR;
}

}  // namespace hearsay::testing
