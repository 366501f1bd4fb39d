#include "ServerDirectory.h"

#include "DemoConnector.h"
#include "ImapConnector.h"
#include "PostfixQueueConnector.h"

#include <QFile>
#include <QSaveFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace mt::recall {

namespace {

using Keys = std::set<QString>;

bool unknownKeys(const QJsonObject& o, const Keys& allowed, const QString& where, QString* error) {
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!allowed.count(it.key())) {
            if (error) *error = where + QStringLiteral(": unknown key '%1'").arg(it.key());
            return true;
        }
    return false;
}

bool getString(const QJsonObject& o, const char* key, std::string& out, const QString& where, QString* error) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined()) return true;
    if (!v.isString()) {
        if (error) *error = where + QStringLiteral(".%1: expected a string").arg(QLatin1String(key));
        return false;
    }
    out = v.toString().toStdString();
    return true;
}

bool getInt(const QJsonObject& o, const char* key, int& out, int lo, int hi, const QString& where, QString* error) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined()) return true;
    if (!v.isDouble() || v.toDouble() != static_cast<double>(static_cast<int>(v.toDouble())) || v.toInt() < lo || v.toInt() > hi) {
        if (error) *error = where + QStringLiteral(".%1: expected an integer from %2 to %3").arg(QLatin1String(key)).arg(lo).arg(hi);
        return false;
    }
    out = v.toInt();
    return true;
}

bool getBool(const QJsonObject& o, const char* key, bool& out, const QString& where, QString* error) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined()) return true;
    if (!v.isBool()) {
        if (error) *error = where + QStringLiteral(".%1: expected true or false").arg(QLatin1String(key));
        return false;
    }
    out = v.toBool();
    return true;
}

