#include "DemoConnector.h"

#include <cmath>

namespace mt::recall {

namespace {

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ULL) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

// splitmix64: spreads the FNV hash over all bits before we cut it into draws.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::string lowerAscii(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string pairKey(const std::string& messageId, const std::string& recipient) {
    return messageId + '\n' + lowerAscii(recipient);
}

} // namespace

std::shared_ptr<DemoWorld> DemoWorld::fromCase(SqliteDb& db) {
    const std::int64_t now = db.scalar("SELECT coalesce(max(time), 0) FROM messages");
    auto w = std::make_shared<DemoWorld>(now);
    // M -> M': the sender of M' received M, then sent M'. Whoever did so had read M.
    SqliteStmt st = db.prepare(
        "SELECT coalesce(f.message_id, f.msg_key), lower(coalesce(t.sasl_user, t.sender, '')), t.time, "
        "lower(coalesce(t.sender, '')) FROM propagation_edges e JOIN messages f ON f.id = e.from_message_id "
        "JOIN messages t ON t.id = e.to_message_id");
    while (st.step()) {
        w->setSentOn(st.text(0), st.text(1), st.int64(2));
        w->setSentOn(st.text(0), st.text(3), st.int64(2));
    }
    return w;
}

void DemoWorld::setSentOn(const std::string& messageId, const std::string& recipient, std::int64_t at) {
    if (recipient.empty()) return;
    auto [it, fresh] = m_sentOn.emplace(pairKey(messageId, recipient), at);
    if (!fresh && at < it->second) it->second = at;
}

std::int64_t DemoWorld::readTime(const std::string& messageId, const std::string& recipient, std::int64_t deliveredAt) const {
    const std::uint64_t h = mix(fnv1a(pairKey(messageId, recipient)));
    std::int64_t t = kNever;
    const double u1 = static_cast<double>(h & 0xffffffULL) / static_cast<double>(0x1000000ULL);
    if (u1 < kReadProbability) {
        const double u2 = (static_cast<double>((h >> 24) & 0xffffffULL) + 0.5) / static_cast<double>(0x1000000ULL);
        t = deliveredAt + static_cast<std::int64_t>(-std::log(u2) * static_cast<double>(kMeanReadDelayMs));
    }
    if (auto it = m_sentOn.find(pairKey(messageId, recipient)); it != m_sentOn.end()) t = std::min(t, it->second);
    return t;
}

DemoWorld::Where DemoWorld::whereNow(const CopyRef& c) const {
    const auto it = m_state.find(c.server + '\n' + pairKey(c.messageId, c.recipient));
    return it == m_state.end() ? Where::Inbox : it->second;
}

ConnectorResult DemoWorld::suspend(const CopyRef& c) {
    std::lock_guard lock(m_mutex);
    const std::string key = c.server + '\n' + pairKey(c.messageId, c.recipient);
    const Where w = whereNow(c);
    const char* folder = c.place == Place::Queue ? "on hold" : "in Quarantine";
    if (w == Where::Quarantine || w == Where::Held) return {Outcome::Suspended, std::string("demo: already ") + folder};
    if (w == Where::Deleted) return {Outcome::NotFound, "demo: deleted earlier"};
    if (w == Where::Released || isRead(c)) return {Outcome::AlreadyRetrieved, "demo: \\Seen (read before the recall)"};
    m_state[key] = c.place == Place::Queue ? Where::Held : Where::Quarantine;
    ++m_moves;
    return {Outcome::Suspended, std::string("demo: ") + (c.place == Place::Queue ? "placed on hold" : "moved to Quarantine")};
}

ConnectorResult DemoWorld::remove(const CopyRef& c) {
    std::lock_guard lock(m_mutex);
    const std::string key = c.server + '\n' + pairKey(c.messageId, c.recipient);
    Where w = whereNow(c);
    // Another process suspended it (the CLI's recall, then its verdict): replay the simulation.
    if (w == Where::Inbox && !isRead(c)) w = c.place == Place::Queue ? Where::Held : Where::Quarantine;
    if (w == Where::Deleted) return {Outcome::Deleted, "demo: already deleted"};
    if (w != Where::Quarantine && w != Where::Held) return {Outcome::Failed, "demo: not suspended, not deleted"};
    m_state[key] = Where::Deleted;
    return {Outcome::Deleted, "demo: expunged from Quarantine"};
}

ConnectorResult DemoWorld::release(const CopyRef& c) {
    std::lock_guard lock(m_mutex);
    const std::string key = c.server + '\n' + pairKey(c.messageId, c.recipient);
    Where w = whereNow(c);
    if (w == Where::Inbox && !isRead(c)) w = c.place == Place::Queue ? Where::Held : Where::Quarantine;
    if (w == Where::Released) return {Outcome::Released, "demo: already released"};
    if (w != Where::Quarantine && w != Where::Held) return {Outcome::Failed, "demo: not suspended, not released"};
    m_state[key] = Where::Released;
    return {Outcome::Released, c.place == Place::Queue ? "demo: released from hold" : "demo: moved back to INBOX"};
}

std::int64_t DemoWorld::moves() const {
    std::lock_guard lock(m_mutex);
    return m_moves;
}

DemoConnector::DemoConnector(std::shared_ptr<DemoWorld> world, DemoSettings settings)
    : m_world(std::move(world)), m_settings(settings) {}

bool DemoConnector::down(ConnectorResult& r) {
    ++m_calls;
    if (m_settings.unreachable || m_calls <= m_settings.failFirst) {
        r = {Outcome::Unreachable, "demo: connection refused (simulated)"};
        return true;
    }
    return false;
}

ConnectorResult DemoConnector::suspend(const CopyRef& copy) {
    ConnectorResult r;
    if (down(r)) return r;
    return m_world->suspend(copy);
}

ConnectorResult DemoConnector::remove(const CopyRef& copy) {
    ConnectorResult r;
    if (down(r)) return r;
    return m_world->remove(copy);
}

ConnectorResult DemoConnector::release(const CopyRef& copy) {
    ConnectorResult r;
    if (down(r)) return r;
    return m_world->release(copy);
}

} // namespace mt::recall
