#pragma once
// What the org map (issue 5) needs from a case, loaded in a few scans into flat vectors of
// plain records, and the aggregations the map draws: per-unit and per-user counts of flagged
// mail and unit-to-unit link volumes under a filter (campaign, time range, playback cursor).
//
// Sizes it is built for: 50,000 users, 2,000 units, 100k+ flagged messages. Units, users and
// messages are addressed by their index in the vectors below (int), not by database id.
//
// Whose unit is it: an address found in `users` belongs to that user's unit (users whose
// unit_id is NULL go to the "Unassigned" unit, which is made up here when the case has none).
// An address not in `users` is external: it is not drawn, its messages are still counted on
// the internal side (an external sender's message to an internal user counts as received by
// that user's unit; no link is drawn from outside).
#include <QHash>
#include <QString>
#include <QStringList>
#include <QVector>
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

namespace mt {

// Attachment type families of a flagged message (bit flags). Extensions come from the case's
// rule set (the same lists detection uses), or the defaults when the case stores none.
enum class TypeFamily : int { Script = 0, Executable, Macro, Archive, DoubleExtension, OtherAttachment, NoAttachment, Count };
inline constexpr int kTypeFamilyCount = static_cast<int>(TypeFamily::Count);
inline constexpr std::uint32_t typeBit(TypeFamily f) { return 1u << static_cast<int>(f); }
QString typeFamilyName(TypeFamily f);        // "script", "executable", ...
QString typeFamiliesText(std::uint32_t bits); // "script, double extension"

struct OrgUnit {
    qint64 id = 0;              // units.id; negative for a unit made up here (Unassigned)
    int parent = -1;            // index, -1: a top-level unit
    QString name, path;
    int depth = 0;              // 0 for top level
    int headCount = 0;          // users directly in this unit
    int subtreeHeadCount = 0;   // users in it and below
    std::vector<int> children;  // indexes, by name
};

struct OrgUser {
    QString email;              // lower case
    QString name;               // may be empty
    int unit = -1;              // index into units()
};

struct FlaggedMessage {
    qint64 id = 0;              // messages.id
    qint64 time = 0;            // ms since epoch UTC (the message's first sighting)
    qint64 campaign = 0;        // campaigns.id
    int campaignIndex = 0;      // position in campaigns()
    int sender = -1;            // user index, -1: external or unknown sender
    std::uint32_t types = 0;    // TypeFamily bits
    std::uint32_t firstRecipient = 0, recipientCount = 0; // range in recipients(): internal users only, distinct
};

struct CampaignInfo {
    qint64 id = 0;
    QString label;
};

// What to count. Defaults count everything.
struct OrgMapFilter {
    qint64 campaign = 0;        // 0: every campaign
    qint64 from = 0, to = 0;    // [from, to) when to > from
    qint64 upTo = std::numeric_limits<qint64>::max(); // playback cursor: messages with time <= upTo
    qint64 recentFrom = 0;      // messages with time in [recentFrom, upTo] also count as "recent" (playback glow); 0: none
    bool accepts(const FlaggedMessage& m) const {
        if (campaign && m.campaign != campaign) return false;
        if (to > from && (m.time < from || m.time >= to)) return false;
        return m.time <= upTo;
    }
};

struct UnitCounts {
    int sent = 0;               // flagged messages sent by the unit's users
    int received = 0;           // flagged (message, recipient) pairs addressed to its users
    int recent = 0;             // of those, sent or received in [recentFrom, upTo]
    std::uint32_t types = 0;    // families of the messages sent or received
    std::array<int, kTypeFamilyCount> byType{}; // messages sent + received per family
    int total() const { return sent + received; }
};

struct UserCounts {
    int user = -1;              // index into users()
    int sent = 0, received = 0;
    std::uint32_t types = 0;
    int total() const { return sent + received; }
};

struct UnitLink {
    int from = -1, to = -1;     // unit indexes (may be equal: mail within a unit)
    qint64 campaign = 0;
    int count = 0;              // flagged (message, recipient) pairs from a user of `from` to one of `to`
    qint64 firstTime = 0, lastTime = 0;
};

class OrgMapData {
public:
    // Loads the case file; false with *error on failure (no file, not a case). A case without
    // detection results loads with no flagged messages.
    bool load(const QString& casePath, QString* error = nullptr);

    const std::vector<OrgUnit>& units() const { return m_units; }
    const std::vector<OrgUser>& users() const { return m_users; }
    const std::vector<FlaggedMessage>& messages() const { return m_messages; } // by time
    const std::vector<int>& recipients() const { return m_recipients; }
    const QVector<CampaignInfo>& campaigns() const { return m_campaigns; }
    bool hasDetection() const { return m_hasDetection; }
    int unitIndex(qint64 unitId) const { return m_unitIndex.value(unitId, -1); }
    int userIndex(const QString& email) const { return m_userIndex.value(email.toLower(), -1); }
    std::vector<int> users(int unit) const; // user indexes directly in the unit
    // Time span of the flagged messages (0, 0 when none).
    qint64 firstTime() const { return m_messages.empty() ? 0 : m_messages.front().time; }
    qint64 lastTime() const { return m_messages.empty() ? 0 : m_messages.back().time; }
    // Does unit a contain b (or equal it)?
    bool contains(int a, int b) const;

    // Per unit (indexed like units()): counts of its own users, or, with subtree, of its own
    // users and every unit below it.
    std::vector<UnitCounts> unitCounts(const OrgMapFilter& f, bool subtree) const;
    // Per user of a unit (with subtree: of the unit and below), sorted by total descending,
    // then by address. Users with nothing flagged are included (count 0).
    std::vector<UserCounts> userCounts(int unit, const OrgMapFilter& f, bool subtree) const;
    // Per user (indexed like users()), in one pass: what the tiles' top-user lists need.
    std::vector<UserCounts> allUserCounts(const OrgMapFilter& f) const;
    // Unit-to-unit volumes between the senders' and recipients' own units, per campaign,
    // sorted by (from, to, campaign). External ends are left out.
    std::vector<UnitLink> links(const OrgMapFilter& f) const;
    // How many flagged messages f accepts.
    int messageCount(const OrgMapFilter& f) const;

private:
    std::vector<OrgUnit> m_units;
    std::vector<OrgUser> m_users;
    std::vector<FlaggedMessage> m_messages;
    std::vector<int> m_recipients;
    QVector<CampaignInfo> m_campaigns;
    QHash<qint64, int> m_unitIndex;
    QHash<QString, int> m_userIndex;
    std::vector<int> m_unitEnd; // preorder: unit i's subtree is the preorder range [m_pre[i], m_unitEnd[i])
    std::vector<int> m_pre;
    std::vector<int> m_deepestFirst; // unit indexes, children before their parents
    bool m_hasDetection = false;
};

} // namespace mt
