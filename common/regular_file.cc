#include "common/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace

Status CheckRegularFile(const std::string& path, uint64_t max_bytes, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return OpenError(path, what, errno);
  return CheckStat(path, st, max_bytes, what);
}

Result<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes,
                                    const std::string& what) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return OpenError(path, what, errno);
  struct stat st {};
  Status s = ::fstat(fd, &st) == 0 ? CheckStat(path, st, max_bytes, what)
                                   : InvalidArgument(path + ": cannot stat " + what);
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

}  // namespace hearsay
