#include "gateway/file_watch.h"

#include <sys/stat.h>

namespace tether::gateway {

namespace {

std::string stamp_of(const struct stat& st) {
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

FileWatch::FileWatch(std::vector<std::string> paths) {
  reset(std::move(paths));
}

void FileWatch::reset(std::vector<std::string> paths) {
  paths_ = std::move(paths);
  last_ = stamps();
}

std::vector<std::string> FileWatch::stamps() const {
  std::vector<std::string> out;
  for (const auto& path : paths_) {
    struct stat target {};
    struct stat link {};
    std::string s = ::stat(path.c_str(), &target) == 0 ? stamp_of(target) : "missing";
    s += "|";
    s += ::lstat(path.c_str(), &link) == 0 ? stamp_of(link) : "missing";
    out.push_back(std::move(s));
  }
  return out;
}

bool FileWatch::changed() {
  auto now = stamps();
  if (now == last_) return false;
  last_ = std::move(now);
  return true;
}

}  // namespace tether::gateway
