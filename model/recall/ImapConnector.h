#pragma once
// Mailbox-level recall over IMAP (libcurl). The connector logs in as the recipient through an
// admin (master) user - Dovecot's "user*admin", or SASL PLAIN with an authorization id - finds
// the copy by Message-ID (UID SEARCH HEADER), reads its flags (\Seen: the recipient has it,
// recall failed) and otherwise moves it to the quarantine folder (created when missing).
// Delete expunges it from quarantine; release moves it back to the inbox. It looks in the
// quarantine folder first on every operation, so repeating one never moves twice. TLS
// (imaps:// or STARTTLS) with certificate verification is the default.
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

    // One IMAP exchange's outcome (public for tests of the parsers).
    static std::vector<long> parseSearch(const std::string& body);
    static bool flagsSeen(const std::string& body);

private:
    class Session;
    Session& session(const std::string& recipient);
    ImapSettings m_s;
    std::string m_password;
    std::unique_ptr<Session> m_session;
    std::string m_sessionUser;
};

} // namespace mt::recall
