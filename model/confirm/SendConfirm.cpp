#include "SendConfirm.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace mt::confirm {

namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encode(std::string_view in, const char* alphabet, bool pad) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8)
                           | static_cast<unsigned char>(in[i + 2]);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (i + 1 == in.size()) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        if (pad) out += "==";
    } else if (i + 2 == in.size()) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        if (pad) out += '=';
    }
    return out;
}

std::optional<std::string> decode(std::string_view in, bool url) {
    while (!in.empty() && (in.back() == '=' || in.back() == '\n' || in.back() == '\r' || in.back() == ' ')) in.remove_suffix(1);
    if (in.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(in.size() * 3 / 4);
    unsigned acc = 0;
    int bits = 0;
    for (char c : in) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == (url ? '-' : '+')) v = 62;
        else if (c == (url ? '_' : '/')) v = 63;
        else return std::nullopt;
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    // Canonical encodings only: the bits left over must be zero (else two texts decode alike).
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

bool isB64Url(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

template <class T>
bool parseInt(std::string_view s, T& out) {
    if (s.empty() || s.size() > 19) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string hmacSha256(std::string_view key, std::string_view text) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
              text.size(), out, &len))
        throw std::runtime_error("HMAC-SHA256 failed");
    return std::string(reinterpret_cast<char*>(out), len);
}

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

} // namespace

const char* algorithmName(Algorithm a) { return a == Algorithm::Ed25519 ? "ed25519" : "hmac-sha256"; }

bool algorithmFromName(std::string_view s, Algorithm& out) {
    if (s == "ed25519") out = Algorithm::Ed25519;
    else if (s == "hmac-sha256" || s == "hmac") out = Algorithm::HmacSha256;
    else return false;
    return true;
}

std::string base64url(std::string_view bytes) { return encode(bytes, kB64Url, false); }
std::optional<std::string> fromBase64url(std::string_view text) { return decode(text, true); }
std::string base64(std::string_view bytes) { return encode(bytes, kB64, true); }
std::optional<std::string> fromBase64(std::string_view text) { return decode(text, false); }

std::string sha256(std::string_view bytes) {
    unsigned char out[32];
    unsigned int len = 0;
    if (!EVP_Digest(bytes.data(), bytes.size(), out, &len, EVP_sha256(), nullptr)) throw std::runtime_error("SHA-256 failed");
    return std::string(reinterpret_cast<char*>(out), len);
}

std::string normaliseMessageId(std::string_view id) {
    id = trim(id);
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
    return std::string(trim(id));
}

