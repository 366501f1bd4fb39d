#include "KeyStore.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace mt::confirm {

namespace {

constexpr const char* kFormat = "mailtriage-confirm-key/1";

struct CipherFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

bool deriveKey(std::string_view password, const std::string& salt, const KdfParams& kdf, unsigned char out[32]) {
    return EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()), salt.size(),
                          kdf.n, kdf.r, kdf.p, 1024ull * 1024 * 1024, out, 32)
           == 1;
}

// What binds the ciphertext to its file's statements (a swapped user or key id fails the tag).
std::string aad(const KeyFileInfo& i) {
    return std::string(kFormat) + "\n" + i.user + "\n" + algorithmName(i.algorithm) + "\n" + i.keyId + "\n";
}

QString q(const std::string& s) { return QString::fromStdString(s); }
std::string bytesOf(const QJsonObject& o, const char* name) {
    const auto v = fromBase64(o.value(QLatin1String(name)).toString().toStdString());
    return v ? *v : std::string();
}

bool readFile(const std::string& path, QJsonObject& o, std::string* error) {
    QFile f(q(path));
    if (!f.open(QIODevice::ReadOnly)) {
        if (error) *error = "cannot read the key file " + path + ": " + f.errorString().toStdString();
        return false;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.read(1 << 20), &pe);
    if (!doc.isObject() || doc.object().value(QLatin1String("format")).toString() != QLatin1String(kFormat)) {
        if (error) *error = path + " is not a MailTriage confirmation key file";
        return false;
    }
    o = doc.object();
    return true;
}

bool parseInfo(const QJsonObject& o, KeyFileInfo& info, std::string* error) {
    info.user = normaliseAddress(o.value(QLatin1String("user")).toString().toStdString());
    if (!algorithmFromName(o.value(QLatin1String("algorithm")).toString().toStdString(), info.algorithm)) {
        if (error) *error = "unknown key algorithm in the key file";
        return false;
    }
    info.keyId = o.value(QLatin1String("key_id")).toString().toStdString();
    info.publicKey = bytesOf(o, "public_key");
    if (info.user.empty() || info.keyId.size() != 8) {
        if (error) *error = "the key file lacks its user or key id";
        return false;
    }
    return true;
}

} // namespace

bool KeyStore::save(const std::string& path, const std::string& user, const SigningKey& key, std::string_view password,
                    std::string* error, KdfParams kdf) {
    auto fail = [&](std::string why) {
        if (error) *error = std::move(why);
        return false;
    };
    if (!key.valid()) return fail("no key to save");
    if (password.empty()) return fail("an empty password would leave the key unprotected");
    KeyFileInfo info{normaliseAddress(user), key.algorithm(), key.keyId(), key.publicKey()};
    if (info.user.empty() || info.user.find('@') == std::string::npos) return fail("the user must be an e-mail address");
    std::string salt(16, '\0'), iv(12, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), 16) != 1 || RAND_bytes(reinterpret_cast<unsigned char*>(iv.data()), 12) != 1)
        return fail("no random bytes from OpenSSL");
    unsigned char k[32];
    if (!deriveKey(password, salt, kdf, k)) return fail("scrypt failed (parameters too large?)");
    std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
    std::string ct(key.raw().size(), '\0'), tag(16, '\0');
    int len = 0, fin = 0;
    const std::string ad = aad(info);
    const bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1
                    && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1
                    && EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, k, reinterpret_cast<const unsigned char*>(iv.data())) == 1
                    && EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(ad.data()), static_cast<int>(ad.size())) == 1
                    && EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(ct.data()), &len,
                                         reinterpret_cast<const unsigned char*>(key.raw().data()), static_cast<int>(key.raw().size())) == 1
                    && EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(ct.data()) + len, &fin) == 1
                    && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
    OPENSSL_cleanse(k, sizeof k);
    if (!ok) return fail("AES-256-GCM encryption failed");
    QJsonObject o{{"format", kFormat},
                  {"user", q(info.user)},
                  {"algorithm", algorithmName(info.algorithm)},
                  {"key_id", q(info.keyId)},
                  {"kdf", QJsonObject{{"name", "scrypt"}, {"n", static_cast<qint64>(kdf.n)}, {"r", static_cast<qint64>(kdf.r)},
                                      {"p", static_cast<qint64>(kdf.p)}, {"salt", q(base64(salt))}}},
                  {"cipher", "aes-256-gcm"},
                  {"iv", q(base64(iv))},
                  {"ciphertext", q(base64(ct))},
                  {"tag", q(base64(tag))}};
    if (!info.publicKey.empty()) o.insert(QStringLiteral("public_key"), q(base64(info.publicKey)));
    const QByteArray bytes = QJsonDocument(o).toJson(QJsonDocument::Indented);

    const QFileInfo fi(q(path));
    const QString dir = fi.absolutePath();
    if (!QDir().mkpath(dir)) return fail("cannot create " + dir.toStdString());
    ::chmod(QFile::encodeName(dir).constData(), 0700);
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail("cannot write " + tmp + ": " + std::strerror(errno));
    const bool written = ::write(fd, bytes.constData(), static_cast<std::size_t>(bytes.size())) == bytes.size() && ::fsync(fd) == 0;
    ::close(fd);
    if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return fail("cannot write " + path + ": " + std::strerror(errno));
    }
    return true;
}

