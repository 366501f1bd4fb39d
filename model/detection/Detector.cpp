#include "Detector.h"

#include "Propagation.h"

#include <QElapsedTimer>
#include <QtGlobal>

#include <arpa/inet.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <queue>
#include <atomic>
#include <exception>
#include <thread>

namespace mt::det {

// ------------------------------------------------------------------ normalisation

namespace {

char lowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
    return true;
}

struct SubjectPrefix {
    std::string_view word;
    bool reply;
};
// Reply and forward prefixes of common mail clients and languages.
constexpr SubjectPrefix kPrefixes[] = {
    {"re", true},  {"aw", true},  {"sv", true},  {"antw", true}, {"odp", true}, {"vs", true},  {"ynt", true},
    {"fwd", false}, {"fw", false}, {"wg", false}, {"tr", false}, {"rv", false}, {"enc", false}, {"doorst", false}};

std::string lowerCopy(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lowerAscii(c);
    return out;
}

std::string_view domainOf(std::string_view address) {
    const std::size_t at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

} // namespace

namespace {

// A rule's evidence for message i at time t, over the window (t - windowMs, t].
Hit makeHit(std::uint32_t i, const char* rule, std::string key, TimeMs t, std::int64_t windowMs, std::int64_t count,
            std::int64_t threshold, double weight, std::string detail) {
    Hit h;
    h.message = i;
    h.rule = rule;
    h.key = std::move(key);
    h.windowStart = t - windowMs;
    h.windowEnd = t;
    h.count = count;
    h.threshold = threshold;
    h.weight = weight;
    h.detail = std::move(detail);
    return h;
}

// Subject normalisation, emitting the normalised characters one by one (into a string for
// labels, into a hash on the hot path).
template <class Put>
void normaliseSubjectTo(std::string_view s, bool* reply, bool* forward, Put&& put) {
    bool rep = false, fwd = false;
    std::size_t i = 0;
    while (true) {
        while (i < s.size() && isSpace(s[i])) ++i;
        bool matched = false;
        for (const SubjectPrefix& p : kPrefixes) {
            if (s.size() - i <= p.word.size() || !iequals(s.substr(i, p.word.size()), p.word)) continue;
            std::size_t j = i + p.word.size();
            if (j < s.size() && s[j] == '[') { // Re[2]:
                const std::size_t close = s.find(']', j);
                if (close == std::string_view::npos) continue;
                j = close + 1;
            } else if (j < s.size() && s[j] == '^') { // Re^2:
                ++j;
                while (j < s.size() && isDigit(s[j])) ++j;
            }
            while (j < s.size() && s[j] == ' ') ++j; // "Re :"
            if (j < s.size() && s[j] == ':') {
                i = j + 1;
                matched = true;
                (p.reply ? rep : fwd) = true;
                break;
            }
        }
        if (!matched) break;
    }
    bool space = false, digit = false, any = false;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (isSpace(c)) {
            space = true;
            digit = false;
            continue;
        }
        if (space && any) put(' ');
        space = false;
        any = true;
        if (isDigit(c)) {
            if (!digit) put('#');
            digit = true;
            continue;
        }
        digit = false;
        put(lowerAscii(c));
    }
    if (reply) *reply = rep;
    if (forward) *forward = fwd;
}

} // namespace

std::string normaliseSubject(std::string_view s, bool* reply, bool* forward) {
    std::string out;
    out.reserve(s.size());
    normaliseSubjectTo(s, reply, forward, [&](char c) { out.push_back(c); });
    return out;
}

std::string normaliseName(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool digit = false;
    for (char c : s) {
        if (isDigit(c)) {
            if (!digit) out.push_back('#');
            digit = true;
            continue;
        }
        digit = false;
        out.push_back(lowerAscii(c));
    }
    while (!out.empty() && isSpace(out.back())) out.pop_back();
    std::size_t b = 0;
    while (b < out.size() && isSpace(out[b])) ++b;
    return out.substr(b);
}

const char* flagSourceName(FlagSource s) {
    switch (s) {
    case FlagSource::Rules: return "rules";
    case FlagSource::Parent: return "parent";
    case FlagSource::Sibling: return "burst";
    case FlagSource::None: break;
    }
    return "";
}

// ------------------------------------------------------------------ input

namespace {
// The id of a name in an id -> name table, adding it when new. The tables are small (units,
// servers) and filled by the case loader directly; this serves inputs built by hand.
std::int32_t idOf(std::unordered_map<std::int32_t, std::string>& names, const std::string& name) {
    for (const auto& [id, n] : names)
        if (n == name) return id;
    const std::int32_t id = static_cast<std::int32_t>(names.size()) + 1;
    names.emplace(id, name);
    return id;
}
} // namespace

std::int32_t DetectionInput::unitId(const std::string& path) { return idOf(unitNames, path); }

std::int32_t DetectionInput::serverId(const std::string& name) { return idOf(serverNames, name); }

void DetectionInput::addUser(const std::string& address, const std::string& unitPath) {
    const std::string a = lowerCopy(address);
    setUserUnit(strings.intern(a), unitId(unitPath));
    const std::string_view d = domainOf(a);
    if (!d.empty()) localDomains.insert(std::string(d));
}

void DetectionInput::add(const MessageSpec& s) {
    Message m;
    m.id = s.id ? s.id : m_nextId;
    m_nextId = std::max(m_nextId, m.id + 1);
    m.time = s.time;
    m.messageId = strings.intern(s.messageId.empty() ? "m" + std::to_string(m.id) : s.messageId);
    const std::string sender = lowerCopy(s.sender);
    m.sender = strings.intern(sender);
    m.senderKey = s.saslUser.empty() ? m.sender : strings.intern(lowerCopy(s.saslUser));
    m.clientIp = strings.intern(s.clientIp);
    m.client = s.clientIp.empty() ? strings.intern(s.clientHost) : m.clientIp;
    m.unit = unitOf(m.sender);
    m.server = s.server.empty() ? -1 : serverId(s.server);
    m.size = s.size;
    m.subject = strings.intern(s.subject);
    m.confirmToken = strings.intern(s.confirmToken);
    m.attBegin = static_cast<std::uint32_t>(attachments.size());
    for (const std::string& a : s.attachments) attachments.push_back(strings.intern(a));
    m.attCount = static_cast<std::uint32_t>(s.attachments.size());
    m.rcptBegin = static_cast<std::uint32_t>(recipients.size());
    for (const std::string& r : s.recipients) {
        const std::uint32_t a = strings.intern(lowerCopy(r));
        recipients.push_back({a, unitOf(a), s.time});
    }
    m.rcptCount = static_cast<std::uint32_t>(s.recipients.size());
    m.hopBegin = static_cast<std::uint32_t>(hops.size());
    for (std::size_t h = 1; h < s.hops.size(); ++h) hops.push_back({serverId(s.hops[h - 1]), serverId(s.hops[h])});
    m.hopCount = static_cast<std::uint32_t>(hops.size()) - m.hopBegin;
    m.internal = s.internal >= 0 ? s.internal != 0
                                 : (!s.saslUser.empty() || localDomains.count(std::string(domainOf(sender))) > 0);
    messages.push_back(m);
}

bool DetectionInput::finish() {
    auto first = messages.begin() + static_cast<std::ptrdiff_t>(sorted);
    std::stable_sort(first, messages.end(),
                     [](const Message& a, const Message& b) { return a.time != b.time ? a.time < b.time : a.id < b.id; });
    const bool inOrder = sorted == 0 || sorted >= messages.size() || messages[sorted].time >= messages[sorted - 1].time;
    sorted = messages.size();
    return inOrder;
}

// ------------------------------------------------------------------ the engine

namespace {

enum class AttClass : std::uint8_t { Other, Image, Archive, Macro, Script, Executable, DoubleExt };

const char* className(AttClass c) {
    switch (c) {
    case AttClass::Image: return "image";
    case AttClass::Archive: return "archive";
    case AttClass::Macro: return "macro document";
    case AttClass::Script: return "script";
    case AttClass::Executable: return "executable";
    case AttClass::DoubleExt: return "double extension";
    case AttClass::Other: break;
    }
    return "other";
}

bool dangerous(AttClass c) { return c == AttClass::Script || c == AttClass::Executable || c == AttClass::DoubleExt; }

struct AttFeat {
    std::uint64_t exact = 0, norm = 0, cls = 0, extBand = 0;
    AttClass klass = AttClass::Other;
    // How rare the name, its pattern and its extension-and-size were when the message was sent
    // (1: rare, towards 0: everybody sends it). See PropagationRule::commonSenders.
    float rExact = 1, rNorm = 1, rExtBand = 1;
};

struct Feat {
    std::uint64_t subj = 0;
    std::uint32_t attBegin = 0;
    std::uint16_t attCount = 0;
    bool reply = false, forward = false;
    int band = INT_MIN;
    AttClass worst = AttClass::Other;
    float rSubj = 1;
};

// Normalised subjects by interned subject: subjects repeat (replies, bulk, worms), and each
// side of the engine keeps its own cache so that neither normalises one twice.
struct SubjectCache {
    std::vector<std::uint64_t> hash;  // 0: not computed yet, else the hash | 1 (bit 0 set)
    std::vector<std::uint8_t> flags;  // bit 0 reply, bit 1 forward
    std::uint64_t get(const DetectionInput& in, std::uint32_t id, bool* reply, bool* forward) {
        if (id >= hash.size()) {
            hash.resize(id + 1 + hash.size() / 2, 0);
            flags.resize(hash.size(), 0);
        }
        if (!hash[id]) {
            bool rep = false, fwd = false;
            TextHasher h('s');
            normaliseSubjectTo(in.str(id), &rep, &fwd, [&](char c) { h.put(c); });
            hash[id] = h.length ? (h.done() | 1) : 1; // 1 alone: empty after normalising
            flags[id] = static_cast<std::uint8_t>((rep ? 1 : 0) | (fwd ? 2 : 0));
        }
        if (reply) *reply = flags[id] & 1;
        if (forward) *forward = flags[id] & 2;
        return hash[id] == 1 ? 0 : hash[id];
    }
};

// Near-identical sizes: the same file sent again, give or take the headers.
bool sameFileSize(std::int64_t a, std::int64_t b) {
    if (a <= 0 || b <= 0) return false;
    const std::int64_t d = a > b ? a - b : b - a;
    return d <= std::max<std::int64_t>(1024, std::max(a, b) / 64);
}

constexpr int kMaxKeys = 8;
constexpr int kMaxCandidates = 8;
constexpr int kMaxParentsPerMessage = 16;
constexpr std::int64_t kBaselineMinHistoryMs = 3600 * 1000;

struct Recv {
    TimeMs time = 0;
    std::uint32_t msg = 0;
};
struct FlagKey {
    TimeMs time = 0;
    std::uint32_t s1 = 0, s2 = 0; // the two latest distinct senders
};

struct Resemblance {
    double att = 0;
    bool subj = false, size = false, link = false, strong = false;
    double strength = 0;
    std::string how() const {
        std::string s;
        if (att >= 2) s = "same attachment";
        else if (att >= 1.5) s = "same dangerous attachment type";
        else if (att >= 1) s = "look-alike attachment name";
        else if (att > 0) s = "same attachment extension and size";
        if (subj) s += s.empty() ? "same subject pattern" : ", subject pattern";
        if (size) s += s.empty() ? "same size band" : ", size band";
        return s;
    }
};

struct Pending {
    Hit hit;
    bool behaviour;
};

class Sink : public EvidenceSink {
public:
    explicit Sink(std::vector<Pending>& p) : m_p(p) {}
    void add(Hit hit, bool behaviour) override { m_p.push_back({std::move(hit), behaviour}); }

private:
    std::vector<Pending>& m_p;
};

std::string fmtBytes(std::int64_t b) {
    char buf[32];
    if (b >= 1'000'000) std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(b) / 1e6);
    else if (b >= 1000) std::snprintf(buf, sizeof buf, "%.1f KB", static_cast<double>(b) / 1e3);
    else std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
    return buf;
}

} // namespace

