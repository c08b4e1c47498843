// Clears OpenSSL's per-thread error queue before every TLS I/O call made
// through libssl, for CAF's caf_openssl sessions.
//
// Why: OpenSSL requires the thread's error queue to be empty before
// SSL_read/SSL_write/SSL_accept/SSL_connect, because SSL_get_error reads it
// to classify the result. caf_openssl 0.17 never empties it: a client that
// fails the handshake (no certificate, plain TCP, garbage) leaves errors in
// the queue of the multiplexer thread, and the next SSL_read that merely
// wants more bytes on a *genuine* link (a peer node, an agent) is classified
// SSL_ERROR_SSL and that link is closed. Measured: a node without a
// certificate retrying against a TLS actor port cut the n1-n2 link every
// second (tests/integration/cluster_test.cpp, "cluster peers and agents on a
// TLS actor port"). CAF is a Debian package we do not patch; these
// definitions in the executable take precedence over libssl's for calls
// from shared libraries (ELF symbol interposition; exported explicitly in
// CMakeLists.txt) and forward to libssl's own functions after clearing the
// queue, which is what OpenSSL's documentation asks of every caller.

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace {

template <class Fn>
Fn real(const char* name) {
  auto* f = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
  if (f == nullptr) {
    std::fprintf(stderr, "streamb: cannot find libssl's %s\n", name);
    std::abort();
  }
  return f;
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto fn = real<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return fn(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto fn = real<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return fn(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto fn = real<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return fn(ssl);
}

int SSL_connect(SSL* ssl) {
  static auto fn = real<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return fn(ssl);
}

} // extern "C"
