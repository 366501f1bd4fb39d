// The outbreak simulator (Simulator.h): the mail world of PostfixWorld.h driven by people
// instead of the bench's stress traffic. One event queue in time order holds everything that
// is going to happen: the next ordinary message, inbound mail and noise (Poisson arrivals
// thinned by the working day), replies, the legitimate bulk mail, worm messages and the
// moments their recipients read them. Every decision comes from one seeded stream and every
// detail of the log lines from the world's own, so the same options give the same bytes.
#include "Simulator.h"

#include "AddressBooks.h"
#include "PostfixWorld.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <numeric>
#include <unordered_set>

namespace mt::sim {

QString wormName(Worm w) {
    switch (w) {
    case Worm::None: return QStringLiteral("none");
    case Worm::IloveYou: return QStringLiteral("iloveyou");
    case Worm::Melissa: return QStringLiteral("melissa");
    case Worm::Polymorphic: return QStringLiteral("polymorphic");
    case Worm::Disguised: return QStringLiteral("disguised");
    case Worm::Link: return QStringLiteral("link");
    }
    return QStringLiteral("none");
}

QString trafficName(Traffic t) { return t == Traffic::Busy ? QStringLiteral("busy") : QStringLiteral("calm"); }

bool trafficFromName(const QString& name, Traffic& out) {
    const QString n = name.trimmed().toLower();
    for (Traffic t : {Traffic::Calm, Traffic::Busy}) {
        if (n == trafficName(t)) {
            out = t;
            return true;
        }
    }
    return false;
}

bool wormFromName(const QString& name, Worm& out) {
    const QString n = name.trimmed().toLower();
    for (Worm w : {Worm::None, Worm::IloveYou, Worm::Melissa, Worm::Polymorphic, Worm::Disguised, Worm::Link}) {
        if (n == wormName(w)) {
            out = w;
            return true;
        }
    }
    return false;
}

namespace {

using namespace postfix;

// ---------------------------------------------------------------- rates (per user)
constexpr double kSendsPerHour = 1.1;    // ordinary messages written, at the busiest time of day
constexpr double kInboundPerHour = 0.8;  // mail from outside, at the busiest time of day
constexpr double kNoisePerHour = 0.15;   // rejects, scanners, brute force, IMAP logins: round the clock
constexpr double kReplyInternal = 0.22;  // an internal recipient answers an ordinary message
constexpr double kReplyExternal = 0.2;   // an external recipient answers
constexpr int kMaxReplyDepth = 2;
constexpr int kMelissaEntries = 50;
constexpr int kStormReplies = 12;
constexpr int kStormRecipients = 20;
// Busy traffic (Traffic::Busy): a user writes in sessions of about this many messages, a
// minute or two apart; sessions come at this rate per user at the busiest time of day, so that
// with replies an average user sends about 21 messages a day.
constexpr double kBusySessionLength = 6;
constexpr double kBusySessionsPerHour = 0.3;
constexpr double kBusyGenericShare = 0.25; // ordinary messages carrying one of the generic names
constexpr double kBusyPassOnShare = 0.5;   // of those, a name the sender received earlier
constexpr double kBusyShortReplyShare = 0.3;

// ---------------------------------------------------------------- the working day (UTC)
constexpr Usec kHour = 3600 * kSec;
constexpr Usec kDay = 24 * kHour;

int weekdayOf(Usec t) { return static_cast<int>((t / kDay + 4) % 7); } // 0 Sunday; 1970-01-01 was a Thursday
double hourOf(Usec t) { return static_cast<double>(t % kDay) / static_cast<double>(kHour); }

// How busy people are, 0..1: a morning ramp, a lunch dip, quiet evenings, nights and weekends.
double activity(Usec t) {
    static constexpr double pts[][2] = {{0, 0.02},    {6.5, 0.03}, {7.5, 0.35}, {8.5, 0.9},  {9, 1.0},
                                        {12, 1.0},    {12.5, 0.7}, {13.5, 0.95}, {16.5, 0.9}, {17.5, 0.45},
                                        {19, 0.12},   {21, 0.04},  {24, 0.02}};
    const double h = hourOf(t);
    double a = 0.02;
    for (size_t i = 1; i < std::size(pts); ++i) {
        if (h < pts[i][0]) {
            const double f = (h - pts[i - 1][0]) / (pts[i][0] - pts[i - 1][0]);
            a = pts[i - 1][1] + f * (pts[i][1] - pts[i - 1][1]);
            break;
        }
    }
    const int wd = weekdayOf(t);
    return (wd == 0 || wd == 6) ? a * 0.08 : a;
}

constexpr double kWorkStart = 7.5, kWorkEnd = 18.5;

bool inWorkingHours(Usec t) {
    const int wd = weekdayOf(t);
    const double h = hourOf(t);
    return wd != 0 && wd != 6 && h >= kWorkStart && h < kWorkEnd;
}

// The first moment at or after t when someone at their desk would act: t itself in working
// hours, else the next working morning, a little after people arrive.
Usec atWork(Usec t, Rng& r) {
    for (int guard = 0; guard < 14; ++guard) {
        const int wd = weekdayOf(t);
        const double h = hourOf(t);
        const Usec day = t - t % kDay;
        if (wd != 0 && wd != 6) {
            if (h >= kWorkStart && h < kWorkEnd) return t;
            if (h < kWorkStart)
                return day + static_cast<Usec>(kWorkStart * static_cast<double>(kHour))
                     + std::min<Usec>(static_cast<Usec>(r.expo(45.0 * 60 * kSec)), 3 * kHour);
        }
        t = day + kDay;
    }
    return t;
}

// ---------------------------------------------------------------- content
const std::vector<std::string>& internalSubjects() {
    static const std::vector<std::string> v = {
        "Meeting notes", "Agenda for Thursday", "Quarterly figures", "Project status update", "Updated slides",
        "Customer visit next week", "Budget draft", "Question about the contract", "Travel request",
        "Holiday planning", "Team lunch on Friday", "Release schedule", "Invoice approval", "Training dates",
        "Minutes from today's call", "Feedback on the proposal", "Hiring plan", "Workshop preparation",
        "Server maintenance window", "Sales pipeline review", "Offer for review", "Draft press release",
        "Onboarding checklist", "Action items", "Timesheets", "New price list", "Room booking",
        "Access request", "Weekly report", "Support escalation", "Handover before my leave",
        "=?UTF-8?Q?Besprechung_n=C3=A4chste_Woche?=", "=?UTF-8?B?w5xiZXJzaWNodCBRNA==?=",
        "=?UTF-8?B?UsO8Y2tmcmFnZSB6dW0gQW5nZWJvdA==?="};
    return v;
}
const std::vector<std::string>& externalSubjects() {
    static const std::vector<std::string> v = {
        "Your order has shipped", "Invoice", "Meeting request", "Webinar invitation", "Quote", "Delivery note",
        "Contract renewal", "Proposal", "Payment received", "Support ticket update", "Conference programme",
        "Price update", "Statement of account", "Partnership", "Project kickoff", "Purchase order"};
    return v;
}
// Attachment names everyone uses, each sent hundreds of times a day by hundreds of people.
struct GenericName {
    const char* name;
    const char* type;
    double median, sigma;
};
const std::vector<GenericName>& genericNames() {
    static const std::vector<GenericName> v = {
        {"report.pdf", "application/pdf", 180000, 1.0},
        {"minutes.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 40000, 0.8},
        {"budget.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 45000, 0.9},
        {"archive.zip", "application/zip", 1200000, 1.0},
        {"photo.png", "image/png", 350000, 0.9}};
    return v;
}
// The words of short replies ("Re: thanks"): few, so subjects repeat across unrelated people.
const std::vector<std::string>& replyWords() {
    static const std::vector<std::string> v = {"thanks", "update", "question", "meeting", "report", "call", "today", "status"};
    return v;
}
// The link worm's lures: the subject changes from message to message.
const std::vector<std::string>& lureSubjects() {
    static const std::vector<std::string> v = {
        "Have a look at this", "Shared document", "Your account needs attention", "Photos from Friday",
        "Important: read today", "New message waiting", "Check this out", "Document shared with you",
        "Invoice available online", "Please review", "You were mentioned", "Link for you"};
    return v;
}
const std::vector<std::string>& topics() {
    static const std::vector<std::string> v = {"Phoenix", "Atlas", "Q4", "Northwind", "migration", "rollout",
                                               "audit",   "renewal", "launch", "budget", "tender", "roadmap"};
    return v;
}

struct AttachmentKind {
    const char* type;
    std::vector<const char*> stems;
    const char* ext;
    double median, sigma; // file size before base64
};
const std::vector<AttachmentKind>& attachmentKinds() {
    static const std::vector<AttachmentKind> v = {
        {"application/pdf", {"report_", "Invoice_", "minutes_", "offer_", "presentation_", "scan_"}, ".pdf", 180000, 1.0},
        {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         {"draft_v", "contract_", "proposal_", "notes_", "letter_"}, ".docx", 60000, 0.8},
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         {"budget_", "figures_", "pipeline_", "timesheet_", "forecast_"}, ".xlsx", 45000, 0.9},
        {"image/png", {"screenshot_", "diagram_", "image", "chart_"}, ".png", 250000, 0.9},
        {"application/zip", {"files_", "photos_", "export_", "archive_"}, ".zip", 1200000, 1.0},
    };
    return v;
}

std::string stripBrackets(const std::string& id) {
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
    return id;
}

// ---------------------------------------------------------------- output helpers
std::string isoTime(Usec t) {
    const int64_t ms = t / kMs;
    const int64_t secs = ms / 1000;
    int64_t y;
    unsigned mo, d;
    civil_from_days(secs / 86400, y, mo, d);
    char b[40];
    std::snprintf(b, sizeof b, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<long long>(y), mo, d,
                  static_cast<int>(secs % 86400 / 3600), static_cast<int>(secs % 3600 / 60),
                  static_cast<int>(secs % 60), static_cast<int>(ms % 1000));
    return b;
}

void jsonString(std::string& o, std::string_view s) {
    o.push_back('"');
    for (char c : s) {
        switch (c) {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\r': o += "\\r"; break;
        case '\t': o += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char b[8];
                std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                o += b;
            } else {
                o.push_back(c);
            }
        }
    }
    o.push_back('"');
}

void jsonStrings(std::string& o, const std::vector<std::string>& v) {
    o.push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) o.push_back(',');
        jsonString(o, v[i]);
    }
    o.push_back(']');
}