std::string normaliseAddress(std::string_view a) {
    a = trim(a);
    if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
    std::string out(trim(a));
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string Criteria::code() const {
    std::string s;
    if (rate) s += 'r';
    if (attachment) s += 'a';
    if (recipients) s += 'n';
    if (always) s += 'x';
    return s.empty() ? "-" : s;
}

Criteria Criteria::fromCode(std::string_view code) {
    Criteria c;
    c.rate = code.find('r') != std::string_view::npos;
    c.attachment = code.find('a') != std::string_view::npos;
    c.recipients = code.find('n') != std::string_view::npos;
    c.always = code.find('x') != std::string_view::npos;
    return c;
}

std::string Token::toHeaderValue() const {
    return "v=" + std::to_string(version) + ";k=" + keyId + ";t=" + std::to_string(time) + ";n=" + std::to_string(recipients)
           + ";c=" + criteria + ";m=" + midHash + ";d=" + digest + ";s=" + signature;
}

std::string Token::signedText(std::string_view sender) const {
    std::string s = "mailtriage-send-confirm/" + std::to_string(version) + "\n";
    s += normaliseAddress(sender);
    s += "\n" + keyId + "\n" + std::to_string(time) + "\n" + std::to_string(recipients) + "\n" + criteria + "\n" + midHash
         + "\n" + digest + "\n";
    return s;
}

std::optional<Token> Token::parse(std::string_view value, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<Token> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    value = trim(value);
    if (value.empty()) return fail("empty");
    Token t;
    unsigned seen = 0;
    while (!value.empty()) {
        const std::size_t semi = value.find(';');
        const std::string_view part = trim(value.substr(0, semi));
        value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
        if (part.empty()) continue;
        const std::size_t eq = part.find('=');
        if (eq != 1) return fail("field '" + std::string(part.substr(0, 20)) + "' is not name=value");
        const char name = part[0];
        const std::string_view v = part.substr(2);
        const char* names = "vktncmds";
        const char* pos = std::strchr(names, name);
        if (!pos || name == 0) return fail(std::string("unknown field '") + name + "'");
        const unsigned bit = 1u << (pos - names);
        if (seen & bit) return fail(std::string("field '") + name + "' twice");
        seen |= bit;
        switch (name) {
        case 'v':
            if (!parseInt(v, t.version)) return fail("version is not a number");
            if (t.version != 1) return fail("version " + std::string(v) + " is not known");
            break;
        case 'k':
            if (v.size() != 8 || !isB64Url(v)) return fail("key id is not 8 base64url characters");
            t.keyId = v;
            break;
        case 't':
            if (!parseInt(v, t.time) || t.time < 0) return fail("time is not a UNIX time");
            break;
        case 'n':
            if (!parseInt(v, t.recipients) || t.recipients < 0) return fail("recipient count is not a number");
            break;
        case 'c':
            if (v.empty() || (v != "-" && v.find_first_not_of("ranx") != std::string_view::npos))
                return fail("criteria '" + std::string(v) + "' not understood");
            t.criteria = v;
            break;
        case 'm':
            if (v.size() != 11 || !isB64Url(v) || !fromBase64url(v)) return fail("Message-ID hash is not 8 bytes of base64url");
            t.midHash = v;
            break;
        case 'd':
            if (v.size() != 16 || !isB64Url(v) || !fromBase64url(v)) return fail("digest is not 12 bytes of base64url");
            t.digest = v;
            break;
        case 's':
            if (!isB64Url(v) || !fromBase64url(v)) return fail("signature is not base64url");
            // 64 bytes (Ed25519) or 32 (HMAC-SHA256): anything else was cut or made up.
            if (const std::size_t n = fromBase64url(v)->size(); n != 64 && n != 32)
                return fail("signature has " + std::to_string(n) + " bytes (cut short?)");
            t.signature = v;
            break;
        }
    }
    if (seen != 0xff) {
        std::string missing;
        for (int i = 0; i < 8; ++i)
            if (!(seen & (1u << i))) missing += "vktncmds"[i];
        return fail("fields missing: " + missing);
    }
    return t;
}

std::string midHash(std::string_view messageId) { return base64url(sha256(normaliseMessageId(messageId)).substr(0, 8)); }

std::string recipientDigest(std::string_view messageId, std::vector<std::string> recipients) {
    for (std::string& r : recipients) r = normaliseAddress(r);
    std::sort(recipients.begin(), recipients.end());
    recipients.erase(std::unique(recipients.begin(), recipients.end()), recipients.end());
    std::string text = normaliseMessageId(messageId);
    for (const std::string& r : recipients) text += "\n" + r;
    return base64url(sha256(text).substr(0, 12));
}

// ------------------------------------------------------------------ keys

SigningKey::~SigningKey() {
    if (!m_raw.empty()) OPENSSL_cleanse(m_raw.data(), m_raw.size());
}
SigningKey::SigningKey(SigningKey&& o) noexcept : m_alg(o.m_alg), m_raw(std::move(o.m_raw)), m_pub(std::move(o.m_pub)) {
    o.m_raw.clear();
}
SigningKey& SigningKey::operator=(SigningKey&& o) noexcept {
    if (this != &o) {
        if (!m_raw.empty()) OPENSSL_cleanse(m_raw.data(), m_raw.size());
        m_alg = o.m_alg;
        m_raw = std::move(o.m_raw);
        m_pub = std::move(o.m_pub);
        o.m_raw.clear();
    }
    return *this;
}

SigningKey SigningKey::generate(Algorithm a) {
    std::string raw(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
        throw std::runtime_error("no random bytes from OpenSSL");
    auto k = fromRaw(a, raw);
    OPENSSL_cleanse(raw.data(), raw.size());
    if (!k) throw std::runtime_error("key generation failed");
    return std::move(*k);
}

std::optional<SigningKey> SigningKey::fromRaw(Algorithm a, std::string_view raw, std::string* error) {
    SigningKey k;
    k.m_alg = a;
    if (a == Algorithm::Ed25519) {
        if (raw.size() != 32) {
            if (error) *error = "an Ed25519 private key has 32 bytes, not " + std::to_string(raw.size());
            return std::nullopt;
        }
        PkeyPtr p(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()),
                                               raw.size()));
        if (!p) {
            if (error) *error = "OpenSSL refuses the Ed25519 key";
            return std::nullopt;
        }
        std::size_t len = 32;
        k.m_pub.assign(32, '\0');
        if (EVP_PKEY_get_raw_public_key(p.get(), reinterpret_cast<unsigned char*>(k.m_pub.data()), &len) != 1 || len != 32) {
            if (error) *error = "cannot derive the Ed25519 public key";
            return std::nullopt;
        }
    } else if (raw.size() < 16) {
        if (error) *error = "an HMAC secret needs at least 16 bytes";
        return std::nullopt;
    }
    k.m_raw.assign(raw);
    return k;
}

std::string SigningKey::publicKey() const { return m_pub; }

