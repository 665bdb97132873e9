// MakeCompressor: spec string -> codec. Validates every parameter with a message that names the
// spec and the valid range; the factories in codecs.h then trust their arguments.
#include <charconv>
#include <string>

#include "compressors/codecs.h"
#include "compressors/compressor.h"
#include "compressors/error_feedback.h"
#include "compressors/sparse.h"
#include "compressors/spec.h"

namespace hearsay {
namespace {

constexpr const char* kKnown =
    "identity, fp16, bf16, qsgd:b[:block][:norm=l2|max], terngrad[:block], minmax8[:block], "
    "natural, natural8, natdither:s[:block], topk:ratio, randk:ratio, randk_unbiased:ratio, "
    "sign[:block], ef(C), then(C1,C2)";

Result<long> ParseInt(const SpecNode& n, const std::string& arg, const char* what) {
  long v = 0;
  auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), v);
  if (ec != std::errc() || p != arg.data() + arg.size()) {
    return InvalidArgument(n.text + ": " + what + " must be an integer, got '" + arg + "'");
  }
  return v;
}

Result<double> ParseRatio(const SpecNode& n, const std::string& arg) {
  double v = 0;
  auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), v);
  if (ec != std::errc() || p != arg.data() + arg.size()) {
    return InvalidArgument(n.text + ": ratio must be a number in (0, 1], got '" + arg + "'");
  }
  if (!(v > 0.0 && v <= 1.0)) {
    return InvalidArgument(n.text + ": ratio must be in (0, 1], got " + arg);
  }
  return v;
}

Result<int> ParseBlock(const SpecNode& n, const std::string& arg) {
  HEARSAY_ASSIGN_OR_RETURN(long b, ParseInt(n, arg, "block"));
  if (b < 8 || b > kMaxBlock || b % 8 != 0) {
    return InvalidArgument(n.text + ": block must be a multiple of 8 in 8.." +
                           std::to_string(kMaxBlock) + ", got " + arg);
  }
  return static_cast<int>(b);
}

