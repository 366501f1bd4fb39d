#pragma once
// The detection engine. It reads messages as plain arrays (DetectionInput, filled from the
// case in a few ordered scans or by hand in tests), judges each one in time order with windows
// that only look back (so a replay shows when a live system would have alerted), flags those
// whose evidence is strong enough, then groups the flagged messages into campaigns and
// reconstructs how they spread (Propagation.h). No SQL and no Qt widgets here.
#include "Rules.h"
#include "Support.h"
#include "model/domain/Records.h"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mt::det {

struct Recipient {
    std::uint32_t address = 0; // interned, lower case
    std::int32_t unit = -1;    // the recipient's unit when a user of ours
    TimeMs time = 0;           // delivered (else the message's time)
};

struct Hop {
    std::int32_t from = -1, to = -1; // server ids: one server handed the message to another
};

struct Message {
    std::int64_t id = 0;             // messages.id in the case, or the caller's id
    TimeMs time = 0;
    std::uint32_t messageId = 0;     // interned Message-ID (for evidence and output)
    std::uint32_t sender = 0;        // interned envelope sender, lower case; 0: none (a bounce)
    std::uint32_t senderKey = 0;     // interned SASL login, else the sender: who sent it
    std::uint32_t client = 0;        // interned client IP, else host
    std::uint32_t clientIp = 0;      // interned client IP alone (for the subnet)
    std::int32_t unit = -1;          // the sender's unit
    std::int32_t server = -1;        // the origin server
    std::int64_t size = -1;
    std::uint32_t subject = 0;       // interned subject as logged (0: none)
    std::uint32_t confirmToken = 0;  // interned X-Send-Confirm (0: none): for the confirmation rule
    std::uint32_t attBegin = 0, attCount = 0;   // DetectionInput::attachments
    std::uint32_t rcptBegin = 0, rcptCount = 0; // DetectionInput::recipients
    std::uint32_t hopBegin = 0, hopCount = 0;   // DetectionInput::hops
    bool internal = false;           // the sender is ours: authenticated, or of a local domain
};

// A message as a caller writes it (tests, tools); DetectionInput::add interns it.
struct MessageSpec {
    std::int64_t id = 0;             // 0: the next free id
    TimeMs time = 0;
    std::string messageId;
    std::string sender;
    std::string saslUser;
    std::string clientIp;
    std::string clientHost;
    std::string server;
    std::int64_t size = -1;
    std::string subject;
    std::vector<std::string> attachments;
    std::vector<std::string> recipients;
    std::vector<std::string> hops;   // servers crossed, in order ("mx1", "mx2")
    std::string confirmToken;
    int internal = -1;               // -1: from the local domains and the SASL login
};

class DetectionInput {
public:
    std::vector<Message> messages;   // in time order (time, id) up to `sorted`
    std::vector<std::uint32_t> attachments; // interned names
    std::vector<Recipient> recipients;
    std::vector<Hop> hops;
    StringPool strings;
    std::unordered_map<std::int32_t, std::string> unitNames;   // unit id -> path
    std::unordered_map<std::int32_t, std::string> serverNames; // server id -> name
    std::unordered_set<std::string> localDomains;
    std::size_t sorted = 0;

    // Helpers for building by hand.
    std::int32_t unitId(const std::string& path);
    std::int32_t serverId(const std::string& name);
    void addUser(const std::string& address, const std::string& unitPath);
    void add(const MessageSpec& m);
    // Puts the messages added since the last call in time order. False when the first of them
    // is earlier than the last message already in order (not an append: start over).
    bool finish();

    // The unit of a user of ours (by interned address), -1 for anyone else.
    std::int32_t unitOf(std::uint32_t address) const {
        return address < m_userUnits.size() ? m_userUnits[address] : -1;
    }
    void setUserUnit(std::uint32_t address, std::int32_t unit) {
        if (address >= m_userUnits.size()) m_userUnits.resize(address + 1 + m_userUnits.size() / 2, -1);
        m_userUnits[address] = unit;
    }
    std::string_view str(std::uint32_t id) const { return strings.view(id); }

private:
    std::int64_t m_nextId = 1;
    std::vector<std::int32_t> m_userUnits; // by interned address
};

// One rule's evidence about one message.
struct Hit {
    std::uint32_t message = 0;       // index into DetectionInput::messages
    std::string rule;                // rule id ("type", "propagation", "rate-sender-messages" ...)
    std::string key;                 // what was counted: sender, client, link, attachment, parent message ...
    TimeMs windowStart = 0;
    TimeMs windowEnd = 0;            // when the rule fired: the message's time (later for "campaign")
    std::int64_t count = 0;
    std::int64_t threshold = 0;
    double weight = 0;
    std::string detail;
};

