#include "runtime/core/crypto.hpp"

#include "runtime/core/hex.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace streamb {

namespace {

// OpenSSL treats a null pointer with length 0 differently from an empty
// buffer in places (EVP_MAC_init: null key = "keep the previous key").
// string_views of empty strings may carry a null pointer.
const unsigned char* bytes_of(std::string_view s) {
  static const unsigned char empty = 0;
  return s.empty() ? &empty : reinterpret_cast<const unsigned char*>(s.data());
}

using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)>;

/// A context keyed with `key` for `digest`, made once per thread and key:
/// keying (the HMAC key schedule) costs as much as hashing a short message,
/// and the secrets are few. Reset for each message with a null key, which
/// OpenSSL reads as "keep the key".
EVP_MAC_CTX* keyed_context(EVP_MAC* mac, const char* digest,
                           std::string_view key) {
  thread_local std::map<std::string, mac_ctx_ptr, std::less<>> cache;
  std::string id{digest};
  id += '\0';
  id.append(key.data(), key.size());
  auto i = cache.find(id);
  if (i != cache.end()) {
    if (EVP_MAC_init(i->second.get(), nullptr, 0, nullptr) != 1)
      return nullptr;
    return i->second.get();
  }
  // Secrets rotate rarely; a bound keeps a stream of distinct keys (the CLI,
  // tests) from growing the cache.
  if (cache.size() >= 64)
    cache.clear();
  mac_ctx_ptr ctx{EVP_MAC_CTX_new(mac), EVP_MAC_CTX_free};
  if (!ctx)
    return nullptr;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                     const_cast<char*>(digest), 0),
    OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(ctx.get(), bytes_of(key), key.size(), params) != 1)
    return nullptr;
  return cache.emplace(std::move(id), std::move(ctx)).first->second.get();
}

std::optional<std::string> hmac(const char* digest, std::string_view key,
                                std::initializer_list<std::string_view> parts) {
  // Fetching an algorithm searches the provider tables: do it once. The
  // EVP_MAC is immutable and shared by all threads; contexts are per thread.
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr)
    return std::nullopt;
  auto* ctx = keyed_context(mac, digest, key);
  if (ctx == nullptr)
    return std::nullopt;
  for (auto part : parts)
    if (EVP_MAC_update(ctx, bytes_of(part), part.size()) != 1)
      return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_MAC_final(ctx, out, &len, sizeof(out)) != 1 || len == 0)
    return std::nullopt;
  return std::string{reinterpret_cast<const char*>(out), len};
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
    || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

} // namespace

std::optional<std::string>
hmac_sha256(std::string_view key,
            std::initializer_list<std::string_view> parts) {
  return hmac("SHA256", key, parts);
}

std::optional<std::string>
hmac_sha1(std::string_view key, std::initializer_list<std::string_view> parts) {
  return hmac("SHA1", key, parts);
}

std::optional<std::string> sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes_of(data), data.size(), out, &len, EVP_sha256(), nullptr)
        != 1
      || len == 0)
    return std::nullopt;
  return std::string{reinterpret_cast<const char*>(out), len};
}

std::string sha256_hex(std::string_view data) {
  auto digest = sha256(data);
  if (!digest)
    throw std::runtime_error("OpenSSL could not compute a SHA-256");
  return to_hex(*digest);
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n))
      != 1)
    throw std::runtime_error("the system's random source failed");
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           bytes_of(bytes), static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // EVP_DecodeBlock skips surrounding whitespace and counts padding as
  // zero bytes, so validate the text first and drop the padding after.
  if (text.size() % 4 != 0)
    return std::nullopt;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=')
    padding = text[text.size() - 2] == '=' ? 2 : 1;
  for (size_t i = 0; i < text.size() - padding; ++i)
    if (!is_base64_char(text[i]))
      return std::nullopt;
  if (text.empty())
    return std::string{};
  std::string out(text.size() / 4 * 3, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           bytes_of(text), static_cast<int>(text.size()));
  if (n < 0 || static_cast<size_t>(n) != out.size())
    return std::nullopt;
  out.resize(out.size() - padding);
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  return CRYPTO_memcmp(bytes_of(a), bytes_of(b), a.size()) == 0;
}

} // namespace streamb
