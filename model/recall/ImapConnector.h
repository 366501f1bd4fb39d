#pragma once
// Mailbox-level recall over IMAP (libcurl). libcurl makes the connection: TLS (imaps:// or
// STARTTLS, certificate verified by default) and the login as the recipient through an admin
// (master) user - Dovecot's "user*admin", or SASL PLAIN with an authorization id - and the
// connector then speaks IMAP on it (CURLOPT_CONNECT_ONLY + curl_easy_send/recv), because
// libcurl's own APPEND always sets \Seen and cannot give the internal date.
//
// Suspension takes the copy out of the recipient's reach (issue 16): the copy is looked for by
// Message-ID in every selectable folder of the recipient's mailbox (LIST "" "*"); if it has
// been read (\Seen) it is already retrieved and stays; otherwise its bytes, flags and internal
// date are fetched (BODY.PEEK[]: reading it does not mark it), APPENDed to the recipient's
// folder in the quarantine account (a service mailbox only the admin can open), and expunged
// from the recipient's folder. Delete expunges it from the quarantine account; release
// APPENDs it back to the folder it came from with its flags and internal date (byte for byte)
// and expunges it from quarantine. Before deleting or releasing, the quarantined copy's flags
// are read again: \Seen there means someone read it while it was suspended, which is reported.
// Every operation looks for its own earlier work first, so repeating one never acts twice.
// This needs nothing on the server but a master user (or SASL authorization ids): no ACLs,
// no plugins, no shared namespaces; it works the same on any IMAP4rev1 server.
#include "Connector.h"
#include "ServerDirectory.h"

#include <memory>
#include <string>
#include <vector>

namespace mt::recall {

class ImapConnector : public Connector {
public:
    ImapConnector(ImapSettings settings, std::string password);
    ~ImapConnector() override;
    std::string kind() const override { return "imap"; }
    ConnectorResult suspend(const CopyRef& copy) override;
    ConnectorResult remove(const CopyRef& copy) override;
    ConnectorResult release(const CopyRef& copy) override;

    // Parsers of server answers (public for the unit tests).
    static std::vector<long> parseSearch(const std::string& body);
    static bool flagsSeen(const std::string& body);
    struct ListEntry {
        std::string name, delimiter;
        bool selectable = true;
    };
    // One untagged LIST line after "* LIST " (a literal name already inlined as a quoted string).
    static bool parseList(const std::string& line, ListEntry& out);
    // The flags of a FETCH answer ("\\Seen $Label1"), and its INTERNALDATE ("" when absent).
    static std::string fetchFlags(const std::string& line);
    static std::string fetchInternalDate(const std::string& line);
    // The quarantine account's folder for a recipient's mailbox.
    static std::string quarantineFolder(const std::string& base, const std::string& delimiter, const std::string& mailbox);

    class Session;

private:
    Session* user(const std::string& mailbox, ConnectorResult& r);
    Session* quarantine(ConnectorResult& r);
    // Where a copy's quarantined version lives and its UIDs there (none when not there).
    struct QuarantineLookup {
        Session* session = nullptr;
        std::string mailbox, folder, where;
        bool folderExists = false;
        std::vector<long> uids;
    };
    // Fills `out`; false (with the reason in r) when the quarantine cannot be asked.
    bool lookInQuarantine(const CopyRef& copy, QuarantineLookup& out, ConnectorResult& r);
    ImapSettings m_s;
    std::string m_password;
    std::unique_ptr<Session> m_user, m_quarantine;
    std::string m_userMailbox, m_qDelimiter;
};

} // namespace mt::recall
