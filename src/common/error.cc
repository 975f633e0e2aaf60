#include "common/error.h"

namespace tether {

namespace {
class TetherCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "tether"; }
  std::string message(int code) const override {
    return std::string(errc_reason(static_cast<Errc>(code)));
  }
};
}  // namespace

const std::error_category& tether_category() {
  static const TetherCategory category;
  return category;
}

std::error_code make_error_code(Errc code) {
  return {static_cast<int>(code), tether_category()};
}

}  // namespace tether
