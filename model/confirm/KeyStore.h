#pragma once
// The user's signing key at rest: a 0600 JSON file under the user's config folder, the key
// encrypted with AES-256-GCM under a key derived from the user's password by scrypt. Only the
// password the user types in the confirmation prompt unlocks it, which is what makes the
// confirmation a person's act and not something a program running as the user can do alone.
// (Debian 12 has no QtKeychain; this is the file-based equivalent.)
#include "SendConfirm.h"

#include <string>

namespace mt::confirm {

struct KdfParams {
    std::uint64_t n = 1u << 15; // scrypt cost: about 32 MB and 0.1 s on the reference machine
    std::uint32_t r = 8;
    std::uint32_t p = 1;
};

struct KeyFileInfo {
    std::string user;            // normalised address
    Algorithm algorithm = Algorithm::Ed25519;
    std::string keyId;
    std::string publicKey;       // raw bytes (Ed25519); empty for HMAC
};

class KeyStore {
public:
    // Writes `key` for `user` encrypted under `password` to `path` (mode 0600, folders created
    // 0700, written to a temporary file and renamed). False with a reason.
    static bool save(const std::string& path, const std::string& user, const SigningKey& key, std::string_view password,
                     std::string* error = nullptr, KdfParams kdf = {});
    // Reads what the file says without the password (user, algorithm, key id, public key).
    static bool info(const std::string& path, KeyFileInfo& out, std::string* error = nullptr);
    // Decrypts the key. A wrong password fails the GCM tag: *wrongPassword is set then.
    static bool unlock(const std::string& path, std::string_view password, SigningKey& out, KeyFileInfo* info = nullptr,
                       std::string* error = nullptr, bool* wrongPassword = nullptr);
    // The enrolment line an administrator imports for this key: "user,algorithm,key_id,public_key"
    // (public_key empty for HMAC: the secret goes to the analysis host another way).
    static std::string enrolmentLine(const KeyFileInfo& info);
};

} // namespace mt::confirm
