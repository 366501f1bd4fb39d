#pragma once
// The send-confirmation rule (claims 25-26): for users enrolled in the case, compares the
// X-Send-Confirm token logged with each message (model/confirm/SendConfirm.h) with what the log
// says about that message, and reports a hit when the token is missing where the user's
// terminal would have asked for confirmation, unreadable, signed with an unknown or another
// user's key, badly signed, replayed, or does not match the logged message (Message-ID,
// recipient count, recipients, time). The hit's detail says which. Messages of users who are
// not enrolled are never judged by it.
#include "Detector.h"

#include "model/confirm/SendConfirm.h"

#include <deque>
#include <memory>

namespace mt {
class SqliteDb;
}

namespace mt::det {

class ConfirmRule : public ExtraRule {
public:
    ConfirmRule(ConfirmParams params, std::vector<std::string> riskyExtensions, confirm::KeyDirectory keys);
    const char* id() const override { return kRuleConfirm; }
    void evaluate(const DetectionInput& in, std::uint32_t index, EvidenceSink& sink) override;

    // Counts by verdict over the messages judged (for benchmarks and reports).
    std::int64_t judged() const { return m_judged; }
    std::int64_t signaturesChecked() const { return m_signatures; }
    std::int64_t count(confirm::Verdict v) const { return m_counts[static_cast<int>(v)]; }

    // Recipients as the sender submitted them, by messages.id, where they differ from the
    // logged final ones (alias or list expansion: orig_to; always_bcc journaling). The token
    // counts and signs these; other messages are judged by their final recipients.
    // withoutAdded: the same less the addresses the server adds to (nearly) every message
    // (tried when the first does not match the token).
    void setSubmittedRecipients(std::unordered_map<std::int64_t, std::vector<std::string>> submitted,
                                std::unordered_map<std::int64_t, std::vector<std::string>> withoutAdded) {
        m_submitted = std::move(submitted);
        m_withoutAdded = std::move(withoutAdded);
    }

private:
    const confirm::VerifyKey* enrolledKey(const DetectionInput& in, const Message& m);
    void observe(const DetectionInput& in, std::uint32_t index, bool judge, EvidenceSink* sink);

    ConfirmParams m_params;
    std::vector<std::string> m_risky;
    confirm::KeyDirectory m_keys;
    confirm::Verifier m_verifier;
    confirm::ReplayCache m_replay;
    std::vector<std::int32_t> m_enrolledById;          // by interned address: -1 unknown, 0 no, 1 yes
    std::unordered_map<std::uint32_t, std::deque<TimeMs>> m_sent; // enrolled sender -> recent send times
    std::uint32_t m_next = 0;                          // the first message not observed yet
    std::int64_t m_judged = 0, m_signatures = 0;
    std::int64_t m_counts[16] = {};
    std::unordered_map<std::int64_t, std::vector<std::string>> m_submitted, m_withoutAdded;
};

// The rule for a case: its enrolment and, for HMAC users, secrets from
// $MAILTRIAGE_CONFIRM_SECRETS. Null when the rule is disabled or nobody is enrolled.
// `problems` receives what could not be loaded (an HMAC user without a secret ...).
std::unique_ptr<ConfirmRule> confirmRuleForCase(SqliteDb& db, const RuleSet& rules, std::vector<std::string>* problems = nullptr);

} // namespace mt::det