bool writeFile(const std::string& path, const std::string& bytes, std::string& error) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        error = cat(path, ": ", std::strerror(errno));
        return false;
    }
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    if (std::fclose(f) != 0 || !ok) {
        error = cat(path, ": ", std::strerror(errno));
        return false;
    }
    return true;
}

// ---------------------------------------------------------------- the simulation
class Simulation {
public:
    Simulation(const SimulationOptions& o, const std::function<void(int)>& progress, const std::atomic_bool* cancel)
        : m_o(o),
          m_start(static_cast<Usec>(o.start.toMSecsSinceEpoch()) * kMs),
          m_end(m_start + static_cast<Usec>(o.hours * 3600.0 * 1e6)),
          m_world(o.seed, o.servers, !o.classicStamps, m_start, o.users, 1.0, 0),
          m_r(o.seed ^ 0x73696d756c617465ull), // "simulate"
          m_progress(progress),
          m_cancel(cancel) {}

    SimulationResult run();

private:
    enum class Kind { Send, SessionNext, Inbound, Noise, Reply, ExternalReply, WormSend, WormRead, AllStaff, Newsletter, StormStart, StormReply, ListPost };
    struct Action {
        Usec t = 0;
        uint64_t seq = 0;
        Kind kind = Kind::Send;
        int user = -1;      // who acts: sender, reader
        int from = -1;      // WormRead: who sent the message being read
        int index = 0;      // WormSend: address-book entry (-1: the first 50 at once); hard negatives: their slot
        int depth = 0;      // replies: how deep in the thread
        std::string msgid;  // WormRead: the message read
        std::string subject;
        std::string extFrom; // ExternalReply: the external sender
        std::vector<std::string> rcpts;
    };
    struct ActionLater {
        bool operator()(const Action& a, const Action& b) const { return a.t != b.t ? a.t > b.t : a.seq > b.seq; }
    };
    struct WormMsg {
        std::string id;
        int sender;
        Usec time;
        std::vector<std::string> rcpts;
    };
    struct InfectionRec {
        int user;
        Usec time;
        int by; // -1 for patient zero
        std::string via;
    };
    struct Negative {
        std::string kind;
        std::vector<std::string> ids;
    };

    void schedule(Action a) {
        if (a.t < m_now) a.t = m_now;
        a.seq = m_seq++;
        m_queue.push_back(std::move(a));
        std::push_heap(m_queue.begin(), m_queue.end(), ActionLater());
    }
    Action make(Usec t, Kind k) {
        Action a;
        a.t = t;
        a.kind = k;
        return a;
    }
    Usec nextArrival(Usec t, double perHourPerUser) {
        const double perSec = perHourPerUser * static_cast<double>(m_users.size()) / 3600.0;
        return t + static_cast<Usec>(m_r.expo(1e6 / perSec)) + 1;
    }
    Usec readDelay() { return static_cast<Usec>(std::clamp(m_r.lognormal(35.0 * 60, 1.1), 60.0, 10.0 * 3600) * 1e6); }
    Usec replyDelay() { return static_cast<Usec>(std::clamp(m_r.lognormal(20.0 * 60, 1.2), 60.0, 8.0 * 3600) * 1e6); }

    void planHardNegatives();
    void handle(Action& a);
    void sendOrdinary(Usec t, int u);
    bool busy() const { return m_o.traffic == Traffic::Busy; }
    int pickBusyUser();
    void attachGeneric(Msg& m, int u);
    void noteReceived(const Msg& m, const std::vector<std::string>& rcpts);
    void sendInbound(Usec t);
    void sendReply(const Action& a);
    void sendExternalReply(const Action& a);
    void noise(Usec t);
    void wormBurst(int u, Usec opened);
    void wormSend(const Action& a);
    void wormRead(const Action& a);
    void allStaff(Usec t);
    void newsletter(Usec t);
    void stormStart(Usec t);
    void stormReply(const Action& a);
    void listPost(Usec t, int slot);

    // Contents.
    std::string subjectFor(bool internal);
    void attach(Msg& m, double p);
    int64_t bodySize() { return std::clamp<int64_t>(static_cast<int64_t>(m_r.lognormal(9000, 0.6)), 1200, 400000); }
    std::vector<const Contact*> pickContacts(int u, int n);
    Usec submitFrom(Usec t, int u, const std::vector<std::string>& rcpts, Msg& m);
    Usec inboundFrom(Usec t, const std::string& sender, const std::vector<std::string>& rcpts, Msg& m);
    void maybeReplies(Usec t, int sender, const std::string& senderAddr, const std::vector<std::string>& rcpts,
                      const std::string& subject, int depth);
    static std::string reSubject(const std::string& s) {
        if (s.empty()) return s;
        if (s.rfind("Re: ", 0) == 0 || s.rfind("RE: ", 0) == 0) return s;
        return "Re: " + s;
    }
    std::vector<int> sampleUsers(int n, int exclude);
    int userOf(const std::string& address) const {
        auto it = m_index.find(address);
        return it == m_index.end() ? -1 : it->second;
    }

