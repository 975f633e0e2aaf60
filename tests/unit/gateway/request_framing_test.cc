#include "gateway/request_framing.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace tether::gateway {
namespace {

namespace http = boost::beast::http;

http::request_header<> head(std::initializer_list<std::string_view> transfer_encodings,
                            unsigned version = 11) {
  http::request_header<> h;
  h.method(http::verb::post);
  h.target("/");
  h.version(version);
  for (std::string_view te : transfer_encodings) h.insert(http::field::transfer_encoding, te);
  return h;
}

TEST(RequestFraming, NoTransferEncodingOrChunkedAloneIsFramed) {
  EXPECT_FALSE(check_request_framing(head({})));
  EXPECT_FALSE(check_request_framing(head({"chunked"})));
  EXPECT_FALSE(check_request_framing(head({"Chunked"})));
  EXPECT_FALSE(check_request_framing(head({" chunked ,"})));
}

TEST(RequestFraming, FinalCodingOtherThanChunkedIs400) {
  for (auto te : {"chunked, identity", "identity", "gzip", "xchunked", "chunked;x=1, gzip", "",
                  "chunkedx", "chunked identity"}) {
    auto refusal = check_request_framing(head({te}));
    ASSERT_TRUE(refusal) << te;
    EXPECT_EQ(refusal->code, Errc::bad_request) << te;
    EXPECT_NE(refusal->reason.find("does not end in chunked"), std::string::npos)
        << refusal->reason;
  }
  // The codings of several fields are one list (RFC 9110 5.3).
  auto split = check_request_framing(head({"chunked", "identity"}));
  ASSERT_TRUE(split);
  EXPECT_EQ(split->code, Errc::bad_request);
  EXPECT_NE(split->reason.find("\"chunked, identity\""), std::string::npos) << split->reason;
}

TEST(RequestFraming, ChunkedTwiceIs400) {
  auto refusal = check_request_framing(head({"chunked, chunked"}));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, Errc::bad_request);
  EXPECT_NE(refusal->reason.find("more than once"), std::string::npos) << refusal->reason;
}

TEST(RequestFraming, OtherCodingBeforeChunkedIs501NamingIt) {
  auto refusal = check_request_framing(head({"gzip, chunked"}));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, Errc::not_implemented);
  EXPECT_NE(refusal->reason.find("\"gzip\""), std::string::npos) << refusal->reason;
}

TEST(RequestFraming, TransferEncodingInHttp10Is400) {
  auto refusal = check_request_framing(head({"chunked"}, 10));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, Errc::bad_request);
  EXPECT_NE(refusal->reason.find("HTTP/1.0"), std::string::npos) << refusal->reason;
}

}  // namespace
}  // namespace tether::gateway
