#pragma once
// The server directory: which connector serves which mail server of the logs, with its
// settings. Read from JSON (the CLI's --servers file; the GUI's dialog writes the same):
//
// {
//   "retry": {"attempts": 3, "backoff_ms": 500},
//   "servers": [
//     {"host": "mx1",
//      "imap": {"url": "imaps://mx1.example.org", "tls": "implicit|starttls|none",
//               "ca_file": "/etc/ssl/our-ca.pem", "insecure": false,
//               "admin_user": "admin", "login": "master|authzid", "master_separator": "*",
//               "password_env": "MT_IMAP_PASSWORD" | "password_file": "/root/.mt-imap" (mode 0600)
//                 | "password_keyring": true (the GUI: the desktop keyring through QtKeychain),
//               "quarantine_account": "quarantine@example.org", "quarantine": "Quarantine",
//               "recipient_delimiter": "+", "inbox": "INBOX", "timeout_s": 20},
//      "postfix": {"command_prefix": ["ssh", "root@mx1"], "config_dir": "/etc/postfix",
//                  "postqueue": "postqueue", "postsuper": "postsuper", "postcat": "postcat", "timeout_s": 30}},
//     {"host": "*", "demo": {}}           // every other server: the in-process simulation
//   ]
// }
//
// Secrets are never in the file: a password comes from an environment variable or a file
// only root can read. "host": "*" is the fallback entry. Everything is checked when loading;
// errors name the entry and the key.
#include <QByteArray>
#include <QString>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mt::recall {

class Connector;
class DemoWorld;
enum class Place;

struct ImapSettings {
    std::string url;             // imap://host:port or imaps://host:port (no path)
    enum class Tls { Implicit, StartTls, None } tls = Tls::StartTls;
    std::string caFile;
    bool insecure = false;       // skip certificate verification (tests only)
    std::string adminUser;
    enum class Login { MasterSeparator, AuthzId } login = Login::MasterSeparator;
    std::string masterSeparator = "*";
    std::string passwordEnv, passwordFile;
    bool passwordKeyring = false; // the secret is in the desktop keyring (GUI); see ServerDirectory::setSecret
    // Suspension moves the copy out of the recipient's mailbox into this account's mailbox
    // (logged in to the same way as a recipient's: master user or authorization id). Each
    // recipient has a folder there: <quarantine><delimiter><recipient>.
    std::string quarantineAccount;
    std::string quarantine = "Quarantine";
    // Plus-addressing: dave+news@corp is dave@corp's mailbox ("" turns it off).
    std::string recipientDelimiter = "+";
    std::string inbox = "INBOX";
    int timeoutS = 20;
};

struct PostfixSettings {
    std::vector<std::string> commandPrefix; // e.g. {"ssh", "root@mx2"}; empty: run locally
    std::string configDir;                  // postqueue/postsuper/postcat -c DIR (empty: default)
    std::string postqueue = "postqueue", postsuper = "postsuper", postcat = "postcat";
    int timeoutS = 30;
};

struct DemoSettings {
    bool unreachable = false; // simulate a server that never answers
    int failFirst = 0;        // simulate a server that answers only from the N+1th attempt
};

struct ServerEntry {
    std::string host; // as in the logs; "*" for every other server
    std::optional<ImapSettings> imap;
    std::optional<PostfixSettings> postfix;
    std::optional<DemoSettings> demo;
};

struct RetryPolicy {
    int attempts = 3;       // per request, on Unreachable
    int backoffMs = 500;    // doubled after each attempt
};

class ServerDirectory {
public:
    // False with a readable `error` ("servers[2].imap: password_file /x is readable by others").
    bool loadJson(const QByteArray& json, QString* error);
    bool loadFile(const QString& path, QString* error);
    // The same JSON back (what a settings dialog writes); loadJson(toJson()) gives this directory.
    QByteArray toJson() const;
    // Written atomically, mode 0600 (it names password files and variables, never secrets).
    bool saveFile(const QString& path, QString* error) const;
    // Every server simulated (the bundled demo, tests).
    static ServerDirectory demoEverywhere();

    const ServerEntry* entryFor(const std::string& host) const;
    // Which connector kind serves a copy at this place on this server ("" = none).
    std::string connectorKindFor(const std::string& host, Place place) const;
    // A new connector for the server and place; nullptr with `error` when there is none or
    // it cannot be set up (missing secret). `demo` must outlive the connector.
    std::unique_ptr<Connector> makeConnector(const std::string& host, Place place, std::shared_ptr<DemoWorld> demo,
                                             std::string* error) const;

    const RetryPolicy& retry() const { return m_retry; }
    void setRetry(const RetryPolicy& r) { m_retry = r; }
    const std::vector<ServerEntry>& entries() const { return m_entries; }
    void addEntry(ServerEntry e) { m_entries.push_back(std::move(e)); }
    bool usesDemo() const;
    // Everything a run will need, checked before anything is planned or asked: every IMAP
    // entry's secret can be read (set, file not readable by others, keyring entry given).
    // False with the reason ("servers[0] (mx1).imap: password file ... is readable by others").
    bool checkSecrets(QString* error) const;
    // A secret held in memory for one host's IMAP entry (the GUI fetched it from the keyring).
    void setSecret(const std::string& host, const std::string& secret) { m_secrets[host] = secret; }
    bool secretFor(const ServerEntry& e, std::string& out, std::string* error) const;

private:
    std::vector<ServerEntry> m_entries;
    RetryPolicy m_retry;
    std::map<std::string, std::string> m_secrets; // host -> secret (never written anywhere)
};

// The secret of an IMAP entry: from password_env or password_file (which must not be readable
// by group or others). False with `error`.
bool readSecret(const ImapSettings& s, std::string& out, std::string* error);
// The mailbox a copy for `recipient` was delivered to: the recipient without its extension
// ("dave+news@corp" -> "dave@corp" with delimiter "+"; each character of `delimiters` is one).
std::string mailboxOf(const std::string& recipient, const std::string& delimiters);

} // namespace mt::recall