    bool writeTruth(const std::string& path, std::string& error) const;

    const SimulationOptions m_o;
    const Usec m_start, m_end;
    World m_world;
    Rng m_r;
    std::function<void(int)> m_progress;
    const std::atomic_bool* m_cancel;

    std::vector<User> m_users; // a copy: stable references
    // Busy traffic: how much each user writes (cumulative, for picking a writer) and the
    // generic attachment names each one has received (index into genericNames()).
    std::vector<double> m_writeCdf;
    std::vector<std::vector<int>> m_genericReceived;
    std::string m_wormSubject; // Disguised: one subject for the whole outbreak
    std::vector<uint64_t> m_client; // each user's mail client (Message-ID style)
    AddressBooks m_books;
    std::unordered_map<std::string, int> m_index; // address -> user
    std::vector<Action> m_queue;
    uint64_t m_seq = 0;
    Usec m_now = 0;

    // Truth.
    int m_patientZero = -1;
    std::vector<char> m_infected;
    std::vector<InfectionRec> m_infections;
    std::vector<WormMsg> m_wormMessages;
    std::vector<Negative> m_negatives;
    std::unordered_set<std::string> m_polySubjects, m_polyFiles;
    // The reply-all storm: its original's recipients and subject.
    int m_stormSender = -1;
    std::vector<int> m_stormRcpts;
    std::string m_stormSubject;
};

// ---------------------------------------------------------------- contents
std::string Simulation::subjectFor(bool internal) {
    std::string s = m_r.pick(internal ? internalSubjects() : externalSubjects());
    if (s.rfind("=?", 0) == 0) return s;
    switch (m_r.below(5)) {
    case 0: return cat(s, ": ", m_r.pick(topics()));
    case 1: return cat(s, " ", m_r.range(100, 99999));
    case 2: return cat(s, " (", m_r.pick(topics()), ')');
    default: return s;
    }
}

void Simulation::attach(Msg& m, double p) {
    m.size = bodySize();
    if (!m_r.chance(p)) return;
    static const double weights[] = {0.36, 0.21, 0.18, 0.14, 0.11}; // pdf, docx, xlsx, png, zip
    double x = m_r.uni();
    size_t k = 0;
    for (; k + 1 < std::size(weights) && x >= weights[k]; ++k) x -= weights[k];
    const AttachmentKind& a = attachmentKinds()[k];
    m.content_type = a.type;
    m.attachment = cat(m_r.pick(a.stems), m_r.range(1, 9999), a.ext);
    const double bytes = std::clamp(m_r.lognormal(a.median, a.sigma), 2000.0, 18e6);
    m.size += static_cast<int64_t>(bytes * 1.37); // base64 and line breaks
}

std::vector<const Contact*> Simulation::pickContacts(int u, int n) {
    const auto& book = m_books.books[static_cast<size_t>(u)];
    std::vector<const Contact*> out;
    n = std::min<int>(n, static_cast<int>(book.size()));
    for (int tries = 0; static_cast<int>(out.size()) < n && tries < 40; ++tries) {
        const Contact& c = book[m_r.below(book.size())];
        if (c.user < 0 && m_r.chance(0.5)) continue; // colleagues first
        if (std::find(out.begin(), out.end(), &c) == out.end()) out.push_back(&c);
    }
    return out;
}

std::vector<int> Simulation::sampleUsers(int n, int exclude) {
    std::vector<int> all;
    all.reserve(m_users.size());
    for (int i = 0; i < static_cast<int>(m_users.size()); ++i)
        if (i != exclude) all.push_back(i);
    n = std::min<int>(n, static_cast<int>(all.size()));
    for (int i = 0; i < n; ++i) {
        const size_t j = static_cast<size_t>(i) + m_r.below(all.size() - static_cast<size_t>(i));
        std::swap(all[static_cast<size_t>(i)], all[j]);
    }
    all.resize(static_cast<size_t>(n));
    std::sort(all.begin(), all.end());
    return all;
}

Usec Simulation::submitFrom(Usec t, int u, const std::vector<std::string>& rcpts, Msg& m) {
    const User& user = m_users[static_cast<size_t>(u)];
    m.sender = user.email;
    // Each person has one mail client, so one style of Message-ID.
    if (m.msgid.empty()) m.msgid = m_world.make_msgid_internal(user, m_client[static_cast<size_t>(u)]);
    // Submission on the sender's home server, from their workstation, under their SASL name.
    return m_world.submit(t, user, m_world.servers_mut()[static_cast<size_t>(user.home)], rcpts, m);
}

Usec Simulation::inboundFrom(Usec t, const std::string& sender, const std::vector<std::string>& rcpts, Msg& m) {
    const ExtDomain* d = m_world.domain_of(sender);
    if (!d) d = &m_world.ext_domains().front();
    m.sender = sender;
    if (m.msgid.empty()) m.msgid = m_world.make_msgid_external(*d);
    // Every server is an MX: round-robin.
    auto& servers = m_world.servers_mut();
    return m_world.receive_inbound(t, *d, servers[m_r.below(servers.size())], rcpts, m);
}

void Simulation::maybeReplies(Usec t, int sender, const std::string& senderAddr, const std::vector<std::string>& rcpts,
                              const std::string& subject, int depth) {
    if (depth >= kMaxReplyDepth) return;
    const double scale = depth == 0 ? 1.0 : 0.4;
    for (const std::string& rc : rcpts) {
        const int v = userOf(rc);
        if (v == sender) continue;
        if (v >= 0) {
            if (!m_r.chance(kReplyInternal * scale)) continue;
            const Usec when = atWork(t + replyDelay(), m_r);
            if (when >= m_end) continue;
            Action a = make(when, Kind::Reply);
            a.user = v;
            a.depth = depth + 1;
            a.subject = reSubject(subject);
            a.rcpts = {senderAddr};
            // Now and then "reply all".
            if (rcpts.size() > 1 && m_r.chance(0.15))
                for (const std::string& other : rcpts)
                    if (other != rc) a.rcpts.push_back(other);
            schedule(std::move(a));
        } else if (sender >= 0) {
            if (!m_r.chance(kReplyExternal * scale)) continue;
            const Usec when = atWork(t + replyDelay(), m_r);
            if (when >= m_end) continue;
            Action a = make(when, Kind::ExternalReply);
            a.depth = depth + 1;
            a.subject = reSubject(subject);
            a.extFrom = rc;
            a.rcpts = {senderAddr};
            schedule(std::move(a));
        }
    }
}

