#pragma once
// Send confirmation (claims 25-34): the token a sender's terminal adds to a message it sends
// after the user confirmed it, and its verification against what the mail logs say.
//
// The token travels as one header line, logged by Postfix through a header_checks WARN rule:
//
//   X-Send-Confirm: v=1;k=KEYID;t=UNIX;n=NRCPT;c=CRITERIA;m=MIDHASH;d=DIGEST;s=SIG
//
// Postfix logs at most 200 characters of a header (cleanup_act_log: "%.200s"), so every field
// is short: the user is named by the id of their key (KEYID, 8 characters), the Message-ID by
// 8 bytes of its SHA-256 (MIDHASH) and the Message-ID plus recipients by 12 bytes (DIGEST). The
// signature covers the full sender address as well (it is not in the header: the verifier
// takes it from the log), so a token moved to another sender's message fails.
//
// Ed25519 (a key pair; the analysis side holds only public keys) or HMAC-SHA256 (one shared
// secret per user), both through OpenSSL's EVP interface. No Qt here.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mt::confirm {

enum class Algorithm { Ed25519, HmacSha256 };
const char* algorithmName(Algorithm a); // "ed25519", "hmac-sha256"
bool algorithmFromName(std::string_view s, Algorithm& out);

// Base64url without padding (RFC 4648 section 5), as the token writes its binary fields.
std::string base64url(std::string_view bytes);
std::optional<std::string> fromBase64url(std::string_view text);
// Standard base64 with padding (key files, enrolment files).
std::string base64(std::string_view bytes);
std::optional<std::string> fromBase64(std::string_view text);
std::string sha256(std::string_view bytes);

// The Message-ID as compared: without angle brackets and surrounding blanks.
std::string normaliseMessageId(std::string_view id);
// An address as compared: lower case, without angle brackets.
std::string normaliseAddress(std::string_view a);

// What the sender's terminal found about the message (single letters in the token).
struct Criteria {
    bool rate = false;        // 'r': more than N messages from this user in the last T minutes
    bool attachment = false;  // 'a': a risky attachment type
    bool recipients = false;  // 'n': more than M recipients
    bool always = false;      // 'x': the terminal confirms every message (policy)
    bool any() const { return rate || attachment || recipients || always; }
    std::string code() const; // "ra", "n", ... "-" for none
    static Criteria fromCode(std::string_view code);
};

struct Token {
    int version = 1;
    std::string keyId;        // 8 characters of base64url
    std::int64_t time = 0;    // UNIX seconds, when the user confirmed
    int recipients = 0;       // how many recipients the user confirmed
    std::string criteria = "-";
    std::string midHash;      // base64url of 8 bytes of SHA-256(Message-ID)
    std::string digest;       // base64url of 12 bytes of SHA-256(Message-ID, sorted recipients)
    std::string signature;    // base64url

    std::string toHeaderValue() const;
    // The bytes the signature covers; the sender comes from outside (the envelope).
    std::string signedText(std::string_view sender) const;
    // Strict: every field once, known version, well-formed values. nullopt with a reason.
    static std::optional<Token> parse(std::string_view headerValue, std::string* error = nullptr);
};

inline constexpr const char* kHeaderName = "X-Send-Confirm";
inline constexpr std::size_t kPostfixLogLimit = 200; // header name + ": " + value, as Postfix logs it

std::string midHash(std::string_view messageId);
// Recipients are normalised and sorted; duplicates count once.
std::string recipientDigest(std::string_view messageId, std::vector<std::string> recipients);

// A signing key (private part, or the HMAC secret) in memory. Wiped when destroyed.
class SigningKey {
public:
    SigningKey() = default;
    ~SigningKey();
    SigningKey(SigningKey&&) noexcept;
    SigningKey& operator=(SigningKey&&) noexcept;
    SigningKey(const SigningKey&) = delete;
    SigningKey& operator=(const SigningKey&) = delete;

    static SigningKey generate(Algorithm a);
    // raw: 32 bytes of Ed25519 private key, or the HMAC secret (16 bytes or more).
    static std::optional<SigningKey> fromRaw(Algorithm a, std::string_view raw, std::string* error = nullptr);

