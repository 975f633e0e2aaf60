// tether tenant create | list
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/context.h"
#include "common/time_format.h"
#include "x509/inspect.h"

namespace tether::cli {

void add_tenant_commands(CLI::App& app, GlobalOptions& options) {
  auto* tenant = app.add_subcommand("tenant", "tenants (customers)");
  tenant->require_subcommand(1);

  struct CreateArgs {
    std::string id;
    std::string name;
  };
  auto args = std::make_shared<CreateArgs>();
  auto* create = tenant->add_subcommand("create", "create a tenant");
  create->add_option("id", args->id, "tenant id: 1-63 of a-z, 0-9, '-'")->required();
  create->add_option("--name", args->name, "display name");
  add_data_option(create, options);
  add_json_option(create, options);
  create->callback([&options, args] {
    std::string data_dir = resolve_data_dir(options);
    auto store = open_store(data_dir);
    must(pki::create_tenant(*store, make_context(), args->id, args->name));
    if (options.json) {
      print_json({{"id", args->id}, {"name", args->name.empty() ? args->id : args->name}});
    } else {
      std::cout << "created tenant " << args->id << "\n";
    }
  });

  auto* list = tenant->add_subcommand("list", "list tenants");
  add_data_option(list, options);
  add_json_option(list, options);
  list->callback([&options] {
    auto store = open_store(resolve_data_dir(options));
    auto tenants = must(store->list_tenants());
    if (options.json) {
      boost::json::array out;
      for (const auto& t : tenants) {
        out.push_back(
            {{"id", t.id}, {"name", t.name}, {"created_at", format_rfc3339(t.created_at)}});
      }
      print_json(out);
      return;
    }
    for (const auto& t : tenants) std::cout << t.id << "\t" << t.name << "\n";
  });
}

}  // namespace tether::cli