// ---------------------------------------------------------------- ordinary traffic
void Simulation::sendOrdinary(Usec t, int u) {
    if (busy() && m_r.chance(kBusyShortReplyShare)) {
        // A short note in an ongoing exchange: "Re: thanks", mostly to one person.
        const int n = m_r.chance(0.7) ? 1 : static_cast<int>(m_r.range(2, 4));
        const auto contacts = pickContacts(u, n);
        if (contacts.empty()) return;
        std::vector<std::string> rcpts;
        for (const Contact* c : contacts) rcpts.push_back(c->address);
        Msg m;
        m.subject = cat(m_r.chance(0.8) ? "Re: " : "RE: ", m_r.pick(replyWords()));
        if (m_r.chance(kBusyGenericShare)) attachGeneric(m, u);
        else attach(m, 0.05);
        submitFrom(t, u, rcpts, m);
        noteReceived(m, rcpts);
        maybeReplies(t, u, m_users[static_cast<size_t>(u)].email, rcpts, m.subject, 1);
        return;
    }
    const double roll = m_r.uni();
    const int n = roll < 0.55 ? 1 : roll < 0.80 ? 2 : roll < 0.92 ? 3 : 4;
    const auto contacts = pickContacts(u, n);
    if (contacts.empty()) return;
    std::vector<std::string> rcpts;
    for (const Contact* c : contacts) rcpts.push_back(c->address);
    Msg m;
    if (m_r.chance(0.9)) m.subject = subjectFor(true);
    if (busy() && m_r.chance(kBusyGenericShare)) attachGeneric(m, u);
    else attach(m, busy() ? 0.12 : 0.28);
    submitFrom(t, u, rcpts, m);
    if (busy()) noteReceived(m, rcpts);
    maybeReplies(t, u, m_users[static_cast<size_t>(u)].email, rcpts, m.subject, 0);
}

int Simulation::pickBusyUser() {
    const double x = m_r.uni() * m_writeCdf.back();
    return static_cast<int>(std::upper_bound(m_writeCdf.begin(), m_writeCdf.end(), x) - m_writeCdf.begin());
}

// One of the generic names, with a size of its own (the same name, unrelated files). Half of
// the time a name this user received earlier from someone else, in another conversation.
void Simulation::attachGeneric(Msg& m, int u) {
    m.size = bodySize();
    const auto& got = m_genericReceived[static_cast<size_t>(u)];
    const int k = !got.empty() && m_r.chance(kBusyPassOnShare) ? m_r.pick(got)
                                                                : static_cast<int>(m_r.below(genericNames().size()));
    const GenericName& g = genericNames()[static_cast<size_t>(k)];
    m.attachment = g.name;
    m.content_type = g.type;
    m.size += static_cast<int64_t>(std::clamp(m_r.lognormal(g.median, g.sigma), 2000.0, 18e6) * 1.37);
}

void Simulation::noteReceived(const Msg& m, const std::vector<std::string>& rcpts) {
    if (m.attachment.empty()) return;
    const auto& names = genericNames();
    int k = -1;
    for (size_t i = 0; i < names.size(); ++i)
        if (m.attachment == names[i].name) k = static_cast<int>(i);
    if (k < 0) return;
    for (const std::string& rc : rcpts) {
        const int v = userOf(rc);
        if (v < 0) continue;
        auto& got = m_genericReceived[static_cast<size_t>(v)];
        if (std::find(got.begin(), got.end(), k) == got.end()) got.push_back(k);
    }
}

void Simulation::sendInbound(Usec t) {
    const int u = static_cast<int>(m_r.below(m_users.size()));
    const auto& book = m_books.books[static_cast<size_t>(u)];
    std::vector<const Contact*> partners;
    for (const Contact& c : book)
        if (c.user < 0) partners.push_back(&c);
    Msg m;
    std::vector<std::string> rcpts{m_users[static_cast<size_t>(u)].email};
    std::string sender;
    bool partner = false;
    if (!partners.empty() && m_r.chance(0.55)) {
        partner = true;
        sender = partners[m_r.below(partners.size())]->address;
        if (m_r.chance(0.2)) { // and a colleague in copy
            const auto cc = pickContacts(u, 1);
            if (!cc.empty() && cc.front()->user >= 0) rcpts.push_back(cc.front()->address);
        }
    } else {
        // Suppliers, customers, notifications: anyone out there, to one or two people.
        const auto& ext = m_world.ext_domains();
        sender = m_world.ext_address(ext[m_r.below(ext.size())]);
        if (m_r.chance(0.15)) {
            const int v = static_cast<int>(m_r.below(m_users.size()));
            if (v != u) rcpts.push_back(m_users[static_cast<size_t>(v)].email);
        }
    }
    if (m_r.chance(0.9)) m.subject = subjectFor(partner);
    if (busy() && m_r.chance(kBusyGenericShare)) {
        const GenericName& g = m_r.pick(genericNames());
        m.size = bodySize() + static_cast<int64_t>(std::clamp(m_r.lognormal(g.median, g.sigma), 2000.0, 18e6) * 1.37);
        m.attachment = g.name;
        m.content_type = g.type;
    } else {
        attach(m, 0.3);
    }
    inboundFrom(t, sender, rcpts, m);
    if (busy()) noteReceived(m, rcpts);
    // Answers go back out.
    for (const std::string& rc : rcpts) {
        const int v = userOf(rc);
        if (v < 0 || !m_r.chance(partner ? 0.25 : 0.05)) continue;
        const Usec when = atWork(t + replyDelay(), m_r);
        if (when >= m_end) continue;
        Action a = make(when, Kind::Reply);
        a.user = v;
        a.depth = 1;
        a.subject = reSubject(m.subject);
        a.rcpts = {sender};
        schedule(std::move(a));
    }
}

void Simulation::sendReply(const Action& a) {
    Msg m;
    m.subject = a.subject;
    if (busy() && m_r.chance(0.1)) attachGeneric(m, a.user);
    else attach(m, 0.06);
    submitFrom(a.t, a.user, a.rcpts, m);
    if (busy()) noteReceived(m, a.rcpts);
    maybeReplies(a.t, a.user, m_users[static_cast<size_t>(a.user)].email, a.rcpts, a.subject, a.depth);
}

void Simulation::sendExternalReply(const Action& a) {
    Msg m;
    m.subject = a.subject;
    attach(m, 0.1);
    inboundFrom(a.t, a.extFrom, a.rcpts, m);
    if (a.depth < kMaxReplyDepth) {
        for (const std::string& rc : a.rcpts) {
            const int v = userOf(rc);
            if (v < 0 || !m_r.chance(0.15)) continue;
            const Usec when = atWork(a.t + replyDelay(), m_r);
            if (when >= m_end) continue;
            Action r = make(when, Kind::Reply);
            r.user = v;
            r.depth = a.depth + 1;
            r.subject = a.subject;
            r.rcpts = {a.extFrom};
            schedule(std::move(r));
        }
    }
}

void Simulation::noise(Usec t) {
    const double k = m_r.uni();
    if (k < 0.35) m_world.noise_noqueue(t);
    else if (k < 0.6) m_world.noise_postscreen(t);
    else if (k < 0.7) m_world.noise_sasl(t);
    else m_world.noise_imap(t);
}

// ---------------------------------------------------------------- legitimate bulk
void Simulation::planHardNegatives() {
    const Usec span = m_end - m_start;
    auto when = [&](double lo, double hi) {
        const Usec t = m_start + static_cast<Usec>(static_cast<double>(span) * (lo + (hi - lo) * m_r.uni()));
        const Usec w = atWork(t, m_r);
        return w < m_end ? w : t;
    };
    m_negatives = {{"all-staff", {}}, {"newsletter", {}}, {"reply-all-storm", {}}, {"mailing-list", {}}};
    schedule(make(when(0.05, 0.75), Kind::AllStaff));
    schedule(make(when(0.05, 0.9), Kind::Newsletter));
    // The storm wants an hour after its start.
    Usec storm = when(0.05, 0.8);
    if (storm + kHour > m_end) storm = std::max(m_start + 60 * kSec, m_end - kHour);
    schedule(make(storm, Kind::StormStart));
    const int posts = span >= 2 * kHour ? 2 : 1;
    for (int i = 0; i < posts; ++i) {
        Action a = make(when(0.05 + 0.45 * i, 0.45 + 0.45 * i), Kind::ListPost);
        a.index = i;
        schedule(std::move(a));
    }
}