bool parseImap(const QJsonValue& v, ImapSettings& s, const QString& where, QString* error) {
    if (!v.isObject()) {
        if (error) *error = where + QStringLiteral(": expected an object");
        return false;
    }
    const QJsonObject o = v.toObject();
    if (unknownKeys(o, {"url", "tls", "ca_file", "insecure", "admin_user", "login", "master_separator", "password_env",
                        "password_file", "password_keyring", "password", "quarantine_account", "quarantine",
                        "recipient_delimiter", "inbox", "timeout_s"}, where, error))
        return false;
    if (o.contains(QLatin1String("password"))) {
        if (error) *error = where + QStringLiteral(".password: secrets are not kept in this file; use password_env or password_file");
        return false;
    }
    std::string tls, login;
    if (!getString(o, "url", s.url, where, error) || !getString(o, "tls", tls, where, error)
        || !getString(o, "ca_file", s.caFile, where, error) || !getBool(o, "insecure", s.insecure, where, error)
        || !getString(o, "admin_user", s.adminUser, where, error) || !getString(o, "login", login, where, error)
        || !getString(o, "master_separator", s.masterSeparator, where, error)
        || !getString(o, "password_env", s.passwordEnv, where, error) || !getString(o, "password_file", s.passwordFile, where, error)
        || !getBool(o, "password_keyring", s.passwordKeyring, where, error)
        || !getString(o, "quarantine_account", s.quarantineAccount, where, error)
        || !getString(o, "recipient_delimiter", s.recipientDelimiter, where, error)
        || !getString(o, "quarantine", s.quarantine, where, error) || !getString(o, "inbox", s.inbox, where, error)
        || !getInt(o, "timeout_s", s.timeoutS, 1, 3600, where, error))
        return false;
    const bool implicitScheme = s.url.rfind("imaps://", 0) == 0;
    if (!implicitScheme && s.url.rfind("imap://", 0) != 0) {
        if (error) *error = where + QStringLiteral(".url: expected imap://HOST[:PORT] or imaps://HOST[:PORT]");
        return false;
    }
    if (s.url.find('/', s.url.find("://") + 3) != std::string::npos && s.url.back() != '/') {
        if (error) *error = where + QStringLiteral(".url: no mailbox path, please (the connector picks the folders)");
        return false;
    }
    if (tls.empty() && !implicitScheme) {
        // A plain imap:// url is ambiguous: refused here rather than failing every request later.
        if (error) *error = where + QStringLiteral(".tls: an imap:// url needs \"tls\": \"starttls\" (upgrade to TLS, "
                                                   "certificate verified) or \"tls\": \"none\" (plain text)");
        return false;
    }
    if (tls.empty()) s.tls = ImapSettings::Tls::Implicit;
    else if (tls == "implicit") s.tls = ImapSettings::Tls::Implicit;
    else if (tls == "starttls") s.tls = ImapSettings::Tls::StartTls;
    else if (tls == "none") s.tls = ImapSettings::Tls::None;
    else {
        if (error) *error = where + QStringLiteral(".tls: expected implicit, starttls or none");
        return false;
    }
    if (s.tls == ImapSettings::Tls::Implicit && !implicitScheme) {
        if (error) *error = where + QStringLiteral(".tls: implicit TLS needs an imaps:// url");
        return false;
    }
    if (s.tls != ImapSettings::Tls::Implicit && implicitScheme) {
        if (error) *error = where + QStringLiteral(".tls: an imaps:// url is always implicit TLS");
        return false;
    }
    if (login.empty() || login == "master") s.login = ImapSettings::Login::MasterSeparator;
    else if (login == "authzid") s.login = ImapSettings::Login::AuthzId;
    else {
        if (error) *error = where + QStringLiteral(".login: expected master or authzid");
        return false;
    }
    if (s.adminUser.empty()) {
        if (error) *error = where + QStringLiteral(".admin_user: required");
        return false;
    }
    if (int(!s.passwordEnv.empty()) + int(!s.passwordFile.empty()) + int(s.passwordKeyring) != 1) {
        if (error) *error = where + QStringLiteral(": give exactly one of password_env, password_file or password_keyring");
        return false;
    }
    if (s.quarantineAccount.empty() || s.quarantineAccount.find_first_of(" \t\"") != std::string::npos) {
        if (error) *error = where + QStringLiteral(".quarantine_account: required: the mailbox suspended copies are moved to, "
                                                   "out of their recipients' reach (e.g. \"quarantine@example.org\")");
        return false;
    }
    if (s.quarantine.empty() || s.inbox.empty() || s.quarantine == s.inbox) {
        if (error) *error = where + QStringLiteral(": quarantine and inbox must be two different folders");
        return false;
    }
    return true;
}

bool parsePostfix(const QJsonValue& v, PostfixSettings& s, const QString& where, QString* error) {
    if (!v.isObject()) {
        if (error) *error = where + QStringLiteral(": expected an object");
        return false;
    }
    const QJsonObject o = v.toObject();
    if (unknownKeys(o, {"command_prefix", "config_dir", "postqueue", "postsuper", "postcat", "timeout_s"}, where, error))
        return false;
    const QJsonValue pre = o.value(QLatin1String("command_prefix"));
    if (!pre.isUndefined()) {
        if (pre.isString()) {
            // "ssh root@mx2": split on blanks (no shell quoting; use the array form for that).
            std::istringstream words(pre.toString().toStdString());
            std::string w;
            while (words >> w) s.commandPrefix.push_back(w);
        } else if (pre.isArray()) {
            for (const QJsonValue& w : pre.toArray()) {
                if (!w.isString()) {
                    if (error) *error = where + QStringLiteral(".command_prefix: expected strings");
                    return false;
                }
                s.commandPrefix.push_back(w.toString().toStdString());
            }
        } else {
            if (error) *error = where + QStringLiteral(".command_prefix: expected a string or an array of strings");
            return false;
        }
    }
    return getString(o, "config_dir", s.configDir, where, error) && getString(o, "postqueue", s.postqueue, where, error)
        && getString(o, "postsuper", s.postsuper, where, error) && getString(o, "postcat", s.postcat, where, error)
        && getInt(o, "timeout_s", s.timeoutS, 1, 3600, where, error);
}