struct Detector::Impl {
    RuleSet rules;
    Options opt;
    std::vector<std::unique_ptr<ExtraRule>> extras;
    std::unordered_set<std::string> exe, script, macro, archive, decoy, image;
    double lnRatio = std::log(1.25);

    std::vector<MessageState> st;
    std::vector<Feat> feats;
    std::vector<AttFeat> attFeats;
    std::vector<Hit> hits, campaignHits;
    std::vector<Campaign> campaigns;
    std::size_t flaggedRules = 0, flaggedTotal = 0;

    std::vector<WindowSum> volumeSums;
    // The counters of rules 1 and 5a, one per (key kind, metric, window).
    static constexpr std::size_t kMaxCounters = 64;
    struct Counter {
        KeyKind kind;
        Metric metric;
        std::int64_t windowMs;
        WindowSum sum;
    };
    std::vector<Counter> counters;
    std::vector<int> rateCounter;                  // per rate rule
    int baseShortCounter[5] = {-1, -1, -1, -1, -1}; // per key kind
    int baseLongCounter[5] = {-1, -1, -1, -1, -1};
    bool kindUsed[5] = {};
    int counterFor(KeyKind k, Metric mt, std::int64_t windowMs) {
        for (std::size_t c = 0; c < counters.size(); ++c)
            if (counters[c].kind == k && counters[c].metric == mt && counters[c].windowMs == windowMs) return static_cast<int>(c);
        if (counters.size() >= kMaxCounters) return -1;
        counters.push_back({k, mt, windowMs, WindowSum(windowMs)});
        kindUsed[static_cast<int>(k)] = true;
        return static_cast<int>(counters.size() - 1);
    }
    WindowDistinct fanout;
    WindowSum burst, spread;              // slots from contentSlots
    FlatMap<std::uint32_t> contentSlots;  // (sender, content key) -> slot
    std::uint32_t nextContentSlot = 0;
    // Dense numbers per key kind, so that the windows of rates and baselines index arrays
    // instead of hashing.
    struct Dense {
        std::vector<std::uint32_t> byId;
        std::uint32_t next = 0;
        std::uint32_t get(std::size_t id) {
            if (id >= byId.size()) byId.resize(id + 1 + byId.size() / 2, UINT32_MAX);
            std::uint32_t& v = byId[id];
            if (v == UINT32_MAX) v = next++;
            return v;
        }
    };
    Dense denseKey[5];
    std::vector<std::uint32_t> subnetOfIpId; // by client IP string id: dense subnet + 1, 0: unknown yet
    FlatMap<std::uint32_t> subnetDense;
    FlatMap<Recv> received;
    FlatMap<FlagKey> flaggedKeys;
    FlatMap<std::uint64_t> subnetOfIp;
    TimeMs t0 = kNoTime;
    TimeMs replayUntil = INT64_MIN;
    std::unordered_map<std::uint32_t, std::pair<TimeMs, FlagSource>> known;
    std::vector<char> preset; // flags an earlier run decided (replay)

    // Popularity of content keys (exact name, name pattern, extension with size band, subject
    // pattern): distinct senders who sent them and were not flagged for them.
    FlatMap<std::uint32_t> popularity;
    FlatMap<std::uint8_t> popularBy; // (key, sender): 1 counted, 2 flagged for it
    // Conversations: who received what subject from whom (behaviour thread), so that a reply
    // in a thread the recipient started is told from a new conversation.
    struct Heard {
        TimeMs time = 0;
        std::uint64_t subj = 0, previousSubj = 0; // the two latest subjects, by pair of people
    };
    FlatMap<Heard> heardFrom; // (recipient, sender)
    WindowDistinct contactsShape;      // (sender, shape) -> distinct recipients of new conversations
    FlatMap<std::int64_t> contactsTotal; // sender -> its messages counted by rule 5f since the start
    WindowSum contactsRecent;          // the same over the rule's window
    // (sender, shape) -> messages that reached someone new, plus kRepeatUnit for each that
    // reached only people reached before.
    WindowSum contactsMessages;
    static constexpr std::int64_t kRepeatUnit = std::int64_t(1) << 32;
    static constexpr double kInvLog15 = 2.4663034623764317; // 1 / ln 1.5
    struct Exposure {
        TimeMs time = 0;
        std::uint32_t message = 0;
    };
    FlatMap<Exposure> exposedAt;       // address -> the last message the rules flagged it received, and when
    std::vector<std::uint8_t> conversational; // per message: a reply in a thread the recipient started
    std::vector<std::int32_t> contactsCount;  // per message: the rule's count (-1: not counted)
    std::vector<float> contactsExpected;      // per message: the sender's own rate (-1: no history yet)
    std::vector<std::uint64_t> shapeKeys;     // per message, two: its shape on each size grid (0: none)
    std::vector<std::uint8_t> contactsFired;  // per message: rule 5f flagged it
    std::vector<float> aggregateSum;          // per message: behaviour evidence of aggregate keys

    float rarity(std::uint64_t key) const {
        const std::uint32_t* p = popularity.find(key);
        const double common = rules.propagation.commonSenders;
        return !p || *p <= common ? 1.0f : static_cast<float>(common / static_cast<double>(*p));
    }
    // After judging: the message's keys become a little more common, unless it was flagged.
    void notePopularity(std::uint64_t key, std::uint32_t sender, bool flagged) {
        if (!key || !sender) return;
        bool fresh = false;
        std::uint8_t& state = popularBy.get(combine(key, sender), &fresh);
        if (fresh) {
            state = flagged ? 2 : 1;
            if (!flagged) ++popularity.get(key);
        } else if (flagged && state == 1) {
            state = 2;
            --popularity.get(key);
        }
    }

    SubjectCache judgingSubjects, behaviourSubjects; // one per side: no sharing between threads

    std::vector<Pending> pending;
    // Per message of the current run: the behaviour thread's sum and whether any of its hits
    // weighed; whether the message's hits are kept.
    std::vector<float> behaviourSum;
    std::vector<char> behaviourPositive, keep;
    std::vector<Hit> hitsA, hitsB; // this run's hits of each side, merged into `hits` at its end