void Simulation::allStaff(Usec t) {
    // Internal Communications, else anyone in Communications, else HR, else the CEO.
    const auto& teams = m_world.teams();
    const auto& divisions = m_world.divisions();
    int sender = -1;
    for (int pass = 0; pass < 3 && sender < 0; ++pass) {
        for (const Team& team : teams) {
            const std::string& div = divisions[static_cast<size_t>(team.division)].name;
            const bool fits = pass == 0 ? team.name == "Internal Communications"
                            : pass == 1 ? team.department == "Communications"
                                        : div == "HR";
            if (fits && !team.members.empty()) {
                sender = team.members[m_r.below(team.members.size())];
                break;
            }
        }
    }
    if (sender < 0) sender = std::max(0, m_world.org().ceo);
    static const std::vector<std::string> subjects = {
        "All staff: office closure on Friday", "All staff: new travel policy", "All staff: quarterly town hall",
        "All staff: IT maintenance this weekend", "All staff: welcome our new colleagues",
        "All staff: annual benefits enrolment"};
    Msg m;
    m.subject = m_r.pick(subjects);
    m.size = bodySize() + 20000;
    if (m_r.chance(0.5)) {
        m.content_type = "application/pdf";
        m.attachment = cat("announcement_", m_r.range(1, 999), ".pdf");
        m.size += static_cast<int64_t>(m_r.lognormal(150000, 0.5) * 1.37);
    }
    std::vector<std::string> rcpts;
    for (const Team& team : teams)
        for (int u : team.members)
            if (u != sender) rcpts.push_back(m_users[static_cast<size_t>(u)].email);
    if (rcpts.empty()) return;
    // Up to smtpd_recipient_limit (1000) the client names everyone; beyond, the list does.
    if (rcpts.size() > 1000) m.list_addr = "all-staff@corp.example";
    submitFrom(t, sender, rcpts, m);
    m_negatives[0].ids.push_back(stripBrackets(m.msgid));
}

void Simulation::newsletter(Usec t) {
    const auto& ext = m_world.ext_domains();
    const ExtDomain* d = &ext[m_r.below(ext.size())];
    for (int tries = 0; tries < 20; ++tries) { // not one of our partners
        if (std::find(m_books.partnerDomains.begin(), m_books.partnerDomains.end(), d->name) == m_books.partnerDomains.end())
            break;
        d = &ext[m_r.below(ext.size())];
    }
    const int n = std::clamp(static_cast<int>(static_cast<double>(m_users.size()) * 0.4), std::min<int>(10, static_cast<int>(m_users.size())), 1000);
    std::vector<std::string> rcpts;
    for (int u : sampleUsers(n, -1)) rcpts.push_back(m_users[static_cast<size_t>(u)].email);
    Msg m;
    static const char* kMonths[] = {"January", "February", "March", "April", "May", "June", "July",
                                    "August", "September", "October", "November", "December"};
    int64_t y;
    unsigned mo, day;
    civil_from_days(t / kDay, y, mo, day);
    m.subject = cat("Industry Newsletter ", kMonths[mo - 1], ' ', y, ": ", m_r.pick(topics()));
    m.size = static_cast<int64_t>(m_r.lognormal(90000, 0.3));
    inboundFrom(t, cat(m_r.chance(0.5) ? "newsletter@" : "news@", d->name), rcpts, m);
    m_negatives[1].ids.push_back(stripBrackets(m.msgid));
}

void Simulation::stormStart(Usec t) {
    // A department of at least 21 people if there is one, else the largest; the rest from its
    // division, then from anywhere.
    const auto& teams = m_world.teams();
    std::vector<std::pair<std::string, std::vector<int>>> departments;
    for (const Team& team : teams) {
        const std::string key = cat(team.division, '/', team.department);
        if (departments.empty() || departments.back().first != key) departments.push_back({key, {}});
        auto& v = departments.back().second;
        v.insert(v.end(), team.members.begin(), team.members.end());
    }
    std::vector<size_t> big;
    size_t largest = 0;
    for (size_t i = 0; i < departments.size(); ++i) {
        if (departments[i].second.size() > kStormRecipients) big.push_back(i);
        if (departments[i].second.size() > departments[largest].second.size()) largest = i;
    }
    if (departments.empty()) return;
    std::vector<int> unit = departments[big.empty() ? largest : big[m_r.below(big.size())]].second;
    const int sender = unit[m_r.below(unit.size())];
    std::vector<int> pool;
    for (int u : unit)
        if (u != sender) pool.push_back(u);
    for (int i = 0; i < static_cast<int>(pool.size()); ++i) {
        const size_t j = static_cast<size_t>(i) + m_r.below(pool.size() - static_cast<size_t>(i));
        std::swap(pool[static_cast<size_t>(i)], pool[j]);
    }
    if (pool.size() > kStormRecipients) pool.resize(kStormRecipients);
    if (pool.size() < kStormRecipients) {
        for (int u : sampleUsers(kStormRecipients * 2, sender)) {
            if (pool.size() >= kStormRecipients) break;
            if (std::find(pool.begin(), pool.end(), u) == pool.end()) pool.push_back(u);
        }
    }
    if (pool.empty()) return;
    static const std::vector<std::string> subjects = {
        "Team offsite: please confirm your attendance", "Christmas party - who is coming?",
        "Who took the projector from room 4.12?", "Parking garage closed tomorrow",
        "Please update your holiday dates", "Secret Santa sign-up"};
    m_stormSender = sender;
    m_stormRcpts = pool;
    m_stormSubject = m_r.pick(subjects);
    std::vector<std::string> rcpts;
    for (int u : pool) rcpts.push_back(m_users[static_cast<size_t>(u)].email);
    Msg m;
    m.subject = m_stormSubject;
    m.size = bodySize();
    submitFrom(t, sender, rcpts, m);
    m_negatives[2].ids.push_back(stripBrackets(m.msgid));
    // A dozen of them reply to all within the hour.
    const int replies = std::min<int>(kStormReplies, static_cast<int>(pool.size()));
    std::vector<Usec> times;
    for (int i = 0; i < replies; ++i) times.push_back(t + 2 * 60 * kSec + static_cast<Usec>(m_r.uni() * 55 * 60 * 1e6));
    std::sort(times.begin(), times.end());
    for (int i = 0; i < replies; ++i) {
        Action a = make(times[static_cast<size_t>(i)], Kind::StormReply);
        a.user = pool[static_cast<size_t>(i)];
        schedule(std::move(a));
    }
}

void Simulation::stormReply(const Action& a) {
    std::vector<std::string> rcpts{m_users[static_cast<size_t>(m_stormSender)].email};
    for (int u : m_stormRcpts)
        if (u != a.user) rcpts.push_back(m_users[static_cast<size_t>(u)].email);
    Msg m;
    m.subject = "RE: " + m_stormSubject;
    m.size = bodySize() + 4000; // the quoted thread
    submitFrom(a.t, a.user, rcpts, m);
    m_negatives[2].ids.push_back(stripBrackets(m.msgid));
}

