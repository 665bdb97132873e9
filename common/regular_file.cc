#include "common/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace hearsay {
namespace {

const char* KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

Status CheckStat(const std::string& path, const struct stat& st, uint64_t max_bytes,
                 const std::string& what) {
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument(path + ": " + what + " is " + KindOf(st.st_mode) +
                           ", not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return InvalidArgument(path + ": " + what + " has " + std::to_string(st.st_size) +
                           " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  return Status::Ok();
}

Status OpenError(const std::string& path, const std::string& what, int err) {
  const std::string msg = path + ": cannot open " + what + ": " + std::strerror(err);
  return err == ENOENT ? NotFound(msg) : InvalidArgument(msg);
}

// Opens `path` for reading and checks it on the descriptor; *fd is -1 on error.
Status OpenChecked(const std::string& path, uint64_t max_bytes, const std::string& what, int* fd,
                   struct stat* st) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  *fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (*fd < 0) return OpenError(path, what, errno);
  Status s = ::fstat(*fd, st) == 0 ? CheckStat(path, *st, max_bytes, what)
                                   : InvalidArgument(path + ": cannot stat " + what);
  if (!s.ok()) {
    ::close(*fd);
    *fd = -1;
  }
  return s;
}

}  // namespace

Status CheckRegularFile(const std::string& path, uint64_t max_bytes, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return OpenError(path, what, errno);
  return CheckStat(path, st, max_bytes, what);
}

Result<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes,
                                    const std::string& what) {
  int fd = -1;
  struct stat st {};
  Status s = OpenChecked(path, max_bytes, what, &fd, &st);
  if (!s.ok()) return s;
  std::string out;
  if (s.ok()) {
    out.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    // Bounded by the size seen at open: a file that grows meanwhile is cut there.
    while (got < out.size()) {
      const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        s = InvalidArgument(path + ": cannot read " + what + ": " + std::strerror(errno));
        break;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    out.resize(got);
  }
  ::close(fd);
  if (!s.ok()) return s;
  return out;
}

Result<RegularFile> RegularFile::Open(const std::string& path, uint64_t max_bytes,
                                      const std::string& what) {
  int fd = -1;
  struct stat st {};
  HEARSAY_RETURN_IF_ERROR(OpenChecked(path, max_bytes, what, &fd, &st));
  return RegularFile(fd, static_cast<uint64_t>(st.st_size), path, what);
}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      size_(other.size_),
      path_(std::move(other.path_)),
      what_(std::move(other.what_)) {}

RegularFile& RegularFile::operator=(RegularFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    path_ = std::move(other.path_);
    what_ = std::move(other.what_);
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status RegularFile::ReadAt(uint64_t offset, void* out, size_t n) const {
  auto* p = static_cast<char*>(out);
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd_, p + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0)
      return InvalidArgument(path_ + ": cannot read " + what_ + ": " + std::strerror(errno));
    if (r == 0) {
      return InvalidArgument(path_ + ": " + what_ + " ends at byte " +
                             std::to_string(offset + got) + ", " + std::to_string(n - got) +
                             " bytes short of what was to be read there (did it change while "
                             "being read?)");
    }
    got += static_cast<size_t>(r);
  }
  return Status::Ok();
}

}  // namespace hearsay