    explicit Impl(RuleSet r, Options o) : rules(std::move(r)), opt(o) {
        auto fill = [](std::unordered_set<std::string>& set, const std::vector<std::string>& v) { set.insert(v.begin(), v.end()); };
        fill(exe, rules.type.executable);
        fill(script, rules.type.script);
        fill(macro, rules.type.macro);
        fill(archive, rules.type.archive);
        fill(decoy, rules.type.decoy);
        image = {"png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "svg", "webp", "heic", "ico", "emz", "wmz"};
        lnRatio = std::log(rules.propagation.sizeBandRatio);
        for (const RateRule& x : rules.rates)
            rateCounter.push_back(x.enabled ? counterFor(x.key, x.metric, static_cast<std::int64_t>(x.windowSec) * 1000) : -1);
        if (rules.baseline.enabled)
            for (KeyKind k : rules.baseline.keys) {
                baseShortCounter[static_cast<int>(k)] = counterFor(k, Metric::Messages, static_cast<std::int64_t>(rules.baseline.windowSec) * 1000);
                baseLongCounter[static_cast<int>(k)] = counterFor(k, Metric::Messages, static_cast<std::int64_t>(rules.baseline.historySec) * 1000);
                if (baseShortCounter[static_cast<int>(k)] < 0 || baseLongCounter[static_cast<int>(k)] < 0)
                    baseShortCounter[static_cast<int>(k)] = baseLongCounter[static_cast<int>(k)] = -1;
            }
        for (const VolumeRule& x : rules.volumes) volumeSums.emplace_back(static_cast<std::int64_t>(x.windowSec) * 1000);
        fanout.setWindow(static_cast<std::int64_t>(rules.fanout.windowSec) * 1000);
        burst.setWindow(static_cast<std::int64_t>(rules.burst.windowSec) * 1000);
        spread.setWindow(static_cast<std::int64_t>(rules.propagation.spreadWindowSec) * 1000);
        contactsShape.setWindow(static_cast<std::int64_t>(rules.contacts.windowSec) * 1000);
        contactsRecent.setWindow(static_cast<std::int64_t>(rules.contacts.windowSec) * 1000);
        contactsMessages.setWindow(static_cast<std::int64_t>(rules.contacts.windowSec) * 1000);
    }

    // ---------------------------------------------------------- features
    AttClass classify(std::string_view lowerName) const {
        std::string_view n = lowerName;
        while (!n.empty() && (isSpace(n.back()) || n.back() == '.')) n.remove_suffix(1);
        const std::size_t dot = n.rfind('.');
        if (dot == std::string_view::npos) return AttClass::Other;
        const std::string last(n.substr(dot + 1));
        std::string_view before = n.substr(0, dot);
        while (!before.empty() && isSpace(before.back())) before.remove_suffix(1); // "file.pdf      .exe"
        const std::size_t dot2 = before.rfind('.');
        const std::string prev = dot2 == std::string_view::npos ? std::string() : std::string(before.substr(dot2 + 1));
        if (exe.count(last) || script.count(last)) {
            if (!prev.empty() && decoy.count(prev)) return AttClass::DoubleExt;
            return exe.count(last) ? AttClass::Executable : AttClass::Script;
        }
        if (macro.count(last)) return AttClass::Macro;
        if (archive.count(last)) return AttClass::Archive;
        if (image.count(last)) return AttClass::Image;
        return AttClass::Other;
    }

    void computeFeatures(const DetectionInput& in, std::uint32_t i) {
        const Message& m = in.messages[i];
        Feat f;
        if (m.subject && !in.str(m.subject).empty()) f.subj = judgingSubjects.get(in, m.subject, &f.reply, &f.forward);
        if (m.size > 0) f.band = static_cast<int>(std::floor(std::log(static_cast<double>(m.size)) / lnRatio));
        f.attBegin = static_cast<std::uint32_t>(attFeats.size());
        const std::uint32_t count = std::min<std::uint32_t>(m.attCount, 16);
        for (std::uint32_t a = 0; a < count; ++a) {
            const std::string name = lowerCopy(in.str(in.attachments[m.attBegin + a]));
            AttFeat af;
            if (name.empty()) { // keeps the indices of features and names in step; matches nothing
                af.exact = af.norm = combine(combine(0xE, i), a);
                attFeats.push_back(af);
                ++f.attCount;
                continue;
            }
            af.exact = hashText(name, 'x');
            af.norm = hashText(normaliseName(name), 'n');
            af.klass = classify(name);
            if (dangerous(af.klass)) af.cls = hashText(className(af.klass), 'c');
            if (af.klass != AttClass::Image && f.band != INT_MIN) {
                std::string_view n = name;
                const std::size_t dot = n.rfind('.');
                const std::string_view ext = dot == std::string_view::npos ? std::string_view() : n.substr(dot + 1);
                af.extBand = combine(hashText(ext, 'e'), static_cast<std::uint64_t>(f.band));
            }
            if (static_cast<int>(af.klass) > static_cast<int>(f.worst)) f.worst = af.klass;
            af.rExact = rarity(af.exact);
            af.rNorm = rarity(af.norm);
            af.rExtBand = af.extBand ? rarity(af.extBand) : 1.0f;
            attFeats.push_back(af);
            ++f.attCount;
        }
        if (f.subj) f.rSubj = rarity(f.subj);
        feats.push_back(f);
    }

    // Keys for "the same content again" (bursts, spread): what is specific to this content.
    // A subject counts when it is not a reply and not common; an attachment by its exact name
    // and size (the same file: both size grids, so near-identical sizes always share one), by
    // its name pattern when that is rare, and by its dangerous type.
    int burstKeys(const DetectionInput& in, std::uint32_t i, std::uint64_t* out, bool* isAtt) const {
        const Feat& f = feats[i];
        const std::int64_t size = in.messages[i].size;
        int n = 0;
        auto put = [&](std::uint64_t k, bool att) {
            if (!k || n >= kMaxKeys) return;
            for (int j = 0; j < n; ++j)
                if (out[j] == k) return;
            isAtt[n] = att;
            out[n++] = k;
        };
        if (f.subj && !f.reply && f.rSubj >= 0.5f) put(f.subj, false);
        for (std::uint32_t a = 0; a < f.attCount; ++a) {
            const AttFeat& af = attFeats[f.attBegin + a];
            if (af.klass == AttClass::Image) continue;
            if (size > 0) {
                put(combine(combine(af.exact, 0x5A), static_cast<std::uint64_t>(size / 2048)), true);
                put(combine(combine(af.exact, 0x5B), static_cast<std::uint64_t>((size + 1024) / 2048)), true);
            }
            if (af.rNorm >= 0.5f) put(af.norm, true);
            put(af.cls, true);
        }
        return n;
    }

    // Content keys: subject pattern, and per attachment its name pattern, dangerous type and
    // extension with size band.
    int contentKeys(std::uint32_t i, std::uint64_t* out) const {
        const Feat& f = feats[i];
        int n = 0;
        auto put = [&](std::uint64_t k) {
            if (!k || n >= kMaxKeys) return;
            for (int j = 0; j < n; ++j)
                if (out[j] == k) return;
            out[n++] = k;
        };
        put(f.subj);
        for (std::uint32_t a = 0; a < f.attCount; ++a) {
            const AttFeat& af = attFeats[f.attBegin + a];
            put(af.norm);
            put(af.cls);
            put(af.extBand);
        }
        return n;
    }
    bool inThreadReply(const DetectionInput& in, std::uint32_t r, std::uint32_t s) const {
        if (!feats[s].reply) return false;
        const Message& R = in.messages[r];
        const Message& S = in.messages[s];
        std::uint32_t overlap = 0;
        for (std::uint32_t a = 0; a < S.rcptCount; ++a) {
            const std::uint32_t addr = in.recipients[S.rcptBegin + a].address;
            if (addr == R.sender) return true;
            for (std::uint32_t b = 0; b < R.rcptCount; ++b)
                if (in.recipients[R.rcptBegin + b].address == addr) {
                    ++overlap;
                    break;
                }
        }
        return S.rcptCount > 0 && overlap * 2 >= S.rcptCount;
    }

    Resemblance resemble(const DetectionInput& in, std::uint32_t r, std::uint32_t s) const {
        Resemblance res;
        const Feat& fr = feats[r];
        const Feat& fs = feats[s];
        for (std::uint32_t a = 0; a < fr.attCount; ++a) {
            const AttFeat& x = attFeats[fr.attBegin + a];
            for (std::uint32_t b = 0; b < fs.attCount; ++b) {
                const AttFeat& y = attFeats[fs.attBegin + b];
                const bool img = x.klass == AttClass::Image || y.klass == AttClass::Image;
                // The same file passed on, or the same dangerous type (a polymorphic worm),
                // is what a worm does; a look-alike name ("letter_12.docx", "letter_13.docx")
                // is often just a naming habit.
                // Each scaled by how rare it was when s was sent: a name hundreds of people
                // send is no sign that this one passed it on.
                double v = 0;
                if (x.exact == y.exact) v = std::max(v, (img ? 0.5 : 2) * static_cast<double>(y.rExact));
                if (x.cls && x.cls == y.cls) v = std::max(v, 1.5);
                if (x.norm == y.norm) v = std::max(v, (img ? 0.5 : 1) * static_cast<double>(y.rNorm));
                if (x.extBand && x.extBand == y.extBand) v = std::max(v, 0.75 * static_cast<double>(y.rExtBand));
                res.att = std::max(res.att, v);
            }
        }
        // A reply keeps the subject of the conversation: no evidence of passing anything on.
        res.subj = fs.subj && fs.subj == fr.subj && !fs.reply && fs.rSubj >= 0.5f && !inThreadReply(in, r, s);
        res.size = fr.band != INT_MIN && fs.band != INT_MIN && std::abs(fr.band - fs.band) <= 1;
        res.strength = res.att + (res.subj ? 1 : 0) + (res.size ? 0.5 : 0);
        res.link = (res.att >= 0.75 || res.subj) && res.strength >= 1.5;
        // Strong: an attachment passed on. Subject and size alone are common by chance.
        res.strong = res.link && res.att >= 1.5;
        return res;
    }

    // ---------------------------------------------------------- keys
    std::uint64_t subnetKey(const DetectionInput& in, std::uint32_t ip) {
        if (!ip) return 0;
        bool fresh = false;
        std::uint64_t& k = subnetOfIp.get(ip, &fresh);
        if (!fresh) return k;
        k = 0;
        const std::string s(in.str(ip));
        unsigned char buf[16] = {};
        int bits = 0, len = 0;
        if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
            bits = rules.subnetPrefixV4;
            len = 4;
        } else if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
            bits = rules.subnetPrefixV6;
            len = 16;
        } else {
            return k;
        }
        for (int b = 0; b < len; ++b) {
            const int keep = std::clamp(bits - 8 * b, 0, 8);
            buf[b] &= static_cast<unsigned char>(keep == 8 ? 0xFF : (0xFF << (8 - keep)) & 0xFF);
        }
        k = combine(hashText(std::string_view(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len)), 'p'),
                    static_cast<std::uint64_t>(bits));
        return k;
    }
    std::string subnetText(const DetectionInput& in, std::uint32_t ip) const {
        const std::string s(in.str(ip));
        unsigned char buf[16] = {};
        char text[64] = {};
        int bits = 0, len = 0, af = AF_INET;
        if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
            bits = rules.subnetPrefixV4;
            len = 4;
        } else if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
            bits = rules.subnetPrefixV6;
            len = 16;
            af = AF_INET6;
        } else {
            return s;
        }
        for (int b = 0; b < len; ++b) {
            const int keep = std::clamp(bits - 8 * b, 0, 8);
            buf[b] &= static_cast<unsigned char>(keep == 8 ? 0xFF : (0xFF << (8 - keep)) & 0xFF);
        }
        inet_ntop(af, buf, text, sizeof text);
        return std::string(text) + "/" + std::to_string(bits);
    }

    // The message's key of a kind as a dense number (UINT32_MAX: it has none).
    std::uint32_t slotOf(const DetectionInput& in, const Message& m, KeyKind k) {
        Dense& d = denseKey[static_cast<int>(k)];
        switch (k) {
        case KeyKind::Sender: return m.senderKey ? d.get(m.senderKey) : UINT32_MAX;
        case KeyKind::Client: return m.client ? d.get(m.client) : UINT32_MAX;
        case KeyKind::Subnet: {
            if (!m.clientIp) return UINT32_MAX;
            if (m.clientIp >= subnetOfIpId.size()) subnetOfIpId.resize(m.clientIp + 1 + subnetOfIpId.size() / 2, 0);
            std::uint32_t& cached = subnetOfIpId[m.clientIp];
            if (!cached) {
                const std::uint64_t h = subnetKey(in, m.clientIp);
                if (!h) {
                    cached = UINT32_MAX;
                } else {
                    bool fresh = false;
                    std::uint32_t& dense = subnetDense.get(h, &fresh);
                    if (fresh) dense = d.next++;
                    cached = dense + 1;
                }
            }
            return cached == UINT32_MAX ? UINT32_MAX : cached - 1;
        }
        case KeyKind::Unit: return m.unit >= 0 ? d.get(static_cast<std::size_t>(m.unit)) : UINT32_MAX;
        case KeyKind::Server: return m.server >= 0 ? d.get(static_cast<std::size_t>(m.server)) : UINT32_MAX;
        }
        return UINT32_MAX;
    }
    std::string keyText(const DetectionInput& in, const Message& m, KeyKind k) const {
        switch (k) {
        case KeyKind::Sender: return in.strings.str(m.senderKey);
        case KeyKind::Client: return in.strings.str(m.client);
        case KeyKind::Subnet: return subnetText(in, m.clientIp);
        case KeyKind::Unit: return unitName(in, m.unit);
        case KeyKind::Server: return serverName(in, m.server);
        }
        return {};
    }
    static std::string unitName(const DetectionInput& in, std::int32_t u) {
        const auto it = in.unitNames.find(u);
        return it == in.unitNames.end() ? "unit " + std::to_string(u) : it->second;
    }
    static std::string serverName(const DetectionInput& in, std::int32_t s) {
        const auto it = in.serverNames.find(s);
        return it == in.serverNames.end() ? "server " + std::to_string(s) : it->second;
    }

    // ---------------------------------------------------------- behaviour (rules 1, 2, 4, 5a, 5b)
    // Counts that never depend on a decision: they run on their own thread ahead of the rest.
    void behaviour(const DetectionInput& in, std::uint32_t i) {
        const Message& m = in.messages[i];
        const TimeMs t = m.time;
        if (t0 == kNoTime) t0 = t;
        const bool deciding = t >= replayUntil;
        const std::int64_t nrcpt = m.rcptCount;
        const bool conv = noteConversation(in, i);
        conversational[i] = conv ? 1 : 0;
        double sum = 0, aggregate = 0;
        bool positive = false;
        // Evidence of a key many people share (unit, subnet, server) counts apart, capped
        // (Decision::aggregateCap). A reply in a thread its recipient started did not cause
        // the surge: the judging side drops this evidence then (conversational[i]).
        auto hit = [&](const char* rule, std::string key, std::int64_t windowMs, std::int64_t count, std::int64_t threshold,
                       double weight, std::string detail, bool aggregateKey) {
            if (!deciding) return;
            (aggregateKey ? aggregate : sum) += weight;
            positive |= weight > 0;
            hitsA.push_back(makeHit(i, rule, std::move(key), t, windowMs, count, threshold, weight, std::move(detail)));
        };
        auto aggregateKind = [](KeyKind k) { return k == KeyKind::Subnet || k == KeyKind::Unit || k == KeyKind::Server; };

        // Every counter of rules 1 and 5a once (a rate and a baseline counting the same key over
        // the same window share one).
        std::uint32_t keySlots[5];
        for (int k = 0; k < 5; ++k) keySlots[k] = kindUsed[k] ? slotOf(in, m, static_cast<KeyKind>(k)) : UINT32_MAX;
        std::int64_t values[kMaxCounters];
        for (std::size_t c = 0; c < counters.size(); ++c) {
            Counter& ct = counters[c];
            const std::uint32_t slot = keySlots[static_cast<int>(ct.kind)];
            values[c] = slot == UINT32_MAX ? -1 : ct.sum.addSlot(slot, t, ct.metric == Metric::Messages ? 1 : nrcpt);
        }
        // Rule 1: rates.
        for (std::size_t r = 0; r < rules.rates.size(); ++r) {
            const RateRule& rr = rules.rates[r];
            if (!rr.enabled || rateCounter[r] < 0) continue;
            const std::int64_t c = values[rateCounter[r]];
            if (c >= rr.threshold)
                hit(rr.id.c_str(), keyText(in, m, rr.key), static_cast<std::int64_t>(rr.windowSec) * 1000, c, rr.threshold,
                    rr.weight, rr.metric == Metric::Messages ? "messages" : "recipients", aggregateKind(rr.key));
        }
        // Rule 2: volume per link.
        if (m.size > 0) {
            for (std::size_t r = 0; r < rules.volumes.size(); ++r) {
                const VolumeRule& vr = rules.volumes[r];
                if (!vr.enabled) continue;
                std::int64_t best = -1;
                std::string bestKey;
                auto add = [&](std::uint64_t key, auto text) {
                    const std::int64_t c = volumeSums[r].add(key, t, m.size);
                    if (c >= vr.thresholdBytes && c > best) {
                        best = c;
                        bestKey = text();
                    }
                };
                switch (vr.link) {
                case LinkKind::ClientServer:
                    if (m.client && m.server >= 0)
                        add(combine(combine(6, m.client), static_cast<std::uint64_t>(m.server)),
                            [&] { return in.strings.str(m.client) + " -> " + serverName(in, m.server); });
                    break;
                case LinkKind::ServerServer:
                    for (std::uint32_t h = 0; h < m.hopCount; ++h) {
                        const Hop& hop = in.hops[m.hopBegin + h];
                        add(combine(7, (static_cast<std::uint64_t>(static_cast<std::uint32_t>(hop.from)) << 32)
                                           | static_cast<std::uint32_t>(hop.to)),
                            [&] { return serverName(in, hop.from) + " -> " + serverName(in, hop.to); });
                    }
                    break;
                case LinkKind::UnitUnit: {
                    if (m.unit < 0) break;
                    std::int32_t seen[64];
                    int nseen = 0;
                    for (std::uint32_t a = 0; a < m.rcptCount; ++a) {
                        const std::int32_t u = in.recipients[m.rcptBegin + a].unit;
                        if (u < 0 || std::find(seen, seen + nseen, u) != seen + nseen) continue;
                        if (nseen < 64) seen[nseen++] = u;
                        add(combine(8, (static_cast<std::uint64_t>(static_cast<std::uint32_t>(m.unit)) << 32)
                                           | static_cast<std::uint32_t>(u)),
                            [&] { return unitName(in, m.unit) + " -> " + unitName(in, u); });
                    }
                    break;
                }
                }
                if (best >= 0)
                    hit(vr.id.c_str(), bestKey, volumeSums[r].window(), best, vr.thresholdBytes, vr.weight, "bytes",
                        vr.link != LinkKind::ClientServer);
            }
        }
        // Rule 4: size bands.
        if (rules.size.enabled && m.size >= 0)
            for (const SizeBand& b : rules.size.bands)
                if (m.size >= b.min && (b.max <= 0 || m.size < b.max))
                    hit(kRuleSize, b.label, 0, m.size, b.min, b.weight, fmtBytes(m.size), false);
        // Rule 5a: against the key's own baseline.
        if (rules.baseline.enabled) {
            const std::int64_t w = static_cast<std::int64_t>(rules.baseline.windowSec) * 1000;
            const std::int64_t span = std::min<std::int64_t>(static_cast<std::int64_t>(rules.baseline.historySec) * 1000, t - t0);
            for (KeyKind k : rules.baseline.keys) {
                const int ki = static_cast<int>(k);
                if (baseShortCounter[ki] < 0 || values[baseShortCounter[ki]] < 0) continue;
                const std::int64_t s = values[baseShortCounter[ki]];
                const std::int64_t l = values[baseLongCounter[ki]];
                if (span < kBaselineMinHistoryMs || span <= w) continue;
                const double expected = static_cast<double>(l - s) * static_cast<double>(w) / static_cast<double>(span - w);
                const std::int64_t thr = std::max<std::int64_t>(rules.baseline.minCount,
                                                                static_cast<std::int64_t>(std::ceil(rules.baseline.factor * expected)));
                if (s >= thr) {
                    char detail[96];
                    std::snprintf(detail, sizeof detail, "%s: %.2f expected per window", keyKindName(k), expected);
                    // A surge of a whole unit, subnet or server says little about this message.
                    const bool own = k == KeyKind::Sender || k == KeyKind::Client;
                    hit(kRuleBaseline, keyText(in, m, k), w, s, thr, own ? rules.baseline.weight : rules.baseline.weightAggregate,
                        detail, aggregateKind(k));
                }
            }
        }
        behaviourSum[i] = static_cast<float>(sum);
        aggregateSum[i] = static_cast<float>(aggregate);
        behaviourPositive[i] = positive ? 1 : 0;
    }

    // Whether message i answers someone who wrote to its sender under the same subject, and
    // what its recipients now have heard from its sender. Behaviour thread.
    bool noteConversation(const DetectionInput& in, std::uint32_t i) {
        const Message& m = in.messages[i];
        if (!m.sender || !m.subject) return false;
        bool reply = false;
        const std::uint64_t subj = behaviourSubjects.get(in, m.subject, &reply, nullptr);
        if (!subj) return false;
        const std::int64_t memory = static_cast<std::int64_t>(rules.propagation.windowSec) * 1000;
        bool conv = false;
        for (std::uint32_t a = 0; a < m.rcptCount; ++a) {
            const std::uint32_t r = in.recipients[m.rcptBegin + a].address;
            if (reply && !conv) {
                const Heard* h = heardFrom.find(combine(m.sender, r));
                conv = h && h->time > m.time - memory && (h->subj == subj || h->previousSubj == subj);
            }
            Heard& h = heardFrom.get(combine(r, m.sender));
            if (h.subj != subj) {
                h.previousSubj = h.subj;
                h.subj = subj;
            }
            h.time = m.time;
        }
        return conv;
    }

    // Rule 5f's counts for message i: distinct recipients of the sender's new conversations of
    // this shape in the window, and the sender's own rate over its history. Judging thread.
    void countContacts(const DetectionInput& in, std::uint32_t i, bool conv) {
        const Message& m = in.messages[i];
        contactsCount[i] = -1;
        contactsExpected[i] = -1;
        // Messages to many at once are the fan-out rule's; this one watches one person at a time.
        if (!rules.contacts.enabled || conv || !m.internal || !m.senderKey || m.rcptCount == 0 || m.rcptCount > 3) return;
        const TimeMs t = m.time;
        // The shape: the first attachment's name (or none), one or a few recipients, and the
        // size on two shifted grids so that near sizes always share a cell: the same file give
        // or take a kilobyte when there is an attachment, else within a factor of 1.5 (a short
        // text whose lure changes).
        std::uint64_t shape = combine(0xC0, m.senderKey);
        bool attached = false;
        const Feat& f = feats[i];
        for (std::uint32_t a = 0; a < f.attCount && !attached; ++a) {
            if (in.str(in.attachments[m.attBegin + a]).empty()) continue;
            shape = combine(shape, attFeats[f.attBegin + a].exact);
            attached = true;
        }
        shape = combine(shape, m.rcptCount == 1 ? 1u : 2u);
        const double lg = m.size <= 0 ? -1.0
                        : attached ? static_cast<double>(m.size) / 2048.0
                                   : std::log(static_cast<double>(m.size)) * kInvLog15;
        std::int64_t d = 0, repeats = 0;
        for (int grid = 0; grid < 2; ++grid) {
            const std::uint64_t cell = m.size > 0 ? static_cast<std::uint64_t>(std::floor(lg + 0.5 * grid)) + 1 : 0;
            const std::uint64_t key = combine(combine(shape, static_cast<std::uint64_t>(grid)), cell);
            shapeKeys[2 * static_cast<std::size_t>(i) + static_cast<std::size_t>(grid)] = key;
            // Messages that reach someone new in the window: a worm walking a book mails one
            // new person per message; a person writes to the same few, or to many at once.
            // One sum holds both counts: reached in the low half, repeats in the high half.
            const std::int64_t before = contactsShape.peek(key, t);
            std::int64_t after = before;
            for (std::uint32_t a = 0; a < m.rcptCount; ++a) after = contactsShape.add(key, in.recipients[m.rcptBegin + a].address, t);
            const std::int64_t both = contactsMessages.add(key, t, after > before ? 1 : kRepeatUnit);
            const std::int64_t reached = both & (kRepeatUnit - 1);
            if (reached > d) {
                d = reached;
                repeats = both / kRepeatUnit;
            }
        }
        // A worm mails each entry once; a person writing this much writes to someone again.
        // More than one message in five to someone already reached: not a book being walked.
        contactsCount[i] = repeats * 5 > d ? 0 : static_cast<std::int32_t>(std::min<std::int64_t>(d, INT32_MAX));
        // The sender's own rate of such messages per window, from its history before the
        // current window (the surge must not raise its own bar).
        const std::int64_t w = static_cast<std::int64_t>(rules.contacts.windowSec) * 1000;
        const std::uint64_t sk = combine(0xC1, m.senderKey);
        const std::int64_t recent = contactsRecent.add(sk, t, 1);
        const std::int64_t total = ++contactsTotal.get(sk);
        const std::int64_t span = t - t0;
        if (span - w >= kBaselineMinHistoryMs)
            contactsExpected[i] = static_cast<float>(static_cast<double>(total - recent) * static_cast<double>(w)
                                                     / static_cast<double>(span - w));
    }

    // ---------------------------------------------------------- judging one message
    void process(const DetectionInput& in, std::uint32_t i) {
        const Message& m = in.messages[i];
        computeFeatures(in, i);
        st.emplace_back();
        const Feat& f = feats[i];
        const bool conv = conversational[i] != 0; // the behaviour side has told replies apart
        countContacts(in, i, conv);
        const TimeMs t = m.time;
        const bool deciding = t >= replayUntil;
        pending.clear();
        auto hit = [&](const char* rule, std::string key, std::int64_t windowMs, std::int64_t count, std::int64_t threshold,
                       double weight, std::string detail, bool behaviour) {
            if (!deciding) return;
            pending.push_back(
                {makeHit(i, rule, std::move(key), t, windowMs, count, threshold, weight, std::move(detail)), behaviour});
        };
        const std::int64_t nrcpt = m.rcptCount;

        // Rule 3: attachment type.
        if (rules.type.enabled && f.attCount) {
            // One hit, for the worst attachment.
            double best = -1;
            std::uint32_t bestAtt = 0;
            AttClass bestClass = AttClass::Other;
            for (std::uint32_t a = 0; a < f.attCount; ++a) {
                const AttClass c = attFeats[f.attBegin + a].klass;
                const double w = dangerous(c) ? rules.type.weightDangerous
                               : c == AttClass::Macro ? rules.type.weightMacro
                               : c == AttClass::Archive ? rules.type.weightArchive : -1;
                if (w > best) {
                    best = w;
                    bestAtt = a;
                    bestClass = c;
                }
            }
            if (best >= 0)
                hit(kRuleType, in.strings.str(in.attachments[m.attBegin + bestAtt]), 0, 1, 1, best, className(bestClass), false);
        }
        // Rule 5b: fan-out.
        // Fan-out and bursts weigh only for senders of ours: outside senders are not counted.
        // Replies in a thread the recipient started are not counted: they are not fanning out.
        if (rules.fanout.enabled && m.internal && m.senderKey && nrcpt > 0 && !conversational[i]) {
            std::int64_t c = 0;
            for (std::uint32_t a = 0; a < m.rcptCount; ++a)
                c = fanout.add(m.senderKey, in.recipients[m.rcptBegin + a].address, t);
            if (c >= rules.fanout.threshold)
                hit(kRuleFanout, in.strings.str(m.senderKey), static_cast<std::int64_t>(rules.fanout.windowSec) * 1000, c,
                    rules.fanout.threshold, rules.fanout.weight, "distinct recipients", true);
        }
        // Rule 5c: the same content as separate messages; and the spread that propagation weighs.
        std::uint64_t keys[kMaxKeys];
        const int nkeys = contentKeys(i, keys);
        std::uint64_t bkeys[kMaxKeys];
        bool bkeyAtt[kMaxKeys];
        const int nbkeys = burstKeys(in, i, bkeys, bkeyAtt);
        std::int64_t burstMax = 0, burstAtt = 0, spreadMax = nrcpt;
        if (m.senderKey && m.internal) {
            const bool small = nrcpt > 0 && nrcpt <= rules.burst.maxRecipients;
            const std::uint64_t senderHash = combine(0xB, m.senderKey);
            for (int k = 0; k < nbkeys; ++k) {
                bool fresh = false;
                std::uint32_t& slotRef = contentSlots.get(combine(senderHash, bkeys[k]), &fresh);
                if (fresh) slotRef = nextContentSlot++;
                const std::uint32_t slot = slotRef;
                const std::int64_t b = small ? burst.addSlot(slot, t, 1) : burst.peekSlot(slot, t);
                burstMax = std::max(burstMax, b);
                if (bkeyAtt[k]) burstAtt = std::max(burstAtt, b);
                spreadMax = std::max(spreadMax, spread.addSlot(slot, t, nrcpt));
            }
        }
        if (rules.burst.enabled && burstMax >= rules.burst.threshold) {
            const bool att = burstAtt >= rules.burst.threshold;
            const double w = m.internal ? rules.burst.weight + (att ? rules.burst.attachmentBonus : 0) : 0;
            hit(kRuleBurst, in.strings.str(m.senderKey), static_cast<std::int64_t>(rules.burst.windowSec) * 1000, burstMax,
                rules.burst.threshold, w, att ? "same attachment, separate messages" : "same subject, separate messages", false);
        }
        // Rule 5d: propagation.
        if (rules.propagation.enabled && m.sender) {
            const std::int64_t w = static_cast<std::int64_t>(rules.propagation.windowSec) * 1000;
            std::uint32_t cand[kMaxCandidates];
            TimeMs candTime[kMaxCandidates];
            int ncand = 0;
            for (int k = 0; k < nkeys && ncand < kMaxCandidates; ++k) {
                const Recv* e = received.find(combine(m.sender, keys[k]));
                if (!e || e->time >= t || e->time <= t - w || e->msg == i) continue;
                if (std::find(cand, cand + ncand, e->msg) != cand + ncand) continue;
                cand[ncand] = e->msg;
                candTime[ncand] = e->time;
                ++ncand;
            }
            int best = -1;
            Resemblance bestRes;
            for (int c = 0; c < ncand; ++c) {
                const Resemblance r = resemble(in, cand[c], i);
                if (!r.link) continue;
                if (best < 0 || r.strong > bestRes.strong || (r.strong == bestRes.strong && r.strength > bestRes.strength)
                    || (r.strong == bestRes.strong && r.strength == bestRes.strength && candTime[c] > candTime[best])) {
                    best = c;
                    bestRes = r;
                }
            }
            if (best >= 0) {
                st[i].parent = static_cast<std::int32_t>(cand[best]);
                st[i].parentStrong = bestRes.strong;
                double weight = bestRes.strong ? rules.propagation.weightStrong : rules.propagation.weightWeak;
                if (spreadMax < rules.propagation.spreadMin) weight *= 0.5;
                // A person forwarding what they received ("Fw:" and the same subject) to their
                // team is not a worm mailing its address book: it counts half.
                if (f.forward && f.subj && f.subj == feats[cand[best]].subj) weight *= 0.5;
                if (deciding) {
                    Hit h;
                    h.message = i;
                    h.rule = kRulePropagation;
                    h.key = in.strings.str(in.messages[cand[best]].messageId);
                    h.windowStart = candTime[best];
                    h.windowEnd = t;
                    h.count = spreadMax;
                    h.threshold = rules.propagation.spreadMin;
                    h.weight = weight;
                    h.detail = "received from " + in.strings.str(in.messages[cand[best]].sender) + ", sent on: " + bestRes.how();
                    pending.push_back({std::move(h), false});
                }
            }
        }
        // Rule 5e: similar to what another sender was flagged for.
        std::uint64_t specific[kMaxKeys];
        float specificRarity[kMaxKeys];
        int nspecific = 0;
        for (std::uint32_t a = 0; a < f.attCount && nspecific < kMaxKeys - 1; ++a) {
            const AttFeat& af = attFeats[f.attBegin + a];
            if (af.klass != AttClass::Image) {
                specificRarity[nspecific] = af.rExact;
                specific[nspecific++] = combine(0x51, af.exact);
            }
            if (af.cls) {
                specificRarity[nspecific] = 1;
                specific[nspecific++] = combine(0x52, af.cls);
            }
        }
        if (rules.similar.enabled && nspecific) {
            // The rarest match decides; a name everybody sends weighs (almost) nothing.
            const std::int64_t w = static_cast<std::int64_t>(rules.similar.windowSec) * 1000;
            int best = -1;
            std::uint32_t bestOther = 0;
            for (int k = 0; k < nspecific; ++k) {
                const FlagKey* e = flaggedKeys.find(specific[k]);
                if (!e || e->time <= t - w) continue;
                if (e->s1 == m.senderKey && (!e->s2 || e->s2 == m.senderKey)) continue;
                if (best < 0 || specificRarity[k] > specificRarity[best]) {
                    best = k;
                    bestOther = e->s1 == m.senderKey ? e->s2 : e->s1;
                }
            }
            const double weight = best < 0 ? 0 : rules.similar.weight * static_cast<double>(specificRarity[best]);
            if (weight >= 0.25 * rules.similar.weight)
                hit(kRuleSimilar, in.strings.str(bestOther), w, 1, 1, weight,
                    specificRarity[best] < 1 ? "shares a fairly common attachment name with a message flagged earlier from another sender"
                                             : "shares an attachment name or type with a message flagged earlier from another sender",
                    false);
        }
        // Rule 5f: new contacts, in one shape, beyond the sender's own habit.
        if (rules.contacts.enabled && contactsCount[i] >= 0) {
            const ContactsRule& cr = rules.contacts;
            // Exposed: it received a flagged message of the shape it now sends (an infection sends
            // on what it received; a .vbs received says nothing about one's own short notes).
            const Exposure* exp = exposedAt.find(m.senderKey);
            if (!exp && m.sender != m.senderKey) exp = exposedAt.find(m.sender);
            const bool exposed = exp && exp->time < t && exp->time > t - static_cast<std::int64_t>(cr.exposureSec) * 1000
                              && sameShape(in, exp->message, i);
            const double expected = contactsExpected[i];
            const double minCount = static_cast<double>(exposed ? cr.exposedMinCount : cr.minCount);
            // Without an hour of the sender's own history, a little more than the minimum.
            const double thr = expected < 0 ? minCount + 2
                                            : std::max(minCount, std::ceil((exposed ? cr.exposedFactor : cr.factor) * expected));
            if (contactsCount[i] >= thr) {
                char detail[160];
                std::snprintf(detail, sizeof detail, "%d new conversations with new people in one shape; %s%s",
                              contactsCount[i],
                              expected < 0 ? "no hour of own history yet" : (std::to_string(static_cast<int>(std::lround(expected))) + " expected from its history").c_str(),
                              exposed ? "; received a flagged message earlier" : "");
                hit(kRuleContacts, in.strings.str(m.senderKey), static_cast<std::int64_t>(cr.windowSec) * 1000, contactsCount[i],
                    static_cast<std::int64_t>(thr), cr.weight, detail, false);
                contactsFired[i] = deciding ? 1 : 0;
            }
        }
        // Rules that plug in (send confirmation ...).
        if (deciding && !extras.empty()) {
            Sink sink(pending);
            for (auto& x : extras) x->evaluate(in, i, sink);
        }

        // The decision.
        // A reply in a thread the recipient started did not cause the surge: the behaviour
        // evidence goes to the messages that did.
        double strong = 0, behaviour = conv ? 0.0 : behaviourSum[i];
        bool positive = !conv && behaviourPositive[i] != 0;
        for (const Pending& p : pending) {
            (p.behaviour ? behaviour : strong) += p.hit.weight;
            positive |= p.hit.weight > 0;
        }
        if (!conv) behaviour += std::min<double>(rules.decision.aggregateCap, aggregateSum[i]);
        const double score = strong + (m.internal ? std::min(rules.decision.behaviourCap, behaviour) : 0.0);
        MessageState& s = st[i];
        s.score = static_cast<float>(score);
        bool isFlagged = false;
        if (deciding) {
            if (score >= rules.decision.threshold) {
                s.flaggedAt = t;
                s.source = FlagSource::Rules;
                isFlagged = true;
            }
            if (opt.keepAllHits || positive || isFlagged) {
                keep[i] = 1;
                for (Pending& p : pending) hitsB.push_back(std::move(p.hit));
            }
        } else if (const auto it = known.find(i); it != known.end()) {
            s.flaggedAt = it->second.first;
            s.source = it->second.second;
            if (preset.size() <= i) preset.resize(i + 1, 0);
            preset[i] = 1;
            isFlagged = s.source == FlagSource::Rules;
        }
        if (isFlagged) ++flaggedRules;

        // What later messages will look back on.
        for (std::uint32_t a = 0; a < m.rcptCount; ++a) {
            const Recipient& r = in.recipients[m.rcptBegin + a];
            const TimeMs when = std::max(r.time, t);
            for (int k = 0; k < nkeys; ++k) {
                Recv& e = received.get(combine(r.address, keys[k]));
                e.time = when;
                e.msg = i;
            }
        }
        // How common its name and subject are now, for the messages after it.
        if (m.senderKey) {
            for (std::uint32_t a = 0; a < f.attCount; ++a) {
                const AttFeat& af = attFeats[f.attBegin + a];
                notePopularity(af.exact, m.senderKey, isFlagged);
                notePopularity(af.norm, m.senderKey, isFlagged);
                notePopularity(af.extBand, m.senderKey, isFlagged);
            }
            if (f.subj && !f.reply) notePopularity(f.subj, m.senderKey, isFlagged);
        }
        if (isFlagged)
            for (std::uint32_t a = 0; a < m.rcptCount; ++a) {
                const Recipient& r = in.recipients[m.rcptBegin + a];
                exposedAt.get(r.address) = {std::max(r.time, t), i};
            }
        if (isFlagged)
            for (int k = 0; k < nspecific; ++k) {
                FlagKey& e = flaggedKeys.get(specific[k]);
                e.time = t;
                if (e.s1 != m.senderKey) {
                    e.s2 = e.s1;
                    e.s1 = m.senderKey;
                }
            }
    }

    // ---------------------------------------------------------- campaigns
    // Whether b is the same content as a, sent by the same sender: the same file (name and
    // near-identical size), the same dangerous type, a rare name pattern, or without
    // attachments the same rare subject that is not a reply. A common name alone is not enough:
    // an infected user's own budget.xlsx is not the worm's.
    bool siblingKeys(const DetectionInput& in, std::uint32_t a, std::uint32_t b) const {
        const Feat& fa = feats[a];
        const Feat& fb = feats[b];
        const bool sameSize = sameFileSize(in.messages[a].size, in.messages[b].size);
        if (fa.attCount == 0 && fb.attCount == 0)
            return fa.subj && fa.subj == fb.subj && !fa.reply && std::min(fa.rSubj, fb.rSubj) >= 0.5f;
        for (std::uint32_t x = 0; x < fa.attCount; ++x) {
            const AttFeat& p = attFeats[fa.attBegin + x];
            if (p.klass == AttClass::Image) continue;
            for (std::uint32_t y = 0; y < fb.attCount; ++y) {
                const AttFeat& q = attFeats[fb.attBegin + y];
                if (q.klass == AttClass::Image) continue;
                if (p.cls && p.cls == q.cls) return true;
                if (p.exact == q.exact && (sameSize || std::min(p.rExact, q.rExact) >= 0.5f)) return true;
                if (p.norm == q.norm && std::min(p.rNorm, q.rNorm) >= 0.5f) return true;
            }
        }
        return false;
    }

    // The same shape across senders (contact tracing): the same file, or both without an
    // attachment, a similar size and one or a few recipients each.
    bool sameShape(const DetectionInput& in, std::uint32_t a, std::uint32_t b) const {
        const Message& x = in.messages[a];
        const Message& y = in.messages[b];
        if (x.rcptCount == 0 || y.rcptCount == 0 || x.rcptCount > 3 || y.rcptCount > 3) return false;
        const Feat& fa = feats[a];
        const Feat& fb = feats[b];
        if (fa.attCount == 0 && fb.attCount == 0) {
            if (x.size <= 0 || y.size <= 0) return false;
            const double r = static_cast<double>(std::max(x.size, y.size)) / static_cast<double>(std::min(x.size, y.size));
            return r <= 1.5;
        }
        if (fa.attCount == 0 || fb.attCount == 0) return false;
        for (std::uint32_t p = 0; p < fa.attCount; ++p)
            for (std::uint32_t q = 0; q < fb.attCount; ++q)
                if (attFeats[fa.attBegin + p].exact == attFeats[fb.attBegin + q].exact && sameFileSize(x.size, y.size)) return true;
        return false;
    }

    std::string label(const DetectionInput& in, const std::vector<std::uint32_t>& msgs) const;
    void build(const DetectionInput& in);
};