bool parseDemo(const QJsonValue& v, DemoSettings& s, const QString& where, QString* error) {
    if (v.isBool() && v.toBool()) return true;
    if (!v.isObject()) {
        if (error) *error = where + QStringLiteral(": expected an object (or true)");
        return false;
    }
    const QJsonObject o = v.toObject();
    if (unknownKeys(o, {"unreachable", "fail_first"}, where, error)) return false;
    return getBool(o, "unreachable", s.unreachable, where, error) && getInt(o, "fail_first", s.failFirst, 0, 1000000, where, error);
}

} // namespace

bool ServerDirectory::loadJson(const QByteArray& json, QString* error) {
    m_entries.clear();
    m_retry = {};
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError) {
        if (error) *error = QStringLiteral("not valid JSON at offset %1: %2").arg(pe.offset).arg(pe.errorString());
        return false;
    }
    if (!doc.isObject()) {
        if (error) *error = QStringLiteral("expected a JSON object with \"servers\"");
        return false;
    }
    const QJsonObject root = doc.object();
    if (unknownKeys(root, {"servers", "retry"}, QStringLiteral("top level"), error)) return false;
    if (root.contains(QLatin1String("retry"))) {
        const QJsonValue r = root.value(QLatin1String("retry"));
        if (!r.isObject()) {
            if (error) *error = QStringLiteral("retry: expected an object");
            return false;
        }
        const QJsonObject ro = r.toObject();
        if (unknownKeys(ro, {"attempts", "backoff_ms"}, QStringLiteral("retry"), error)
            || !getInt(ro, "attempts", m_retry.attempts, 1, 100, QStringLiteral("retry"), error)
            || !getInt(ro, "backoff_ms", m_retry.backoffMs, 0, 600000, QStringLiteral("retry"), error))
            return false;
    }
    const QJsonValue servers = root.value(QLatin1String("servers"));
    if (!servers.isArray()) {
        if (error) *error = QStringLiteral("servers: expected an array of server entries");
        return false;
    }
    std::set<std::string> hosts;
    int i = 0;
    for (const QJsonValue& v : servers.toArray()) {
        const QString where = QStringLiteral("servers[%1]").arg(i++);
        if (!v.isObject()) {
            if (error) *error = where + QStringLiteral(": expected an object");
            return false;
        }
        const QJsonObject o = v.toObject();
        if (unknownKeys(o, {"host", "imap", "postfix", "demo"}, where, error)) return false;
        ServerEntry e;
        if (!getString(o, "host", e.host, where, error)) return false;
        if (e.host.empty()) {
            if (error) *error = where + QStringLiteral(".host: required (the server's name in the logs, or \"*\")");
            return false;
        }
        const QString w = where + QStringLiteral(" (") + QString::fromStdString(e.host) + QLatin1Char(')');
        if (!hosts.insert(e.host).second) {
            if (error) *error = w + QStringLiteral(": listed twice");
            return false;
        }
        if (o.contains(QLatin1String("imap"))) {
            ImapSettings s;
            if (!parseImap(o.value(QLatin1String("imap")), s, w + QStringLiteral(".imap"), error)) return false;
            e.imap = s;
        }
        if (o.contains(QLatin1String("postfix"))) {
            PostfixSettings s;
            if (!parsePostfix(o.value(QLatin1String("postfix")), s, w + QStringLiteral(".postfix"), error)) return false;
            e.postfix = s;
        }
        if (o.contains(QLatin1String("demo"))) {
            DemoSettings s;
            if (!parseDemo(o.value(QLatin1String("demo")), s, w + QStringLiteral(".demo"), error)) return false;
            if (e.imap || e.postfix) {
                if (error) *error = w + QStringLiteral(": demo cannot be combined with imap or postfix");
                return false;
            }
            e.demo = s;
        }
        if (!e.imap && !e.postfix && !e.demo) {
            if (error) *error = w + QStringLiteral(": give imap, postfix or demo");
            return false;
        }
        m_entries.push_back(std::move(e));
    }
    return true;
}