bool KeyStore::info(const std::string& path, KeyFileInfo& out, std::string* error) {
    QJsonObject o;
    return readFile(path, o, error) && parseInfo(o, out, error);
}

bool KeyStore::unlock(const std::string& path, std::string_view password, SigningKey& out, KeyFileInfo* infoOut,
                      std::string* error, bool* wrongPassword) {
    auto fail = [&](std::string why) {
        if (error) *error = std::move(why);
        return false;
    };
    if (wrongPassword) *wrongPassword = false;
    QJsonObject o;
    KeyFileInfo info;
    if (!readFile(path, o, error) || !parseInfo(o, info, error)) return false;
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
        return fail(path + " is readable by others (mode " + std::to_string(st.st_mode & 0777) + "); chmod 600 it first");
    const QJsonObject kdfO = o.value(QLatin1String("kdf")).toObject();
    KdfParams kdf;
    kdf.n = static_cast<std::uint64_t>(kdfO.value(QLatin1String("n")).toDouble(0));
    kdf.r = static_cast<std::uint32_t>(kdfO.value(QLatin1String("r")).toDouble(0));
    kdf.p = static_cast<std::uint32_t>(kdfO.value(QLatin1String("p")).toDouble(0));
    const std::string salt = bytesOf(kdfO, "salt");
    const std::string iv = bytesOf(o, "iv"), ct = bytesOf(o, "ciphertext"), tag = bytesOf(o, "tag");
    if (kdfO.value(QLatin1String("name")).toString() != QLatin1String("scrypt") || salt.size() < 8 || iv.size() != 12
        || tag.size() != 16 || ct.empty())
        return fail("the key file is damaged (kdf, iv, tag or ciphertext)");
    unsigned char k[32];
    if (!deriveKey(password, salt, kdf, k)) return fail("scrypt failed on the key file's parameters");
    std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
    std::string raw(ct.size(), '\0');
    std::string tagCopy = tag;
    int len = 0, fin = 0;
    const std::string ad = aad(info);
    const bool setup = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1
                       && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1
                       && EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, k, reinterpret_cast<const unsigned char*>(iv.data())) == 1
                       && EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(ad.data()), static_cast<int>(ad.size())) == 1
                       && EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(raw.data()), &len,
                                            reinterpret_cast<const unsigned char*>(ct.data()), static_cast<int>(ct.size())) == 1
                       && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tagCopy.data()) == 1;
    OPENSSL_cleanse(k, sizeof k);
    if (!setup) return fail("AES-256-GCM setup failed");
    if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(raw.data()) + len, &fin) != 1) {
        OPENSSL_cleanse(raw.data(), raw.size());
        if (wrongPassword) *wrongPassword = true;
        return fail("wrong password (or the key file was altered)");
    }
    std::optional<SigningKey> key = SigningKey::fromRaw(info.algorithm, raw, error);
    OPENSSL_cleanse(raw.data(), raw.size());
    if (!key) return false;
    if (key->keyId() != info.keyId) return fail("the key does not match the key id its file states");
    out = std::move(*key);
    if (infoOut) *infoOut = info;
    return true;
}

std::string KeyStore::enrolmentLine(const KeyFileInfo& info) {
    return info.user + "," + algorithmName(info.algorithm) + "," + info.keyId + "," + (info.publicKey.empty() ? std::string() : base64(info.publicKey));
}

} // namespace mt::confirm