std::string Detector::Impl::label(const DetectionInput& in, const std::vector<std::uint32_t>& msgs) const {
    const double total = static_cast<double>(msgs.size());
    // Attachment: the commonest exact name, else name pattern, else the dangerous type.
    std::unordered_map<std::uint32_t, int> names;
    std::unordered_map<std::string, int> patterns, classes;
    std::unordered_map<std::string, int> subjects, subjectPatterns;
    for (std::uint32_t i : msgs) {
        const Message& m = in.messages[i];
        const Feat& f = feats[i];
        for (std::uint32_t a = 0; a < m.attCount && a < f.attCount; ++a) {
            ++names[in.attachments[m.attBegin + a]];
            ++patterns[normaliseName(in.str(in.attachments[m.attBegin + a]))];
            const AttClass c = attFeats[f.attBegin + a].klass;
            if (c != AttClass::Other) ++classes[className(c)];
        }
        if (m.subject) {
            ++subjects[std::string(in.str(m.subject))];
            ++subjectPatterns[normaliseSubject(in.str(m.subject))];
        }
    }
    auto top = [](const auto& map) {
        auto best = map.begin();
        for (auto it = map.begin(); it != map.end(); ++it)
            if (it->second > best->second || (it->second == best->second && it->first < best->first)) best = it;
        return best;
    };
    std::string att;
    if (!names.empty() && top(names)->second >= total * 0.5) att = in.strings.str(top(names)->first);
    else if (!patterns.empty() && top(patterns)->second >= total * 0.5) att = top(patterns)->first;
    else if (!classes.empty() && top(classes)->second >= total * 0.5) {
        att = top(classes)->first;
        // A few examples of the disguises.
        std::vector<std::string> ex;
        for (std::uint32_t i : msgs) {
            const Message& m = in.messages[i];
            if (!m.attCount) continue;
            std::string n = normaliseName(in.str(in.attachments[m.attBegin]));
            if (std::find(ex.begin(), ex.end(), n) == ex.end()) ex.push_back(n);
            if (ex.size() >= 3) break;
        }
        std::string list;
        for (const std::string& e : ex) list += (list.empty() ? "" : ", ") + e;
        if (!list.empty()) att += " (" + list + (ex.size() >= 3 ? ", ..." : "") + ")";
    }
    std::string subj;
    if (!subjects.empty() && top(subjects)->second >= total * 0.5) {
        subj = "\"" + top(subjects)->first + "\"";
    } else if (!subjectPatterns.empty() && top(subjectPatterns)->second >= total * 0.5) {
        subj = "\"" + top(subjectPatterns)->first + "\"";
    } else if (!subjects.empty()) {
        // The longest run of leading words that at least half of the subjects share.
        const std::string first = in.strings.str(in.messages[msgs.front()].subject);
        std::size_t cut = 0;
        for (std::size_t pos = first.find(' '); ; pos = first.find(' ', pos + 1)) {
            const std::size_t end = pos == std::string::npos ? first.size() : pos;
            const std::string_view prefix = std::string_view(first).substr(0, end);
            int share = 0;
            for (std::uint32_t i : msgs)
                if (in.str(in.messages[i].subject).substr(0, end) == prefix) ++share;
            if (share < total * 0.5) break;
            cut = end;
            if (pos == std::string::npos) break;
        }
        subj = cut > 0 ? "\"" + first.substr(0, cut) + " ...\"" : "various subjects";
    }
    if (att.empty()) return subj.empty() ? "no attachment, no subject" : subj;
    return subj.empty() ? att : att + " " + subj;
}

