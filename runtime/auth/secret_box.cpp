#include "runtime/auth/secret_box.hpp"

#include "runtime/auth/api_key.hpp"
#include "runtime/core/crypto.hpp"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace streamb::auth {

namespace {

constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX,
                                   decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

} // namespace

std::optional<secret_box> secret_box::from_hex(std::string_view hex) {
  if (hex.size() != 64)
    return std::nullopt;
  auto key = streamb::from_hex(hex);
  if (!key)
    return std::nullopt;
  return secret_box{std::move(*key)};
}

std::optional<secret_box> secret_box::from_environment(std::string& why) {
  auto text = std::getenv(secret_key_env);
  if (text == nullptr || *text == '\0') {
    why = std::string{"managed webhook secrets are off: set "} + secret_key_env
      + " (64 hex digits, the same on every node)";
    return std::nullopt;
  }
  if (auto box = from_hex(text))
    return box;
  why = std::string{"managed webhook secrets are off: "} + secret_key_env
    + " must be 64 hex digits";
  return std::nullopt;
}

std::string secret_box::seal(std::string_view plaintext,
                             std::string_view aad) const {
  auto nonce = random_bytes(nonce_size);
  cipher_ctx ctx{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  std::string out(nonce_size + plaintext.size() + tag_size, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  if (!ctx
      || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_),
                            bytes(nonce))
        != 1
      || EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad),
                           static_cast<int>(aad.size()))
        != 1
      || EVP_EncryptUpdate(ctx.get(), dst + nonce_size, &len, bytes(plaintext),
                           static_cast<int>(plaintext.size()))
        != 1
      || EVP_EncryptFinal_ex(ctx.get(), dst + nonce_size + len, &len) != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size,
                             dst + nonce_size + plaintext.size())
        != 1)
    throw std::runtime_error("AES-256-GCM sealing failed");
  std::copy(nonce.begin(), nonce.end(), out.begin());
  return to_hex(out);
}

std::optional<std::string> secret_box::open(std::string_view sealed,
                                            std::string_view aad) const {
  auto raw = streamb::from_hex(sealed);
  if (!raw || raw->size() < nonce_size + tag_size)
    return std::nullopt;
  auto n = raw->size() - nonce_size - tag_size;
  std::string out(n, '\0');
  std::string tag = raw->substr(nonce_size + n);
  cipher_ctx ctx{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  int len = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx
      || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_),
                            bytes(*raw))
        != 1
      || EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad),
                           static_cast<int>(aad.size()))
        != 1
      || EVP_DecryptUpdate(ctx.get(), dst, &len, bytes(*raw) + nonce_size,
                           static_cast<int>(n))
        != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size,
                             tag.data())
        != 1
      || EVP_DecryptFinal_ex(ctx.get(), dst + len, &len) != 1)
    return std::nullopt;
  return out;
}

} // namespace streamb::auth
