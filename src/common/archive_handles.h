// Owning smart pointers for libarchive handles: the one place that names libarchive's *_free
// functions. Header only: the targets that include it link libarchive themselves.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace tether {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;
using ArchiveEntryPtr = std::unique_ptr<archive_entry, ArchiveEntryFree>;

}  // namespace tether
