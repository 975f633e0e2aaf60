#include "common/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

namespace {
Result<std::string> first_line(std::string text, const std::string& path) {
  std::string line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return make_error(
        Errc::invalid_argument,
        "passphrase file '" + path + "' is empty: put the passphrase on its first line");
  }
  return line;
}
}  // namespace

Result<std::string> read_passphrase_file(const std::string& path) {
  TETHER_ASSIGN_OR_RETURN(std::string text, read_file(path, "passphrase file"));
  return first_line(std::move(text), path);
}

Result<std::string> read_private_passphrase_file(const std::string& path,
                                                 std::string_view setting) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(Errc::io_error, "cannot read passphrase file '" + path + "' (" +
                                          std::string(setting) + "): " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return errno_error("cannot stat", path);
  }
  if ((st.st_mode & 0044) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(Errc::invalid_argument,
                      "passphrase file '" + path + "' (" + std::string(setting) + ") has mode " +
                          mode + ": it must not be readable by group or others; run 'chmod 600 " +
                          path + "'");
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return errno_error("cannot read", path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return first_line(std::move(text), path);
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

Status exchange_paths(const std::string& a, const std::string& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0)
    return errno_error("cannot exchange " + b + " with", a);
  return ok_status();
}

void remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace tether::fs
