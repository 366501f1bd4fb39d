// Live monitoring (issue 10): syslog parsing and framing, the listener (UDP, TCP, limits, allow
// list, peers that misbehave), following files across rename and copytruncate rotation,
// resuming where the case says a file stopped (also after a kill), and the whole live path:
// a simulated outbreak replayed over UDP into a case, announced once, with the detection time
// a batch `detect` of the same data gives and a recall plan that waits for approval.
#include "importers/PostfixLog.h"
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/detection/CaseDetection.h"
#include "model/live/LiveIngest.h"
#include "model/live/LogFollower.h"
#include "model/live/SyslogListener.h"
#include "model/live/SyslogMessage.h"
#include "model/simulator/Simulator.h"

#include <QDateTime>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QUdpSocket>
#include <QtTest>

#include "support/SyslogReplay.h"

#include <algorithm>
#include <set>
#include <signal.h>

using namespace mt;
using mt::test::mergedLines;
using mt::test::toRfc5424;
using namespace mt::live;

namespace {

// A real Postfix line, numbered so every line is distinct.
std::string postfixLine(int i) {
    return "2026-11-24T08:00:" + QStringLiteral("%1").arg(i % 60, 2, 10, QLatin1Char('0')).toStdString()
           + ".000000+00:00 mx1 postfix/smtpd[100]: connect from host" + std::to_string(i) + ".example[10.0.0.1]";
}

void appendLines(const QString& path, int from, int to) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::Append));
    for (int i = from; i < to; ++i) f.write(QByteArray::fromStdString(postfixLine(i) + "\n"));
}

std::vector<std::string> drain(LineQueue& q) {
    std::vector<LiveLine> lines;
    q.takeAll(lines);
    std::vector<std::string> out;
    for (auto& l : lines) out.push_back(l.text);
    return out;
}

void expectLines(const std::vector<std::string>& got, int from, int to) {
    QCOMPARE(static_cast<int>(got.size()), to - from);
    for (int i = from; i < to; ++i) QCOMPARE(QString::fromStdString(got[static_cast<std::size_t>(i - from)]), QString::fromStdString(postfixLine(i)));
}

struct Parsed {
    bool ok = false;
    std::string line;
    SyslogLine sl;
};

Parsed convert(std::string_view msg) {
    Parsed p;
    const char* why = nullptr;
    p.ok = syslogToLogLine(msg, 1795507281000, "10.0.0.9", p.line, why);
    if (p.ok) {
        SyslogFraming f;
        f.setReference(2026, 12, false);
        const char* why2 = nullptr;
        p.ok = f.parse(p.line, p.sl, why2);
    }
    return p;
}



std::int64_t scalar(CaseStore& s, const char* sql) { return s.db().scalar(sql); }

} // namespace

class TestLive : public QObject {
    Q_OBJECT
private slots:
    void rfc5424() {
        Parsed p = convert("<22>1 2026-11-24T08:01:06.027242+01:00 mx1 postfix/smtpd 636523 - - connect from a[10.0.0.3]");
        QVERIFY(p.ok);
        QCOMPARE(QString::fromStdString(std::string(p.sl.host)), QStringLiteral("mx1"));
        QCOMPARE(QString::fromStdString(std::string(p.sl.program)), QStringLiteral("postfix/smtpd"));
        QCOMPARE(QString::fromStdString(std::string(p.sl.message)), QStringLiteral("connect from a[10.0.0.3]"));
        QCOMPARE(p.sl.time, civilToMs(2026, 11, 24, 7, 1, 6, 27));
        // Structured data with escapes, a BOM, an empty MSG-ID.
        p = convert("<22>1 2026-11-24T08:01:06Z mx2 postfix/qmgr 12 ID47 [ex@32473 a=\"x\\\"]y\" b=\"2\"][more@1] \xEF\xBB\xBF" "ABC: removed");
        QVERIFY(p.ok);
        QCOMPARE(QString::fromStdString(std::string(p.sl.message)), QStringLiteral("ABC: removed"));
        QCOMPARE(QString::fromStdString(std::string(p.sl.host)), QStringLiteral("mx2"));
        // NILVALUE stamp and host: the receive time and the peer stand in.
        p = convert("<22>1 - - postfix/smtp - - - hello");
        QVERIFY(p.ok);
        QCOMPARE(p.sl.time, std::int64_t(1795507281000));
        QCOMPARE(QString::fromStdString(std::string(p.sl.host)), QStringLiteral("10.0.0.9"));
        // Control characters never reach a line.
        p = convert("<22>1 2026-11-24T08:01:06Z mx1 postfix/smtp 1 - - a\nb\tc\r\n");
        QVERIFY(p.ok);
        QCOMPARE(QString::fromStdString(std::string(p.sl.message)), QStringLiteral("a b c"));
    }

