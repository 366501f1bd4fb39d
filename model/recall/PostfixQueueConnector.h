#pragma once
// Queue-level recall on a Postfix server, for copies not yet delivered: find the queue file by
// recipient in `postqueue -j`, confirm it is the right message by its Message-ID header
// (`postcat -hq QID`: postqueue's JSON has no Message-ID, and queue ids are reused, so the
// queue id the case knows is tried first but never trusted alone), then `postsuper -h` holds
// it, `-H` releases it, `-d` deletes it (only when on hold). Commands run locally or behind a
// configured prefix such as `ssh root@mx2`. Holding acts on the whole queue file, i.e. on
// every recipient still waiting in it (all recipients of the same message).
#include "Connector.h"
#include "ServerDirectory.h"

#include <map>
#include <string>
#include <vector>

namespace mt::recall {

class PostfixQueueConnector : public Connector {
public:
    explicit PostfixQueueConnector(PostfixSettings settings);
    std::string kind() const override { return "postfix"; }
    ConnectorResult suspend(const CopyRef& copy) override;
    ConnectorResult remove(const CopyRef& copy) override;
    ConnectorResult release(const CopyRef& copy) override;

    struct QueueEntry {
        std::string queueName; // "active", "deferred", "hold", "incoming", "maildrop"
        std::string queueId;
        std::vector<std::string> recipients; // lower case
    };
    // Parses `postqueue -j` output (one JSON object per line). False with `error`.
    static bool parseQueue(const std::string& jsonLines, std::vector<QueueEntry>& out, std::string* error);
    // The Message-ID (without brackets) from `postcat -h` output; empty when absent.
    static std::string messageIdFromHeaders(const std::string& headers);

    struct CommandResult {
        bool started = false;
        int exitCode = -1;
        std::string out, err;
    };
    CommandResult runTool(const std::string& tool, const std::vector<std::string>& args) const;

private:
    // Unreachable/Failed in `r` when the queue cannot be listed; `entry` null when not found.
    bool find(const CopyRef& copy, const QueueEntry*& entry, ConnectorResult& r);
    static std::string describe(const std::string& cmd, const CommandResult& c, const std::string& after);
    ConnectorResult commandFailure(const std::string& what, const CommandResult& c) const;
    PostfixSettings m_s;
    std::vector<QueueEntry> m_queue;
    std::map<std::string, std::string> m_messageIds; // queue id -> Message-ID (valid while listed)
};

} // namespace mt::recall
