// Small file-system helpers with the modes and atomicity tether needs.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace tether::fs {

Result<std::string> read_file(const std::string& path, std::string_view what);
// Reads a passphrase file: the first line, without its line ending. Empty is an error.
Result<std::string> read_passphrase_file(const std::string& path);
// The same for a file that must be private: refused (naming `setting`, the path and its mode)
// when group or others may read it. The mode is read from the open file, so a swap between the
// check and the read cannot slip a readable file in.
Result<std::string> read_private_passphrase_file(const std::string& path, std::string_view setting);

// Creates a new file (fails if it exists) with `mode`, writes and fsyncs it. Private keys use
// mode 0600 so no other user can read them at any moment, not even before a chmod.
Status write_new_file(const std::string& path, std::string_view data, unsigned mode);
Status make_dir(const std::string& path, unsigned mode);
bool exists(const std::string& path);
bool is_empty_dir(const std::string& path);
// fsyncs a directory so that renames and creations in it are durable.
Status sync_dir(const std::string& path);
Status rename_path(const std::string& from, const std::string& to);
// Swaps two existing paths in one step (renameat2 RENAME_EXCHANGE): how a directory is replaced
// atomically, since rename(2) cannot replace a non-empty directory.
Status exchange_paths(const std::string& a, const std::string& b);
// Removes a file or directory tree; best effort (used to clean up partial output).
void remove_all(const std::string& path);

}  // namespace tether::fs