bool ServerDirectory::loadFile(const QString& path, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error) *error = path + QStringLiteral(": ") + f.errorString();
        return false;
    }
    QString e;
    if (!loadJson(f.readAll(), &e)) {
        if (error) *error = path + QStringLiteral(": ") + e;
        return false;
    }
    return true;
}

QByteArray ServerDirectory::toJson() const {
    QJsonArray servers;
    for (const ServerEntry& e : m_entries) {
        QJsonObject o{{"host", QString::fromStdString(e.host)}};
        if (e.imap) {
            const ImapSettings& s = *e.imap;
            QJsonObject i{{"url", QString::fromStdString(s.url)},
                          {"tls", s.tls == ImapSettings::Tls::Implicit ? "implicit" : s.tls == ImapSettings::Tls::StartTls ? "starttls" : "none"},
                          {"admin_user", QString::fromStdString(s.adminUser)},
                          {"login", s.login == ImapSettings::Login::AuthzId ? "authzid" : "master"},
                          {"master_separator", QString::fromStdString(s.masterSeparator)},
                          {"quarantine", QString::fromStdString(s.quarantine)},
                          {"inbox", QString::fromStdString(s.inbox)},
                          {"timeout_s", s.timeoutS}};
            if (!s.caFile.empty()) i.insert(QStringLiteral("ca_file"), QString::fromStdString(s.caFile));
            if (s.insecure) i.insert(QStringLiteral("insecure"), true);
            if (!s.passwordEnv.empty()) i.insert(QStringLiteral("password_env"), QString::fromStdString(s.passwordEnv));
            if (!s.passwordFile.empty()) i.insert(QStringLiteral("password_file"), QString::fromStdString(s.passwordFile));
            if (s.passwordKeyring) i.insert(QStringLiteral("password_keyring"), true);
            i.insert(QStringLiteral("quarantine_account"), QString::fromStdString(s.quarantineAccount));
            i.insert(QStringLiteral("recipient_delimiter"), QString::fromStdString(s.recipientDelimiter));
            o.insert(QStringLiteral("imap"), i);
        }
        if (e.postfix) {
            const PostfixSettings& s = *e.postfix;
            QJsonArray prefix;
            for (const std::string& w : s.commandPrefix) prefix.append(QString::fromStdString(w));
            QJsonObject p{{"command_prefix", prefix},
                          {"postqueue", QString::fromStdString(s.postqueue)},
                          {"postsuper", QString::fromStdString(s.postsuper)},
                          {"postcat", QString::fromStdString(s.postcat)},
                          {"timeout_s", s.timeoutS}};
            if (!s.configDir.empty()) p.insert(QStringLiteral("config_dir"), QString::fromStdString(s.configDir));
            o.insert(QStringLiteral("postfix"), p);
        }
        if (e.demo) {
            QJsonObject d;
            if (e.demo->unreachable) d.insert(QStringLiteral("unreachable"), true);
            if (e.demo->failFirst) d.insert(QStringLiteral("fail_first"), e.demo->failFirst);
            o.insert(QStringLiteral("demo"), d);
        }
        servers.append(o);
    }
    return QJsonDocument(QJsonObject{{"retry", QJsonObject{{"attempts", m_retry.attempts}, {"backoff_ms", m_retry.backoffMs}}},
                                     {"servers", servers}})
        .toJson(QJsonDocument::Indented);
}

bool ServerDirectory::saveFile(const QString& path, QString* error) const {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        if (error) *error = path + QStringLiteral(": ") + f.errorString();
        return false;
    }
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(toJson());
    if (!f.commit()) {
        if (error) *error = path + QStringLiteral(": ") + f.errorString();
        return false;
    }
    return true;
}

ServerDirectory ServerDirectory::demoEverywhere() {
    ServerDirectory d;
    ServerEntry e;
    e.host = "*";
    e.demo = DemoSettings{};
    d.m_entries.push_back(e);
    d.m_retry = {3, 0};
    return d;
}

