#include "Enrolment.h"

#include "model/SqliteDb.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace mt::confirm {

namespace {

std::string trimmed(std::string s) {
    const auto b = s.find_first_not_of(" \t\r\n\"");
    const auto e = s.find_last_not_of(" \t\r\n\"");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string lowered(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

// One row checked and completed (key id derived from the public key).
bool makeUser(const std::string& user, const std::string& alg, const std::string& keyId, const std::string& pub,
              EnrolledUser& out, std::string& why) {
    out.user = normaliseAddress(user);
    if (out.user.empty() || out.user.find('@') == std::string::npos) {
        why = "user '" + user + "' is not an e-mail address";
        return false;
    }
    if (!algorithmFromName(alg.empty() ? "ed25519" : lowered(alg), out.algorithm)) {
        why = "unknown algorithm '" + alg + "' (ed25519 or hmac-sha256)";
        return false;
    }
    if (out.algorithm == Algorithm::Ed25519) {
        const auto raw = fromBase64(pub);
        if (!raw || raw->size() != 32) {
            why = "public key of " + out.user + " is not 32 bytes of base64";
            return false;
        }
        out.publicKey = *raw;
        out.keyId = keyIdFor(Algorithm::Ed25519, *raw);
        if (!keyId.empty() && keyId != out.keyId) {
            why = "key id " + keyId + " of " + out.user + " does not match its public key (" + out.keyId + ")";
            return false;
        }
    } else {
        if (keyId.size() != 8) {
            why = "an HMAC user (" + out.user + ") needs its 8-character key id";
            return false;
        }
        out.keyId = keyId;
    }
    return true;
}

std::vector<std::string> splitRow(const std::string& line, char delim) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (char c : line) {
        if (c == '"') quoted = !quoted;
        else if (c == delim && !quoted) {
            out.push_back(trimmed(cur));
            cur.clear();
        } else cur += c;
    }
    out.push_back(trimmed(cur));
    return out;
}

} // namespace

EnrolmentFile parseEnrolmentBytes(const std::string& text, const std::string& name) {
    EnrolmentFile f;
    std::size_t start = 0;
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) start = 3;
    const std::size_t first = text.find_first_not_of(" \t\r\n", start);
    if (first == std::string::npos) {
        f.errors.push_back(name + ": empty enrolment file");
        return f;
    }
    auto add = [&](const std::string& u, const std::string& a, const std::string& k, const std::string& p, const std::string& where) {
        EnrolledUser eu;
        std::string why;
        if (makeUser(u, a, k, p, eu, why)) {
            const auto dup = std::find_if(f.users.begin(), f.users.end(), [&](const EnrolledUser& x) { return x.user == eu.user; });
            if (dup != f.users.end()) *dup = eu; // the last line for a user wins (a new key)
            else f.users.push_back(eu);
        } else {
            f.errors.push_back(where + ": " + why);
        }
    };
    if (text[first] == '[' || text[first] == '{') {
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(text.substr(start)), &pe);
        if (doc.isNull()) {
            f.errors.push_back(name + ": not valid JSON: " + pe.errorString().toStdString());
            return f;
        }
        const QJsonArray arr = doc.isArray() ? doc.array() : doc.object().value(QLatin1String("users")).toArray();
        int i = 0;
        for (const QJsonValue& v : arr) {
            ++i;
            const QJsonObject o = v.toObject();
            add(o.value(QLatin1String("user")).toString().toStdString(), o.value(QLatin1String("algorithm")).toString().toStdString(),
                o.value(QLatin1String("key_id")).toString().toStdString(), o.value(QLatin1String("public_key")).toString().toStdString(),
                name + ": entry " + std::to_string(i));
        }
    } else {
        std::istringstream in(text.substr(start));
        std::string line;
        int lineNo = 0;
        int cu = -1, ca = -1, ck = -1, cp = -1;
        char delim = ',';
        bool header = false;
        while (std::getline(in, line)) {
            ++lineNo;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (trimmed(line).empty() || line[0] == '#') continue;
            if (!header) {
                for (char d : {',', ';', '\t'})
                    if (line.find(d) != std::string::npos) {
                        delim = d;
                        break;
                    }
                const auto cols = splitRow(line, delim);
                for (int c = 0; c < static_cast<int>(cols.size()); ++c) {
                    const std::string h = lowered(cols[c]);
                    if (h == "user" || h == "email" || h == "mail") cu = c;
                    else if (h == "algorithm") ca = c;
                    else if (h == "key_id" || h == "keyid") ck = c;
                    else if (h == "public_key" || h == "publickey" || h == "key") cp = c;
                }
                if (cu < 0 || (cp < 0 && ck < 0)) {
                    f.errors.push_back(name + ":" + std::to_string(lineNo)
                                       + ": not an enrolment file (a header row with user and public_key or key_id expected)");
                    return f;
                }
                header = true;
                continue;
            }
            const auto cols = splitRow(line, delim);
            auto at = [&](int c) { return c >= 0 && c < static_cast<int>(cols.size()) ? cols[c] : std::string(); };
            add(at(cu), at(ca), at(ck), at(cp), name + ":" + std::to_string(lineNo));
        }
    }
    if (f.users.empty() && f.errors.empty()) f.errors.push_back(name + ": no enrolled user in the file");
    return f;
}