    void rfc3164() {
        Parsed p = convert("<22>Nov 24 08:01:06 mx3 postfix/cleanup[77]: 098C4F6785: message-id=<a@b>");
        QVERIFY(p.ok);
        QCOMPARE(QString::fromStdString(std::string(p.sl.host)), QStringLiteral("mx3"));
        QCOMPARE(QString::fromStdString(std::string(p.sl.program)), QStringLiteral("postfix/cleanup"));
        QCOMPARE(p.sl.time, civilToMs(2026, 11, 24, 8, 1, 6, 0));
        p = convert("<13>Nov  4 08:01:06 postfix/smtpd[1]: connect from x[1.2.3.4]"); // no host: the peer's
        QVERIFY(p.ok);
        QCOMPARE(QString::fromStdString(std::string(p.sl.host)), QStringLiteral("10.0.0.9"));
        // rsyslog's RSYSLOG_ForwardFormat: RFC 3164 framing, RFC 3339 stamp.
        p = convert("<22>2026-11-24T08:01:06.5+00:00 mx4 postfix/qmgr[9]: ABCDE12345: removed");
        QVERIFY(p.ok);
        QCOMPARE(p.sl.time, civilToMs(2026, 11, 24, 8, 1, 6, 500));
    }

    void malformed() {
        const char* bad[] = {"", "no pri at all", "<>1 x", "<999>1 2026-11-24T08:01:06Z h a p m - x", "<22", "<22>",
                             "<22>2 2026-11-24T08:01:06Z h a p m - x", "<22>1 2026-11-24T08:01:06Z h a",
                             "<22>1 2026-11-24T08:01:06Z h a p m [unterminated x", "<22>1 2026-11-24T08:01:06Z h a p m junk msg",
                             "<22>1 yesterday h a p m - x", "<22>1 2026-11-24T08:01:06Z h - p m - x", "<22>hello world"};
        for (const char* b : bad) {
            std::string out;
            const char* why = nullptr;
            QVERIFY2(!syslogToLogLine(b, 0, "peer", out, why), b);
            QVERIFY(why && *why);
        }
        // Random bytes never crash it.
        std::string junk;
        std::uint32_t x = 12345;
        for (int n = 0; n < 2000; ++n) {
            junk.clear();
            const int len = static_cast<int>(x % 300);
            for (int i = 0; i < len; ++i) {
                x = x * 1664525u + 1013904223u;
                junk.push_back(static_cast<char>(i == 0 && (x & 1) ? '<' : static_cast<char>(x >> 24)));
            }
            std::string out;
            const char* why = nullptr;
            syslogToLogLine(junk, 0, "p", out, why);
        }
    }

