#include "runtime/data/text_index.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/regular_file.h"
#include "runtime/data/data_limits.h"

namespace hearsay {
namespace {

constexpr char kMagic[8] = {'H', 'S', 'T', 'X', 'I', 'D', 'X', '1'};

template <typename T>
void Put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
void PutAll(std::string& out, const std::vector<T>& v) {
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}
void PutText(std::string& out, const std::string& s) {
  Put(out, static_cast<uint32_t>(s.size()));
  out += s;
}

// Reads fields in order; any read past the end leaves ok() false.
class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  template <typename T>
  T Get() {
    T v{};
    Take(&v, sizeof(T));
    return v;
  }
  template <typename T>
  void GetAll(std::vector<T>* v, size_t n) {
    if (!ok_ || n > (bytes_.size() - pos_) / sizeof(T)) {
      ok_ = false;
      return;
    }
    v->resize(n);
    Take(v->data(), n * sizeof(T));
  }
  std::string Text() {
    const auto n = Get<uint32_t>();
    if (!ok_ || n > bytes_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  void Take(void* out, size_t n) {
    if (!ok_ || n > bytes_.size() - pos_) {
      ok_ = false;
      return;
    }
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
  }
  const std::string& bytes_;
  size_t pos_ = 0;
  bool ok_ = true;
};

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

Result<FileIdentity> IdentityOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return NotFound(path + ": cannot stat: " + std::strerror(errno));
  }
  FileIdentity id;
  id.device = static_cast<uint64_t>(st.st_dev);
  id.inode = static_cast<uint64_t>(st.st_ino);
  id.size = static_cast<uint64_t>(st.st_size);
  id.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return id;
}

std::string TextIndexPath(const std::string& dir, const std::string& path) {
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(path, ec).lexically_normal().string();
  char name[40];
  std::snprintf(name, sizeof(name), "/.data_index_%016llx.bin",
                static_cast<unsigned long long>(Fnv1a(ec ? path : absolute)));
  return dir + name;
}

Status SaveTextIndex(const std::string& file, const TextIndexFile& t) {
  std::string out(kMagic, sizeof(kMagic));
  PutText(out, t.kind);
  PutText(out, t.params);
  Put(out, t.source.device);
  Put(out, t.source.inode);
  Put(out, t.source.size);
  Put(out, t.source.mtime_ns);
  Put(out, t.num_features);
  Put(out, t.num_classes);
  Put(out, t.extra);
  Put(out, static_cast<uint64_t>(t.class_values.size()));
  PutAll(out, t.class_values);
  Put(out, static_cast<uint64_t>(t.labels.size()));
  PutAll(out, t.labels);
  PutAll(out, t.lines.offsets);
  PutAll(out, t.lines.bytes);
  PutAll(out, t.lines.line_nos);
  const std::string tmp = file + ".tmp";
  std::error_code ec;
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.close();
    if (!f.good()) {
      std::filesystem::remove(tmp, ec);
      return Unavailable(tmp + ": cannot write the data index");
    }
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    return Unavailable(file + ": cannot write the data index: " + why);
  }
  return Status::Ok();
}

Result<TextIndexFile> LoadTextIndex(const std::string& file, const std::string& kind,
                                    const std::string& params, const std::string& source) {
  Result<std::string> read = ReadRegularFile(file, kMaxDataFileBytes, "data index");
  if (!read.ok()) return read.status();
  const std::string& bytes = *read;
  const auto bad = [&](const std::string& what) { return Corruption(file + ": " + what); };
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return bad("not a hearsay data index");
  }
  const std::string body = bytes.substr(sizeof(kMagic));
  Reader r(body);
  TextIndexFile t;
  t.kind = r.Text();
  t.params = r.Text();
  t.source.device = r.Get<uint64_t>();
  t.source.inode = r.Get<uint64_t>();
  t.source.size = r.Get<uint64_t>();
  t.source.mtime_ns = r.Get<int64_t>();
  t.num_features = r.Get<int64_t>();
  t.num_classes = r.Get<int32_t>();
  t.extra = r.Get<int64_t>();
  const auto classes = r.Get<uint64_t>();
  r.GetAll(&t.class_values, classes);
  const auto n = r.Get<uint64_t>();
  if (!r.ok()) return bad("truncated header");
  if (t.kind != kind || t.params != params) {
    return FailedPrecondition(file + ": an index of a " + t.kind + " file read with " + t.params +
                              ", not of a " + kind + " file read with " + params);
  }
  HEARSAY_ASSIGN_OR_RETURN(FileIdentity now, IdentityOf(source));
  if (!(t.source == now)) {
    return FailedPrecondition(file + ": an index of another version of " + source);
  }
  r.GetAll(&t.labels, n);
  r.GetAll(&t.lines.offsets, n);
  r.GetAll(&t.lines.bytes, n);
  r.GetAll(&t.lines.line_nos, n);
  if (!r.ok() || !r.at_end())
    return bad("its size does not match its " + std::to_string(n) + " examples");
  if (n == 0 || t.num_features <= 0 || t.num_classes < 2 ||
      static_cast<size_t>(t.num_classes) > kMaxDataClasses + 1) {
    return bad("implausible shape");
  }
  for (uint64_t i = 0; i < n; ++i) {
    if (t.labels[i] < 0 || t.labels[i] >= t.num_classes || t.lines.line_nos[i] < 1 ||
        t.lines.offsets[i] > now.size || t.lines.bytes[i] > now.size - t.lines.offsets[i]) {
      return bad("example " + std::to_string(i) + " is out of range");
    }
  }
  return t;
}

}  // namespace hearsay
