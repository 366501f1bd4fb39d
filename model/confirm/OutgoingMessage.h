#pragma once
// A message on its way out through the confirming sendmail wrapper: just enough RFC 5322 and
// MIME reading to know its Message-ID, header recipients and attachment names, and to add the
// X-Send-Confirm header. The body is passed on byte for byte.
#include "SendConfirm.h"

#include <string>
#include <vector>

namespace mt::confirm {

class OutgoingMessage {
public:
    explicit OutgoingMessage(std::string bytes);

    // Unfolded value of the first header `name` (case-insensitive); empty when absent.
    std::string header(std::string_view name) const;
    std::string messageId() const { return normaliseMessageId(header("Message-ID")); }
    // Adds a Message-ID when the message has none (so the token can name it: otherwise Postfix's
    // cleanup would make one up after the signature). Returns the Message-ID.
    std::string ensureMessageId(const std::string& domain);
    // Addresses of To, Cc and Bcc (for sendmail -t), normalised.
    std::vector<std::string> headerRecipients() const;
    // Names of attachments: filename= / name= of every Content-Disposition and Content-Type
    // header in the message and its MIME parts (RFC 2231 continuations joined, quotes removed).
    std::vector<std::string> attachmentNames() const;
    // Replaces every X-Send-Confirm header (a program could have put its own) by this one, on
    // top of the header.
    void setConfirmHeader(const std::string& value);
    const std::string& bytes() const { return m_bytes; }

private:
    std::size_t headerEnd() const; // offset of the empty line ending the top header (or size)
    std::string m_bytes;
    std::string m_eol = "\n";
};

// Addresses in an address-list header value ("A <a@x>, b@y, \"C, D\" <c@z>").
std::vector<std::string> parseAddressList(std::string_view value);

// The terminal's criteria for asking the user (claim 28), with thresholds from its config.
struct SendPolicy {
    int maxMessages = 5;          // more than this many messages in the window (this one counted) ...
    int windowMinutes = 10;
    int maxRecipients = 10;       // more than this many recipients
    std::vector<std::string> riskyExtensions; // lower case, no dot
    bool always = false;          // confirm every message
};
// recentSends: UNIX times of this user's earlier sends (any order).
Criteria evaluateCriteria(const SendPolicy& policy, std::int64_t now, const std::vector<std::int64_t>& recentSends,
                          std::size_t recipients, const std::vector<std::string>& attachments, std::string* why = nullptr);

} // namespace mt::confirm