    bool valid() const { return !m_raw.empty(); }
    Algorithm algorithm() const { return m_alg; }
    const std::string& raw() const { return m_raw; }
    std::string publicKey() const;  // raw 32 bytes (Ed25519); empty for HMAC
    std::string keyId() const;
    std::string sign(std::string_view text) const; // raw signature bytes

private:
    Algorithm m_alg = Algorithm::Ed25519;
    std::string m_raw;
    std::string m_pub;
};

// The key id: 6 bytes of SHA-256 over the public key (Ed25519) or over a label and the secret
// (HMAC), as 8 characters of base64url.
std::string keyIdFor(Algorithm a, std::string_view publicOrSecret);

// What the analysis side knows of a user's key.
struct VerifyKey {
    Algorithm algorithm = Algorithm::Ed25519;
    std::string keyId;
    std::string material;     // Ed25519 public key (32 bytes) or HMAC secret
};

// Verifies signatures; keeps the parsed OpenSSL key per key id (parsing costs more than a verify).
class Verifier {
public:
    Verifier();
    ~Verifier();
    Verifier(const Verifier&) = delete;
    Verifier& operator=(const Verifier&) = delete;
    bool verify(const VerifyKey& key, std::string_view text, std::string_view signature);

private:
    struct Cache;
    std::unique_ptr<Cache> m_cache;
};

// What the sender's terminal signs: everything the token states about the message.
struct Confirmation {
    std::string sender;                  // envelope sender
    std::string messageId;
    std::vector<std::string> recipients; // envelope recipients
    std::int64_t time = 0;               // UNIX seconds
    Criteria criteria;
};
Token makeToken(const Confirmation& c, const SigningKey& key);

// What the log says about the message being judged.
struct Logged {
    std::string_view sender;             // envelope sender (or SASL login), any case
    std::string_view messageId;
    std::vector<std::string_view> recipients; // final recipients, any case
    std::int64_t timeMs = 0;             // when the server received it
};

enum class Verdict {
    Valid,
    Missing,          // no token
    Malformed,
    UnknownKey,       // the key id is not enrolled
    WrongSender,      // the key of another enrolled user
    BadSignature,     // tampered with, or signed by a key that is not the enrolled one
    MessageIdMismatch,
    RecipientCountMismatch,
    RecipientsMismatch,
    ClockSkew,
    Replayed,
};
const char* verdictName(Verdict v);      // "valid", "missing", "malformed", "unknown-key" ...

struct CheckResult {
    Verdict verdict = Verdict::Valid;
    std::string detail;                  // what was compared, for the analyst
    std::int64_t skewSec = 0;
};

// Key ids to users and users to keys (the enrolment), for the check.
struct KeyDirectory {
    std::unordered_map<std::string, VerifyKey> byUser;    // normalised address -> key
    std::unordered_map<std::string, std::string> userByKeyId;
    void add(const std::string& user, VerifyKey key);
    const VerifyKey* keyOf(std::string_view user) const;
};

// Checks one token against the logged message (everything but replay, which needs history:
// ReplayCache). maxSkewSec: largest difference between the token's time and the log's.
CheckResult check(std::string_view headerValue, const Logged& logged, const KeyDirectory& keys, Verifier& verifier,
                  std::int64_t maxSkewSec);

// Tokens already seen, by signature, for a window of time: a token seen again on another
// message is a replay. Entries older than the window are dropped as time advances.
class ReplayCache {
public:
    explicit ReplayCache(std::int64_t windowMs) : m_windowMs(windowMs) {}
    struct Seen {
        std::int64_t timeMs;
        std::int64_t message;            // the caller's id of the message it was first seen on
    };
    // Records the token of `message` at `timeMs`; returns the earlier sighting on another
    // message inside the window, if any.
    std::optional<Seen> observe(std::string_view signature, std::int64_t timeMs, std::int64_t message);
    std::size_t size() const { return m_seen.size(); }

private:
    void expire(std::int64_t nowMs);
    std::int64_t m_windowMs;
    std::unordered_map<std::string, Seen> m_seen;
    std::vector<std::pair<std::int64_t, std::string>> m_order; // (time, signature), oldest first from m_head
    std::size_t m_head = 0;
};

// Risky attachment: the last extension is in `extensions` (lower case, no dot); trailing dots
// and blanks ("x.exe.") do not hide it, and a decoy in front ("invoice.pdf.exe") does not help.
bool riskyAttachment(std::string_view name, const std::vector<std::string>& extensions);

} // namespace mt::confirm
