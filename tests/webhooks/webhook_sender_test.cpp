// The sender alone: it connects to the addresses it is given (never to a name it resolves), does
// not follow redirects, and verifies an https:// receiver's certificate and host name. The TLS
// receiver's certificate is made here, for 127.0.0.1 only.
#include "app/webhook_sender.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "tests/infra/store_backends.hpp"
#include "tests/webhooks/local_receiver.hpp"

using namespace realmkit;
using namespace std::chrono_literals;
namespace wh = realmkit::infra::webhooks;

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct pem_pair {
  std::string certificate;
  std::string key;
};

std::string to_pem(const std::function<int(BIO*)>& write) {
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  REQUIRE(write(bio.get()) == 1);
  char* data = nullptr;
  const auto size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// A self-signed certificate for the IP address 127.0.0.1 (and no name), with its P-256 key.
pem_pair self_signed_for_loopback() {
  const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  REQUIRE(key);
  const std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  auto* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("webhook test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    REQUIRE(ext);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  return {to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); }), to_pem([&](BIO* b) {
            return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
          })};
}

// Serves HTTPS on 127.0.0.1 with `pem`, answering 200 to each request; counts handshakes that
// completed.
class tls_receiver {
 public:
  explicit tls_receiver(const pem_pair& pem) : context_(net::ssl::context::tls_server) {
    context_.use_certificate_chain(net::buffer(pem.certificate));
    context_.use_private_key(net::buffer(pem.key), net::ssl::context::pem);
    const tcp::endpoint at(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~tls_receiver() {
    stopping_ = true;
    net::io_context ioc;
    tcp::socket wake(ioc);
    beast::error_code ignored;
    wake.connect({net::ip::make_address("127.0.0.1"), port_}, ignored);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int served() const { return served_; }
  std::string last_body() const {
    std::lock_guard lock(mutex_);
    return body_;
  }

 private:
  void serve() {
    while (!stopping_) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) continue;
      beast::ssl_stream<tcp::socket&> stream(socket, context_);
      stream.handshake(net::ssl::stream_base::server, ec);
      if (ec) continue;  // the client refused the certificate
      beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(stream, buffer, request, ec);
      if (ec) continue;
      {
        std::lock_guard lock(mutex_);
        body_ = request.body();
      }
      http::response<http::string_body> response{http::status::ok, 11};
      response.body() = "ok";
      response.prepare_payload();
      http::write(stream, response, ec);
      ++served_;
    }
  }

  net::io_context ioc_;
  net::ssl::context context_;
  tcp::acceptor acceptor_{ioc_};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> served_{0};
  mutable std::mutex mutex_;  // guards body_
  std::string body_;
  std::thread thread_;
};

app::webhook_post post_to(const std::string& url_text, const std::string& address) {
  std::string why;
  const auto url = wh::parse_target_url(url_text, why);
  REQUIRE_MESSAGE(url, why);
  return {*url, {*wh::parse_ip(address)}, R"({"hello":"world"})", {{"RealmKit-Attempt", "1"}}};
}

}  // namespace

TEST_CASE(
    "webhook sender: the checked address is what it connects to; redirects are not followed") {
  test::webhooks::local_receiver receiver(std::vector<test::webhooks::scripted_answer>{
      {302, 0ms, {{"Location", "http://169.254.169.254/"}}}});
  app::webhook_sender sender;
  // The name in the URL is only the Host header: the connection goes to the address given.
  const auto answer = sender.post(post_to(
      "http://receiver.invalid:" + std::to_string(receiver.port()) + "/in?a=1", "127.0.0.1"));
  CHECK(answer.status == 302);
  CHECK(answer.error.empty());
  const auto got = receiver.wait_for(1, 5s);
  REQUIRE(got.size() == 1);
  CHECK(got[0].header("host") == "receiver.invalid:" + std::to_string(receiver.port()));
  CHECK(got[0].target == "/in?a=1");
  CHECK(got[0].body == R"({"hello":"world"})");
  CHECK(got[0].header("realmkit-attempt") == "1");
  CHECK(got[0].header("connection") == "close");
  CHECK(receiver.requests().size() == 1);  // the Location was not visited

  // Nothing listening: refused quickly, no status.
  const auto closed = [] {
    net::io_context ioc;
    tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
  }();
  const auto refused =
      sender.post(post_to("http://127.0.0.1:" + std::to_string(closed) + "/", "127.0.0.1"));
  CHECK_FALSE(refused.status);
  CHECK(refused.error.starts_with("connecting failed"));
}

TEST_CASE("webhook sender: an https:// receiver's certificate and host name are verified") {
  const auto pem = self_signed_for_loopback();
  tls_receiver receiver(pem);
  testing::temp_dir dir;
  const auto ca = dir.path() / "receiver.pem";
  std::ofstream(ca) << pem.certificate;
  const auto url = "https://127.0.0.1:" + std::to_string(receiver.port()) + "/tls";

  // Trusted: delivered over TLS.
  app::webhook_sender trusting({.ca_file = ca.string()});
  const auto ok = trusting.post(post_to(url, "127.0.0.1"));
  INFO(ok.error);
  CHECK(ok.status == 200);
  CHECK(receiver.served() == 1);
  CHECK(receiver.last_body() == R"({"hello":"world"})");

  // The system's authorities do not know it: no request is sent.
  app::webhook_sender system_trust;
  const auto unknown = system_trust.post(post_to(url, "127.0.0.1"));
  CHECK_FALSE(unknown.status);
  CHECK(unknown.error.starts_with("the TLS handshake failed"));

  // Trusted, but for 127.0.0.1 only: a name the certificate does not carry is refused.
  const auto wrong_name = trusting.post(
      post_to("https://localhost:" + std::to_string(receiver.port()) + "/tls", "127.0.0.1"));
  CHECK_FALSE(wrong_name.status);
  CHECK(wrong_name.error.starts_with("the TLS handshake failed"));
  CHECK(receiver.served() == 1);
}