enum class FlagSource : std::uint8_t {
    None,
    Rules,    // the rules fired on the message itself
    Parent,   // it was received by someone who then sent a flagged message resembling it
    Sibling,  // same sender, same content, same burst as a flagged message
};
const char* flagSourceName(FlagSource s);

struct MessageState {
    float score = 0;
    TimeMs flaggedAt = kNoTime;      // kNoTime: not flagged
    FlagSource source = FlagSource::None;
    bool parentStrong = false;       // the best propagation parent passed an attachment on
    std::int32_t parent = -1;        // best propagation parent (message index), -1: none
    std::int32_t campaign = -1;      // index into campaigns()
    std::int32_t generation = -1;    // 0: patient zero's messages
    std::int32_t treeParent = -1;    // the BFS tree parent (message index)
    bool flagged() const { return flaggedAt != kNoTime; }
};

struct Campaign {
    int id = 0;                      // 1-based, in order of first sighting
    std::string label;
    std::vector<std::uint32_t> messages; // message indices, in time order
    std::uint32_t patientZeroMessage = 0;
    std::string patientZero;         // sender of the earliest root message
    TimeMs firstSeen = 0;
    TimeMs detectedAt = kNoTime;     // first time the rules fired on one of its messages
    int generations = 0;
    int senders = 0;
    int recipients = 0;
    std::vector<std::int32_t> units; // sender and recipient units it reached
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges; // propagation: received M, then sent M'
};

// Where a rule that is not built in reports evidence for the message being judged.
class EvidenceSink {
public:
    virtual ~EvidenceSink() = default;
    // behaviour: counts in the capped group (rate-like evidence) instead of alone.
    virtual void add(Hit hit, bool behaviour) = 0;
};

// Extension point: the send-confirmation rule (issue 9) and any later rule plug in here.
class ExtraRule {
public:
    virtual ~ExtraRule() = default;
    virtual const char* id() const = 0;
    // Called for each message in time order, after the built-in rules; it may look only at
    // messages up to `index`.
    virtual void evaluate(const DetectionInput& in, std::uint32_t index, EvidenceSink& sink) = 0;
};

class Detector {
public:
    struct Options {
        bool keepAllHits = false; // else hits are kept only for messages with some positive weight
    };
    explicit Detector(RuleSet rules, Options options);
    explicit Detector(RuleSet rules = RuleSet::defaults());
    ~Detector();
    Detector(const Detector&) = delete;
    Detector& operator=(const Detector&) = delete;

    void addRule(std::unique_ptr<ExtraRule> rule);

    // Replay (incremental runs over a case): messages before `until` only feed the windows; they
    // are neither judged nor given hits, and those an earlier run flagged keep that flag
    // (index -> when, how). `origin` is the time the earlier run started its history at (the
    // baseline rule measures history from there). Call before run().
    void setReplay(TimeMs until, std::unordered_map<std::uint32_t, std::pair<TimeMs, FlagSource>> knownFlags,
                   TimeMs origin);
    // Judges the messages of `in` that this detector has not seen yet, in order. `in` may grow
    // between calls (DetectionInput::finish() keeps appends in time order).
    void run(const DetectionInput& in);
    std::size_t processed() const;
    // Groups the flagged messages into campaigns and rebuilds the propagation graph: after run(),
    // again after every later run().
    void buildCampaigns(const DetectionInput& in);

    const RuleSet& rules() const;
    const std::vector<MessageState>& states() const;
    const std::vector<Hit>& hits() const;          // rule hits, in message order
    const std::vector<Hit>& campaignHits() const;  // "campaign" hits of messages joined afterwards
    const std::vector<Campaign>& campaigns() const;
    bool flagged(std::uint32_t index) const;
    std::size_t flaggedCount() const;

    struct Impl;

private:
    std::unique_ptr<Impl> d;
};

// Normalisation shared with the campaign labels and the tests.
// Subject: reply and forward prefixes (Re:, AW:, Fwd:, WG: ...) stripped, lower case, digit
// runs as '#', spaces collapsed. Attachment name: lower case, digit runs as '#'.
std::string normaliseSubject(std::string_view s, bool* reply = nullptr, bool* forward = nullptr);
std::string normaliseName(std::string_view s);

} // namespace mt::det