EnrolmentFile parseEnrolment(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        EnrolmentFile f;
        f.errors.push_back(path + ": cannot be read");
        return f;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return parseEnrolmentBytes(ss.str(), path);
}

int storeEnrolment(SqliteDb& db, const std::vector<EnrolledUser>& users, const std::string& source) {
    const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
    db.exec("BEGIN IMMEDIATE");
    try {
        SqliteStmt st = db.prepare(
            "INSERT INTO enrolment(user, algorithm, key_id, public_key, source, enrolled_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
            "ON CONFLICT(user) DO UPDATE SET algorithm = excluded.algorithm, key_id = excluded.key_id, "
            "public_key = excluded.public_key, source = excluded.source, enrolled_at = excluded.enrolled_at");
        for (const EnrolledUser& u : users) {
            st.bind(1, std::string_view(u.user)).bind(2, std::string_view(algorithmName(u.algorithm))).bind(3, std::string_view(u.keyId));
            const std::string pub = u.publicKey.empty() ? std::string() : base64(u.publicKey);
            st.bindTextOrNull(4, pub).bindTextOrNull(5, source).bind(6, now).exec();
        }
        db.exec("COMMIT");
    } catch (...) {
        try {
            db.exec("ROLLBACK");
        } catch (...) {
        }
        throw;
    }
    return static_cast<int>(users.size());
}

std::vector<EnrolledUser> loadEnrolment(SqliteDb& db) {
    std::vector<EnrolledUser> out;
    SqliteStmt st = db.prepare("SELECT user, algorithm, key_id, coalesce(public_key, '') FROM enrolment ORDER BY user");
    while (st.step()) {
        EnrolledUser u;
        u.user = st.text(0);
        if (!algorithmFromName(st.text(1), u.algorithm)) continue;
        u.keyId = st.text(2);
        if (const auto raw = fromBase64(st.text(3))) u.publicKey = *raw;
        out.push_back(std::move(u));
    }
    return out;
}

std::int64_t enrolmentChangedAt(SqliteDb& db) { return db.scalar("SELECT coalesce(max(enrolled_at), 0) FROM enrolment"); }

KeyDirectory keyDirectory(const std::vector<EnrolledUser>& users, std::string secretsPath, std::vector<std::string>* problems) {
    KeyDirectory dir;
    std::unordered_map<std::string, std::string> secrets;
    const bool anyHmac = std::any_of(users.begin(), users.end(), [](const EnrolledUser& u) { return u.algorithm == Algorithm::HmacSha256; });
    if (secretsPath.empty())
        if (const char* env = std::getenv("MAILTRIAGE_CONFIRM_SECRETS")) secretsPath = env;
    if (anyHmac && !secretsPath.empty()) {
        struct stat st{};
        if (::stat(secretsPath.c_str(), &st) == 0 && (st.st_mode & 077) && problems)
            problems->push_back(secretsPath + " is readable by others; chmod 600 it");
        std::ifstream in(secretsPath);
        if (!in && problems) problems->push_back(secretsPath + ": cannot be read");
        std::string line;
        while (std::getline(in, line)) {
            const auto comma = line.find(',');
            if (comma == std::string::npos || line[0] == '#') continue;
            if (const auto raw = fromBase64(trimmed(line.substr(comma + 1)))) secrets[normaliseAddress(line.substr(0, comma))] = *raw;
        }
    }
    for (const EnrolledUser& u : users) {
        VerifyKey k{u.algorithm, u.keyId, u.publicKey};
        if (u.algorithm == Algorithm::HmacSha256) {
            const auto it = secrets.find(u.user);
            if (it == secrets.end() || keyIdFor(Algorithm::HmacSha256, it->second) != u.keyId) {
                if (problems) problems->push_back("no HMAC secret matching key " + u.keyId + " of " + u.user);
                // Enrolled without a usable key: known as enrolled, never verifies.
                k.material.clear();
            } else {
                k.material = it->second;
            }
        }
        dir.add(u.user, std::move(k));
    }
    return dir;
}

} // namespace mt::confirm
