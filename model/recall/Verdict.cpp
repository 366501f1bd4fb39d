#include "Verdict.h"

#include "AllowList.h"

#include <set>
#include <unordered_map>

namespace mt::recall {

CascadeReport cascade(SqliteDb& db, const ServerDirectory& dir, const std::string& analyst,
                      const std::vector<std::int64_t>& requestIds) {
    CascadeReport rep;
    RecallStore store(db);
    RequestFilter f;
    f.readNotCascaded = true;
    f.ids = requestIds;
    const std::vector<Request> retrieved = store.requests(f);
    // What the recipient sent on: the campaign's messages (of the campaign that holds the
    // retrieved message now, else any) that the recipient sent after the copy reached them,
    // and the messages the propagation graph (edges, parent links) says came from this one
    // through them. The campaign messages are indexed by sender once, in memory: a query per
    // retrieved copy would scan them all each time.
    struct Sent {
        std::int64_t id, time, campaign;
    };
    std::unordered_map<std::string, std::vector<Sent>> bySender;
    std::unordered_map<std::int64_t, std::int64_t> campaignOf;
    std::unordered_map<std::int64_t, std::vector<std::int64_t>> children; // parent -> children
    std::unordered_map<std::int64_t, std::pair<std::string, std::string>> senderOf;
    {
        SqliteStmt all = db.prepare(
            "SELECT cm.message_id, cm.campaign_id, coalesce(cm.parent_message_id, 0), m.time, lower(coalesce(m.sender, '')), "
            "lower(coalesce(m.sasl_user, '')) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id");
        while (all.step()) {
            const Sent x{all.int64(0), all.int64(3), all.int64(1)};
            const std::string sender = all.text(4), sasl = all.text(5);
            if (!sender.empty()) bySender[sender].push_back(x);
            if (!sasl.empty() && sasl != sender) bySender[sasl].push_back(x);
            campaignOf[x.id] = x.campaign;
            if (all.int64(2)) children[all.int64(2)].push_back(x.id);
            senderOf[x.id] = {sender, sasl};
        }
    }
    SqliteStmt edges = db.prepare("SELECT to_message_id FROM propagation_edges WHERE from_message_id = ?1");
    std::set<std::int64_t> allSentOn;
    int round = 0;
    Transaction tx(db);
    for (const Request& r : retrieved) {
        std::set<std::int64_t> found;
        const auto camp = campaignOf.find(r.caseMessageId);
        if (const auto it = bySender.find(r.recipient); it != bySender.end())
            for (const Sent& x : it->second)
                if (x.time >= r.deliveredAt && x.id != r.caseMessageId && (camp == campaignOf.end() || x.campaign == camp->second))
                    found.insert(x.id);
        auto sentBy = [&](std::int64_t id) {
            const auto s2 = senderOf.find(id);
            return s2 != senderOf.end() && (s2->second.first == r.recipient || s2->second.second == r.recipient);
        };
        edges.bind(1, r.caseMessageId);
        while (edges.step())
            if (sentBy(edges.int64(0))) found.insert(edges.int64(0));
        edges.reset();
        if (const auto it = children.find(r.caseMessageId); it != children.end())
            for (std::int64_t c : it->second)
                if (sentBy(c)) found.insert(c);
        const std::vector<std::int64_t> next(found.begin(), found.end());
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
        const std::string how = r.read == ReadState::WhileSuspended ? "read while suspended" : "already read";
        const std::string answer = next.empty()
            ? how + ", but nothing of the campaign was sent on by " + r.recipient
            : how + ": " + r.recipient + " sent on " + std::to_string(next.size()) + " campaign message" + (next.size() == 1 ? "" : "s")
                  + " (" + mids + "); " + std::to_string(fresh) + " new request" + (fresh == 1 ? "" : "s")
                  + " proposed for round " + std::to_string(r.round + 1);
        // The request keeps its state (already read, deleted, ...): the read fact stays visible.
        store.markCascaded(r.id);
        store.audit({0, 0, analyst, "cascade", r.server, r.id, r.messageKey, r.recipient, stateName(r.state), stateName(r.state), answer});
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
        // Left out: their suspended copies stay suspended for a verdict of their own.
        messages = withoutExcluded(db, o.campaignId, messages, o.exclude, &rep.excluded);
        if (messages.empty()) throw std::invalid_argument("every message of the campaign is excluded");
    }
    if (messages.empty()) throw std::invalid_argument("a verdict needs a campaign or messages");
    rep.messages = static_cast<std::int64_t>(messages.size());
    RecallStore store(db);
    const bool virus = o.kind == VerdictKind::Virus;
    rep.verdictId = store.addVerdict(virus ? "virus" : "clean", o.analyst, o.campaignId, rep.campaignLabel, messages);

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
            retrieved.readNotCascaded = true;
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
