#include "common/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tether::fs {

namespace {
Error errno_error(std::string_view action, const std::string& path) {
  return make_error(Errc::io_error,
                    std::string(action) + " '" + path + "': " + std::strerror(errno));
}
}  // namespace

Result<std::string> read_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(Errc::io_error, "cannot read " + std::string(what) + " '" + path +
                                          "': " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> read_passphrase_file(const std::string& path) {
  TETHER_ASSIGN_OR_RETURN(std::string text, read_file(path, "passphrase file"));
  std::string line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return make_error(
        Errc::invalid_argument,
        "passphrase file '" + path + "' is empty: put the passphrase on its first line");
  }
  return line;
}

Status write_new_file(const std::string& path, std::string_view data, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return errno_error("cannot create", path);
  // The umask may have narrowed the mode; set it exactly.
  if (::fchmod(fd, mode) != 0) {
    ::close(fd);
    return errno_error("cannot set mode on", path);
  }
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return errno_error("cannot write", path);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return errno_error("cannot sync", path);
  }
  if (::close(fd) != 0) return errno_error("cannot close", path);
  return ok_status();
}

Status make_dir(const std::string& path, unsigned mode) {
  if (::mkdir(path.c_str(), mode) != 0) return errno_error("cannot create directory", path);
  return ok_status();
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_empty_dir(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) && std::filesystem::is_empty(path, ec);
}

Status sync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("cannot open directory", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errno_error("cannot sync directory", path);
  return ok_status();
}

Status rename_path(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return errno_error("cannot rename to " + to + ":", from);
  return ok_status();
}

void remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace tether::fs