    void tcpFraming() {
        SyslogStreamFramer f(100);
        std::string frame;
        const std::string stream = "10 <1>1 a b c7 <1>abc\n<2>lf frame\n";
        // Byte by byte: frames come out whole, whatever the segmentation.
        std::vector<std::string> got;
        for (char c : stream) {
            f.append(&c, 1);
            while (f.next(frame)) got.push_back(frame);
        }
        QCOMPARE(got.size(), std::size_t(3));
        QCOMPARE(QString::fromStdString(got[0]), QStringLiteral("<1>1 a b c"));
        QCOMPARE(QString::fromStdString(got[1]), QStringLiteral("<1>abc\n")); // 7 octets, the LF is the message's
        QCOMPARE(QString::fromStdString(got[2]), QStringLiteral("<2>lf frame"));
        // Oversized, counted: its bytes are skipped even when they arrive later.
        SyslogStreamFramer g(10);
        const std::string big = "25 <1>0123456789012345678901" + std::string("8 <1>after");
        g.append(big.data(), 10);
        QVERIFY(!g.next(frame));
        g.append(big.data() + 10, big.size() - 10);
        QVERIFY(g.next(frame));
        QCOMPARE(QString::fromStdString(frame), QStringLiteral("<1>after"));
        QCOMPARE(g.oversized, std::int64_t(1));
        // An oversized LF frame, then a good one.
        const std::string lf = "<1>" + std::string(50, 'x') + "\n<2>ok\n";
        g.append(lf.data(), lf.size());
        QVERIFY(g.next(frame));
        QCOMPARE(QString::fromStdString(frame), QStringLiteral("<2>ok"));
        QCOMPARE(g.oversized, std::int64_t(2));
        // A bad octet count resynchronises at the next LF.
        const std::string bad = "12x garbage\n<3>fine\n";
        g.append(bad.data(), bad.size());
        QVERIFY(g.next(frame));
        QCOMPARE(QString::fromStdString(frame), QStringLiteral("<3>fine"));
        QCOMPARE(g.malformed, std::int64_t(1));
        // A frame cut off: pending.
        g.append("30 <1>par", 9);
        QVERIFY(!g.next(frame));
        QVERIFY(g.pending() > 0);
    }

    void listener() {
        LineQueue q;
        ListenerConfig c;
        c.bind = QHostAddress::LocalHost;
        c.udpPort = 0;
        c.tcpPort = 0;
        c.maxMessage = 1024;
        SyslogListener l(&q, c);
        QString error;
        QVERIFY2(l.start(&error), qPrintable(error));
        QVERIFY(l.udpPort() > 0 && l.tcpPort() > 0);

        QUdpSocket udp;
        const QByteArray good = "<22>1 2026-11-24T08:01:06Z mx1 postfix/smtpd 1 - - connect from a[10.0.0.3]";
        udp.writeDatagram(good, QHostAddress::LocalHost, static_cast<quint16>(l.udpPort()));
        udp.writeDatagram("garbage", QHostAddress::LocalHost, static_cast<quint16>(l.udpPort()));
        udp.writeDatagram(QByteArray(2000, 'x').prepend("<22>"), QHostAddress::LocalHost, static_cast<quint16>(l.udpPort()));
        udp.writeDatagram("<22>Nov 24 08:01:07 mx1 postfix/smtpd[1]: disconnect from a[10.0.0.3]\n", QHostAddress::LocalHost,
                          static_cast<quint16>(l.udpPort()));
        QTRY_COMPARE(l.counters().received, std::int64_t(2));
        QTRY_COMPARE(l.counters().malformed, std::int64_t(1));
        QTRY_COMPARE(l.counters().oversized, std::int64_t(1));
        auto lines = drain(q);
        QCOMPARE(lines.size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(lines[0]), QStringLiteral("2026-11-24T08:01:06Z mx1 postfix/smtpd[1]: connect from a[10.0.0.3]"));

        // TCP: octet counting and LF framing on one connection, an oversized frame between.
        {
            QTcpSocket t;
            t.connectToHost(QHostAddress::LocalHost, static_cast<quint16>(l.tcpPort()));
            QVERIFY(t.waitForConnected(5000));
            QByteArray data = QByteArray::number(good.size()) + ' ' + good;
            data += "<22>Nov 24 08:01:08 mx1 postfix/qmgr[2]: ABCDEF1234: removed\n";
            const QByteArray huge = "<22>" + QByteArray(3000, 'y');
            data += QByteArray::number(huge.size()) + ' ' + huge;
            data += "<22>Nov 24 08:01:09 mx1 postfix/qmgr[2]: ABCDEF1235: removed\n";
            t.write(data);
            QVERIFY(t.waitForBytesWritten(5000));
            QTRY_COMPARE(l.counters().received, std::int64_t(5));
            QCOMPARE(l.counters().oversized, std::int64_t(2));
            // Disconnect in the middle of a message: counted, not a line, the listener goes on.
            t.write("200 <22>1 2026-11-24T08:01:06Z mx1 postfix/smtpd 1 - - cut sh");
            QVERIFY(t.waitForBytesWritten(5000));
            QTest::qWait(100);
            t.disconnectFromHost();
        }
        QTRY_COMPARE(l.counters().truncated, std::int64_t(1));
        QTcpSocket t2;
        t2.connectToHost(QHostAddress::LocalHost, static_cast<quint16>(l.tcpPort()));
        QVERIFY(t2.waitForConnected(5000));
        t2.write(good + "\n");
        QTRY_COMPARE(l.counters().received, std::int64_t(6));
        lines = drain(q);
        QCOMPARE(lines.size(), std::size_t(4));
        QCOMPARE(QString::fromStdString(lines[1]), QStringLiteral("Nov 24 08:01:08 mx1 postfix/qmgr[2]: ABCDEF1234: removed"));
        QCOMPARE(l.counters().connections, std::int64_t(2));
    }

