// Opening a store from its URI: the one place that knows which adapters exist.
#pragma once

#include <memory>
#include <string_view>

#include "common/error.h"
#include "store/store.h"

namespace tether::store {

struct OpenOptions {
  // Create an empty store when there is none (only `tether ca init` does); otherwise a missing
  // store is Errc::not_found.
  bool create = false;
};

// Accepted forms:
//   a file path (no "scheme:" prefix)    the SQLite store in that file
//   sqlite:PATH, sqlite:///abs/path      the same, spelled as a URI (percent-decoded)
//   postgresql://..., postgres://...     PostgreSQL: Errc::store_unsupported until it is built in
// Anything else is Errc::invalid_argument, naming the URI and these forms.
Result<std::unique_ptr<Store>> open(std::string_view uri, OpenOptions options = {});

}  // namespace tether::store
