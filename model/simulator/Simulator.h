#pragma once
// Outbreak simulator: an organisation, its ordinary mail, legitimate bulk that must not look
// like a worm, and optionally a mass-mailing worm, written as the organisation's Postfix
// servers would have logged it, with the ground truth beside it. Used for drills, for the
// bundled demo, and to measure detection.
#include <QDateTime>
#include <QHash>
#include <QString>
#include <QStringList>
#include <QVector>

#include <atomic>
#include <cstdint>
#include <functional>

namespace mt::sim {

enum class Worm {
    None,
    IloveYou,    // one message per address-book entry, a .vbs attachment
    Melissa,     // the first 50 address-book entries, a macro document
    Polymorphic, // subject and attachment name change per victim, executable behind a double extension
    // Worms without a telltale attachment, which only their traffic gives away:
    Disguised,   // an ordinary attachment name (budget.xlsx), one message every 20-90 s to 10-40 contacts
    Link,        // no attachment, a link under a varying lure subject, one contact every 30-120 s
};

// How ordinary mail looks. Calm: every attachment name unique, even volume (the demo and the
// first wave's tests). Busy: what real offices send and what false campaigns are made of - a
// few generic attachment names (report.pdf, budget.xlsx ...) reused all day and passed on in
// unrelated conversations, short replies from a small vocabulary, uneven volume (heavy users
// at 80-190 messages a day) in bursts of about 6 in 10 minutes.
enum class Traffic { Calm, Busy };
QString trafficName(Traffic t);                // "calm", "busy"
bool trafficFromName(const QString& name, Traffic& out);

QString wormName(Worm w);                      // "none", "iloveyou", "melissa", "polymorphic", "disguised", "link"
bool wormFromName(const QString& name, Worm& out);

struct SimulationOptions {
    QString outDir;                 // created if missing; existing files of ours are replaced
    int users = 300;
    int servers = 4;
    double hours = 8;               // of log time, from `start`
    std::uint64_t seed = 1;
    Worm worm = Worm::IloveYou;
    double openProbability = 0.2;   // chance that a recipient opens the worm's attachment
    bool classicStamps = false;     // "Nov 24 09:00:01" instead of RFC 3339
    Traffic traffic = Traffic::Calm;
    QDateTime start = QDateTime(QDate(2026, 11, 24), QTime(8, 0), Qt::UTC);
};

struct SimulationResult {
    bool ok = false;
    QString error;
    QStringList logFiles;           // one Postfix log per mail server
    QString orgChart;               // org.csv
    QString truthFile;              // truth.json
    std::int64_t messages = 0;      // logical messages generated (all kinds)
    std::int64_t wormMessages = 0;
    int infectedUsers = 0;          // patient zero included
};

// Deterministic: the same options give the same bytes. progress(percent) is called from the
// calling thread; cancel stops early (ok = false, error = "cancelled").
SimulationResult simulate(const SimulationOptions& options,
                          const std::function<void(int percent)>& progress = {},
                          const std::atomic_bool* cancel = nullptr);

// truth.json, read back (for drills, tests and the quality harness).
struct Infection {
    QString user;
    qint64 time = 0;                // ms since epoch UTC: when the user opened the attachment
    QString infectedBy;             // sender of the message they opened; empty for patient zero
    QString viaMessageId;           // that message's Message-ID
};
struct HardNegative {
    QString kind;                   // "all-staff", "newsletter", "reply-all-storm", "mailing-list"
    QStringList messageIds;
};
struct Truth {
    std::uint64_t seed = 0;
    Worm worm = Worm::None;
    QString patientZero;
    QStringList wormMessageIds;
    QVector<Infection> infected;    // in infection order, patient zero first
    QVector<HardNegative> hardNegatives;
    std::int64_t messages = 0;
    QHash<QString, QStringList> addressBooks; // user -> contacts
};
bool readTruth(const QString& path, Truth& out, QString* error = nullptr);

// Each worm message as truth.json records it ("worm_messages", in the order they were sent):
// who sent it, when (smtpd's client= line) and to whom.
struct WormMessage {
    QString messageId;              // without angle brackets, as the importer stores it
    QString sender;                 // the infected user
    qint64 time = 0;                // ms since epoch UTC
    QStringList recipients;         // as the client gave them (address-book entries)
};
bool readWormMessages(const QString& path, QVector<WormMessage>& out, QString* error = nullptr);

} // namespace mt::sim