    // RFC 5425: syslog over TLS (octet counting), with a certificate made for the test.
    void tls() {
        if (!QSslSocket::supportsSsl()) QSKIP("no TLS backend in this Qt");
        QTemporaryDir dir;
        const QString key = dir.filePath(QStringLiteral("key.pem")), cert = dir.filePath(QStringLiteral("cert.pem"));
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"), {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
                                                  QStringLiteral("-nodes"), QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert,
                                                  QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"), QStringLiteral("/CN=localhost")});
        if (!openssl.waitForStarted()) QSKIP("openssl is not installed");
        QVERIFY(openssl.waitForFinished(60000));
        QCOMPARE(openssl.exitCode(), 0);
        LineQueue q;
        ListenerConfig c;
        c.bind = QHostAddress::LocalHost;
        c.tlsPort = 0;
        c.certificateFile = cert;
        c.keyFile = key;
        SyslogListener l(&q, c);
        QString error;
        QVERIFY2(l.start(&error), qPrintable(error));
        QSslSocket s;
        s.setPeerVerifyMode(QSslSocket::VerifyNone);
        s.connectToHostEncrypted(QStringLiteral("localhost"), static_cast<quint16>(l.tlsPort()));
        QTRY_VERIFY2_WITH_TIMEOUT(s.isEncrypted(), qPrintable(s.errorString()), 10000); // the server runs in this thread
        const QByteArray m = "<22>1 2026-11-24T08:01:06Z mx1 postfix/smtpd 1 - - connect from a[10.0.0.3]";
        s.write(QByteArray::number(m.size()) + ' ' + m);
        QTRY_COMPARE(l.counters().received, std::int64_t(1));
        QCOMPARE(QString::fromStdString(drain(q).at(0)), QStringLiteral("2026-11-24T08:01:06Z mx1 postfix/smtpd[1]: connect from a[10.0.0.3]"));
        // A bad key file is refused with the reason.
        ListenerConfig bad = c;
        bad.keyFile = cert;
        SyslogListener b(&q, bad);
        QVERIFY(!b.start(&error));
        QVERIFY(error.contains(QStringLiteral("key")));
    }

