// TLS settings shared by the gRPC and HTTP servers: which PEM files to use
// and the one check both run on them before serving (Debian's OpenSSL).
//
// Thread-safety: plain functions over values.
#pragma once

#include <string>

#include "common/result.h"
#include "common/status.h"

namespace tessera::transport {

// PEM files of one server. Empty cert_file means plaintext.
struct TlsFiles {
  std::string cert_file;       // certificate chain, the server's own first
  std::string key_file;        // private key of that certificate (unencrypted)
  // CA certificates; when set, a client must present a certificate signed by
  // one of them (mutual TLS), otherwise the handshake is refused.
  std::string client_ca_file;

  bool enabled() const { return !cert_file.empty(); }
};

// How errors name each file, e.g. the command-line flags that set them.
struct TlsFileLabels {
  std::string cert = "TLS certificate";
  std::string key = "TLS private key";
  std::string client_ca = "TLS client CA";
};

// Checks `files` as a server would use them: cert and key both set (or
// neither, and then no client CA), each file readable, the certificate and
// CA files holding at least one PEM certificate, the key file a PEM private
// key that matches the certificate. Errors: kInvalidArgument with one line
// that starts with the label of the file at fault, e.g.
// "--rest_tls_key: /k.pem does not match the certificate in --rest_tls_cert".
Status CheckTlsFiles(const TlsFiles& files, const TlsFileLabels& labels = {});

// The whole content of `path`; kInvalidArgument naming the path and the
// system's reason when it cannot be read.
Result<std::string> ReadTlsFile(const std::string& path);

}  // namespace tessera::transport
