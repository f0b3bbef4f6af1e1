#include "transport/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace tessera::transport {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate in `pem`, or null.
Cert FirstCertificate(const std::string& pem) {
  Bio bio = MemoryBio(pem);
  Cert cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  return cert;
}

Key PrivateKey(const std::string& pem) {
  Bio bio = MemoryBio(pem);
  // An empty passphrase callback: an encrypted key fails instead of prompting.
  auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  Key key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  ERR_clear_error();
  return key;
}

Status Fail(const std::string& label, const std::string& message) {
  return InvalidArgument(label + ": " + message);
}

}  // namespace

Result<std::string> ReadTlsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return InvalidArgument("cannot read " + path);
  return out.str();
}

Status CheckTlsFiles(const TlsFiles& files, const TlsFileLabels& labels) {
  if (!files.enabled()) {
    if (!files.key_file.empty()) return InvalidArgument(labels.key + " requires " + labels.cert);
    if (!files.client_ca_file.empty()) {
      return InvalidArgument(labels.client_ca + " requires " + labels.cert);
    }
    return Status::Ok();
  }
  if (files.key_file.empty()) return InvalidArgument(labels.cert + " requires " + labels.key);

  auto cert_pem = ReadTlsFile(files.cert_file);
  if (!cert_pem.ok()) return Fail(labels.cert, cert_pem.status().message());
  Cert cert = FirstCertificate(*cert_pem);
  if (!cert) return Fail(labels.cert, files.cert_file + " holds no PEM certificate");

  auto key_pem = ReadTlsFile(files.key_file);
  if (!key_pem.ok()) return Fail(labels.key, key_pem.status().message());
  Key key = PrivateKey(*key_pem);
  if (!key) {
    return Fail(labels.key, files.key_file + " holds no PEM private key (or it is encrypted)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Fail(labels.key, files.key_file + " does not match the certificate in " + labels.cert);
  }

  if (!files.client_ca_file.empty()) {
    auto ca_pem = ReadTlsFile(files.client_ca_file);
    if (!ca_pem.ok()) return Fail(labels.client_ca, ca_pem.status().message());
    if (!FirstCertificate(*ca_pem)) {
      return Fail(labels.client_ca, files.client_ca_file + " holds no PEM certificate");
    }
  }
  return Status::Ok();
}

}  // namespace tessera::transport
