#include "verify/path_search.h"

#include <gtest/gtest.h>

#include "x509/build.h"
#include "x509/inspect.h"
#include "x509/key.h"

namespace tether::verify {
namespace {

struct Ca {
  std::string name;
  x509::PkeyPtr key = std::move(x509::generate_key(x509::KeyType::ecdsa_p256)).value();
};

// A certificate for `subject`'s name and key, issued by `issuer` (self-signed when null).
x509::X509Ptr issue(const Ca& subject, const Ca* issuer, X509* issuer_cert, bool is_ca = true) {
  x509::CertificateSpec spec;
  spec.subject = {{"CN", subject.name}};
  spec.not_before = 1700000000;
  spec.not_after = 2000000000;
  spec.is_ca = is_ca;
  spec.key_usage = is_ca ? "keyCertSign,cRLSign" : "digitalSignature";
  auto serial = x509::random_serial();
  EVP_PKEY* signer = issuer ? issuer->key.get() : subject.key.get();
  return std::move(
             x509::build_certificate(spec, subject.key.get(), serial->get(), issuer_cert, signer))
      .value();
}

std::vector<std::string> names(const std::vector<X509*>& path) {
  std::vector<std::string> out;
  for (X509* c : path) out.push_back(x509::common_name(X509_get_subject_name(c)));
  return out;
}

TEST(CandidatePaths, OffersTheIntermediateThatLeadsToTheAnchor) {
  Ca root{"root"}, other_root{"other root"}, ica{"ica"}, leaf{"leaf"};
  std::vector<x509::X509Ptr> trusted;
  trusted.push_back(issue(root, nullptr, nullptr));
  auto other_root_cert = issue(other_root, nullptr, nullptr);
  std::vector<x509::X509Ptr> untrusted;
  // The same CA (name and key) twice: first under a root nobody trusts, then under the anchor.
  untrusted.push_back(issue(ica, &other_root, other_root_cert.get()));
  untrusted.push_back(issue(ica, &root, trusted[0].get()));
  auto leaf_cert = issue(leaf, &ica, untrusted[1].get(), false);

  auto found = candidate_paths(leaf_cert.get(), trusted, untrusted, {});
  EXPECT_FALSE(found.stopped_at_limit);
  ASSERT_EQ(found.paths.size(), 1u);
  ASSERT_EQ(found.paths[0].size(), 1u);
  EXPECT_EQ(found.paths[0][0], untrusted[1].get());
}

// layers[i][j] is a CA; every CA of layer i holds a certificate from every CA of layer i + 1,
// so there are width^depth paths from the bottom to the top.
struct Maze {
  std::vector<std::vector<Ca>> layers;
  std::vector<x509::X509Ptr> certs;
};

Maze build_maze(size_t depth, size_t width, const Ca& top_issuer, X509* top_issuer_cert) {
  Maze maze;
  maze.layers.resize(depth);
  for (size_t i = 0; i < depth; ++i) {
    for (size_t j = 0; j < width; ++j)
      maze.layers[i].push_back(Ca{"ca-" + std::to_string(i) + "-" + std::to_string(j)});
  }
  for (size_t i = 0; i < depth; ++i) {
    for (const Ca& subject : maze.layers[i]) {
      if (i + 1 == depth) {
        maze.certs.push_back(issue(subject, &top_issuer, top_issuer_cert));
        continue;
      }
      // Issuer certificates are looked up by name and key only, so any certificate of the
      // issuing CA serves as the issuer argument.
      for (const Ca& issuer : maze.layers[i + 1]) {
        auto issuer_cert = issue(issuer, nullptr, nullptr);
        maze.certs.push_back(issue(subject, &issuer, issuer_cert.get()));
      }
    }
  }
  return maze;
}

TEST(CandidatePaths, StopsAtTheLimitsInAMazeWithNoWayOut) {
  Ca root{"root"}, stranger{"stranger"}, leaf{"leaf"};
  std::vector<x509::X509Ptr> trusted;
  trusted.push_back(issue(root, nullptr, nullptr));
  auto stranger_cert = issue(stranger, nullptr, nullptr);
  Maze maze = build_maze(5, 4, stranger, stranger_cert.get());  // 4^5 = 1024 dead ends
  auto leaf_cert = issue(leaf, &maze.layers[0][0], maze.certs[0].get(), false);

  PathSearchLimits limits;
  limits.max_steps = 300;
  auto found = candidate_paths(leaf_cert.get(), trusted, maze.certs, limits);
  EXPECT_TRUE(found.paths.empty());
  EXPECT_TRUE(found.stopped_at_limit);
  EXPECT_EQ(found.steps, 301u);  // the lookup over the limit is counted, not made

  // Without the limit the search sees every dead end: far more lookups than the limit allowed.
  auto whole = candidate_paths(leaf_cert.get(), trusted, maze.certs, {.max_steps = 1000000});
  EXPECT_TRUE(whole.paths.empty());
  EXPECT_FALSE(whole.stopped_at_limit);
  EXPECT_GT(whole.steps, 10000u);
}

TEST(CandidatePaths, ReturnsAtMostMaxPathsShortestFirst) {
  Ca root{"root"}, leaf{"leaf"};
  std::vector<x509::X509Ptr> trusted;
  trusted.push_back(issue(root, nullptr, nullptr));
  Maze maze = build_maze(3, 3, root, trusted[0].get());  // 27 paths of 3 intermediates
  // A shortcut: layer 0's first CA also directly under the root.
  maze.certs.push_back(issue(maze.layers[0][0], &root, trusted[0].get()));
  auto leaf_cert = issue(leaf, &maze.layers[0][0], maze.certs[0].get(), false);

  PathSearchLimits limits;
  limits.max_paths = 5;
  auto paths = candidate_paths(leaf_cert.get(), trusted, maze.certs, limits).paths;
  ASSERT_EQ(paths.size(), 5u);
  EXPECT_EQ(names(paths[0]), std::vector<std::string>{"ca-0-0"});
  for (size_t i = 1; i < paths.size(); ++i) EXPECT_EQ(paths[i].size(), 3u) << i;
}

TEST(CandidatePaths, NeverPassesThroughTheSameCaTwice) {
  Ca root{"root"}, a{"a"}, b{"b"}, leaf{"leaf"};
  std::vector<x509::X509Ptr> trusted;
  trusted.push_back(issue(root, nullptr, nullptr));
  auto a_self = issue(a, nullptr, nullptr);
  auto b_self = issue(b, nullptr, nullptr);
  std::vector<x509::X509Ptr> untrusted;
  untrusted.push_back(issue(a, &b, b_self.get()));  // a <-> b cycle
  untrusted.push_back(issue(b, &a, a_self.get()));
  untrusted.push_back(issue(b, &root, trusted[0].get()));
  auto leaf_cert = issue(leaf, &a, a_self.get(), false);

  auto paths = candidate_paths(leaf_cert.get(), trusted, untrusted, {}).paths;
  ASSERT_EQ(paths.size(), 1u);
  EXPECT_EQ(names(paths[0]), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace tether::verify