std::string SigningKey::keyId() const { return keyIdFor(m_alg, m_alg == Algorithm::Ed25519 ? m_pub : m_raw); }

std::string keyIdFor(Algorithm a, std::string_view material) {
    const std::string h = a == Algorithm::Ed25519 ? sha256(material) : sha256("mailtriage-hmac-key-id\n" + std::string(material));
    return base64url(h.substr(0, 6));
}

std::string SigningKey::sign(std::string_view text) const {
    if (m_raw.empty()) throw std::runtime_error("no signing key");
    if (m_alg == Algorithm::HmacSha256) return hmacSha256(m_raw, text);
    PkeyPtr p(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(m_raw.data()),
                                           m_raw.size()));
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!p || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, p.get()) != 1)
        throw std::runtime_error("Ed25519 signing setup failed");
    std::string sig(64, '\0');
    std::size_t len = sig.size();
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(text.data()), text.size())
        != 1)
        throw std::runtime_error("Ed25519 signing failed");
    sig.resize(len);
    return sig;
}

// OpenSSL 3 looks the algorithm up in its providers on every EVP_DigestVerifyInit, which costs
// more than the verification itself: each key gets a context initialised once, and every
// verification works on a copy of it.
struct Verifier::Cache {
    struct Entry {
        PkeyPtr key;
        MdCtxPtr initialised;
    };
    std::unordered_map<std::string, Entry> keys; // by public key bytes
    MdCtxPtr work{EVP_MD_CTX_new()};
};

Verifier::Verifier() : m_cache(std::make_unique<Cache>()) {}
Verifier::~Verifier() = default;

bool Verifier::verify(const VerifyKey& key, std::string_view text, std::string_view signature) {
    if (key.algorithm == Algorithm::HmacSha256) {
        if (key.material.size() < 16) return false; // enrolled without a usable secret
        const std::string mac = hmacSha256(key.material, text);
        return signature.size() == mac.size() && CRYPTO_memcmp(mac.data(), signature.data(), mac.size()) == 0;
    }
    if (signature.size() != 64 || key.material.size() != 32) return false;
    auto it = m_cache->keys.find(key.material);
    if (it == m_cache->keys.end()) {
        PkeyPtr p(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(key.material.data()), key.material.size()));
        MdCtxPtr ctx(EVP_MD_CTX_new());
        if (!p || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, p.get()) != 1) return false;
        it = m_cache->keys.emplace(key.material, Cache::Entry{std::move(p), std::move(ctx)}).first;
    }
    EVP_MD_CTX* work = m_cache->work.get();
    if (EVP_MD_CTX_copy_ex(work, it->second.initialised.get()) != 1) {
        // A provider that cannot copy its context: initialise afresh.
        EVP_MD_CTX_reset(work);
        if (EVP_DigestVerifyInit(work, nullptr, nullptr, nullptr, it->second.key.get()) != 1) return false;
    }
    return EVP_DigestVerify(work, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(text.data()), text.size())
           == 1;
}

Token makeToken(const Confirmation& c, const SigningKey& key) {
    Token t;
    t.keyId = key.keyId();
    t.time = c.time;
    std::vector<std::string> rcpts = c.recipients;
    for (std::string& r : rcpts) r = normaliseAddress(r);
    std::sort(rcpts.begin(), rcpts.end());
    rcpts.erase(std::unique(rcpts.begin(), rcpts.end()), rcpts.end());
    t.recipients = static_cast<int>(rcpts.size());
    t.criteria = c.criteria.code();
    t.midHash = midHash(c.messageId);
    t.digest = recipientDigest(c.messageId, rcpts);
    t.signature = base64url(key.sign(t.signedText(c.sender)));
    return t;
}

const char* verdictName(Verdict v) {
    switch (v) {
    case Verdict::Valid: return "valid";
    case Verdict::Missing: return "missing";
    case Verdict::Malformed: return "malformed";
    case Verdict::UnknownKey: return "unknown-key";
    case Verdict::WrongSender: return "wrong-sender";
    case Verdict::BadSignature: return "bad-signature";
    case Verdict::MessageIdMismatch: return "message-id-mismatch";
    case Verdict::RecipientCountMismatch: return "recipient-count-mismatch";
    case Verdict::RecipientsMismatch: return "recipients-mismatch";
    case Verdict::ClockSkew: return "clock-skew";
    case Verdict::Replayed: return "replayed";
    }
    return "?";
}

void KeyDirectory::add(const std::string& user, VerifyKey key) {
    const std::string u = normaliseAddress(user);
    userByKeyId[key.keyId] = u;
    byUser[u] = std::move(key);
}