const ServerEntry* ServerDirectory::entryFor(const std::string& host) const {
    const ServerEntry* fallback = nullptr;
    for (const ServerEntry& e : m_entries) {
        if (e.host == host) return &e;
        if (e.host == "*") fallback = &e;
    }
    return fallback;
}

std::string ServerDirectory::connectorKindFor(const std::string& host, Place place) const {
    const ServerEntry* e = entryFor(host);
    if (!e) return {};
    if (e->demo) return "demo";
    if (place == Place::Mailbox && e->imap) return "imap";
    if (place == Place::Queue && e->postfix) return "postfix";
    return {};
}

bool ServerDirectory::usesDemo() const {
    for (const ServerEntry& e : m_entries)
        if (e.demo) return true;
    return false;
}

std::unique_ptr<Connector> ServerDirectory::makeConnector(const std::string& host, Place place, std::shared_ptr<DemoWorld> demo,
                                                          std::string* error) const {
    const ServerEntry* e = entryFor(host);
    const std::string kind = connectorKindFor(host, place);
    if (!e || kind.empty()) {
        if (error) *error = "no connector for " + std::string(placeName(place)) + " copies on " + host;
        return nullptr;
    }
    if (kind == "demo") {
        if (!demo) {
            if (error) *error = "the demo connector needs the case's simulation";
            return nullptr;
        }
        return std::make_unique<DemoConnector>(std::move(demo), *e->demo);
    }
    if (kind == "postfix") return std::make_unique<PostfixQueueConnector>(*e->postfix);
    std::string password;
    if (!secretFor(*e, password, error)) return nullptr;
    return std::make_unique<ImapConnector>(*e->imap, password);
}

bool ServerDirectory::secretFor(const ServerEntry& e, std::string& out, std::string* error) const {
    if (!e.imap) return false;
    if (e.imap->passwordKeyring) {
        const auto it = m_secrets.find(e.host);
        if (it == m_secrets.end() || it->second.empty()) {
            if (error) *error = "the IMAP password of " + e.host + " is kept in the desktop keyring; set it in the GUI "
                                "(Recall > Server directory), or use password_env / password_file for the command line";
            return false;
        }
        out = it->second;
        return true;
    }
    return readSecret(*e.imap, out, error);
}

bool ServerDirectory::checkSecrets(QString* error) const {
    int i = 0;
    for (const ServerEntry& e : m_entries) {
        const QString where = QStringLiteral("servers[%1] (%2).imap").arg(i++).arg(QString::fromStdString(e.host));
        if (!e.imap) continue;
        std::string secret, why;
        if (!secretFor(e, secret, &why)) {
            if (error) *error = where + QStringLiteral(": ") + QString::fromStdString(why);
            return false;
        }
    }
    return true;
}

std::string mailboxOf(const std::string& recipient, const std::string& delimiters) {
    const std::size_t at = recipient.rfind('@');
    if (delimiters.empty() || at == std::string::npos) return recipient;
    const std::size_t d = recipient.find_first_of(delimiters);
    if (d == std::string::npos || d >= at || d == 0) return recipient;
    return recipient.substr(0, d) + recipient.substr(at);
}

bool readSecret(const ImapSettings& s, std::string& out, std::string* error) {
    if (!s.passwordEnv.empty()) {
        const char* v = std::getenv(s.passwordEnv.c_str());
        if (!v || !*v) {
            if (error) *error = "environment variable " + s.passwordEnv + " (IMAP password) is not set";
            return false;
        }
        out = v;
        return true;
    }
    struct stat st{};
    if (::stat(s.passwordFile.c_str(), &st) != 0) {
        if (error) *error = "password file " + s.passwordFile + " cannot be read";
        return false;
    }
    if ((st.st_mode & 077) != 0) {
        if (error) *error = "password file " + s.passwordFile + " is readable by others (chmod 600 it); refused";
        return false;
    }
    std::ifstream in(s.passwordFile);
    if (!in || !std::getline(in, out) || out.empty()) {
        if (error) *error = "password file " + s.passwordFile + " is empty or unreadable";
        return false;
    }
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return true;
}

} // namespace mt::recall
