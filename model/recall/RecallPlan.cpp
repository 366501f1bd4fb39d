#include "RecallPlan.h"

#include <unordered_set>
#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace mt::recall {

namespace {

std::string lowerAscii(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

} // namespace

std::vector<std::int64_t> campaignMessages(SqliteDb& db, std::int64_t campaignId, std::string* label) {
    std::vector<std::int64_t> ids;
    {
        SqliteStmt st = db.prepare("SELECT coalesce(label, '') FROM campaigns WHERE id = ?1");
        st.bind(1, campaignId);
        if (!st.step()) return ids;
        if (label) *label = st.text(0);
    }
    SqliteStmt st = db.prepare(
        "SELECT cm.message_id FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
        "WHERE cm.campaign_id = ?1 ORDER BY m.time, m.id");
    st.bind(1, campaignId);
    while (st.step()) ids.push_back(st.int64(0));
    return ids;
}

std::vector<std::int64_t> withoutExcluded(SqliteDb& db, std::int64_t campaignId, const std::vector<std::int64_t>& messages,
                                          const CampaignExclusions& ex, std::int64_t* excluded) {
    std::unordered_set<std::int64_t> out;
    // A branch: the root and its descendants in the propagation tree (parent_message_id).
    for (std::int64_t root : ex.branchRoots) {
        SqliteStmt st = db.prepare(
            "WITH RECURSIVE branch(id) AS (SELECT ?2 UNION SELECT cm.message_id FROM campaign_messages cm "
            "JOIN branch b ON cm.parent_message_id = b.id WHERE cm.campaign_id = ?1) SELECT id FROM branch");
        st.bind(1, campaignId).bind(2, root);
        while (st.step()) out.insert(st.int64(0));
    }
    if (ex.joinedByLink) {
        SqliteStmt st = db.prepare("SELECT message_id FROM campaign_messages WHERE campaign_id = ?1 AND coalesce(source, '') <> 'rules'");
        st.bind(1, campaignId);
        while (st.step()) out.insert(st.int64(0));
    }
    std::vector<std::int64_t> kept;
    for (std::int64_t m : messages)
        if (!out.count(m)) kept.push_back(m);
    if (excluded) *excluded = static_cast<std::int64_t>(messages.size() - kept.size());
    return kept;
}

std::vector<std::int64_t> messagesByMessageId(SqliteDb& db, const std::vector<std::string>& messageIds,
                                              std::vector<std::string>* unknown) {
    std::vector<std::int64_t> ids;
    SqliteStmt st = db.prepare("SELECT id FROM messages WHERE message_id = ?1 OR msg_key = ?1");
    for (std::string mid : messageIds) {
        if (mid.size() >= 2 && mid.front() == '<' && mid.back() == '>') mid = mid.substr(1, mid.size() - 2);
        st.bind(1, std::string_view(mid));
        if (st.step()) ids.push_back(st.int64(0));
        else if (unknown) unknown->push_back(mid);
        st.reset();
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

std::vector<PlannedCopy> planCopies(SqliteDb& db, const ServerDirectory& dir, const std::vector<std::int64_t>& messageIds,
                                    int round, std::int64_t parentRequestId) {
    std::vector<PlannedCopy> out;
    SqliteStmt camp = db.prepare(
        "SELECT c.id, coalesce(c.label, '') FROM campaign_messages cm JOIN campaigns c ON c.id = cm.campaign_id "
        "WHERE cm.message_id = ?1");
    // The recipient's final hop: delivered to one of our servers (a mailbox), handed to a server
    // that is not ours, or still in one of our queues.
    SqliteStmt st = db.prepare(R"SQL(
SELECT coalesce(m.message_id, m.msg_key), lower(d.recipient), coalesce(d.status, ''), d.destination_server_id,
       coalesce(ds.name, ''), coalesce(d.destination, ''), cs.name, c.queue_id, c.removed, coalesce(d.time, m.time),
       m.message_id IS NOT NULL AND m.id_valid = 1
FROM copies c
JOIN deliveries d ON d.copy_id = c.id
JOIN messages m ON m.id = c.message_id
JOIN servers cs ON cs.id = c.server_id
LEFT JOIN servers ds ON ds.id = d.destination_server_id
WHERE c.message_id = ?1 AND d.is_final = 1
ORDER BY d.recipient, d.time)SQL");
    for (std::int64_t mid : messageIds) {
        std::int64_t campaignId = 0;
        std::string label;
        camp.bind(1, mid);
        if (camp.step()) {
            campaignId = camp.int64(0);
            label = camp.text(1);
        }
        camp.reset();
        std::set<std::pair<std::string, std::string>> seen; // (recipient, server)
        st.bind(1, mid);
        while (st.step()) {
            PlannedCopy p;
            p.caseMessageId = mid;
            p.messageKey = st.text(0);
            p.recipient = lowerAscii(st.text(1));
            const std::string status = st.text(2);
            const bool ourDestination = !st.isNull(3);
            const bool removed = st.int64(8) != 0;
            p.deliveredAt = st.int64(9);
            p.campaignId = campaignId;
            p.campaignLabel = label;
            p.round = round;
            p.parentRequestId = parentRequestId;
            if (status == "sent" && ourDestination) {
                p.place = Place::Mailbox;
                p.server = st.text(4);
            } else if (status == "sent") {
                p.place = Place::External;
                p.server = st.text(5).empty() ? std::string("external") : st.text(5);
                p.recallable = false;
                p.reason = "external recipient: handed to " + p.server;
            } else if (!removed && status != "bounced" && status != "expired") {
                p.place = Place::Queue;
                p.server = st.text(6);
                p.queueId = st.text(7);
            } else {
                p.place = Place::Gone;
                p.server = st.text(6);
                p.recallable = false;
                p.reason = "not delivered (" + (status.empty() ? std::string("no status") : status) + "): nothing to recall";
            }
            // Connectors find the copy by its Message-ID; without a usable one they could only
            // guess (and a guess must never move or delete someone else's mail).
            if (p.recallable && st.int64(10) == 0) {
                p.recallable = false;
                p.reason = "no usable Message-ID to find the copy by";
            }
            if (p.recallable) {
                p.connector = dir.connectorKindFor(p.server, p.place);
                if (p.connector.empty()) {
                    p.recallable = false;
                    p.reason = "no connector for " + std::string(placeName(p.place)) + " copies on " + p.server;
                }
            }
            if (!seen.insert({p.recipient, p.server}).second) continue;
            out.push_back(std::move(p));
        }
        st.reset();
    }
    return out;
}

Plan buildPlan(SqliteDb& db, const ServerDirectory& dir, const std::vector<std::int64_t>& messageIds,
               const std::string& analyst, int round, std::int64_t parentRequestId) {
    RecallStore store(db);
    Plan plan;
    plan.messages = static_cast<std::int64_t>(messageIds.size());
    const std::vector<PlannedCopy> copies = planCopies(db, dir, messageIds, round, parentRequestId);
    std::map<std::string, std::set<std::string>> rcpts;
    Transaction tx(db);
    for (const PlannedCopy& c : copies) {
        bool created = false;
        const std::int64_t id = store.propose(c, analyst, &created);
        plan.requestIds.push_back(id);
        if (!created) ++plan.alreadyKnown;
        ServerPlan& sp = plan.servers[c.server];
        sp.server = c.server;
        if (!c.connector.empty()) sp.connector = c.connector;
        ++sp.copies;
        ++plan.copies;
        if (c.recallable) {
            ++sp.recallable;
            ++plan.recallable;
        } else {
            ++sp.notRecallable;
            ++plan.notRecallable;
        }
        if (c.place == Place::Mailbox) ++sp.inMailboxes;
        if (c.place == Place::Queue) ++sp.inQueue;
        rcpts[c.server].insert(c.recipient);
    }
    tx.commit();
    for (auto& [server, set] : rcpts) plan.servers[server].recipients.assign(set.begin(), set.end());
    RequestFilter f;
    f.ids = plan.requestIds;
    f.states = {State::Proposed};
    if (!plan.requestIds.empty())
        for (const Request& r : store.requests(f)) plan.proposedIds.push_back(r.id);
    return plan;
}

std::int64_t approveRequests(RecallStore& store, const std::vector<std::int64_t>& ids, const std::string& analyst) {
    if (analyst.empty()) throw std::invalid_argument("approval needs the approver's name");
    std::int64_t n = 0;
    Transaction tx(store.db());
    for (std::int64_t id : ids)
        if (store.approve(id, analyst)) ++n;
    tx.commit();
    return n;
}

} // namespace mt::recall
