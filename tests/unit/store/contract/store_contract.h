// The contract every store adapter keeps, as value-parameterised tests (TEST_P on StoreContract
// in the *_contract_test.cc files beside this one). An adapter joins by instantiating the suite
// with a ContractAdapter (see sqlite_contract_test.cc):
//
//   INSTANTIATE_TEST_SUITE_P(Postgres, StoreContract,
//                            ::testing::Values(ContractAdapter{"postgres", fresh_postgres_store}),
//                            adapter_name);
//
// Each test starts from a fresh, empty store and may open several handles on it; each handle is
// used by one thread at a time, the rule every adapter states for itself.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace tether::store::contract {

// Opens one more handle on the store under test (through store::open).
using StoreFactory = std::function<Result<std::unique_ptr<Store>>()>;

struct ContractAdapter {
  std::string name;
  // Makes a fresh, empty store and returns the way to open handles on it. The factory owns the
  // store's resources (a temporary file, a scratch database) and releases them when destroyed.
  std::function<StoreFactory()> fresh_store;
};

template <class T>
Status status_of(Result<T> result) {
  if (!result) return std::move(result).error();
  return ok_status();
}

inline std::string adapter_name(const ::testing::TestParamInfo<ContractAdapter>& info) {
  return info.param.name;
}

class StoreContract : public ::testing::TestWithParam<ContractAdapter> {
 protected:
  void SetUp() override {
    factory_ = GetParam().fresh_store();
    store_ = open_handle();
  }
  void TearDown() override {
    store_.reset();
    factory_ = nullptr;  // releases the store's resources
  }

  // Another handle on the same store.
  std::unique_ptr<Store> open_handle() {
    auto opened = factory_();
    if (!opened) {
      ADD_FAILURE() << "cannot open the store under test: " << opened.error().message;
      return nullptr;
    }
    return std::move(opened).value();
  }

  static AuditEvent event(std::string action, std::string serial = "") {
    return AuditEvent{1000, "contract", std::move(action), "", std::move(serial), ""};
  }

  static CertificateRecord certificate(const std::string& serial, const std::string& tenant,
                                       const std::string& connector,
                                       const std::string& issuer = "issuer-a") {
    CertificateRecord c;
    c.serial = serial;
    c.tenant_id = tenant;
    c.connector_id = connector;
    c.identity = "connector/" + tenant + "/" + connector;
    c.subject = "CN=" + c.identity;
    c.key_type = "ecdsa-p256";
    c.not_before = 1000;
    c.not_after = 2000;
    c.fingerprint = "fp-" + serial;
    c.pem = "pem-" + serial;
    c.issued_at = 1000;
    c.issuer_fingerprint = issuer;
    return c;
  }

  void add_tenant(const std::string& id) {
    Status s = store_->create_tenant({id, "Tenant " + id, 1}, event("tenant.create"));
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  void add_connector(const std::string& tenant, const std::string& id, const std::string& serial,
                     const std::string& issuer = "issuer-a") {
    Status s = store_->create_connector({tenant, id, 1}, certificate(serial, tenant, id, issuer),
                                        event("connector.create", serial));
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  size_t audit_count() {
    auto events = store_->list_audit(1000000);
    EXPECT_TRUE(events.ok()) << events.error().message;
    return events.ok() ? events->size() : 0;
  }

  StoreFactory factory_;
  std::unique_ptr<Store> store_;
};

}  // namespace tether::store::contract
