// tether audit list
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/context.h"
#include "common/time_format.h"
#include "x509/inspect.h"

namespace tether::cli {

void add_audit_commands(CLI::App& app, GlobalOptions& options) {
  auto* audit = app.add_subcommand("audit", "the append-only audit log");
  audit->require_subcommand(1);
  auto limit = std::make_shared<int>(100);
  auto* list = audit->add_subcommand("list", "newest audit events first");
  list->add_option("--limit", *limit, "how many events (default 100)")
      ->check(CLI::Range(1, 1000000));
  add_data_option(list, options);
  add_json_option(list, options);
  list->callback([&options, limit] {
    auto store = open_store(resolve_data_dir(options));
    auto events = must(store->list_audit(*limit));
    boost::json::array out;
    for (const auto& e : events) {
      if (options.json) {
        out.push_back({{"at", format_rfc3339(e.at)},
                       {"actor", e.actor},
                       {"action", e.action},
                       {"identity", e.identity},
                       {"serial", e.serial},
                       {"detail", boost::json::parse(e.detail)}});
      } else {
        std::cout << format_rfc3339(e.at) << "\t" << e.actor << "\t" << e.action << "\t"
                  << e.identity << "\t" << e.serial << "\t" << e.detail << "\n";
      }
    }
    if (options.json) print_json(out);
  });
}

}  // namespace tether::cli