void Simulation::listPost(Usec t, int slot) {
    static const std::vector<std::string> lists = {"events", "industry-news", "partner-updates", "community"};
    const std::string list = cat(lists[static_cast<size_t>(slot) % lists.size()], "@corp.example");
    const int n = std::clamp(static_cast<int>(m_users.size()) / 4, std::min<int>(8, static_cast<int>(m_users.size())), 400);
    std::vector<std::string> rcpts;
    for (int u : sampleUsers(n, -1)) rcpts.push_back(m_users[static_cast<size_t>(u)].email);
    // Someone at a partner writes to the list; Postfix expands it (virtual_alias_maps).
    const auto& ext = m_world.ext_domains();
    std::string sender;
    if (!m_books.partnerDomains.empty())
        sender = cat(m_r.pick(m_world.first_names()), '.', m_r.pick(m_world.last_names()), '@', m_r.pick(m_books.partnerDomains));
    else
        sender = m_world.ext_address(ext[m_r.below(ext.size())]);
    Msg m;
    m.subject = cat('[', lists[static_cast<size_t>(slot) % lists.size()], "] ", subjectFor(false));
    m.list_addr = list;
    attach(m, 0.3);
    inboundFrom(t, sender, rcpts, m);
    m_negatives[3].ids.push_back(stripBrackets(m.msgid));
}

// ---------------------------------------------------------------- the worm
void Simulation::wormBurst(int u, Usec opened) {
    const auto& book = m_books.books[static_cast<size_t>(u)];
    if (book.empty()) return;
    Usec t = opened + m_r.ms(5000, 90000); // the script starts, opens the address book
    if (m_o.worm == Worm::Melissa) {
        Action a = make(t, Kind::WormSend);
        a.user = u;
        a.index = -1;
        schedule(std::move(a));
        return;
    }
    if (m_o.worm == Worm::Disguised) {
        // 10 to 40 contacts of the book, in a random order, one message every 20-90 s.
        std::vector<int> order(book.size());
        std::iota(order.begin(), order.end(), 0);
        for (size_t i = 0; i + 1 < order.size(); ++i) std::swap(order[i], order[i + m_r.below(order.size() - i)]);
        order.resize(std::min<size_t>(order.size(), static_cast<size_t>(m_r.range(10, 40))));
        for (int i : order) {
            Action a = make(t, Kind::WormSend);
            a.user = u;
            a.index = i;
            schedule(std::move(a));
            t += m_r.ms(20000, 90000);
        }
        return;
    }
    for (int i = 0; i < static_cast<int>(book.size()); ++i) {
        Action a = make(t, Kind::WormSend);
        a.user = u;
        a.index = i;
        schedule(std::move(a));
        t += m_o.worm == Worm::IloveYou ? m_r.ms(400, 2500)
           : m_o.worm == Worm::Link     ? m_r.ms(30000, 120000)
                                        : m_r.ms(1500, 8000);
    }
}

void Simulation::wormSend(const Action& a) {
    const auto& book = m_books.books[static_cast<size_t>(a.user)];
    const User& user = m_users[static_cast<size_t>(a.user)];
    std::vector<std::string> rcpts;
    Msg m;
    switch (m_o.worm) {
    case Worm::IloveYou:
        rcpts = {book[static_cast<size_t>(a.index)].address};
        m.subject = "ILOVEYOU";
        m.attachment = "LOVE-LETTER-FOR-YOU.TXT.vbs";
        m.content_type = "application/octet-stream";
        m.size = 14500 + m_r.range(0, 900) + static_cast<int64_t>(rcpts.front().size());
        break;
    case Worm::Melissa:
        for (size_t i = 0; i < book.size() && i < static_cast<size_t>(kMelissaEntries); ++i) rcpts.push_back(book[i].address);
        m.subject = cat("Important Message From ", display_name(user.email));
        m.attachment = "list.doc";
        m.content_type = "application/msword";
        m.size = 58000 + m_r.range(0, 1500) + 30 * static_cast<int64_t>(rcpts.size());
        break;
    case Worm::Polymorphic: {
        rcpts = {book[static_cast<size_t>(a.index)].address};
        static const std::vector<std::pair<const char*, const char*>> lures = {
            {"invoice_", ".pdf"}, {"photo_", ".jpg"}, {"scan_", ".pdf"}, {"document_", ".doc"},
            {"parcel_", ".txt"}, {"order_", ".pdf"}, {"payment_", ".xls"}, {"fax_", ".tif"}, {"contract_", ".doc"}};
        static const std::vector<const char*> real = {".exe", ".scr", ".pif", ".com", ".bat"};
        static const std::vector<std::string> subjects = {
            "Invoice", "Your parcel could not be delivered", "Photos from the weekend", "Scanned document",
            "Payment reminder", "RE: your request", "Updated contract", "Fax message from", "Order confirmation",
            "Account statement"};
        for (int tries = 0;; ++tries) {
            const auto& lure = m_r.pick(lures);
            std::string file = cat(lure.first, m_r.range(100, 99999), lure.second, m_r.pick(real));
            std::string subject = cat(m_r.pick(subjects), ' ', m_r.range(1000, 999999));
            if (tries > 50) {
                file = cat(m_polyFiles.size(), '_', file);
                subject = cat(subject, '-', m_polySubjects.size());
            }
            if (m_polyFiles.count(file) || m_polySubjects.count(subject)) continue;
            m_polyFiles.insert(file);
            m_polySubjects.insert(subject);
            m.attachment = std::move(file);
            m.subject = std::move(subject);
            break;
        }
        m.content_type = "application/octet-stream";
        m.size = static_cast<int64_t>(m_r.range(24000, 160000) * 1.37) + 3000;
        break;
    }
    case Worm::Disguised:
        // The same file under an ordinary name everyone sends, and an ordinary subject.
        rcpts = {book[static_cast<size_t>(a.index)].address};
        m.subject = m_wormSubject;
        m.attachment = "budget.xlsx";
        m.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        m.size = 61000 + m_r.range(0, 400) + static_cast<int64_t>(rcpts.front().size());
        break;
    case Worm::Link:
        // A link, no attachment; the lure changes from message to message.
        rcpts = {book[static_cast<size_t>(a.index)].address};
        m.subject = m_r.chance(0.5) ? m_r.pick(lureSubjects())
                                    : cat(m_r.pick(lureSubjects()), m_r.chance(0.5) ? " - " : ": ", m_r.pick(topics()));
        m.size = 2600 + m_r.range(0, 1400);
        break;
    case Worm::None: return;
    }
    if (rcpts.empty()) return;
    const Usec sent = submitFrom(a.t, a.user, rcpts, m);
    m_wormMessages.push_back({stripBrackets(m.msgid), a.user, sent, rcpts});
    // Colleagues find it in their inbox later and may open it.
    for (const std::string& rc : rcpts) {
        const int v = userOf(rc);
        if (v < 0 || m_infected[static_cast<size_t>(v)]) continue;
        const Usec when = atWork(sent + readDelay(), m_r);
        if (when >= m_end) continue;
        Action r = make(when, Kind::WormRead);
        r.user = v;
        r.from = a.user;
        r.msgid = stripBrackets(m.msgid);
        schedule(std::move(r));
    }
}

void Simulation::wormRead(const Action& a) {
    if (m_infected[static_cast<size_t>(a.user)]) return; // at most once
    if (!m_r.chance(m_o.openProbability)) return;
    m_infected[static_cast<size_t>(a.user)] = 1;
    m_infections.push_back({a.user, a.t, a.from, a.msgid});
    wormBurst(a.user, a.t);
}

