#pragma once
// Live monitoring: follows log files and/or listens for syslog, appends what arrives to the
// case in small transactions, runs incremental detection after each, and announces a new
// campaign once, with a recall plan waiting for a person's approval.
//
// Threads (all owned here; the object itself lives in the caller's thread, e.g. the GUI's):
//   receive  - LogFollower and SyslogListener put lines into a LineQueue
//   write    - every flushIntervalMs (at most a second) the queued lines go through the import
//              path (LogLineFeeder -> PostfixAssembler -> CaseStore) in one transaction, with
//              each followed file's offset, so a crash loses at most the last second
//   detect   - CaseDetection::run(store, true) on its own connection after each commit
//              (coalesced: a slow run is followed by one run over everything committed since)
// Signals arrive queued in the caller's thread.
//
// Recall: a new campaign gets its requests planned as 'proposed'. Nothing is approved without
// a person, except for a campaign the analyst set to auto-suspend (setAutoSuspend): then its
// proposed requests are approved in that analyst's name and suspended (moved to quarantine or
// held), never deleted - deletion always needs a verdict.
#include "LineQueue.h"
#include "LogFollower.h"
#include "SyslogListener.h"

#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <mutex>

class QThread;

namespace mt::live {

struct LiveConfig {
    QStringList files;                 // followed from where the case says they stopped, else from the start
    ListenerConfig syslog;             // ports -1: that listener is off
    int flushIntervalMs = 500;         // a batch is committed at least this often (keep <= 1000)
    int settleMs = 1000;               // a message still in progress is written once idle this long
    int pollMs = 250;                  // file polling
    int year = 0;                      // classic stamps' year; 0: the current one
    std::string timeZone;              // zone of stamps without one; empty: UTC
    QString serversFile;               // recall server directory (JSON) for the plans; empty: demo
    QString analyst = QStringLiteral("live monitor"); // the name pending plans are proposed under
    bool detect = true;
};

struct LiveStats {
    qint64 batch = 0;                  // batches committed this session
    qint64 lines = 0;                  // lines committed this session
    qint64 batchLines = 0, accepted = 0, rejected = 0, skipped = 0; // of the last batch
    qint64 copiesWritten = 0;          // by the last batch
    qint64 messages = 0;               // in the case after the last batch
    qint64 batchMs = 0;                // the last batch's write and commit
    qint64 lagMs = 0;                  // commit time minus the receive time of its oldest line
    qint64 queued = 0;                 // lines waiting after the batch
    qint64 dropped = 0;                // lines dropped because the writer fell far behind
    qint64 detectionRuns = 0, lastDetectMs = 0;
    qint64 followedLines = 0;
    ListenerCounters listener;
};

class LiveIngest : public QObject {
    Q_OBJECT
public:
    LiveIngest(const QString& casePath, LiveConfig config, QObject* parent = nullptr);
    ~LiveIngest() override; // stops (cleanly) when still running

    // Opens the case (creating it when missing), records the session, binds the listeners and
    // starts following. False with error() when anything cannot start (nothing then runs).
    bool start();
    // Stops receiving, commits everything received, runs detection a last time, marks the
    // session clean. Blocks until done (a second or two).
    void stop();
    bool isRunning() const { return m_running; }
    QString error() const { return m_error; }

    // The listeners' real ports (when configured as 0), -1 when off.
    int udpPort() const;
    int tcpPort() const;
    int tlsPort() const;
    qint64 sessionId() const { return m_sessionId; }
    // What the previous session's unclean end may have lost ("" when it ended cleanly).
    QString previousSessionNote() const { return m_previousNote; }

    // Lets (or stops letting) this announced campaign's copies be suspended without asking:
    // its proposed requests are approved in `analyst`'s name and run. alertId from newCampaign.
    void setAutoSuspend(qint64 alertId, const QString& analyst, bool on);

    // Only for tests: the follower's and writer's next poll/batch now.
    void flushNow();

signals:
    // A batch was committed: the case holds `messages` messages now.
    void appended(qint64 messages);
    // A campaign not announced before (in this case, in any session). alertId names it across
    // detection runs (campaign ids are renumbered by each run).
    void newCampaign(qint64 campaignId, const QString& label, qint64 detectedAt, qint64 alertId);
    // The pending recall plan of an announced campaign grew (proposed: requests awaiting approval).
    void planProposed(qint64 alertId, qint64 campaignId, qint64 proposed);
    // Detection ran and changed the flagged set or the campaigns (views re-read them).
    void campaignsUpdated();
    void stats(const mt::live::LiveStats& stats);
    // Something worth telling (rotation, a refused peer, a failed batch).
    void notice(const QString& what);

private:
    class Writer;
    class Detect;
    void emitStats();
    QString m_casePath;
    LiveConfig m_config;
    std::unique_ptr<LineQueue> m_queue;
    QThread* m_receiveThread = nullptr;
    QThread* m_writeThread = nullptr;
    QThread* m_detectThread = nullptr;
    LogFollower* m_follower = nullptr;
    SyslogListener* m_listener = nullptr;
    Writer* m_writer = nullptr;
    Detect* m_detect = nullptr;
    bool m_running = false;
    QString m_error;
    QString m_previousNote;
    qint64 m_sessionId = 0;
    qint64 m_statsBatch = 0;
};

} // namespace mt::live

Q_DECLARE_METATYPE(mt::live::LiveStats)
