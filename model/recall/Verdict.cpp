#include "Verdict.h"

#include "AllowList.h"

#include <set>

namespace mt::recall {

CascadeReport cascade(SqliteDb& db, const ServerDirectory& dir, const std::string& analyst,
                      const std::vector<std::int64_t>& requestIds) {
    CascadeReport rep;
    RecallStore store(db);
    RequestFilter f;
    f.states = {State::AlreadyRetrieved};
    f.ids = requestIds;
    const std::vector<Request> retrieved = store.requests(f);
    // What the recipient sent on: the campaign's messages (of the campaign that holds the
    // retrieved message now, else any) that the recipient sent after the copy reached them,
    // and every message the propagation graph says came from this one through them.
    SqliteStmt later = db.prepare(R"SQL(
SELECT m.id FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id
WHERE (lower(m.sender) = ?1 OR lower(m.sasl_user) = ?1) AND m.time >= ?2 AND m.id <> ?3
  AND (cm.campaign_id = (SELECT campaign_id FROM campaign_messages WHERE message_id = ?3)
       OR NOT EXISTS (SELECT 1 FROM campaign_messages WHERE message_id = ?3))
UNION
SELECT e.to_message_id FROM propagation_edges e JOIN messages m ON m.id = e.to_message_id
WHERE e.from_message_id = ?3 AND (lower(m.sender) = ?1 OR lower(m.sasl_user) = ?1)
UNION
SELECT cm.message_id FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id
WHERE cm.parent_message_id = ?3 AND (lower(m.sender) = ?1 OR lower(m.sasl_user) = ?1))SQL");
    std::set<std::int64_t> allSentOn;
    int round = 0;
    Transaction tx(db);
    for (const Request& r : retrieved) {
        std::vector<std::int64_t> next;
        later.bind(1, std::string_view(r.recipient)).bind(2, r.deliveredAt).bind(3, r.caseMessageId);
        while (later.step()) next.push_back(later.int64(0));
        later.reset();
        std::int64_t fresh = 0;
        std::string mids;
        if (!next.empty()) {
            const std::vector<PlannedCopy> copies = planCopies(db, dir, next, r.round + 1, r.id);
            for (const PlannedCopy& c : copies) {
                bool created = false;
                const std::int64_t id = store.propose(c, analyst, &created);
                if (created && c.recallable) {
                    rep.proposedIds.push_back(id);
                    ++fresh;
                }
            }
            SqliteStmt key = db.prepare("SELECT coalesce(message_id, msg_key) FROM messages WHERE id = ?1");
            for (std::size_t i = 0; i < next.size() && i < 5; ++i) {
                key.bind(1, next[i]);
                if (key.step()) mids += (i ? ", <" : "<") + key.text(0) + ">";
                key.reset();
            }
            if (next.size() > 5) mids += ", ...";
            round = std::max(round, r.round + 1);
        }
        allSentOn.insert(next.begin(), next.end());
        const std::string answer = next.empty()
            ? std::string("retrieved, but nothing of the campaign was sent on by ") + r.recipient
            : r.recipient + " sent on " + std::to_string(next.size()) + " campaign message" + (next.size() == 1 ? "" : "s")
                  + " (" + mids + "); " + std::to_string(fresh) + " new request" + (fresh == 1 ? "" : "s")
                  + " proposed for round " + std::to_string(r.round + 1);
        store.transition(r.id, State::AlreadyRetrieved, State::Cascaded, analyst, "cascade", answer);
        ++rep.retrieved;
    }
    tx.commit();
    rep.sentOn = static_cast<std::int64_t>(allSentOn.size());
    rep.nextRound = rep.proposedIds.empty() ? 0 : round;
    return rep;
}

VerdictReport applyVerdict(SqliteDb& db, const ServerDirectory& dir, const VerdictOptions& o) {
    if (o.analyst.empty()) throw std::invalid_argument("a verdict needs the analyst's name (--approve-as)");
    VerdictReport rep;
    std::vector<std::int64_t> messages = o.messageIds;
    if (o.campaignId) {
        messages = campaignMessages(db, o.campaignId, &rep.campaignLabel);
        if (messages.empty()) throw std::invalid_argument("no campaign " + std::to_string(o.campaignId) + " in the case");
    }
    if (messages.empty()) throw std::invalid_argument("a verdict needs a campaign or messages");
    rep.messages = static_cast<std::int64_t>(messages.size());
    RecallStore store(db);
    const bool virus = o.kind == VerdictKind::Virus;
    rep.verdictId = store.addVerdict(virus ? "virus" : "clean", o.analyst, o.campaignId, rep.campaignLabel, rep.messages);

    RequestFilter suspended;
    suspended.states = {State::Suspended};
    suspended.caseMessageIds = messages;
    RunOptions ro;
    ro.action = virus ? RunAction::Delete : RunAction::Release;
    ro.analyst = o.analyst;
    ro.progress = o.progress;
    ro.cancel = o.cancel;
    ro.demo = o.demo;
    for (const Request& r : store.requests(suspended)) ro.requestIds.push_back(r.id);
    if (!ro.requestIds.empty()) {
        RecallRunner runner(db, dir);
        rep.run = runner.run(ro);
    }
    if (virus) {
        if (!(o.cancel && o.cancel->load())) {
            RequestFilter retrieved;
            retrieved.states = {State::AlreadyRetrieved};
            retrieved.caseMessageIds = messages;
            std::vector<std::int64_t> ids;
            for (const Request& r : store.requests(retrieved)) ids.push_back(r.id);
            if (!ids.empty()) rep.cascade = cascade(db, dir, o.analyst, ids);
        }
        return rep;
    }
    // Not a virus: what the campaign looks like goes on the allow list.
    SqliteStmt msg = db.prepare("SELECT coalesce(sender, ''), coalesce(subject, '') FROM messages WHERE id = ?1");
    SqliteStmt att = db.prepare("SELECT name FROM attachments WHERE message_id = ?1");
    std::set<AllowKey> keys;
    for (std::int64_t id : messages) {
        msg.bind(1, id);
        if (!msg.step()) {
            msg.reset();
            continue;
        }
        const std::string sender = msg.text(0), subject = msg.text(1);
        msg.reset();
        std::vector<std::string> names;
        att.bind(1, id);
        while (att.step()) names.push_back(att.text(0));
        att.reset();
        keys.insert(allowKey(sender, subject, names));
    }
    Transaction tx(db);
    for (const AllowKey& k : keys)
        if (store.addAllowEntry(k.sender, k.subject, k.attachments, rep.verdictId, o.analyst)) ++rep.allowEntries;
    tx.commit();
    return rep;
}

} // namespace mt::recall
