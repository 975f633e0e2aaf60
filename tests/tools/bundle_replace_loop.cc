// bundle_replace_loop: replaces one directory bundle again and again, for the test that SIGKILLs
// it part-way (tests/integration/test_renewal.py) and then finds a whole bundle in place.
//
//   bundle_replace_loop TARGET BUNDLE_A BUNDLE_B COUNT
//
// Alternately writes the contents of BUNDLE_A and BUNDLE_B (directory bundles made by tether)
// over TARGET through pki::write_bundle's replace path, printing "replaced <n>" after each.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/fs.h"
#include "pki/bundle.h"
#include "x509/pem.h"

namespace {

using namespace tether;

struct Loaded {
  std::vector<x509::X509Ptr> chain;
  std::vector<x509::X509Ptr> root;
  x509::PkeyPtr key;
};

Loaded load(const std::string& dir) {
  auto read = [&](const std::string& name) {
    auto text = fs::read_file(dir + "/certs/" + name, name);
    if (!text) {
      std::fprintf(stderr, "bundle_replace_loop: %s\n", text.error().message.c_str());
      std::exit(2);
    }
    return *text;
  };
  Loaded l;
  l.chain = std::move(x509::parse_certificates(read("connector.pem"))).value();
  l.root = std::move(x509::parse_certificates(read("ca.pem"))).value();
  l.key = std::move(x509::parse_private_key(read("connector-key.pem"), "", "key")).value();
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: bundle_replace_loop TARGET BUNDLE_A BUNDLE_B COUNT\n");
    return 2;
  }
  std::string target = argv[1];
  Loaded bundles[2] = {load(argv[2]), load(argv[3])};
  long count = std::strtol(argv[4], nullptr, 10);
  for (long i = 0; i < count; ++i) {
    const Loaded& b = bundles[i % 2];
    pki::BundleContents contents;
    contents.leaf = b.chain[0].get();
    contents.issuing = b.chain[1].get();
    contents.root = b.root[0].get();
    contents.private_key = b.key.get();
    auto planned = pki::plan_bundle(target, true, false, true);
    if (!planned) {
      std::fprintf(stderr, "bundle_replace_loop: %s\n", planned.error().message.c_str());
      return 1;
    }
    Status written = pki::write_bundle(*planned, contents);
    if (!written) {
      std::fprintf(stderr, "bundle_replace_loop: %s\n", written.error().message.c_str());
      return 1;
    }
    std::printf("replaced %ld\n", i + 1);
    std::fflush(stdout);
  }
  return 0;
}