void Detector::Impl::build(const DetectionInput& in) {
    const std::uint32_t n = static_cast<std::uint32_t>(st.size());
    campaigns.clear();
    campaignHits.clear();
    std::vector<TimeMs> at(n, kNoTime);
    std::vector<std::int32_t> via(n, -1);
    std::vector<FlagSource> source(n, FlagSource::None);
    std::vector<char> surge(n, 0); // joined as part of the surge that made rule 5f fire
    for (std::uint32_t i = 0; i < n; ++i) {
        MessageState& s = st[i];
        s.campaign = s.generation = s.treeParent = -1;
        if (s.source == FlagSource::Rules || (i < preset.size() && preset[i])) {
            at[i] = s.flaggedAt;
            source[i] = s.source;
        } else {
            s.flaggedAt = kNoTime;
            s.source = FlagSource::None;
        }
    }
    // Messages per sender, in time order (a counting sort by sender id).
    std::vector<std::uint32_t> start(in.strings.size() + 2, 0), bySender(n);
    for (std::uint32_t i = 0; i < n; ++i) ++start[in.messages[i].senderKey + 1];
    for (std::size_t k = 1; k < start.size(); ++k) start[k] += start[k - 1];
    {
        std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
        for (std::uint32_t i = 0; i < n; ++i) bySender[fill[in.messages[i].senderKey]++] = i;
    }
    const std::int64_t burstWindow = static_cast<std::int64_t>(rules.burst.windowSec) * 1000;

    // Joins in order of the moment they became known (earliest justification wins).
    using Entry = std::pair<TimeMs, std::uint32_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
    for (std::uint32_t i = 0; i < n; ++i)
        if (at[i] != kNoTime) queue.push({at[i], i});
    std::vector<char> done(n, 0);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> unions;
    auto join = [&](std::uint32_t j, TimeMs when, std::uint32_t from, FlagSource how) {
        unions.push_back({from, j});
        if (at[j] != kNoTime && at[j] <= when) return;
        at[j] = when;
        via[j] = static_cast<std::int32_t>(from);
        surge[j] = 0;
        if (source[j] != FlagSource::Rules) source[j] = how;
        queue.push({when, j});
    };
    while (!queue.empty()) {
        const auto [when, i] = queue.top();
        queue.pop();
        if (done[i] || when != at[i]) continue;
        done[i] = 1;
        const MessageState& s = st[i];
        if (s.parent >= 0 && s.parentStrong) join(static_cast<std::uint32_t>(s.parent), when, i, FlagSource::Parent);
        const std::uint32_t sk = in.messages[i].senderKey;
        if (!sk) continue;
        const auto b = bySender.begin() + start[sk], e = bySender.begin() + start[sk + 1];
        const auto pos = std::lower_bound(b, e, i);
        TimeMs edge = in.messages[i].time;
        for (auto it = pos; it != b;) {
            const std::uint32_t j = *--it;
            if (edge - in.messages[j].time > burstWindow) break;
            if (!siblingKeys(in, i, j)) continue;
            edge = in.messages[j].time;
            join(j, when, i, FlagSource::Sibling);
        }
        // The messages of the same shape that made rule 5f fire: they are the surge, whatever
        // their subjects.
        if (i < contactsFired.size() && contactsFired[i]) {
            const std::int64_t cw = static_cast<std::int64_t>(rules.contacts.windowSec) * 1000;
            const std::uint64_t k0 = shapeKeys[2 * i], k1 = shapeKeys[2 * i + 1];
            for (auto it = pos; it != b;) {
                const std::uint32_t j = *--it;
                if (in.messages[i].time - in.messages[j].time > cw) break;
                if (conversational[j]) continue;
                const std::uint64_t j0 = shapeKeys[2 * j], j1 = shapeKeys[2 * j + 1];
                if ((k0 && k0 == j0) || (k1 && k1 == j1)) {
                    join(j, when, i, FlagSource::Sibling);
                    if (via[j] == static_cast<std::int32_t>(i)) surge[j] = 1;
                }
            }
        }
        edge = in.messages[i].time;
        for (auto it = pos + 1; it < e; ++it) {
            const std::uint32_t j = *it;
            if (in.messages[j].time - edge > burstWindow) break;
            if (!siblingKeys(in, i, j)) continue;
            edge = in.messages[j].time;
            join(j, std::max(when, in.messages[j].time), i, FlagSource::Sibling);
        }
    }
    std::vector<std::uint32_t> members;
    for (std::uint32_t i = 0; i < n; ++i)
        if (at[i] != kNoTime) members.push_back(i);
    flaggedTotal = members.size();
    for (std::uint32_t i : members) {
        st[i].flaggedAt = at[i];
        st[i].source = source[i];
        if (source[i] == FlagSource::Rules || via[i] < 0) continue;
        Hit h;
        h.message = i;
        h.rule = kRuleCampaign;
        h.key = in.strings.str(in.messages[static_cast<std::uint32_t>(via[i])].messageId);
        h.windowStart = in.messages[i].time;
        h.windowEnd = at[i];
        h.count = 1;
        h.threshold = 1;
        h.weight = 0;
        h.detail = source[i] == FlagSource::Parent ? "received, then sent on as a flagged message"
                 : surge[i] ? "same sender, same shape, one of the new conversations that made the new-contacts rule fire"
                            : "same sender, same content, same burst as a flagged message";
        campaignHits.push_back(std::move(h));
    }

    // Propagation edges among campaign messages: the sender of S received R shortly before.
    std::unordered_map<std::uint32_t, std::vector<Recv>> inbox;
    for (std::uint32_t i : members) {
        const Message& m = in.messages[i];
        for (std::uint32_t a = 0; a < m.rcptCount; ++a) {
            const Recipient& r = in.recipients[m.rcptBegin + a];
            inbox[r.address].push_back({std::max(r.time, m.time), i});
        }
    }
    for (auto& [addr, list] : inbox)
        std::sort(list.begin(), list.end(), [](const Recv& a, const Recv& b) { return a.time != b.time ? a.time < b.time : a.msg < b.msg; });
    const std::int64_t pw = static_cast<std::int64_t>(rules.propagation.windowSec) * 1000;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
    for (std::uint32_t s : members) {
        const Message& m = in.messages[s];
        const auto it = inbox.find(m.sender);
        if (it == inbox.end()) continue;
        const auto& list = it->second;
        auto hi = std::lower_bound(list.begin(), list.end(), m.time, [](const Recv& r, TimeMs t) { return r.time < t; });
        int taken = 0;
        while (hi != list.begin() && taken < kMaxParentsPerMessage) {
            const Recv& r = *--hi;
            if (r.time <= m.time - pw) break;
            if (r.msg == s || in.messages[r.msg].time >= m.time) continue;
            if (!resemble(in, r.msg, s).strong) continue;
            edges.push_back({r.msg, s});
            ++taken;
        }
    }
    // A worm without a telltale attachment leaves no attachment to follow from one victim to
    // the next; what links them is contact tracing: the sender's first flagged message came
    // shortly after it received a flagged message of the same shape (the same file, or no
    // attachment and a similar size, to one or a few people). That received message is its
    // parent.
    {
        const std::int64_t ew = static_cast<std::int64_t>(rules.contacts.exposureSec) * 1000;
        std::unordered_set<std::uint32_t> traced; // senders already traced
        std::unordered_set<std::uint32_t> hasParent;
        for (const auto& e : edges) hasParent.insert(e.second);
        for (std::uint32_t s : members) {
            const Message& m = in.messages[s];
            // The sender's earliest flagged message that has such a parent; its later ones follow
            // it through the burst they share.
            if (hasParent.count(s) || !m.senderKey || traced.count(m.senderKey)) continue;
            const auto it = inbox.find(m.sender);
            if (it == inbox.end()) continue;
            const auto& list = it->second;
            auto hi = std::lower_bound(list.begin(), list.end(), m.time, [](const Recv& r, TimeMs t) { return r.time < t; });
            for (int looked = 0; hi != list.begin() && looked < 64; ++looked) {
                const Recv& r = *--hi;
                if (r.time <= m.time - ew) break;
                if (r.msg == s || in.messages[r.msg].time >= m.time || in.messages[r.msg].senderKey == m.senderKey) continue;
                if (!sameShape(in, r.msg, s)) continue;
                edges.push_back({r.msg, s});
                traced.insert(m.senderKey);
                break;
            }
        }
    }
    // Groups: joins, edges, and the same exact attachment name.
    std::vector<std::uint32_t> uf(n);
    std::iota(uf.begin(), uf.end(), 0u);
    auto findRoot = [&](std::uint32_t x) {
        while (uf[x] != x) x = uf[x] = uf[uf[x]];
        return x;
    };
    auto unite = [&](std::uint32_t a, std::uint32_t b) {
        a = findRoot(a);
        b = findRoot(b);
        if (a != b) uf[std::max(a, b)] = std::min(a, b);
    };
    for (const auto& [a, b] : unions) unite(a, b);
    for (const auto& [a, b] : edges) unite(a, b);
    {
        FlatMap<std::uint32_t> byName;
        for (std::uint32_t i : members) {
            const Feat& f = feats[i];
            for (std::uint32_t a = 0; a < f.attCount; ++a) {
                const AttFeat& af = attFeats[f.attBegin + a];
                // Only names specific to this content: a dangerous type, or a name that was rare.
                if (af.klass == AttClass::Image || (!af.cls && af.rExact < 0.5f)) continue;
                bool fresh = false;
                std::uint32_t& first = byName.get(af.exact, &fresh);
                if (fresh) first = i;
                else unite(first, i);
            }
        }
    }
    std::unordered_map<std::uint32_t, std::size_t> groupOf;
    std::vector<std::vector<std::uint32_t>> groups;
    for (std::uint32_t i : members) { // members are in time order, so groups come out by first sighting
        const std::uint32_t r = findRoot(i);
        auto [it, fresh] = groupOf.emplace(r, groups.size());
        if (fresh) groups.emplace_back();
        groups[it->second].push_back(i);
    }
    std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> groupEdges(groups.size());
    for (const auto& e : edges) groupEdges[groupOf.at(findRoot(e.first))].push_back(e);

    for (std::size_t g = 0; g < groups.size(); ++g) {
        Campaign c;
        c.id = static_cast<int>(g) + 1;
        c.messages = groups[g];
        c.edges = groupEdges[g];
        std::unordered_map<std::uint32_t, std::size_t> local;
        for (std::size_t k = 0; k < c.messages.size(); ++k) local.emplace(c.messages[k], k);
        PropagationGraph graph(c.messages.size());
        for (const auto& [a, b] : c.edges) graph.addEdge(local.at(a), local.at(b));
        std::vector<int> gen;
        std::vector<long> parent;
        graph.generations(gen, parent);
        int maxGen = 0;
        std::uint32_t pz = c.messages.front();
        bool havePz = false;
        std::unordered_set<std::uint32_t> senders, recipients;
        std::unordered_set<std::int32_t> units;
        for (std::size_t k = 0; k < c.messages.size(); ++k) {
            const std::uint32_t i = c.messages[k];
            MessageState& s = st[i];
            s.campaign = static_cast<std::int32_t>(g);
            s.generation = gen[k];
            s.treeParent = parent[k] >= 0 ? static_cast<std::int32_t>(c.messages[static_cast<std::size_t>(parent[k])]) : -1;
            maxGen = std::max(maxGen, gen[k]);
            if (gen[k] == 0 && !havePz) {
                pz = i;
                havePz = true;
            }
            if (s.source == FlagSource::Rules && (c.detectedAt == kNoTime || s.flaggedAt < c.detectedAt)) c.detectedAt = s.flaggedAt;
            const Message& m = in.messages[i];
            senders.insert(m.senderKey);
            if (m.unit >= 0) units.insert(m.unit);
            for (std::uint32_t a = 0; a < m.rcptCount; ++a) {
                const Recipient& r = in.recipients[m.rcptBegin + a];
                recipients.insert(r.address);
                if (r.unit >= 0) units.insert(r.unit);
            }
        }
        c.patientZeroMessage = pz;
        c.patientZero = in.strings.str(in.messages[pz].sender ? in.messages[pz].sender : in.messages[pz].senderKey);
        c.firstSeen = in.messages[c.messages.front()].time;
        c.generations = maxGen + 1;
        c.senders = static_cast<int>(senders.size());
        c.recipients = static_cast<int>(recipients.size());
        c.units.assign(units.begin(), units.end());
        std::sort(c.units.begin(), c.units.end());
        c.label = label(in, c.messages);
        campaigns.push_back(std::move(c));
    }
}