    void allowList() {
        LineQueue q;
        ListenerConfig c;
        c.bind = QHostAddress::LocalHost;
        c.udpPort = 0;
        c.tcpPort = 0;
        c.allow = {QStringLiteral("10.1.2.0/24"), QStringLiteral("192.0.2.7"), QStringLiteral("2001:db8::/32")};
        SyslogListener l(&q, c);
        QString error;
        QVERIFY2(l.start(&error), qPrintable(error));
        QVERIFY(l.allowed(QHostAddress(QStringLiteral("10.1.2.99"))));
        QVERIFY(l.allowed(QHostAddress(QStringLiteral("::ffff:10.1.2.3"))));
        QVERIFY(l.allowed(QHostAddress(QStringLiteral("192.0.2.7"))));
        QVERIFY(l.allowed(QHostAddress(QStringLiteral("2001:db8::1"))));
        QVERIFY(!l.allowed(QHostAddress(QStringLiteral("192.0.2.8"))));
        QVERIFY(!l.allowed(QHostAddress(QStringLiteral("10.1.3.1"))));
        QVERIFY(!l.allowed(QHostAddress::LocalHost)); // not listed
        // Loopback is not on the list: datagrams and connections from it are refused.
        QUdpSocket udp;
        udp.writeDatagram("<22>1 2026-11-24T08:01:06Z mx1 postfix/smtpd 1 - - x", QHostAddress::LocalHost, static_cast<quint16>(l.udpPort()));
        QTRY_COMPARE(l.counters().refused, std::int64_t(1));
        QTcpSocket t;
        t.connectToHost(QHostAddress::LocalHost, static_cast<quint16>(l.tcpPort()));
        QVERIFY(t.waitForConnected(5000));
        t.write("<22>Nov 24 08:01:08 mx1 postfix/qmgr[2]: ABCDEF1234: removed\n");
        QTRY_COMPARE(l.counters().refused, std::int64_t(2));
        QTRY_VERIFY(t.state() == QAbstractSocket::UnconnectedState);
        QCOMPARE(q.size(), std::size_t(0));
        QCOMPARE(l.counters().received, std::int64_t(0));
        // The default (no list): loopback only; a host name resolves; an unknown one is an error.
        ListenerConfig d;
        d.udpPort = 0;
        SyslogListener def(&q, d);
        QVERIFY(def.start(&error));
        QVERIFY(def.allowed(QHostAddress::LocalHost));
        QVERIFY(!def.allowed(QHostAddress(QStringLiteral("10.0.0.1"))));
        ListenerConfig n;
        n.udpPort = 0;
        n.allow = {QStringLiteral("localhost")};
        SyslogListener named(&q, n);
        QVERIFY2(named.start(&error), qPrintable(error));
        QVERIFY(named.allowed(QHostAddress::LocalHost));
        n.allow = {QStringLiteral("no-such-host.invalid")};
        SyslogListener unknown(&q, n);
        QVERIFY(!unknown.start(&error));
        QVERIFY(error.contains(QStringLiteral("no-such-host.invalid")));
    }

    void followRenameRotation() {
        QTemporaryDir dir;
        const QString log = dir.filePath(QStringLiteral("mail.log"));
        appendLines(log, 0, 100);
        LineQueue q;
        LogFollower f(&q);
        f.follow(log);
        f.poll();
        expectLines(drain(q), 0, 100);
        f.poll();
        QCOMPARE(q.size(), std::size_t(0));
        // A line being written (no newline yet) waits for its end.
        {
            QFile h(log);
            QVERIFY(h.open(QIODevice::Append));
            const std::string l = postfixLine(100);
            h.write(l.data(), 20);
            h.close();
            f.poll();
            QCOMPARE(q.size(), std::size_t(0));
            QVERIFY(h.open(QIODevice::Append));
            h.write(QByteArray::fromStdString(l.substr(20) + "\n"));
        }
        // logrotate renames; the daemon writes a little more into the old file before it reopens.
        QVERIFY(QFile::rename(log, log + ".1"));
        appendLines(log + ".1", 101, 110);
        appendLines(log, 110, 200);
        f.poll();
        expectLines(drain(q), 100, 200);
        // Compressed rotations are never read.
        QFile gz(dir.filePath(QStringLiteral("mail.log.2.gz")));
        QVERIFY(gz.open(QIODevice::WriteOnly));
        gz.write(QByteArray("\x1f\x8b\x08\x00junk", 8));
        gz.close();
        appendLines(log, 200, 210);
        f.poll();
        expectLines(drain(q), 200, 210);
    }

    void followCopytruncate() {
        QTemporaryDir dir;
        const QString log = dir.filePath(QStringLiteral("mail.log"));
        appendLines(log, 0, 100);
        LineQueue q;
        LogFollower f(&q);
        f.follow(log);
        f.poll();
        expectLines(drain(q), 0, 100);
        // Written after our last read, then copied away and truncated: read from the copy.
        appendLines(log, 100, 120);
        QVERIFY(QFile::copy(log, log + ".1"));
        QVERIFY(QFile::resize(log, 0));
        appendLines(log, 120, 150);
        f.poll();
        expectLines(drain(q), 100, 150);
        // Truncated and written past the old offset before we looked: the bytes before our
        // offset changed, which the size alone would not show.
        QVERIFY(QFile::remove(log + ".1"));
        QVERIFY(QFile::copy(log, log + ".1"));
        QVERIFY(QFile::resize(log, 0));
        appendLines(log, 1000, 1100);
        f.poll();
        expectLines(drain(q), 1000, 1100);
    }

