// Notices when files change, including an atomic rename over a file or a symlink swapped to a
// new target (how Kubernetes updates mounted secrets), by comparing what stat(2) and lstat(2)
// say. Polled: inotify does not see a symlink's target change in another directory.
#pragma once

#include <string>
#include <vector>

namespace tether::gateway {

class FileWatch {
 public:
  explicit FileWatch(std::vector<std::string> paths);

  // True when any path's identity, size or mtime changed since the last call (or construction).
  bool changed();
  void reset(std::vector<std::string> paths);

 private:
  std::vector<std::string> stamps() const;

  std::vector<std::string> paths_;
  std::vector<std::string> last_;
};

}  // namespace tether::gateway