Status ExpectArgs(const SpecNode& n, size_t lo, size_t hi, const char* usage) {
  if (n.call) return InvalidArgument(n.text + ": " + n.name + " takes no '(...)'; usage: " + usage);
  if (n.args.size() < lo || n.args.size() > hi) {
    return InvalidArgument(n.text + ": wrong number of arguments; usage: " + usage);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Compressor>> Build(const SpecNode& n);

// Codecs with an optional ":block" argument only.
Result<int> OptionalBlock(const SpecNode& n, const char* usage) {
  HEARSAY_RETURN_IF_ERROR(ExpectArgs(n, 0, 1, usage));
  if (n.args.empty()) return kDefaultBlock;
  return ParseBlock(n, n.args[0]);
}

Result<std::unique_ptr<Compressor>> BuildQsgd(const SpecNode& n) {
  constexpr const char* kUsage = "qsgd:b[:block][:norm=l2|max] with b in 1..8";
  if (n.call || n.args.empty()) {
    return InvalidArgument(n.text + ": missing bits; usage: " + kUsage);
  }
  QsgdOptions o;
  HEARSAY_ASSIGN_OR_RETURN(long bits, ParseInt(n, n.args[0], "bits"));
  if (bits < 1 || bits > 8) return InvalidArgument(n.text + ": bits must be 1..8");
  o.bits = static_cast<int>(bits);
  bool have_block = false;
  for (size_t i = 1; i < n.args.size(); ++i) {
    const std::string& a = n.args[i];
    if (a.rfind("norm=", 0) == 0) {
      const std::string v = a.substr(5);
      if (v == "l2") {
        o.l2 = true;
      } else if (v == "max") {
        o.l2 = false;
      } else {
        return InvalidArgument(n.text + ": norm must be l2 or max, got '" + v + "'");
      }
    } else if (!have_block) {
      HEARSAY_ASSIGN_OR_RETURN(o.block, ParseBlock(n, a));
      have_block = true;
    } else {
      return InvalidArgument(n.text + ": unexpected argument '" + a + "'; usage: " + kUsage);
    }
  }
  return MakeQsgdCodec(o);
}

Result<std::unique_ptr<Compressor>> Build(const SpecNode& n) {
  const std::string& name = n.name;
  if (name == "identity" || name == "fp16" || name == "bf16") {
    HEARSAY_RETURN_IF_ERROR(ExpectArgs(n, 0, 0, name.c_str()));
    if (name == "identity") return MakeIdentityCodec();
    if (name == "fp16") return MakeFp16Codec();
    return MakeBf16Codec();
  }
  if (name == "qsgd") return BuildQsgd(n);
  if (name == "terngrad") {
    HEARSAY_ASSIGN_OR_RETURN(int block, OptionalBlock(n, "terngrad[:block]"));
    QsgdOptions o;
    o.bits = 1;
    o.block = block;
    o.terngrad = true;
    return MakeQsgdCodec(o);
  }
  if (name == "minmax8") {
    HEARSAY_ASSIGN_OR_RETURN(int block, OptionalBlock(n, "minmax8[:block]"));
    return MakeMinMax8Codec(block);
  }
  if (name == "sign") {
    HEARSAY_ASSIGN_OR_RETURN(int block, OptionalBlock(n, "sign[:block]"));
    return MakeSignCodec(block);
  }
  if (name == "natural" || name == "natural8") {
    HEARSAY_RETURN_IF_ERROR(ExpectArgs(n, 0, 0, name.c_str()));
    return name == "natural" ? MakeNaturalCodec() : MakeNatural8Codec();
  }
  if (name == "natdither") {
    constexpr const char* kUsage = "natdither:s[:block] with s in 1..127";
    HEARSAY_RETURN_IF_ERROR(ExpectArgs(n, 1, 2, kUsage));
    HEARSAY_ASSIGN_OR_RETURN(long s, ParseInt(n, n.args[0], "s"));
    if (s < 1 || s > 127) return InvalidArgument(n.text + ": s must be 1..127");
    int block = kDefaultBlock;
    if (n.args.size() == 2) {
      HEARSAY_ASSIGN_OR_RETURN(block, ParseBlock(n, n.args[1]));
    }
    return MakeNatDitherCodec(static_cast<int>(s), block);
  }
  if (name == "topk" || name == "randk" || name == "randk_unbiased") {
    const std::string usage = name + ":ratio with ratio in (0, 1]";
    HEARSAY_RETURN_IF_ERROR(ExpectArgs(n, 1, 1, usage.c_str()));
    HEARSAY_ASSIGN_OR_RETURN(double ratio, ParseRatio(n, n.args[0]));
    const SparseKind kind = name == "topk"    ? SparseKind::kTopK
                            : name == "randk" ? SparseKind::kRandK
                                              : SparseKind::kRandKUnbiased;
    return MakeSparseCodec(kind, ratio, nullptr);
  }
  if (name == "ef") {
    if (!n.call || n.children.size() != 1) {
      return InvalidArgument(n.text + ": usage: ef(C), e.g. ef(topk:0.01)");
    }
    HEARSAY_ASSIGN_OR_RETURN(auto inner, Build(n.children[0]));
    return std::unique_ptr<Compressor>(std::make_unique<ErrorFeedback>(std::move(inner)));
  }
  if (name == "then") {
    if (!n.call || n.children.size() != 2) {
      return InvalidArgument(n.text + ": usage: then(C1, C2), e.g. then(topk:0.01, natural)");
    }
    const SpecNode& first = n.children[0];
    if (first.call ||
        (first.name != "topk" && first.name != "randk" && first.name != "randk_unbiased")) {
      return InvalidArgument(n.text +
                             ": the first codec of then(C1, C2) must be a sparsifier "
                             "(topk, randk, randk_unbiased); got '" +
                             first.text + "'");
    }
    if (n.children[1].name == "ef") {
      return InvalidArgument(n.text +
                             ": ef(...) keeps sender state and cannot encode the kept "
                             "values; write ef(then(C1, C2)) instead");
    }
    HEARSAY_RETURN_IF_ERROR(ExpectArgs(first, 1, 1, "topk:ratio"));
    HEARSAY_ASSIGN_OR_RETURN(double ratio, ParseRatio(first, first.args[0]));
    HEARSAY_ASSIGN_OR_RETURN(auto values, Build(n.children[1]));
    const SparseKind kind = first.name == "topk"    ? SparseKind::kTopK
                            : first.name == "randk" ? SparseKind::kRandK
                                                    : SparseKind::kRandKUnbiased;
    return MakeSparseCodec(kind, ratio, std::move(values));
  }
  return InvalidArgument(n.text + ": unknown codec '" + name + "'; known codecs: " + kKnown);
}

}  // namespace

Result<std::unique_ptr<Compressor>> MakeCompressor(std::string_view spec) {
  HEARSAY_ASSIGN_OR_RETURN(SpecNode node, ParseSpec(spec));
  return Build(node);
}

}  // namespace hearsay