// ---------------------------------------------------------------- the loop
void Simulation::handle(Action& a) {
    switch (a.kind) {
    case Kind::Send: {
        if (busy()) {
            // A session: a burst of messages a minute or two apart, from a writer picked by how
            // much they write.
            if (m_r.chance(activity(a.t))) {
                const int u = pickBusyUser();
                sendOrdinary(a.t, u);
                const int more = std::min(20, static_cast<int>(m_r.expo(kBusySessionLength - 1) + 0.5));
                if (more > 0) {
                    Action n = make(a.t + static_cast<Usec>(m_r.expo(100.0) * 1e6) + kSec, Kind::SessionNext);
                    n.user = u;
                    n.index = more;
                    if (n.t < m_end) schedule(std::move(n));
                }
            }
            const Usec next = nextArrival(a.t, kBusySessionsPerHour);
            if (next < m_end) schedule(make(next, Kind::Send));
            break;
        }
        if (m_r.chance(activity(a.t))) sendOrdinary(a.t, static_cast<int>(m_r.below(m_users.size())));
        const Usec next = nextArrival(a.t, kSendsPerHour);
        if (next < m_end) schedule(make(next, Kind::Send));
        break;
    }
    case Kind::SessionNext: {
        sendOrdinary(a.t, a.user);
        if (a.index > 1) {
            Action n = make(a.t + static_cast<Usec>(m_r.expo(100.0) * 1e6) + kSec, Kind::SessionNext);
            n.user = a.user;
            n.index = a.index - 1;
            if (n.t < m_end) schedule(std::move(n));
        }
        break;
    }
    case Kind::Inbound: {
        if (m_r.chance(activity(a.t))) sendInbound(a.t);
        const Usec next = nextArrival(a.t, kInboundPerHour);
        if (next < m_end) schedule(make(next, Kind::Inbound));
        break;
    }
    case Kind::Noise: {
        noise(a.t);
        const Usec next = nextArrival(a.t, kNoisePerHour);
        if (next < m_end) schedule(make(next, Kind::Noise));
        break;
    }
    case Kind::Reply: sendReply(a); break;
    case Kind::ExternalReply: sendExternalReply(a); break;
    case Kind::WormSend: wormSend(a); break;
    case Kind::WormRead: wormRead(a); break;
    case Kind::AllStaff: allStaff(a.t); break;
    case Kind::Newsletter: newsletter(a.t); break;
    case Kind::StormStart: stormStart(a.t); break;
    case Kind::StormReply: stormReply(a); break;
    case Kind::ListPost: listPost(a.t, a.index); break;
    }
}

SimulationResult Simulation::run() {
    SimulationResult res;
    const QString dir = QDir(m_o.outDir).absolutePath();
    if (m_o.outDir.isEmpty() || !QDir().mkpath(dir)) {
        res.error = QStringLiteral("cannot create the folder %1").arg(m_o.outDir);
        return res;
    }
    const std::string dirBytes = QFile::encodeName(dir).toStdString();
    // Logs of servers that this run does not have would be imported with ours: gone.
    const QRegularExpression ours(QStringLiteral("^mail(\\d+)\\.log$"));
    for (const QString& f : QDir(dir).entryList({QStringLiteral("mail*.log")}, QDir::Files)) {
        const auto match = ours.match(f);
        if (match.hasMatch() && match.captured(1).toInt() > m_o.servers) QFile::remove(QDir(dir).filePath(f));
    }

    m_users = m_world.user_list();
    for (int i = 0; i < static_cast<int>(m_users.size()); ++i) m_index.emplace(m_users[static_cast<size_t>(i)].email, i);
    m_books = buildAddressBooks(m_world, m_o.seed);
    m_infected.assign(m_users.size(), 0);
    m_client.resize(m_users.size());
    for (auto& c : m_client) c = m_r.below(10) < 6 ? 1 : m_r.below(2) * 2; // Outlook mostly
    if (busy()) {
        // Uneven volume: a heavy tail of people who write five to ten times the average.
        m_writeCdf.resize(m_users.size());
        double sum = 0;
        for (size_t u = 0; u < m_users.size(); ++u) m_writeCdf[u] = sum += m_r.lognormal(1.0, 0.9);
        m_genericReceived.assign(m_users.size(), {});
    }
    if (m_o.worm == Worm::Disguised) m_wormSubject = m_r.pick(internalSubjects());
    if (m_wormSubject.rfind("=?", 0) == 0) m_wormSubject = "Budget draft";

    if (!m_world.write_org(dirBytes + "/org.csv")) {
        res.error = QStringLiteral("cannot write %1").arg(QDir(dir).filePath(QStringLiteral("org.csv")));
        return res;
    }
    if (!m_world.open_logs(dirBytes)) {
        res.error = QString::fromStdString(m_world.error());
        return res;
    }

    // What is going to happen.
    m_now = m_start;
    schedule(make(nextArrival(m_start, kSendsPerHour), Kind::Send));
    schedule(make(nextArrival(m_start, kInboundPerHour), Kind::Inbound));
    schedule(make(nextArrival(m_start, kNoisePerHour), Kind::Noise));
    planHardNegatives();
    if (m_o.worm != Worm::None) {
        std::vector<int> candidates;
        for (int u = 0; u < static_cast<int>(m_users.size()); ++u)
            for (const Contact& c : m_books.books[static_cast<size_t>(u)])
                if (c.user >= 0) {
                    candidates.push_back(u);
                    break;
                }
        if (!candidates.empty()) {
            m_patientZero = candidates[m_r.below(candidates.size())];
            // Someone at their desk opens it: a moment of the first third that is in working
            // hours, when the first third has one.
            Usec t = m_start;
            for (int tries = 0; tries < 64; ++tries) {
                t = m_start + static_cast<Usec>(static_cast<double>(m_end - m_start) / 3.0 * m_r.uni());
                if (inWorkingHours(t)) break;
            }
            m_infected[static_cast<size_t>(m_patientZero)] = 1;
            m_infections.push_back({m_patientZero, t, -1, {}});
            wormBurst(m_patientZero, t);
        }
    }

    int lastPercent = -1;
    uint64_t handled = 0;
    while (!m_queue.empty()) {
        std::pop_heap(m_queue.begin(), m_queue.end(), ActionLater());
        Action a = std::move(m_queue.back());
        m_queue.pop_back();
        m_now = a.t;
        m_world.advance(a.t);
        handle(a);
        if ((++handled & 255) == 0) {
            if (m_cancel && m_cancel->load(std::memory_order_relaxed)) {
                m_world.close_logs();
                res.error = QStringLiteral("cancelled");
                return res;
            }
            if (!m_world.error().empty()) break;
            const int percent = static_cast<int>(std::clamp<double>(
                95.0 * static_cast<double>(a.t - m_start) / static_cast<double>(std::max<Usec>(1, m_end - m_start)), 0, 95));
            if (percent != lastPercent && m_progress) m_progress(percent);
            lastPercent = percent;
        }
    }
    if (!m_world.close_logs()) {
        res.error = QString::fromStdString(m_world.error());
        return res;
    }
    std::string error;
    if (!writeTruth(dirBytes + "/truth.json", error)) {
        res.error = QString::fromStdString(error);
        return res;
    }
    for (int i = 1; i <= m_o.servers; ++i) res.logFiles << QDir(dir).filePath(QStringLiteral("mail%1.log").arg(i));
    res.orgChart = QDir(dir).filePath(QStringLiteral("org.csv"));
    res.truthFile = QDir(dir).filePath(QStringLiteral("truth.json"));
    res.messages = static_cast<std::int64_t>(m_world.stats().accepted + m_world.stats().ndrs);
    res.wormMessages = static_cast<std::int64_t>(m_wormMessages.size());
    res.infectedUsers = static_cast<int>(m_infections.size());
    res.ok = true;
    if (m_progress) m_progress(100);
    return res;
}

