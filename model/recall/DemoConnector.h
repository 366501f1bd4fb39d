#pragma once
// The demo connector: an in-process simulation of the organisation's servers built from the
// case itself, so the bundled demo can be recalled with no server. Each recipient's read time
// is drawn from a hash of (Message-ID, recipient) - the same on every run and machine - and a
// recipient who sent a campaign message on after receiving one has read it by then. "Now" is
// the end of the case's logs. Moves are counted (moves()) so tests can prove idempotence.
#include "Connector.h"
#include "ServerDirectory.h"
#include "model/SqliteDb.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mt::recall {

class DemoWorld {
public:
    static constexpr std::int64_t kNever = INT64_MAX;
    // Reads the end of the logs and who sent what on (propagation edges) from the case.
    static std::shared_ptr<DemoWorld> fromCase(SqliteDb& db);
    DemoWorld(std::int64_t now) : m_now(now) {}

    std::int64_t now() const { return m_now; }
    // When the recipient reads the copy (kNever: never, within the simulation).
    std::int64_t readTime(const std::string& messageId, const std::string& recipient, std::int64_t deliveredAt) const;
    bool isRead(const CopyRef& c) const { return readTime(c.messageId, c.recipient, c.deliveredAt) <= m_now; }
    // The hash draw alone (for tests): probability of reading at all, delay.
    static constexpr double kReadProbability = 0.45;
    static constexpr std::int64_t kMeanReadDelayMs = 40 * 60 * 1000;
    void setSentOn(const std::string& messageId, const std::string& recipient, std::int64_t at);

    // Simulated mailbox / queue state, shared by all demo connectors of one run.
    enum class Where { Inbox, Quarantine, Held, Deleted, Released };
    ConnectorResult suspend(const CopyRef& c);
    ConnectorResult remove(const CopyRef& c);
    ConnectorResult release(const CopyRef& c);
    std::int64_t moves() const;

private:
    Where whereNow(const CopyRef& c) const; // caller holds m_mutex
    std::int64_t m_now;
    std::unordered_map<std::string, std::int64_t> m_sentOn; // messageId \n recipient -> first send-on time
    mutable std::mutex m_mutex;
    std::map<std::string, Where> m_state;                   // server \n messageId \n recipient
    std::int64_t m_moves = 0;
};

class DemoConnector : public Connector {
public:
    DemoConnector(std::shared_ptr<DemoWorld> world, DemoSettings settings);
    std::string kind() const override { return "demo"; }
    ConnectorResult suspend(const CopyRef& copy) override;
    ConnectorResult remove(const CopyRef& copy) override;
    ConnectorResult release(const CopyRef& copy) override;

private:
    bool down(ConnectorResult& r);
    std::shared_ptr<DemoWorld> m_world;
    DemoSettings m_settings;
    int m_calls = 0;
};

} // namespace mt::recall
