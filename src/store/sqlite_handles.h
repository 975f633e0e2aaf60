// Owning smart pointers for SQLite allocations the store hands back to SQLite: the one place that
// names sqlite3_free. (Connections and statements stay with their owners, SqliteStore and its
// statement cache, which close them in their destructors.)
#pragma once

#include <sqlite3.h>

#include <memory>

namespace tether::store {

struct SqliteFree {
  void operator()(void* p) const { sqlite3_free(p); }
};

// A message SQLite allocated (sqlite3_exec's error, sqlite3_mprintf's result).
using SqliteMessage = std::unique_ptr<char, SqliteFree>;

}  // namespace tether::store
