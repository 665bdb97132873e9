// `hearsay codec`: encode one vector with one or more codecs and print, per codec, the payload
// size, compression ratio, relative error and encode/decode timing, so users can compare codecs
// on their own data.
//
// Input: --input FILE with --format raw (little-endian float32, the default) or text (one
// number per line; blank lines and lines starting with '#' are skipped), or a vector generated
// from --seed with --size elements (standard normal values).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "common/random.h"
#include "common/regular_file.h"
#include "common/status.h"
#include "compressors/compressor.h"

namespace hearsay::apps {
namespace {

struct CodecArgs {
  std::vector<std::string> codecs = {"identity", "fp16", "qsgd:8",   "qsgd:4",
                                     "natural",  "sign", "topk:0.01"};
  std::string input;
  std::string format = "raw";
  size_t size = 1 << 20;
  uint64_t seed = 1;
  int repeat = 5;
};

[[noreturn]] void Fail(const std::string& what, int code) {
  std::cerr << "hearsay codec: " << what << "\n";
  throw CLI::RuntimeError(code);
}

// Inputs larger than this are refused: the vector is held in memory several times over (input,
// decoded copy, payloads).
constexpr uint64_t kMaxInputBytes = uint64_t{2} << 30;

Result<std::vector<float>> ReadInput(const CodecArgs& a) {
  // Regular files only, size-capped: `--input /dev/zero` used to read for ever.
  HEARSAY_ASSIGN_OR_RETURN(std::string bytes,
                           ReadRegularFile(a.input, kMaxInputBytes, "codec input"));
  std::vector<float> x;
  if (a.format == "raw") {
    if (bytes.size() % 4 != 0) {
      return InvalidArgument(a.input + ": " + std::to_string(bytes.size()) +
                             " bytes is not a whole number of float32 values (use --format text "
                             "for a text file)");
    }
    x.resize(bytes.size() / 4);
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(x.data()));
  } else {
    std::istringstream f(bytes);
    std::string line;
    for (int lineno = 1; std::getline(f, line); ++lineno) {
      const auto first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#') continue;
      std::istringstream in(line);
      float v;
      std::string rest;
      if (!(in >> v) || (in >> rest)) {
        return InvalidArgument(a.input + ":" + std::to_string(lineno) +
                               ": expected one number per line, got '" + line + "'");
      }
      x.push_back(v);
    }
  }
  if (x.empty()) return InvalidArgument(a.input + ": no values");
  return x;
}

std::vector<float> Generate(size_t n, uint64_t seed) {
  const RngKey k{seed, 0, 0, kStreamData, 0};
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    const float u1 = UniformAt(k, 2 * i) + 0x1p-25f, u2 = UniformAt(k, 2 * i + 1);
    x[i] = std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
  }
  return x;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void Run(const CodecArgs& a) {
  if (a.repeat < 1) Fail("--repeat must be at least 1", 1);
  std::vector<std::unique_ptr<Compressor>> codecs;
  for (const std::string& spec : a.codecs) {  // validate every spec before any work
    auto made = MakeCompressor(spec);
    if (!made.ok()) Fail(made.status().message(), 1);
    codecs.push_back(std::move(made).value());
  }
  std::vector<float> x;
  if (!a.input.empty()) {
    auto r = ReadInput(a);
    if (!r.ok()) Fail(r.status().message(), 1);
    x = std::move(r).value();
  } else {
    if (a.size == 0) Fail("--size must be at least 1", 1);
    x = Generate(a.size, a.seed);
  }
  double norm2 = 0;
  for (float v : x) norm2 += double(v) * v;
  const double norm = std::sqrt(norm2);
  std::printf(
      "vector: %zu elements (%s), %.1f MB as fp32, 2-norm %.6g\n", x.size(),
      a.input.empty() ? ("generated, seed " + std::to_string(a.seed)).c_str() : a.input.c_str(),
      x.size() * 4 / 1e6, norm);
  std::printf("%-28s %12s %9s %8s %10s %8s %11s %11s\n", "codec", "bytes", "bits/elt", "ratio",
              "rel.error", "unbiased", "encode ms", "decode ms");
  const RngKey key{a.seed, 0, 1, 0, 0};
  for (auto& made : codecs) {
    Compressor& codec = *made;
    ByteBuffer bytes;
    std::vector<float> y(x.size());
    double enc = 1e300, dec = 1e300;
    double err2 = 0;
    for (int r = 0; r < a.repeat; ++r) {
      bytes.clear();
      auto t0 = std::chrono::steady_clock::now();
      Status s = codec.Encode(x, key, &bytes);
      auto t1 = std::chrono::steady_clock::now();
      if (!s.ok()) Fail(s.message(), 2);
      s = codec.Decode(bytes, key, y);
      auto t2 = std::chrono::steady_clock::now();
      if (!s.ok()) Fail(s.message(), 2);
      enc = std::min(enc, Seconds(t1 - t0));
      dec = std::min(dec, Seconds(t2 - t1));
      // The error of the first call: a stateful codec (ef) starts with a zero residual, and
      // later timing repetitions would add what earlier ones left out (the error then grew
      // with --repeat: ef(topk:0.1) 0.75 with --repeat 1, 1.45 with 5).
      if (r == 0) {
        for (size_t i = 0; i < x.size(); ++i) {
          err2 += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
        }
      }
    }
    std::printf("%-28s %12zu %9.3f %7.1fx %10.3g %8s %11.3f %11.3f\n", codec.Spec().c_str(),
                bytes.size(), 8.0 * bytes.size() / x.size(), 4.0 * x.size() / bytes.size(),
                norm > 0 ? std::sqrt(err2) / norm : std::sqrt(err2),
                codec.Unbiased() ? "yes" : "no", enc * 1e3, dec * 1e3);
  }
  std::printf(
      "(rel.error = ||decode(encode(x)) - x|| / ||x|| for one key, the first call (ef: zero "
      "residual); timings: best of %d, one core)\n",
      a.repeat);
}

}  // namespace

void RegisterCodecCommand(CLI::App& app) {
  auto args = std::make_shared<CodecArgs>();
  CLI::App* cmd = app.add_subcommand(
      "codec",
      "Encode a vector with one or more codecs and print size, ratio, error and timing.\n"
      "Codec specs: identity, fp16, bf16, qsgd:b[:block][:norm=l2], terngrad, minmax8, natural,\n"
      "natural8, natdither:s, topk:ratio, randk:ratio, randk_unbiased:ratio, sign, ef(C),\n"
      "then(C1,C2). See docs/compressors.md.");
  cmd->add_option("-c,--codec", args->codecs, "Codec spec(s) to compare (repeatable)")
      ->capture_default_str();
  cmd->add_option("-i,--input", args->input,
                  "Vector file: raw little-endian float32, or text with --format text");
  cmd->add_option("--format", args->format, "Input file format")
      ->check(CLI::IsMember({"raw", "text"}))
      ->capture_default_str();
  cmd->add_option("-n,--size", args->size, "Elements to generate when no --input is given")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the generated vector and of the codec key")
      ->capture_default_str();
  cmd->add_option("--repeat", args->repeat, "Timing repetitions (best is reported)")
      ->capture_default_str();
  cmd->callback([args] { Run(*args); });
}

}  // namespace hearsay::apps