bool Simulation::writeTruth(const std::string& path, std::string& error) const {
    std::string o;
    o.reserve(1 << 20);
    o += cat("{\"seed\":", m_o.seed, ",\"worm\":");
    jsonString(o, wormName(m_o.worm).toStdString());
    o += ",\"patient_zero\":";
    jsonString(o, m_patientZero >= 0 ? m_users[static_cast<size_t>(m_patientZero)].email : std::string());
    o += cat(",\"messages\":", m_world.stats().accepted + m_world.stats().ndrs, ",\n\"worm_message_ids\":[");
    for (size_t i = 0; i < m_wormMessages.size(); ++i) {
        if (i) o.push_back(',');
        jsonString(o, m_wormMessages[i].id);
    }
    o += "],\n\"worm_messages\":[";
    for (size_t i = 0; i < m_wormMessages.size(); ++i) {
        const WormMsg& w = m_wormMessages[i];
        o += i ? ",\n" : "\n";
        o += "{\"message_id\":";
        jsonString(o, w.id);
        o += ",\"sender\":";
        jsonString(o, m_users[static_cast<size_t>(w.sender)].email);
        o += ",\"time\":";
        jsonString(o, isoTime(w.time));
        o += ",\"recipients\":";
        jsonStrings(o, w.rcpts);
        o.push_back('}');
    }
    o += "],\n\"infected\":[";
    for (size_t i = 0; i < m_infections.size(); ++i) {
        const InfectionRec& f = m_infections[i];
        o += i ? ",\n" : "\n";
        o += "{\"user\":";
        jsonString(o, m_users[static_cast<size_t>(f.user)].email);
        o += ",\"time\":";
        jsonString(o, isoTime(f.time));
        o += ",\"infected_by\":";
        jsonString(o, f.by >= 0 ? m_users[static_cast<size_t>(f.by)].email : std::string());
        o += ",\"via_message_id\":";
        jsonString(o, f.via);
        o.push_back('}');
    }
    o += "],\n\"hard_negatives\":[";
    for (size_t i = 0; i < m_negatives.size(); ++i) {
        o += i ? ",\n" : "\n";
        o += "{\"kind\":";
        jsonString(o, m_negatives[i].kind);
        o += ",\"message_ids\":";
        jsonStrings(o, m_negatives[i].ids);
        o.push_back('}');
    }
    o += "],\n\"address_books\":{";
    std::vector<int> byAddress(m_users.size());
    for (size_t i = 0; i < byAddress.size(); ++i) byAddress[i] = static_cast<int>(i);
    std::sort(byAddress.begin(), byAddress.end(),
              [&](int a, int b) { return m_users[static_cast<size_t>(a)].email < m_users[static_cast<size_t>(b)].email; });
    bool firstEntry = true;
    for (int u : byAddress) {
        o += firstEntry ? "\n" : ",\n";
        firstEntry = false;
        jsonString(o, m_users[static_cast<size_t>(u)].email);
        o.push_back(':');
        std::vector<std::string> contacts;
        for (const Contact& c : m_books.books[static_cast<size_t>(u)]) contacts.push_back(c.address);
        jsonStrings(o, contacts);
    }
    o += "}}\n";
    return writeFile(path, o, error);
}

qint64 parseTime(const QJsonValue& v) {
    const QDateTime dt = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
    return dt.isValid() ? dt.toMSecsSinceEpoch() : 0;
}

QStringList stringList(const QJsonValue& v) {
    QStringList out;
    for (const QJsonValue& x : v.toArray()) out << x.toString();
    return out;
}

bool loadTruthObject(const QString& path, QJsonObject& obj, QByteArray& bytes, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error) *error = QStringLiteral("%1: %2").arg(path, f.errorString());
        return false;
    }
    bytes = f.readAll();
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &pe);
    if (doc.isNull() || !doc.isObject()) {
        if (error) *error = QStringLiteral("%1: not a truth file (%2)").arg(path, pe.errorString());
        return false;
    }
    obj = doc.object();
    return true;
}

} // namespace

SimulationResult simulate(const SimulationOptions& options, const std::function<void(int)>& progress,
                          const std::atomic_bool* cancel) {
    SimulationResult res;
    if (options.users < 10) {
        res.error = QStringLiteral("at least 10 users are needed");
        return res;
    }
    if (options.servers < 1 || options.servers > 250) {
        res.error = QStringLiteral("1 to 250 servers");
        return res;
    }
    if (!(options.hours > 0) || options.hours > 24.0 * 3650) {
        res.error = QStringLiteral("hours must be positive");
        return res;
    }
    if (!options.start.isValid()) {
        res.error = QStringLiteral("invalid start time");
        return res;
    }
    if (!(options.openProbability >= 0 && options.openProbability <= 1)) {
        res.error = QStringLiteral("the open probability must lie between 0 and 1");
        return res;
    }
    Simulation sim(options, progress, cancel);
    return sim.run();
}

bool readTruth(const QString& path, Truth& out, QString* error) {
    QJsonObject o;
    QByteArray bytes;
    if (!loadTruthObject(path, o, bytes, error)) return false;
    if (!o.contains(QLatin1String("seed")) || !o.contains(QLatin1String("worm"))) {
        if (error) *error = QStringLiteral("%1: no seed or worm").arg(path);
        return false;
    }
    out = Truth{};
    // The seed is a 64-bit unsigned number, beyond what a JSON double holds exactly.
    out.seed = static_cast<std::uint64_t>(o.value(QLatin1String("seed")).toInteger());
    const qsizetype at = bytes.indexOf("\"seed\":");
    if (at >= 0) {
        const char* b = bytes.constData() + at + 7;
        std::uint64_t v = 0;
        const auto r = std::from_chars(b, bytes.constData() + bytes.size(), v);
        if (r.ec == std::errc()) out.seed = v;
    }
    if (!wormFromName(o.value(QLatin1String("worm")).toString(), out.worm)) {
        if (error) *error = QStringLiteral("%1: unknown worm '%2'").arg(path, o.value(QLatin1String("worm")).toString());
        return false;
    }
    out.patientZero = o.value(QLatin1String("patient_zero")).toString();
    out.messages = o.value(QLatin1String("messages")).toInteger();
    out.wormMessageIds = stringList(o.value(QLatin1String("worm_message_ids")));
    for (const QJsonValue& v : o.value(QLatin1String("infected")).toArray()) {
        const QJsonObject x = v.toObject();
        Infection inf;
        inf.user = x.value(QLatin1String("user")).toString();
        inf.time = parseTime(x.value(QLatin1String("time")));
        inf.infectedBy = x.value(QLatin1String("infected_by")).toString();
        inf.viaMessageId = x.value(QLatin1String("via_message_id")).toString();
        out.infected.push_back(inf);
    }
    for (const QJsonValue& v : o.value(QLatin1String("hard_negatives")).toArray()) {
        const QJsonObject x = v.toObject();
        out.hardNegatives.push_back({x.value(QLatin1String("kind")).toString(), stringList(x.value(QLatin1String("message_ids")))});
    }
    const QJsonObject books = o.value(QLatin1String("address_books")).toObject();
    for (auto it = books.begin(); it != books.end(); ++it) out.addressBooks.insert(it.key(), stringList(it.value()));
    return true;
}

bool readWormMessages(const QString& path, QVector<WormMessage>& out, QString* error) {
    QJsonObject o;
    QByteArray bytes;
    if (!loadTruthObject(path, o, bytes, error)) return false;
    out.clear();
    for (const QJsonValue& v : o.value(QLatin1String("worm_messages")).toArray()) {
        const QJsonObject x = v.toObject();
        WormMessage w;
        w.messageId = x.value(QLatin1String("message_id")).toString();
        w.sender = x.value(QLatin1String("sender")).toString();
        w.time = parseTime(x.value(QLatin1String("time")));
        w.recipients = stringList(x.value(QLatin1String("recipients")));
        out.push_back(w);
    }
    return true;
}

} // namespace mt::sim