const VerifyKey* KeyDirectory::keyOf(std::string_view user) const {
    const auto it = byUser.find(normaliseAddress(user));
    return it == byUser.end() ? nullptr : &it->second;
}

CheckResult check(std::string_view headerValue, const Logged& logged, const KeyDirectory& keys, Verifier& verifier,
                  std::int64_t maxSkewSec) {
    CheckResult r;
    auto verdict = [&](Verdict v, std::string detail) {
        r.verdict = v;
        r.detail = std::move(detail);
        return r;
    };
    if (trim(headerValue).empty()) return verdict(Verdict::Missing, "no X-Send-Confirm token logged");
    std::string why;
    const std::optional<Token> t = Token::parse(headerValue, &why);
    if (!t) return verdict(Verdict::Malformed, "token not readable: " + why);
    const std::string sender = normaliseAddress(logged.sender);
    const auto owner = keys.userByKeyId.find(t->keyId);
    if (owner == keys.userByKeyId.end()) return verdict(Verdict::UnknownKey, "token signed with key " + t->keyId + ", which no enrolled user holds");
    const VerifyKey* mine = keys.keyOf(sender);
    if (owner->second != sender)
        return verdict(Verdict::WrongSender, "token made with the key of " + owner->second + ", message sent as " + sender);
    if (!mine || mine->keyId != t->keyId) return verdict(Verdict::UnknownKey, "token key " + t->keyId + " is not the sender's enrolled key");
    const std::optional<std::string> sig = fromBase64url(t->signature);
    if (!sig || !verifier.verify(*mine, t->signedText(sender), *sig))
        return verdict(Verdict::BadSignature, "signature does not verify with " + sender + "'s enrolled key (" + algorithmName(mine->algorithm)
                                                  + ", " + mine->keyId + "): the token was altered or signed with another key");
    if (midHash(logged.messageId) != t->midHash)
        return verdict(Verdict::MessageIdMismatch, "the token confirms another Message-ID than the logged <" + normaliseMessageId(logged.messageId) + ">");
    std::vector<std::string> rcpts;
    rcpts.reserve(logged.recipients.size());
    for (std::string_view a : logged.recipients) rcpts.push_back(normaliseAddress(a));
    std::sort(rcpts.begin(), rcpts.end());
    rcpts.erase(std::unique(rcpts.begin(), rcpts.end()), rcpts.end());
    if (static_cast<int>(rcpts.size()) != t->recipients)
        return verdict(Verdict::RecipientCountMismatch, "confirmed for " + std::to_string(t->recipients) + " recipient(s), logged with "
                                                            + std::to_string(rcpts.size()));
    if (recipientDigest(logged.messageId, rcpts) != t->digest)
        return verdict(Verdict::RecipientsMismatch, "the logged recipients are not those the user confirmed");
    const std::int64_t loggedSec = logged.timeMs >= 0 ? logged.timeMs / 1000 : -((-logged.timeMs + 999) / 1000);
    r.skewSec = t->time - loggedSec;
    if (r.skewSec > maxSkewSec || -r.skewSec > maxSkewSec)
        return verdict(Verdict::ClockSkew, "token time and log time differ by " + std::to_string(r.skewSec) + " s (at most "
                                               + std::to_string(maxSkewSec) + " s allowed)");
    r.verdict = Verdict::Valid;
    r.detail = "confirmed by " + sender + " (criteria " + t->criteria + ")";
    return r;
}

std::optional<ReplayCache::Seen> ReplayCache::observe(std::string_view signature, std::int64_t timeMs, std::int64_t message) {
    expire(timeMs);
    const auto [it, fresh] = m_seen.try_emplace(std::string(signature), Seen{timeMs, message});
    if (fresh) {
        m_order.emplace_back(timeMs, std::string(signature));
        return std::nullopt;
    }
    if (it->second.message == message) return std::nullopt;
    return it->second;
}

void ReplayCache::expire(std::int64_t nowMs) {
    while (m_head < m_order.size() && m_order[m_head].first <= nowMs - m_windowMs) {
        const auto it = m_seen.find(m_order[m_head].second);
        if (it != m_seen.end() && it->second.timeMs == m_order[m_head].first) m_seen.erase(it);
        ++m_head;
    }
    if (m_head > 4096 && m_head * 2 > m_order.size()) {
        m_order.erase(m_order.begin(), m_order.begin() + static_cast<std::ptrdiff_t>(m_head));
        m_head = 0;
    }
}

bool riskyAttachment(std::string_view name, const std::vector<std::string>& extensions) {
    name = trim(name);
    while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.remove_suffix(1); // "x.exe." tricks Windows
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos) return false;
    std::string ext(name.substr(dot + 1));
    for (char& c : ext)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return std::find(extensions.begin(), extensions.end(), ext) != extensions.end();
}

} // namespace mt::confirm