    void followRefusesGzip() {
        QTemporaryDir dir;
        const QString log = dir.filePath(QStringLiteral("mail.log"));
        QFile gz(log);
        QVERIFY(gz.open(QIODevice::WriteOnly));
        gz.write(QByteArray("\x1f\x8b\x08\x00junkjunk", 12));
        gz.close();
        LineQueue q;
        LogFollower f(&q);
        QSignalSpy notices(&f, &LogFollower::notice);
        f.follow(log);
        f.poll();
        f.poll();
        QCOMPARE(q.size(), std::size_t(0));
        QCOMPARE(notices.size(), 1);
        QVERIFY(notices.at(0).at(1).toString().contains(QStringLiteral("gzip")));
    }

    // Live into a case from files: stop, more lines, a rotation while stopped, start again.
    // Every line imported exactly once, and the case equals a batch import of the same lines.
    void resumeAfterRestart() {
        QTemporaryDir dir;
        sim::SimulationOptions o;
        o.outDir = dir.filePath(QStringLiteral("sim"));
        o.users = 60;
        o.servers = 2;
        o.hours = 2;
        o.seed = 5;
        const sim::SimulationResult r = sim::simulate(o);
        QVERIFY2(r.ok, qPrintable(r.error));
        // One server's log, cut in three parts.
        QFile src(r.logFiles[0]);
        QVERIFY(src.open(QIODevice::ReadOnly));
        const QList<QByteArray> all = src.readAll().split('\n');
        QList<QByteArray> lines;
        for (const QByteArray& l : all)
            if (!l.isEmpty()) lines << l;
        const int n = static_cast<int>(lines.size());
        QVERIFY(n > 3000);
        const QString log = dir.filePath(QStringLiteral("mail.log"));
        auto write = [&](const QString& path, int from, int to) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::Append));
            for (int i = from; i < to; ++i) f.write(lines[i] + '\n');
        };
        const QString casePath = dir.filePath(QStringLiteral("live.mtcase"));
        LiveConfig c;
        c.files = {log};
        c.detect = false;
        write(log, 0, n / 3);
        {
            LiveIngest live(casePath, c);
            QVERIFY2(live.start(), qPrintable(live.error()));
            QVERIFY(live.previousSessionNote().isEmpty());
            live.flushNow();
            live.stop();
        }
        write(log, n / 3, n / 2);
        QVERIFY(QFile::rename(log, log + ".1")); // rotated while nobody followed
        write(log + ".1", n / 2, 2 * n / 3);
        write(log, 2 * n / 3, n);
        {
            LiveIngest live(casePath, c);
            QVERIFY2(live.start(), qPrintable(live.error()));
            QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                         live.flushNow();
                                         CaseStore s;
                                         s.open(casePath, false);
                                         return scalar(s, "SELECT sum(lines) FROM live_sessions") >= n;
                                     }()),
                                     20000);
            live.stop();
        }
        CaseStore s;
        s.open(casePath, false);
        QCOMPARE(scalar(s, "SELECT sum(lines) FROM live_sessions"), std::int64_t(n));
        QCOMPARE(scalar(s, "SELECT count(*) FROM live_sessions WHERE clean = 1"), std::int64_t(2));
        // The same lines imported in one go.
        QFile whole(dir.filePath(QStringLiteral("whole.log")));
        QVERIFY(whole.open(QIODevice::WriteOnly));
        for (const QByteArray& l : lines) whole.write(l + '\n');
        whole.close();
        CaseStore b;
        b.open(dir.filePath(QStringLiteral("batch.mtcase")));
        ImportJob job(b);
        QVERIFY(!job.importLogs({whole.fileName()}).anyFailed());
        const CaseCounts live = s.counts(), batch = b.counts();
        QCOMPARE(live.messages, batch.messages);
        QCOMPARE(live.copies, batch.copies);
        QCOMPARE(live.deliveries, batch.deliveries);
        QCOMPARE(live.rejectedAttempts, batch.rejectedAttempts);
        QCOMPARE(scalar(s, "SELECT count(*) FROM messages WHERE msg_key LIKE 'qid:%'"), scalar(b, "SELECT count(*) FROM messages WHERE msg_key LIKE 'qid:%'"));
        QCOMPARE(scalar(s, "SELECT count(*) FROM copies WHERE removed = 1"), scalar(b, "SELECT count(*) FROM copies WHERE removed = 1"));
    }

    // The CLI killed (SIGKILL) in the middle: the next session says so, and the file resumes
    // from the offset committed last, so no line of it is lost or doubled.
    void crashLosesNothingOfAFile() {
        QTemporaryDir dir;
        const QString log = dir.filePath(QStringLiteral("mail.log"));
        const QString casePath = dir.filePath(QStringLiteral("live.mtcase"));
        appendLines(log, 0, 2000);
        QProcess p;
        p.start(QStringLiteral(MT_CLI_PATH), {QStringLiteral("import"), QStringLiteral("--case"), casePath, QStringLiteral("--follow"), log});
        QVERIFY(p.waitForStarted());
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += p.readAllStandardOutput()).contains("batch "), 20000);
        appendLines(log, 2000, 2500);
        QTest::qWait(1200);
        ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished());
        appendLines(log, 2500, 3000);
        {
            CaseStore s;
            s.open(casePath, false);
            QCOMPARE(scalar(s, "SELECT count(*) FROM live_sessions WHERE ended_at IS NULL"), std::int64_t(1));
        }
        LiveConfig c;
        c.files = {log};
        c.detect = false;
        LiveIngest live(casePath, c);
        QVERIFY2(live.start(), qPrintable(live.error()));
        QVERIFY(live.previousSessionNote().contains(QStringLiteral("ended uncleanly")));
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                     live.flushNow();
                                     CaseStore s;
                                     s.open(casePath, false);
                                     return scalar(s, "SELECT sum(lines) FROM live_sessions") >= 3000;
                                 }()),
                                 20000);
        live.stop();
        CaseStore s;
        s.open(casePath, false);
        QCOMPARE(scalar(s, "SELECT sum(lines) FROM live_sessions"), std::int64_t(3000));
        QCOMPARE(scalar(s, "SELECT count(*) FROM live_sessions WHERE clean = 0 AND note LIKE '%ended uncleanly%'"), std::int64_t(1));
    }

    // A simulated outbreak over UDP into a case: announced once, at the detection time of a
    // batch `detect` over the same data, with a proposed recall plan that nobody approved.
    void endToEndOutbreakOverUdp() {
        QTemporaryDir dir;
        const sim::SimulationResult r = sim::simulate(mt::test::smallOutbreak(dir.filePath(QStringLiteral("sim"))));
        QVERIFY2(r.ok, qPrintable(r.error));
        const std::vector<std::string> lines = mergedLines(r.logFiles);
        QVERIFY(lines.size() > 10000);

        const QString casePath = dir.filePath(QStringLiteral("live.mtcase"));
        {
            CaseStore s;
            s.open(casePath);
            ImportJob job(s);
            QVERIFY(!job.importOrgCharts({r.orgChart}).anyFailed());
        }
        LiveConfig c;
        c.syslog.bind = QHostAddress::LocalHost;
        c.syslog.udpPort = 0;
        c.flushIntervalMs = 200;
        LiveIngest live(casePath, c);
        QSignalSpy campaigns(&live, &LiveIngest::newCampaign);
        QSignalSpy plans(&live, &LiveIngest::planProposed);
        qint64 committed = 0;
        connect(&live, &LiveIngest::stats, this, [&](const LiveStats& s) { committed = s.lines; });
        QVERIFY2(live.start(), qPrintable(live.error()));
        QVERIFY(live.udpPort() > 0);
        QUdpSocket udp;
        std::size_t sent = 0;
        for (const std::string& l : lines) {
            udp.writeDatagram(toRfc5424(l), QHostAddress::LocalHost, static_cast<quint16>(live.udpPort()));
            if (++sent % 500 == 0) QTest::qWait(5); // about 100,000 lines/s: far above the target rate
        }
        QTRY_COMPARE_WITH_TIMEOUT(committed, static_cast<qint64>(lines.size()), 60000);
        QTRY_VERIFY_WITH_TIMEOUT(campaigns.size() >= 1, 30000);
        live.stop();
        QCOMPARE(campaigns.size(), 1); // once, never again for the same campaign
        const qint64 liveDetectedAt = campaigns.at(0).at(2).toLongLong();
        QVERIFY(plans.size() >= 1);

        // The same logs, imported and detected in one go.
        CaseStore b;
        b.open(dir.filePath(QStringLiteral("batch.mtcase")));
        ImportJob job(b);
        job.importOrgCharts({r.orgChart});
        QVERIFY(!job.importLogs(r.logFiles).anyFailed());
        det::CaseDetection::run(b, false);
        QCOMPARE(scalar(b, "SELECT count(*) FROM campaigns"), std::int64_t(1));
        const std::int64_t batchDetectedAt = scalar(b, "SELECT detected_at FROM campaigns");
        QCOMPARE(liveDetectedAt, static_cast<qint64>(batchDetectedAt));
        qInfo("%zu lines over UDP; campaign detected at %s, live and batch", lines.size(),
              qPrintable(QDateTime::fromMSecsSinceEpoch(liveDetectedAt, Qt::UTC).toString(Qt::ISODateWithMs)));

        CaseStore s;
        s.open(casePath, false);
        QCOMPARE(s.counts().messages, b.counts().messages);
        QCOMPARE(s.counts().deliveries, b.counts().deliveries);
        QCOMPARE(scalar(s, "SELECT count(*) FROM campaign_messages"), scalar(b, "SELECT count(*) FROM campaign_messages"));
        QCOMPARE(scalar(s, "SELECT detected_at FROM campaigns"), batchDetectedAt);
        // A plan waits for a person: proposed requests, none approved, nothing sent anywhere.
        QVERIFY(scalar(s, "SELECT count(*) FROM recall_requests WHERE state = 'proposed'") > 0);
        QCOMPARE(scalar(s, "SELECT count(*) FROM recall_requests WHERE approved_by IS NOT NULL OR state NOT IN ('proposed', 'not-recallable')"),
                 std::int64_t(0));
        QCOMPARE(scalar(s, "SELECT count(*) FROM audit WHERE action <> 'plan'"), std::int64_t(0));
        QCOMPARE(scalar(s, "SELECT count(*) FROM live_alerts"), std::int64_t(1));
        // Every flagged message is planned.
        QCOMPARE(scalar(s, "SELECT count(*) FROM campaign_messages cm WHERE NOT EXISTS (SELECT 1 FROM recall_requests r WHERE r.message_id = cm.message_id) "
                           "AND EXISTS (SELECT 1 FROM copies c JOIN deliveries d ON d.copy_id = c.id WHERE c.message_id = cm.message_id AND d.is_final = 1)"),
                 std::int64_t(0));

        // A restart announces nothing again; auto-suspend, once enabled by a person, suspends
        // (and never deletes).
        const qint64 alertId = campaigns.at(0).at(3).toLongLong();
        LiveIngest again(casePath, c);
        QSignalSpy again2(&again, &LiveIngest::newCampaign);
        QVERIFY2(again.start(), qPrintable(again.error()));
        again.setAutoSuspend(alertId, QStringLiteral("alice"), true);
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                     CaseStore t;
                                     t.open(casePath, false);
                                     return scalar(t, "SELECT count(*) FROM recall_requests WHERE state = 'proposed'") == 0;
                                 }()),
                                 60000);
        again.stop();
        QCOMPARE(again2.size(), 0);
        CaseStore t;
        t.open(casePath, false);
        QVERIFY(scalar(t, "SELECT count(*) FROM recall_requests WHERE state = 'suspended'") > 0);
        QCOMPARE(scalar(t, "SELECT count(*) FROM recall_requests WHERE state = 'deleted'"), std::int64_t(0));
        QCOMPARE(scalar(t, "SELECT count(*) FROM recall_requests WHERE approved_by IS NOT NULL AND approved_by <> 'alice (auto-suspend)'"), std::int64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestLive)
#include "tst_live.moc"
