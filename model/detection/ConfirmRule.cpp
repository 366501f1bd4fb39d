#include "ConfirmRule.h"

#include "model/SqliteDb.h"
#include "model/confirm/Enrolment.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace mt::det {

ConfirmRule::ConfirmRule(ConfirmParams params, std::vector<std::string> riskyExtensions, confirm::KeyDirectory keys)
    : m_params(params),
      m_risky(std::move(riskyExtensions)),
      m_keys(std::move(keys)),
      m_replay(static_cast<std::int64_t>(params.replayWindowSec) * 1000) {}

const confirm::VerifyKey* ConfirmRule::enrolledKey(const DetectionInput& in, const Message& m) {
    // Judged by the envelope sender (what the token signs), else by the SASL login when that is
    // an enrolled address.
    for (std::uint32_t who : {m.sender, m.senderKey}) {
        if (!who) continue;
        if (who >= m_enrolledById.size()) m_enrolledById.resize(who + 1 + m_enrolledById.size() / 2, -1);
        std::int32_t& known = m_enrolledById[who];
        if (known < 0) known = m_keys.keyOf(in.str(who)) ? 1 : 0;
        if (known) return m_keys.keyOf(in.str(who));
    }
    return nullptr;
}

void ConfirmRule::evaluate(const DetectionInput& in, std::uint32_t index, EvidenceSink& sink) {
    // Messages the detector only replayed (history of an incremental run) still feed the rate
    // windows and the replay memory.
    for (; m_next < index; ++m_next) observe(in, m_next, false, nullptr);
    if (m_next == index) {
        observe(in, index, true, &sink);
        ++m_next;
    }
}

void ConfirmRule::observe(const DetectionInput& in, std::uint32_t index, bool judge, EvidenceSink* sink) {
    const Message& m = in.messages[index];
    const confirm::VerifyKey* key = enrolledKey(in, m);
    if (!key) return;
    const TimeMs t = m.time;
    const std::uint32_t who = m_keys.keyOf(in.str(m.sender)) ? m.sender : m.senderKey;
    std::deque<TimeMs>& sent = m_sent[who];
    const TimeMs rateWindow = static_cast<TimeMs>(m_params.rateWindowSec) * 1000;
    while (!sent.empty() && sent.front() <= t - rateWindow) sent.pop_front();
    sent.push_back(t);

    const std::string_view token = in.str(m.confirmToken);
    confirm::Logged logged;
    logged.sender = in.str(who);
    logged.messageId = in.str(m.messageId);
    logged.timeMs = t;
    logged.recipients.reserve(m.rcptCount);
    for (std::uint32_t k = 0; k < m.rcptCount; ++k) logged.recipients.push_back(in.str(in.recipients[m.rcptBegin + k].address));
    // The terminal confirmed the recipients as submitted, before the server expanded aliases
    // and lists (orig_to) or added its journal copy (always_bcc).
    // Tried in turn until one matches the token: as submitted, as submitted without the
    // journal copy, as logged (final).
    std::vector<confirm::Logged> views;
    std::int64_t rcptCount = m.rcptCount;
    for (const auto* lists : {&m_submitted, &m_withoutAdded})
        if (const auto it = lists->find(m.id); it != lists->end()) {
            confirm::Logged v = logged;
            v.recipients.assign(it->second.begin(), it->second.end());
            rcptCount = static_cast<std::int64_t>(it->second.size()); // what the terminal counted
            views.push_back(std::move(v));
        }
    views.push_back(logged);
    auto checkToken = [&](std::string_view tok) {
        confirm::CheckResult reported;
        for (std::size_t i = 0; i < views.size(); ++i) {
            confirm::CheckResult res = confirm::check(tok, views[i], m_keys, m_verifier, m_params.maxSkewSec);
            using V = confirm::Verdict;
            if (res.verdict == V::Valid) return res;
            if (res.verdict != V::RecipientCountMismatch && res.verdict != V::RecipientsMismatch) return res;
            // The mismatch reported is the one as submitted (without the journal copy when known).
            if (i + 1 < views.size() || views.size() == 1) reported = std::move(res);
        }
        return reported;
    };

    if (!judge) {
        // History: remember valid-looking tokens for the replay check (no verdict, no cost of a
        // full check beyond the signature).
        if (!token.empty()) {
            const confirm::CheckResult r = checkToken(token);
            if (r.verdict == confirm::Verdict::Valid)
                if (const auto tk = confirm::Token::parse(token)) m_replay.observe(tk->signature, t, m.id);
        }
        return;
    }
    ++m_judged;
    confirm::CheckResult r;
    TimeMs windowStart = t;
    std::int64_t count = 0, threshold = 0;
    if (token.empty()) {
        // Would the user's terminal have asked? Then the message did not pass through a confirmation.
        std::string why;
        if (m_params.requireAlways) why = "every message of an enrolled user needs one";
        if (why.empty() && rcptCount > m_params.maxRecipients) {
            why = std::to_string(rcptCount) + " recipients (more than " + std::to_string(m_params.maxRecipients) + ")";
            count = rcptCount;
            threshold = m_params.maxRecipients;
        }
        if (why.empty() && m_params.riskyAttachments)
            for (std::uint32_t a = 0; a < m.attCount; ++a) {
                const std::string_view name = in.str(in.attachments[m.attBegin + a]);
                if (confirm::riskyAttachment(name, m_risky)) {
                    why = "risky attachment " + std::string(name);
                    break;
                }
            }
        if (why.empty() && static_cast<std::int64_t>(sent.size()) > m_params.rateMessages) {
            why = std::to_string(sent.size()) + " messages from " + std::string(in.str(who)) + " in " + std::to_string(m_params.rateWindowSec / 60)
                  + " min (more than " + std::to_string(m_params.rateMessages) + ")";
            windowStart = t - rateWindow;
            count = static_cast<std::int64_t>(sent.size());
            threshold = m_params.rateMessages;
        }
        if (why.empty()) {
            ++m_counts[static_cast<int>(confirm::Verdict::Valid)];
            return; // no confirmation was due
        }
        r.verdict = confirm::Verdict::Missing;
        r.detail = "no X-Send-Confirm token although the sender's terminal asks for confirmation here: " + why;
    } else {
        ++m_signatures;
        r = checkToken(token);
        using V = confirm::Verdict;
        const bool signedOk = r.verdict == V::Valid || r.verdict == V::MessageIdMismatch || r.verdict == V::RecipientCountMismatch
                              || r.verdict == V::RecipientsMismatch || r.verdict == V::ClockSkew;
        if (signedOk)
            if (const auto tk = confirm::Token::parse(token))
                if (const auto seen = m_replay.observe(tk->signature, t, m.id)) {
                    std::string first;
                    for (std::uint32_t j = index; j-- > 0;)
                        if (in.messages[j].id == seen->message) {
                            first = "<" + std::string(in.str(in.messages[j].messageId)) + ">";
                            break;
                        }
                    r.verdict = V::Replayed;
                    r.detail = "token already used " + std::to_string((t - seen->timeMs) / 1000) + " s earlier on message "
                               + (first.empty() ? std::to_string(seen->message) : first);
                    windowStart = seen->timeMs;
                }
        if (r.verdict == V::ClockSkew) {
            count = r.skewSec < 0 ? -r.skewSec : r.skewSec;
            threshold = m_params.maxSkewSec;
        }
    }
    ++m_counts[static_cast<int>(r.verdict)];
    if (r.verdict == confirm::Verdict::Valid) return;
    Hit h;
    h.message = index;
    h.rule = kRuleConfirm;
    h.key = in.str(who);
    h.windowStart = windowStart;
    h.windowEnd = t;
    h.count = count;
    h.threshold = threshold;
    h.weight = m_params.weight;
    h.detail = std::string(confirm::verdictName(r.verdict)) + ": " + r.detail;
    sink->add(std::move(h), false);
}

