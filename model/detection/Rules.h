#pragma once
// The detection rule set: every rule with its parameters. It lives in the case (table
// `rulesets`, as JSON) and exports and imports as JSON; a JSON that names only some fields
// keeps the defaults for the rest.
//
// Semantics shared by every windowed rule: a window of W seconds ending at a message's time t
// holds the events with time in (t - W, t], the message itself included; a rule fires when the
// count reaches its threshold (count >= threshold).
#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <string>
#include <vector>

namespace mt::det {

// What a rate or baseline rule counts by.
enum class KeyKind { Sender, Client, Subnet, Unit, Server };
enum class Metric { Messages, Recipients };
// What a volume rule sums bytes over.
enum class LinkKind { ClientServer, ServerServer, UnitUnit };

const char* keyKindName(KeyKind k);     // "sender", "client", "subnet", "unit", "server"
bool keyKindFromName(const QString& s, KeyKind& out);
const char* linkKindName(LinkKind k);   // "client-server", "server-server", "unit-unit"
bool linkKindFromName(const QString& s, LinkKind& out);

// Rule 1: messages (or recipients) per key in a sliding window.
struct RateRule {
    std::string id;            // the hit's rule id, e.g. "rate-sender-messages"
    KeyKind key = KeyKind::Sender;
    Metric metric = Metric::Messages;
    int windowSec = 600;
    std::int64_t threshold = 10;
    double weight = 0.5;
    bool enabled = true;
};

// Rule 2: bytes per link in a sliding window.
struct VolumeRule {
    std::string id;
    LinkKind link = LinkKind::ClientServer;
    int windowSec = 600;
    std::int64_t thresholdBytes = 20'000'000;
    double weight = 0.5;
    bool enabled = true;
};

// Rule 3: attachment types, by extension (lower case, without the dot).
struct TypeRule {
    bool enabled = true;
    std::vector<std::string> executable; // .exe .scr .pif ...
    std::vector<std::string> script;     // .vbs .js .wsf ...
    std::vector<std::string> macro;      // documents that can carry macros: .doc .docm .xls .xlsm ...
    std::vector<std::string> archive;    // .zip .rar .7z ...
    // The first extension of a double extension ("invoice.pdf.exe"): what the file pretends to be.
    std::vector<std::string> decoy;
    // MIME types to treat as executable. Postfix logs name the file, not always its type, and
    // the case stores names only: kept for connectors that report types.
    std::vector<std::string> mimeTypes;
    double weightDangerous = 3;          // executable, script, double extension
    double weightMacro = 1.5;
    double weightArchive = 0;
};

// Rule 4: size bands.
struct SizeBand {
    std::string label;
    std::int64_t min = 0;                // bytes, inclusive
    std::int64_t max = 0;                // bytes, exclusive; 0: no upper bound
    double weight = 0;
};
struct SizeRule {
    bool enabled = true;
    std::vector<SizeBand> bands;
};

// Rule 5a: a key's count in a short window against its own average over a longer history.
struct BaselineRule {
    bool enabled = true;
    std::vector<KeyKind> keys;
    int windowSec = 600;
    int historySec = 86400;
    double factor = 5;                   // fires at count >= max(minCount, factor * expected)
    std::int64_t minCount = 6;
    double weight = 1;                   // for the sender's and the client's own baseline
    double weightAggregate = 0.25;       // for a unit's, subnet's or server's
};

// Rule 5b: distinct recipients of one of our senders in a window.
struct FanoutRule {
    bool enabled = true;
    int windowSec = 600;
    std::int64_t threshold = 20;
    double weight = 1.5;
};

// Rule 5c: one sender sending the same content as separate messages (each to at most
// maxRecipients people) - the way a script mails an address book, not the way a person writes.
struct BurstRule {
    bool enabled = true;
    int windowSec = 600;
    std::int64_t threshold = 5;          // messages with the same content in the window
    int maxRecipients = 3;
    double weight = 1.5;
    double attachmentBonus = 0.5;        // added when the repeated content carries an attachment
};

// Rule 5d: propagation. The sender received something resembling this message shortly before
// (attachment name or type, subject pattern, size band) and sends it on.
struct PropagationRule {
    bool enabled = true;
    int windowSec = 72 * 3600;           // received at most this long before sending
    double weightStrong = 2;             // the same attachment (or the same dangerous type) passed on
    double weightWeak = 1;               // a look-alike attachment name, or subject pattern and size band
    // A message sent on to fewer than spreadMin recipients (within spreadWindowSec, same
    // content) counts half: a person forwards to one or two, a worm to the address book.
    std::int64_t spreadMin = 5;
    int spreadWindowSec = 600;
    double sizeBandRatio = 1.25;         // size bands for "resembles": geometric, this ratio wide
    // How surprising a shared name or subject is. A name that many people send every day
    // (report.pdf, "Re: thanks") is no evidence that one person passed it to the next: evidence
    // from a name, name pattern or subject pattern is scaled by commonSenders / (the number of
    // different senders, not flagged for it, who sent it before), when that is larger.
    int commonSenders = 2;
};

// Rule 5e: similarity across senders. The message shares a specific content key (exact
// attachment name, dangerous type) with a message flagged earlier from another sender.
struct SimilarRule {
    bool enabled = true;
    int windowSec = 24 * 3600;
    double weight = 2;
};

// Send confirmation (claims 25-34): for users enrolled in the case, every message that needed
// the user's confirmation must carry a valid X-Send-Confirm token that matches what the log says
// (ConfirmRule.h). Users who are not enrolled are never judged by it.
struct ConfirmParams {
    bool enabled = true;                 // only acts on enrolled users: nothing happens without an enrolment
    double weight = 3;                   // a failed check alone flags the message (= the decision threshold)
    int maxSkewSec = 300;                // token time against the log's time
    int replayWindowSec = 86400;         // a token seen again on another message within this is a replay
    // When a token is required. The terminal asks for confirmation on the same criteria, so a
    // message meeting one of them without a token did not pass through the user's confirmation.
    bool requireAlways = false;          // every message of an enrolled user
    int maxRecipients = 10;              // more than this many recipients
    int rateMessages = 5;                // more than this many messages from the user ...
    int rateWindowSec = 600;             // ... within this window (the message itself counted)
    bool riskyAttachments = true;        // an executable or script attachment (type.executable + type.script)
};

// Rule 5f: new contacts. One of our senders mails, as new conversations (not replies in a
// thread the recipient started), many different people in one shape (the same attachment or
// none, as many recipients, a similar size) within the window: the way a worm walks an address
// book, even without a telltale attachment or a fixed subject. The threshold is the larger of
// minCount and factor times the sender's own rate over the case before the window; a sender
// that received a message the rules flagged, of the shape it now sends (within exposureSec), is
// held to the lower exposed* pair. Without an hour of history, minCount + 2.
struct ContactsRule {
    bool enabled = true;
    int windowSec = 1200;
    std::int64_t minCount = 10;
    double factor = 4;
    std::int64_t exposedMinCount = 8;
    double exposedFactor = 2.5;
    int exposureSec = 86400;
    double weight = 3;
};

struct Decision {
    double threshold = 3;                // a message is flagged at score >= threshold
    // Rate, volume, size, baseline and fan-out evidence together count at most this much,
    // and only for senders of our own (authenticated or of a local domain).
    double behaviourCap = 1.5;
    // Evidence counted by a unit, subnet or server (many people behind one key) points at where
    // to look; it counts at most this much, inside the behaviour cap.
    double aggregateCap = 0.5;
};

struct RuleSet {
    int version = 1;
    Decision decision;
    std::vector<RateRule> rates;
    std::vector<VolumeRule> volumes;
    int subnetPrefixV4 = 24;
    int subnetPrefixV6 = 64;
    TypeRule type;
    SizeRule size;
    BaselineRule baseline;
    FanoutRule fanout;
    BurstRule burst;
    PropagationRule propagation;
    SimilarRule similar;
    ContactsRule contacts;
    ConfirmParams confirm;

    static RuleSet defaults();
    QJsonObject toJson() const;
    QByteArray toJsonBytes() const; // indented, stable field order
    // Starts from the defaults and overrides what the JSON names. False with a reason on a
    // malformed document or an unknown key kind, link or metric.
    static bool fromJson(const QByteArray& json, RuleSet& out, QString* error = nullptr);
    // The longest look-back of any rule (ms): how much history an incremental run replays.
    std::int64_t longestWindowMs() const;
};

// Rule ids of the hits that are not configurable rules.
inline constexpr const char* kRuleType = "type";
inline constexpr const char* kRuleSize = "size";
inline constexpr const char* kRuleBaseline = "baseline";
inline constexpr const char* kRuleFanout = "fanout";
inline constexpr const char* kRuleBurst = "burst";
inline constexpr const char* kRulePropagation = "propagation";
inline constexpr const char* kRuleSimilar = "similar";
inline constexpr const char* kRuleContacts = "contacts";
inline constexpr const char* kRuleCampaign = "campaign"; // joined a detected campaign afterwards
inline constexpr const char* kRuleConfirm = "confirm";   // the send-confirmation rule (ConfirmRule.h)

} // namespace mt::det