// ------------------------------------------------------------------ Detector

Detector::Detector(RuleSet rules, Options options) : d(std::make_unique<Impl>(std::move(rules), options)) {}
Detector::Detector(RuleSet rules) : Detector(std::move(rules), Options{}) {}
Detector::~Detector() = default;

void Detector::addRule(std::unique_ptr<ExtraRule> rule) { d->extras.push_back(std::move(rule)); }

void Detector::setReplay(TimeMs until, std::unordered_map<std::uint32_t, std::pair<TimeMs, FlagSource>> knownFlags,
                         TimeMs origin) {
    d->replayUntil = until;
    d->known = std::move(knownFlags);
    if (origin != kNoTime) d->t0 = origin;
}

void Detector::run(const DetectionInput& in) {
    Impl& x = *d;
    const std::size_t begin = x.st.size();
    const std::size_t end = std::min(in.sorted, in.messages.size());
    if (end <= begin) return;
    x.st.reserve(end);
    x.feats.reserve(end);
    x.behaviourSum.assign(end, 0.0f);
    x.aggregateSum.assign(end, 0.0f);
    x.conversational.assign(end, 0);
    x.contactsCount.assign(end, -1);
    x.contactsExpected.assign(end, -1.0f);
    x.shapeKeys.resize(2 * end, 0);
    x.contactsFired.resize(end, 0);
    x.behaviourPositive.assign(end, 0);
    x.keep.assign(end, 0);
    x.hitsA.clear();
    x.hitsB.clear();
    // The behaviour rules run ahead on a second thread; judging follows as far as they got.
    // Both sides only read the input and keep state of their own; the arrays above are sized
    // before they start. Small batches are not worth a thread: the same two passes in turn.
    constexpr std::size_t kThreaded = 50000, kPublish = 2048;
    static const bool sequential = qEnvironmentVariableIsSet("MT_DETECT_SEQUENTIAL");
    if (end - begin < kThreaded || sequential) {
        QElapsedTimer timer;
        timer.start();
        for (std::size_t i = begin; i < end; ++i) x.behaviour(in, static_cast<std::uint32_t>(i));
        const qint64 behaviourMs = timer.restart();
        for (std::size_t i = begin; i < end; ++i) x.process(in, static_cast<std::uint32_t>(i));
        if (sequential) fprintf(stderr, "behaviour %lld ms, judging %lld ms\n", static_cast<long long>(behaviourMs),
                                static_cast<long long>(timer.elapsed()));
    } else {
        std::atomic<std::size_t> ahead{begin};
        std::exception_ptr failure;
        QElapsedTimer timer;
        timer.start();
        qint64 workerMs = 0;
        std::thread worker([&] {
            struct Done {
                qint64& ms;
                QElapsedTimer& t;
                ~Done() { ms = t.elapsed(); }
            } done{workerMs, timer};
            try {
                for (std::size_t i = begin; i < end; ++i) {
                    x.behaviour(in, static_cast<std::uint32_t>(i));
                    if ((i + 1 - begin) % kPublish == 0) ahead.store(i + 1, std::memory_order_release);
                }
            } catch (...) {
                failure = std::current_exception();
            }
            ahead.store(end + 1, std::memory_order_release); // done (or failed)
        });
        try {
            for (std::size_t i = begin; i < end; ++i) {
                while (ahead.load(std::memory_order_acquire) <= i) std::this_thread::yield();
                if (failure) break;
                x.process(in, static_cast<std::uint32_t>(i));
            }
        } catch (...) {
            worker.join();
            throw;
        }
        const qint64 mainMs = timer.elapsed();
        worker.join();
        if (qEnvironmentVariableIsSet("MT_PROFILE"))
            fprintf(stderr, "behaviour thread %lld ms, judging thread %lld ms\n", static_cast<long long>(workerMs),
                    static_cast<long long>(mainMs));
        if (failure) std::rethrow_exception(failure);
    }
    // Hits in message order, each message's behaviour hits first, only of the messages kept.
    std::size_t a = 0, b = 0;
    while (a < x.hitsA.size() || b < x.hitsB.size()) {
        const bool takeA = b >= x.hitsB.size() || (a < x.hitsA.size() && x.hitsA[a].message <= x.hitsB[b].message);
        Hit& h = takeA ? x.hitsA[a++] : x.hitsB[b++];
        if (!takeA || (x.keep[h.message] && !x.conversational[h.message])) x.hits.push_back(std::move(h));
    }
    x.hitsA.clear();
    x.hitsB.clear();
    x.hitsA.shrink_to_fit();
    x.hitsB.shrink_to_fit();
}

std::size_t Detector::processed() const { return d->st.size(); }
void Detector::buildCampaigns(const DetectionInput& in) { d->build(in); }
const RuleSet& Detector::rules() const { return d->rules; }
const std::vector<MessageState>& Detector::states() const { return d->st; }
const std::vector<Hit>& Detector::hits() const { return d->hits; }
const std::vector<Hit>& Detector::campaignHits() const { return d->campaignHits; }
const std::vector<Campaign>& Detector::campaigns() const { return d->campaigns; }
bool Detector::flagged(std::uint32_t index) const { return index < d->st.size() && d->st[index].flagged(); }
std::size_t Detector::flaggedCount() const {
    std::size_t n = 0;
    for (const MessageState& s : d->st) n += s.flagged() ? 1 : 0;
    return n;
}

} // namespace mt::det