std::unique_ptr<ConfirmRule> confirmRuleForCase(SqliteDb& db, const RuleSet& rules, std::vector<std::string>* problems) {
    if (!rules.confirm.enabled) return nullptr;
    const std::vector<confirm::EnrolledUser> users = confirm::loadEnrolment(db);
    if (users.empty()) return nullptr;
    std::vector<std::string> risky = rules.type.executable;
    risky.insert(risky.end(), rules.type.script.begin(), rules.type.script.end());
    auto rule = std::make_unique<ConfirmRule>(rules.confirm, std::move(risky), confirm::keyDirectory(users, {}, problems));

    // Recipients as submitted, where the server changed them, from each message's first copy
    // (the server the sender handed it to): orig_to where the log has one (virtual_alias_maps,
    // lists); and, tried second, less the journal address always_bcc adds to (nearly) every
    // message, which carries no orig_to and is recognised by that: at least 95% of the case's
    // messages, 20 or more. (Tried second, so a real recipient of nearly everything in a small
    // case is never dropped from a message that matches with it.)
    std::unordered_set<std::string> journal;
    {
        auto st = db.prepare(R"SQL(
SELECT d.recipient FROM deliveries d JOIN copies c ON c.id = d.copy_id
WHERE d.orig_recipient IS NULL OR d.orig_recipient = d.recipient
GROUP BY d.recipient
HAVING count(DISTINCT c.message_id) >= max(20, 0.95 * (SELECT count(*) FROM messages)))SQL");
        while (st.step()) journal.insert(st.text(0));
    }
    std::string journalList;
    for (const std::string& j : journal) {
        std::string quoted;
        for (char ch : j) quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
        journalList += (journalList.empty() ? "'" : ",'") + quoted + "'";
    }
    auto st = db.prepare(R"SQL(
SELECT c.message_id, d.recipient, d.orig_recipient FROM copies c JOIN deliveries d ON d.copy_id = c.id
WHERE c.message_id IN (SELECT c2.message_id FROM copies c2 JOIN deliveries d2 ON d2.copy_id = c2.id
                       WHERE (d2.orig_recipient IS NOT NULL AND d2.orig_recipient <> d2.recipient) OR d2.recipient IN ()SQL"
                         + (journalList.empty() ? std::string("NULL") : journalList) + R"SQL())
  AND c.first_seen = (SELECT min(c3.first_seen) FROM copies c3 WHERE c3.message_id = c.message_id)
ORDER BY c.message_id)SQL");
    std::unordered_map<std::int64_t, std::vector<std::string>> submitted, withoutAdded;
    while (st.step()) {
        const std::string rcpt = st.text(1);
        const bool expanded = !st.isNull(2) && st.text(2) != rcpt;
        std::string who = expanded ? st.text(2) : rcpt;
        for (char& ch : who) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        auto add = [&](std::vector<std::string>& list) {
            if (std::find(list.begin(), list.end(), who) == list.end()) list.push_back(who);
        };
        add(submitted[st.int64(0)]);
        std::vector<std::string>& less = withoutAdded[st.int64(0)];
        if (expanded || !journal.count(rcpt)) add(less);
    }
    // Only where dropping the journal changes something.
    for (auto it = withoutAdded.begin(); it != withoutAdded.end();)
        it = it->second.size() == submitted[it->first].size() ? withoutAdded.erase(it) : std::next(it);
    rule->setSubmittedRecipients(std::move(submitted), std::move(withoutAdded));
    return rule;
}

} // namespace mt::det
